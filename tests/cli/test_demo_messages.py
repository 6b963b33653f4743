"""The demo's messages when the Functions host dies under it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from formloop.demo import _check_host
from formloop.stack import StackError


def test_a_host_killed_during_the_demo_is_named_with_its_signal_and_log(tmp_path: Path) -> None:
    host = subprocess.Popen(["sleep", "30"])
    host.kill()
    host.wait()
    log = tmp_path / "host.log"
    log.write_text("line 1\nTraceback: the last words\n")
    with pytest.raises(StackError) as caught:
        _check_host(host, log)
    message = str(caught.value)
    assert message.startswith(f"the Functions host exited with signal 9 (killed) during the demo; see {log}")
    assert message.endswith("Traceback: the last words")


def test_a_running_host_passes(tmp_path: Path) -> None:
    host = subprocess.Popen(["sleep", "30"])
    try:
        _check_host(host, tmp_path / "host.log")  # no exception, the log is not even read
    finally:
        host.kill()
        host.wait()
