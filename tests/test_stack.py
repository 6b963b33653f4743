"""The stack launcher itself: Azurite answers on loopback with the documented account."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from formloop.local_stack import _stop_signals_interrupt, _wait_forever, host_name, stop_children
from formloop.stack import (
    LOOPBACK,
    REPO_ROOT,
    AzuriteInfo,
    EngineInfo,
    StackError,
    _spawn,
    describe_exit,
    free_port,
    new_api_key,
    port_open,
    start_engine,
    stop,
    wait_for_ports,
)


def test_azurite_serves_blobs_queues_and_tables(azurite: AzuriteInfo) -> None:
    name = f"t{uuid.uuid4().hex[:12]}"
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    blobs.create_container(name).upload_blob("a/b.txt", b"hello")
    assert blobs.get_container_client(name).download_blob("a/b.txt").readall() == b"hello"

    queues = QueueServiceClient.from_connection_string(azurite.connection_string)
    q = queues.create_queue(name)
    q.send_message("m1")
    assert [m.content for m in q.receive_messages()] == ["m1"]

    tables = TableServiceClient.from_connection_string(azurite.connection_string)
    t = tables.create_table(name)
    t.create_entity({"PartitionKey": "p", "RowKey": "r", "v": 1})
    assert t.get_entity("p", "r")["v"] == 1


def test_azurite_listens_on_loopback_only(azurite: AzuriteInfo) -> None:
    assert azurite.host == "127.0.0.1"
    assert port_open("127.0.0.1", azurite.blob_port)


def test_free_port_is_unused() -> None:
    assert not port_open("127.0.0.1", free_port())


def test_the_stack_watcher_restarts_the_engine_a_few_times_then_gives_up() -> None:
    """`formloop up`: a dead engine is started again (bounded); any other process dying stops the stack."""
    def exits(code: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", f"import sys; sys.exit({code})"])

    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started: list[subprocess.Popen[bytes]] = []

    def restart() -> subprocess.Popen[bytes]:
        started.append(exits(7))  # an engine that keeps dying
        return started[-1]

    procs = [alive, exits(3)]
    try:
        with pytest.raises(StackError, match="the engine exited with code 7"):
            _wait_forever(procs, {1: ("the engine", restart)}, max_restarts=2, poll_seconds=0.05)
        assert len(started) == 2 and procs[1] is started[-1]  # restarted twice, then it gave up

        procs = [exits(5), alive]  # a process that is not restartable: the stack stops at once, naming it
        logs = [Path("/srv/state/logs/host.log"), Path("/srv/state/logs/engine.log")]
        ended = r"^the Functions host exited with code 5; see /srv/state/logs/host.log$"
        with pytest.raises(StackError, match=ended):
            _wait_forever(procs, {1: ("the engine", restart)}, poll_seconds=0.05,
                          names=["the Functions host", "the engine"], log_files=logs)
        assert len(started) == 2
    finally:
        stop(alive)


def test_a_killed_functions_host_is_named_with_its_signal_and_log_file(tmp_path: Path) -> None:
    """Issue 12 item 11: `kill -9` of devhost read "python exited with code -9" with the log folder."""
    host = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    host.kill()
    host.wait(timeout=10)
    logs = tmp_path / "state" / "logs"
    expected = f"the Functions host (devhost) exited with signal 9 (killed); see {logs / 'host.log'}"
    with pytest.raises(StackError) as raised:
        _wait_forever([host], {}, poll_seconds=0.05, names=[host_name("devhost")],
                      log_files=[logs / "host.log"])
    assert str(raised.value) == expected


def test_exit_descriptions() -> None:
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(2) == "exited with code 2"
    assert describe_exit(-9) == "exited with signal 9 (killed)"
    assert describe_exit(-15) == "exited with signal 15 (terminated)"
    assert host_name("func") == "the Functions host (func)"


# --------------------------------------------------------------------------- stopping the stack

SIGNAL_RECORDER = """
import os, signal, sys, time
out = sys.argv[1]
def note(sig, _frame):
    with open(out, "a") as f:
        f.write(f"{signal.Signals(sig).name} {time.monotonic()}\\n")
    if open(out).read().count("SIGINT") >= int(sys.argv[2]):
        sys.exit(0)
signal.signal(signal.SIGINT, note)
open(out + ".ready", "w").close()
while True:
    time.sleep(0.05)
