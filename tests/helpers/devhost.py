"""Devhost test helpers: a test function app with its storage names (AppUnderTest), a devhost process
running it (DevhostRun), and polling that fails with the devhost log.

The fixtures that build and start them (`make_app`, `devhost`) are in tests/devhost/conftest.py."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from formloop.stack import start_devhost, stop


def wait_until(
    condition: Callable[[], Any], what: str, run: DevhostRun | None = None, timeout: float = 30
) -> Any:
    """Poll until `condition()` is truthy; fail with the devhost log when it never is or devhost died."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if run is not None and run.process is not None and run.process.poll() is not None:
            pytest.fail(f"devhost exited ({run.process.returncode}) while waiting for {what}\n{run.log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{run.log() if run else ''}")
        time.sleep(0.05)


def peek(queue: QueueClient) -> list[Any]:
    """Visible messages of a queue that may not exist yet."""
    try:
        return list(queue.peek_messages(max_messages=32))
    except ResourceNotFoundError:
        return []


def ensure_queue(queue: QueueClient) -> QueueClient:
    with contextlib.suppress(ResourceExistsError):
        queue.create_queue()
    return queue


@dataclass
class AppUnderTest:
    """A copy of the test app plus the unique storage names and settings it runs with."""

    dir: Path
    records: Path
    connection_string: str
    env: dict[str, str]
    container: str
    queue: str
    host_id: str

    def read(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.records.glob(f"{kind}-*.json"))]

    def blobs(self) -> BlobServiceClient:
        return BlobServiceClient.from_connection_string(self.connection_string)

    def queue_client(self, name: str | None = None) -> QueueClient:
        return QueueClient.from_connection_string(self.connection_string, name or self.queue)


@dataclass
class DevhostRun:
    app: AppUnderTest
    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> DevhostRun:
        self.process = start_devhost(
            self.app.dir, env=self.app.env, extra_args=self.args, log_path=self.log_path
        )
        wait_until(lambda: "Host started" in self.log(), "devhost to start", self)
        return self

    def stop(self) -> int:
        assert self.process is not None
        stop(self.process, timeout=20)
        return int(self.process.returncode)
