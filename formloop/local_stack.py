"""`formloop up`: Azurite + engine + Functions host on loopback, kept up until Ctrl-C.

State (Azurite's data, the engine's results and models, logs) lives in `.formloop/`, which is
git-ignored, so a restart keeps what was processed. Standard ports are used when free
(Azurite 10000-10002, engine 5050) so that `local.settings.json` works for `func start` too;
when one is taken, free ports are chosen and handed to the host through the environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from formloop.local_settings import ensure_local_settings
from formloop.stack import (
    LOOPBACK,
    REPO_ROOT,
    AzuriteInfo,
    EngineInfo,
    StackError,
    free_port,
    func_available,
    port_open,
    start_azurite,
    start_devhost,
    start_engine,
    stop,
)

console = Console()

AZURITE_PORTS = (10000, 10001, 10002)
ENGINE_PORT = 5050


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app-dir", type=Path, default=REPO_ROOT, help="function app folder (default: repo root)"
    )
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".formloop", help="data and logs")
    parser.add_argument("--demo", action="store_true", help="run the bundled sample forms through the loop")
    parser.add_argument(
        "--host",
        choices=["auto", "devhost", "func"],
        default="auto",
        help="Functions host: devhost (built in) or func (Core Tools, when installed); auto = devhost",
    )
    parser.add_argument("--no-wait", action="store_true", help="exit after the demo instead of staying up")


def _ports(preferred: tuple[int, ...]) -> tuple[int, ...]:
    if all(not port_open(LOOPBACK, p) for p in preferred):
        return preferred
    return tuple(free_port() for _ in preferred)


def host_environment(settings: dict[str, Any], azurite: AzuriteInfo, engine: EngineInfo,
                     environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The app settings for the host: local.settings.json values for what the environment does not set
    (the environment wins, as with `func start`: `TRAINING_THRESHOLD=7 formloop up`), the live endpoints
    on top."""
    outer = os.environ if environ is None else environ
    env = {k: str(v) for k, v in settings.get("Values", {}).items() if k not in outer}
    env.update(
        {
            "AzureWebJobsStorage": azurite.connection_string,
            "FORMS_STORAGE": azurite.connection_string,
            "FORM_RECOGNIZER_ENDPOINT": engine.endpoint,
            "FORM_RECOGNIZER_KEY": engine.api_key,
        }
    )
    return env


def run_up(args: argparse.Namespace) -> int:
    app_dir: Path = args.app_dir.resolve()
    state: Path = args.state_dir.resolve()
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    settings = ensure_local_settings(app_dir)
    key = settings["Values"]["FORM_RECOGNIZER_KEY"]

    procs: list[subprocess.Popen[bytes]] = []
    try:
        with console.status("Starting Azurite…"):
            azurite = start_azurite(
                state / "azurite", ports=_ports(AZURITE_PORTS), log_path=logs / "azurite.log"
            )  # type: ignore[arg-type]
        procs.append(azurite.process)  # type: ignore[arg-type]
        console.print(f"[green]✓[/] Azurite      blob {azurite.blob_endpoint}  (data in {state / 'azurite'})")

        with console.status("Starting the engine…"):
            engine = start_engine(
                state / "engine", api_key=key, port=_ports((ENGINE_PORT,))[0], log_path=logs / "engine.log"
            )
        engine_index = len(procs)
        procs.append(engine.process)  # type: ignore[arg-type]
        console.print(f"[green]✓[/] Engine       {engine.endpoint}  (Form Recognizer v2.1 protocol)")

        def restart_engine() -> subprocess.Popen[bytes]:
            again = start_engine(
                state / "engine", api_key=key, port=engine.port, log_path=logs / "engine.log"
            )
            return again.process  # type: ignore[return-value]

        env = host_environment(settings, azurite, engine)
        if args.demo:
            from formloop.demo import DEMO_SETTINGS

            env.update(DEMO_SETTINGS)
        host = _start_host(args.host, app_dir, env, logs)
        procs.append(host)
        console.print(
            f"[green]✓[/] Functions host  {' '.join(map(str, host.args[1:3]))}  (log: {logs / 'host.log'})"
        )

        if args.demo:
            from formloop.demo import run_demo

            run_demo(console, azurite.connection_string, host, logs / "host.log")
        if args.no_wait:
            return 0
        console.print(
            "\nThe stack is up. Drop forms in with "
            "[bold]formloop upload PATH --folder NAME[/], watch with [bold]formloop status[/]. "
            "Ctrl-C stops everything."
        )
        _wait_forever(procs, {engine_index: ("the engine", restart_engine)}, logs=logs,
                      names=["Azurite", "the engine", "the Functions host"])
        return 0
    except StackError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("\nStopping…")
        return 0
    finally:
        for proc in reversed(procs):
            stop(proc)


def _start_host(choice: str, app_dir: Path, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    if choice == "func":
        if not func_available():
            raise StackError("`func` (Azure Functions Core Tools) is not on PATH; use --host devhost")
        proc = subprocess.Popen(
            ["func", "start"],
            cwd=app_dir,
            env={**os.environ, **env},
            stdout=open(logs / "host.log", "ab"),  # noqa: SIM115 - handed to the child
            stderr=subprocess.STDOUT,
        )
        return proc
    proc = start_devhost(app_dir, env=env, log_path=logs / "host.log")
    time.sleep(0.5)
    if proc.poll() is not None:
        tail = (logs / "host.log").read_text(errors="replace").splitlines()[-15:]
        raise StackError("the Functions host exited at start:\n" + "\n".join(tail))
    return proc


ENGINE_RESTARTS = 3


def _wait_forever(
    procs: list[subprocess.Popen[bytes]],
    restartable: dict[int, tuple[str, Callable[[], subprocess.Popen[bytes]]]],
    *,
    max_restarts: int = ENGINE_RESTARTS,
    poll_seconds: float = 1.0,
    logs: Path = Path(".formloop/logs"),
    names: list[str] | None = None,
) -> None:
    """Watch the stack until Ctrl-C. A process at an index in `restartable` (the engine: its results
    and models are on disk, and the pipeline retries what failed meanwhile) is started again, up to
    `max_restarts` times in all; any other exit stops the stack with a message naming the process (as
    `names` calls it, not "python") and the log folder it writes to (under --state-dir)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    restarts = 0
    try:
        while True:
            for index, proc in enumerate(procs):
                if proc.poll() is None:
                    continue
                fallback = names[index] if names and index < len(names) else str(proc.args[0])
                name, restart = restartable.get(index, (fallback, None))
                if restart is None or restarts >= max_restarts:
                    raise StackError(f"{name} exited with code {proc.returncode}; see {logs}")
                restarts += 1
                console.print(
                    f"[yellow]![/] {name} exited with code {proc.returncode}; starting it again "
                    f"({restarts}/{max_restarts}; see {logs})"
                )
                procs[index] = restart()
            time.sleep(poll_seconds)
    finally:
        signal.signal(signal.SIGTERM, previous)
