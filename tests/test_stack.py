"""The stack launcher itself: Azurite answers on loopback with the documented account."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from formloop.local_stack import _wait_forever
from formloop.stack import AzuriteInfo, StackError, free_port, port_open, stop


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
        with pytest.raises(StackError, match=r"^the Functions host exited with code 5; see /srv/state/logs$"):
            _wait_forever(procs, {1: ("the engine", restart)}, poll_seconds=0.05,
                          logs=Path("/srv/state/logs"), names=["the Functions host", "the engine"])
        assert len(started) == 2
    finally:
        stop(alive)
