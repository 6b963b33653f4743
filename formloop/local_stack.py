"""`formloop up`: Azurite + engine + Functions host on loopback, kept up until Ctrl-C.

State (Azurite's data, the engine's results and models, logs) lives in `.formloop/`, which is
git-ignored, so a restart keeps what was processed. Standard ports are used when free
(Azurite 10000-10002, engine 5050) so that `local.settings.json` works for `func start` too;
when one is taken, free ports are chosen and handed to the host through the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from formloop.local_settings import ensure_local_settings
from formloop.stack import (
    LOOPBACK,
    REPO_ROOT,
    AzuriteInfo,
    EngineInfo,
    StackError,
    describe_exit,
    free_port,
    func_available,
    port_open,
    start_azurite,
    start_devhost,
    start_engine,
)

console = Console()

AZURITE_PORTS = (10000, 10001, 10002)
ENGINE_PORT = 5050
HTTP_PORT = 7071  # the Core Tools' port; devhost takes the next free one when it is taken
STOP_TIMEOUT_S = 20.0  # > devhost's 10 s --grace: a draining host is not killed half-way


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
            # a new review-page token per start: the address printed below is the only way in
            "REVIEW_AUTH": "token",
            "REVIEW_TOKEN": secrets.token_urlsafe(24),
        }
    )
    return env


def api_banner(settings: dict[str, Any], environ: Mapping[str, str] | None = None) -> str:
    """Which protocol the app will speak to the engine (the environment wins over local.settings.json)."""
    from shared.settings import SettingsError, api_dialect

    outer = os.environ if environ is None else environ
    raw = outer.get("FORM_RECOGNIZER_API") or settings.get("Values", {}).get("FORM_RECOGNIZER_API") or "v2.1"
    try:
        api = api_dialect(raw)
    except SettingsError:
        return f"FORM_RECOGNIZER_API={raw!r} is not an API the app speaks"
    names = {"v2.1": "Form Recognizer v2.1", "2024-11-30": "Document Intelligence v4.0 (2024-11-30)",
             "2.0-preview": "the 2019 Form Recognizer v2.0-preview routes"}
    return f"the app speaks {names.get(api, f'Form Recognizer 3.x ({api})')}"


def review_url(port: int, token: str) -> str:
    return f"http://{LOOPBACK}:{port}/api/review/?token={token}"


def wait_http_port(port_file: Path, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """The port devhost serves HTTP on (7071, or the next free one), once it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            return int(port_file.read_text().strip())
        if proc.poll() is not None:
            raise StackError(f"the Functions host {describe_exit(proc.returncode)} before serving HTTP")
        time.sleep(0.1)
    raise StackError(f"the Functions host did not start serving HTTP within {timeout:.0f} s")


