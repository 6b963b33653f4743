"""The stack launcher itself: Azurite answers on loopback with the documented account."""

from __future__ import annotations

import uuid

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from formloop.stack import AzuriteInfo, free_port, port_open


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