"""


def _recorder(path: Path, sigints_to_exit: int = 1) -> subprocess.Popen[bytes]:
    proc = _spawn([sys.executable, "-c", SIGNAL_RECORDER, str(path), str(sigints_to_exit)], None, None)
    deadline = time.monotonic() + 20
    while not path.with_suffix(".ready").exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    return proc


def test_children_have_their_own_process_group(tmp_path: Path) -> None:
    """Ctrl-C in the terminal reaches `formloop up` only; it then stops each child once (before, every
    child got the terminal's SIGINT and then formloop's: a second Ctrl-C, which makes devhost abandon
    its running invocations and made the engine force-quit)."""
    proc = _recorder(tmp_path / "a")
    try:
        assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)
    finally:
        stop(proc)


def test_stop_children_stops_the_host_first_once_each(tmp_path: Path) -> None:
    azurite, engine, host = (_recorder(tmp_path / name) for name in ("azurite", "engine", "host"))
    stop_children([azurite, engine, host], timeout=10)
    assert [p.returncode for p in (azurite, engine, host)] == [0, 0, 0]
    lines = {name: (tmp_path / name).read_text().split() for name in ("azurite", "engine", "host")}
    assert all(words[0] == "SIGINT" and len(words) == 2 for words in lines.values())
    assert float(lines["host"][1]) < float(lines["engine"][1]) < float(lines["azurite"][1])


def test_stop_children_passes_a_second_ctrl_c_on(tmp_path: Path) -> None:
    """A Ctrl-C while formloop waits for a child goes to that child (devhost: abandon what runs)."""
    host = _recorder(tmp_path / "host", sigints_to_exit=2)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    stop_children([host], timeout=10)
    assert host.returncode == 0 and time.monotonic() - started < 5
    assert (tmp_path / "host").read_text().count("SIGINT") == 2


def test_sigterm_and_sighup_stop_formloop_up_like_ctrl_c() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with pytest.raises(KeyboardInterrupt), _stop_signals_interrupt():
            os.kill(os.getpid(), sig)
            time.sleep(1)


# --------------------------------------------------------------------------- the engine's Ctrl-C


def _engine_log(info: EngineInfo, tmp_path: Path) -> str:
    assert info.process is not None
    return (tmp_path / "engine.log").read_text(errors="replace")


def _assert_clean(log: str) -> None:
    assert "Traceback" not in log, log
    assert '"level": "error"' not in log, log
    assert '"logger": "uvicorn.error"' not in log, log  # uvicorn's info lines named "error"
    assert '"msg": "engine stopped"' in log, log


def test_idle_engine_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """Exit code 0 as on Ctrl-C (SIGTERM ended it with -15: uvicorn re-raised the signal)."""
    info = start_engine(tmp_path / "data", log_path=tmp_path / "engine.log")
    assert info.process is not None
    info.process.send_signal(signal.SIGTERM)
    assert info.process.wait(timeout=15) == 0
    _assert_clean(_engine_log(info, tmp_path))


def test_engine_ctrl_c_with_a_request_in_flight_answers_503_without_a_traceback(tmp_path: Path) -> None:
    """Issue 12 item 11: a request still running when uvicorn's graceful wait ends was cancelled, and
    uvicorn logged "Exception in ASGI application" with a 40-line CancelledError traceback."""
    info = start_engine(tmp_path / "data", log_path=tmp_path / "engine.log")
    assert info.process is not None
    with socket.create_connection((LOOPBACK, info.port), timeout=20) as client:
        client.sendall((  # an upload that stalls half-way: the handler waits for the rest of the body
            "POST /formrecognizer/v2.1/layout/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: image/png\r\nOcp-Apim-Subscription-Key: {info.api_key}\r\n"
            "Content-Length: 100000\r\n\r\n").encode() + b"\x89PNG" + b"\0" * 1000)
        time.sleep(0.3)
        info.process.send_signal(signal.SIGINT)
        answer = client.recv(4096)
    assert info.process.wait(timeout=20) == 0
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"retry-after: " in answer.lower()
    log = _engine_log(info, tmp_path)
    _assert_clean(log)
    assert "request cut off: the engine is stopping" in log


SLOW_ENGINE = """
import runpy, sys, time
import engine.v2.layout_routes
def slow(*_args, **_kwargs):
    time.sleep(60)
    return {}
engine.v2.layout_routes.analyze_layout = slow  # an OCR job that outlasts any shutdown grace
sys.argv[0] = "engine"
runpy.run_module("engine", run_name="__main__")
"""


def test_engine_second_ctrl_c_abandons_running_operations_without_a_traceback(tmp_path: Path) -> None:
    """With an OCR job running, the engine waited for its thread at exit, and a second Ctrl-C (formloop
    up sent one after the terminal's) raised KeyboardInterrupt in threading._shutdown: a traceback."""
    port, key = free_port(), new_api_key()
    proc = _spawn([sys.executable, "-c", SLOW_ENGINE, "--host", LOOPBACK, "--port", str(port),
                   "--data-dir", str(tmp_path / "data"), "--workers", "1"],
                  tmp_path / "engine.log", {**os.environ, "ENGINE_API_KEY": key}, cwd=REPO_ROOT)
    try:
        wait_for_ports([port], proc, "engine", timeout=60)
        image = (REPO_ROOT / "tests/data/purchase-orders/Form_1.jpg").read_bytes()
        request = urllib.request.Request(
            f"http://{LOOPBACK}:{port}/formrecognizer/v2.1/layout/analyze", data=image, method="POST",
            headers={"Content-Type": "image/jpeg", "Ocp-Apim-Subscription-Key": key})
        with urllib.request.urlopen(request, timeout=20) as response:
            assert response.status == 202
        log_path = tmp_path / "engine.log"
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        while "waiting for running operations" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        assert proc.poll() is None  # it waits for the job (bounded)...
        proc.send_signal(signal.SIGINT)  # ...until a second Ctrl-C
        assert proc.wait(timeout=5) == 0
    finally:
        stop(proc)
    log = log_path.read_text()
    _assert_clean(log)
    assert "abandoned running operations" in log
