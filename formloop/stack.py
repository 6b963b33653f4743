"""Start the local stack (Azurite, the engine, devhost) as child processes on loopback.

One module serves `formloop up`, `make run` and the test fixtures, so the way the
stack is started in tests is the way users start it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"

# The public, documented Azurite development account: not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class StackError(RuntimeError):
    """A part of the local stack could not be started."""


def free_port() -> int:
    """A TCP port that is free on loopback right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def describe_exit(returncode: int) -> str:
    """How a child ended, in words: "exited with code 2", or "exited with signal 9 (killed)" where
    Popen reports -9 (a negative code means a signal ended it, which the bare number does not say)."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    number = -returncode
    try:
        words = signal.strsignal(number) or signal.Signals(number).name
    except ValueError:
        words = "unknown signal"
    return f"exited with signal {number} ({words.lower()})"


def wait_for_ports(
    ports: list[int], proc: subprocess.Popen[bytes] | None, name: str, timeout: float = 60.0
) -> None:
    """Block until every port answers, failing fast when the process died."""
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{name} {describe_exit(proc.returncode)} before it was ready{_tail(proc)}")
        pending = [p for p in pending if not port_open(LOOPBACK, p)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise StackError(f"{name} did not open ports {pending} within {timeout:.0f} s{_tail(proc)}")
        time.sleep(0.1)


def _tail(proc: subprocess.Popen[bytes] | None) -> str:
    log = getattr(proc, "log_path", None)
    if not log or not Path(log).exists():
        return ""
    text = Path(log).read_text(errors="replace").strip().splitlines()[-15:]
    return "\n--- last lines of " + str(log) + " ---\n" + "\n".join(text)


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0, sig: int = signal.SIGINT) -> None:
    """Ask a child to stop (SIGINT, like Ctrl-C, by default), then kill it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _spawn(
    cmd: list[str], log_path: Path | None, env: Mapping[str, str] | None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """A child in a process group of its own: Ctrl-C in the terminal reaches only the parent, which
    stops its children once each and in order (the Functions host first, while the engine and Azurite
    it drains against are still up). Sharing the terminal's group, every child got the Ctrl-C at the
    same moment and then the parent's SIGINT as a second one (the "force quit" of uvicorn and devhost)."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        cwd=str(cwd) if cwd else None,
        process_group=0,
    )
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


# --------------------------------------------------------------------------- Azurite


@dataclass
class AzuriteInfo:
    blob_port: int
    queue_port: int
    table_port: int
    host: str = LOOPBACK
    account_name: str = AZURITE_ACCOUNT
    account_key: str = AZURITE_KEY
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.blob_port}/{self.account_name}"

    @property
    def queue_endpoint(self) -> str:
        return f"http://{self.host}:{self.queue_port}/{self.account_name}"

    @property
    def table_endpoint(self) -> str:
        return f"http://{self.host}:{self.table_port}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={self.account_name};AccountKey={self.account_key};"
            f"BlobEndpoint={self.blob_endpoint};QueueEndpoint={self.queue_endpoint};"
            f"TableEndpoint={self.table_endpoint};"
        )


def azurite_binary() -> Path:
    path = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if not path.exists():
        raise StackError(f"Azurite is not installed at {path}: run `npm ci` (or `make install`) first")
    return path


def start_azurite(
    data_dir: Path | None = None,
    *,
    ports: tuple[int, int, int] | None = None,
    log_path: Path | None = None,
) -> AzuriteInfo:
    """Azurite on loopback only; in memory unless a data_dir is given."""
    blob, queue, table = ports or (free_port(), free_port(), free_port())
    cmd = [
        str(azurite_binary()),
        "--silent",
        "--skipApiVersionCheck",
        "--disableProductStyleUrl",
        "--disableTelemetry",  # a local stack sends nothing anywhere (Azurite collects by default)
        "--blobHost", LOOPBACK, "--blobPort", str(blob),
        "--queueHost", LOOPBACK, "--queuePort", str(queue),
        "--tableHost", LOOPBACK, "--tablePort", str(table),
    ]  # fmt: skip
    if data_dir is None:
        cmd.append("--inMemoryPersistence")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        cmd += ["--location", str(data_dir)]
    proc = _spawn(cmd, log_path, None)
    info = AzuriteInfo(blob, queue, table, process=proc)
    try:
        wait_for_ports([blob, queue, table], proc, "Azurite", timeout=60)
    except BaseException:  # a Ctrl-C too: the child has a process group of its own, so it did not get it
        stop(proc)
        raise
    return info


# --------------------------------------------------------------------------- engine


@dataclass
class EngineInfo:
    endpoint: str
    api_key: str
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def new_api_key() -> str:
    return secrets.token_hex(16)


def start_engine(
    data_dir: Path,
    *,
    api_key: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    log_path: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> EngineInfo:
    """The local Form Recognizer-compatible engine as `python -m engine`."""
    port = port or free_port()
    api_key = api_key or new_api_key()
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "engine",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, **(extra_env or {}), "ENGINE_API_KEY": api_key}
    proc = _spawn(cmd, log_path, env, cwd=REPO_ROOT)
    try:
        wait_for_ports([port], proc, "engine", timeout=timeout)
        _wait_http_ok(f"http://{LOOPBACK}:{port}/health", proc, timeout)
    except BaseException:  # a Ctrl-C too: the child has a process group of its own, so it did not get it
        stop(proc)
        raise
    return EngineInfo(f"http://{LOOPBACK}:{port}", api_key, data_dir, port, proc)


def _wait_http_ok(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None:
            raise StackError(f"the engine {describe_exit(proc.returncode)} before it was ready{_tail(proc)}")
        if time.monotonic() > deadline:
            raise StackError(f"{url} did not answer 200 within {timeout:.0f} s{_tail(proc)}")
        time.sleep(0.1)


# --------------------------------------------------------------------------- devhost


def start_devhost(
    app_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    extra_args: list[str] | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen[bytes]:
    """The local Functions host stand-in; readiness is the app's own business."""
    cmd = [sys.executable, "-m", "devhost", str(app_dir), *(extra_args or [])]
    full_env = {**os.environ, **(env or {})}
    return _spawn(cmd, log_path, full_env, cwd=REPO_ROOT)


def func_available() -> bool:
    """Whether the Azure Functions Core Tools are installed (then `func start` may replace devhost)."""
    return shutil.which("func") is not None