def host_name(choice: str) -> str:
    """What the messages call the Functions host: which one runs says which log format to expect."""
    return "the Functions host (func)" if choice == "func" else "the Functions host (devhost)"


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (the terminal closed) end `formloop up` as Ctrl-C does, through the `finally`
    that stops the children: they are in process groups of their own and would outlive it."""

    def interrupt(_sig: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # only the main thread has handlers
        yield
        return
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_up(args: argparse.Namespace) -> int:
    with _stop_signals_interrupt():
        return _run_up(args)


def _run_up(args: argparse.Namespace) -> int:
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
        console.print(f"[green]✓[/] Engine       {engine.endpoint}  ({api_banner(settings)})")

        def restart_engine() -> subprocess.Popen[bytes]:
            again = start_engine(
                state / "engine", api_key=key, port=engine.port, log_path=logs / "engine.log"
            )
            return again.process  # type: ignore[return-value]

        env = host_environment(settings, azurite, engine)
        if args.demo:
            from formloop.demo import DEMO_SETTINGS

            env.update(DEMO_SETTINGS)
        port_file = state / "http.port"
        port_file.unlink(missing_ok=True)
        host = _start_host(args.host, app_dir, env, logs, port_file)
        procs.append(host)
        kind = "func start" if args.host == "func" else "devhost"
        console.print(f"[green]✓[/] Functions host  {kind}  (log: {logs / 'host.log'})")
        port = HTTP_PORT if args.host == "func" else wait_http_port(port_file, host)
        url = review_url(port, env["REVIEW_TOKEN"])
        console.print(f"[green]✓[/] Review page  [bold]{url}[/]", soft_wrap=True)

        if args.demo:
            from formloop.demo import run_demo

            run_demo(console, azurite.connection_string, host, logs / "host.log")
        if args.no_wait:
            return 0
        console.print(
            "\nThe stack is up. Drop forms in with "
            "[bold]formloop upload PATH --folder NAME[/], watch with [bold]formloop status[/]. "
            f"Review and label forms at {url} . Ctrl-C stops everything."
        )
        _wait_forever(procs, {engine_index: ("the engine", restart_engine)},
                      names=["Azurite", "the engine", host_name(args.host)],
                      log_files=[logs / "azurite.log", logs / "engine.log", logs / "host.log"])
        return 0
    except StackError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("\nStopping…")
        stop_children(procs)
        console.print(f"Stopped the Functions host, the engine and Azurite; the data stays in {state}.")
        return 0
    finally:
        stop_children(procs)


def stop_children(procs: list[subprocess.Popen[bytes]], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGINT each child once, the host first (it drains against the engine and Azurite), killing one
    that outlasts `timeout`. Another Ctrl-C meanwhile is passed on to the child being stopped, as a
    second Ctrl-C in its own terminal would be: the host abandons its running invocations at once, the
    engine its running operations."""
    for proc in reversed(procs):
        if proc is None or proc.poll() is not None:
            continue
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                break
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
                break
            except KeyboardInterrupt:
                proc.send_signal(signal.SIGINT)


def _start_host(choice: str, app_dir: Path, env: dict[str, str], logs: Path,
                port_file: Path | None = None) -> subprocess.Popen[bytes]:
    if choice == "func":
        if not func_available():
            raise StackError("`func` (Azure Functions Core Tools) is not on PATH; use --host devhost")
        proc = subprocess.Popen(
            ["func", "start"],
            cwd=app_dir,
            env={**os.environ, **env},
            stdout=open(logs / "host.log", "ab"),  # noqa: SIM115 - handed to the child
            stderr=subprocess.STDOUT,
            process_group=0,  # stopped by formloop, in order, as the other children (see stack._spawn)
        )
        return proc
    extra = ["--http-port-file", str(port_file)] if port_file else []
    proc = start_devhost(app_dir, env=env, extra_args=extra, log_path=logs / "host.log")
    try:
        time.sleep(0.5)
    except BaseException:
        stop_children([proc])
        raise
    if proc.poll() is not None:
        log = logs / "host.log"
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise StackError(
            f"{host_name(choice)} {describe_exit(proc.returncode)} at start; see {log}:\n" + "\n".join(tail)
        )
    return proc


ENGINE_RESTARTS = 3


def _wait_forever(
    procs: list[subprocess.Popen[bytes]],
    restartable: dict[int, tuple[str, Callable[[], subprocess.Popen[bytes]]]],
    *,
    max_restarts: int = ENGINE_RESTARTS,
    poll_seconds: float = 1.0,
    names: list[str] | None = None,
    log_files: list[Path] | None = None,
) -> None:
    """Watch the stack until Ctrl-C. A process at an index in `restartable` (the engine: its results
    and models are on disk, and the pipeline retries what failed meanwhile) is started again, up to
    `max_restarts` times in all; any other exit stops the stack with a message naming the process (as
    `names` calls it, not "python"), how it ended (a signal, not "code -9") and its log file."""
    restarts = 0
    while True:
        for index, proc in enumerate(procs):
            if proc.poll() is None:
                continue
            fallback = names[index] if names and index < len(names) else str(proc.args[0])
            name, restart = restartable.get(index, (fallback, None))
            ended = f"{name} {describe_exit(proc.returncode)}"
            see = f"see {log_files[index]}" if log_files and index < len(log_files) else "see its log"
            if restart is None or restarts >= max_restarts:
                raise StackError(f"{ended}; {see}")
            restarts += 1
            console.print(f"[yellow]![/] {ended}; starting it again ({restarts}/{max_restarts}; {see})")
            procs[index] = restart()
        time.sleep(poll_seconds)
