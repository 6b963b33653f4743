"""Blob receipts: versions done at once go into one checkpoint; failed versions keep receipt blobs."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from devhost.receipts import PENDING_KEY, BlobReceipts, BlobVersion, ensure_hosts_container
from formloop.stack import AzuriteInfo


def test_checkpoint_and_pending_receipts_survive_a_restart(azurite: AzuriteInfo) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    ensure_hosts_container(service)
    host = f"h{uuid.uuid4().hex[:8]}"
    first = BlobReceipts(service, host, "Host.Functions.on_blob")
    done = BlobVersion("forms", "f/a.pdf", '"0x1"')
    flaky = BlobVersion("forms", "f/b.pdf", '"0x2"')
    first.complete(done)
    first.record_failure(flaky, "inv-1", 2)
    assert not first.checkpoint.exists()  # nothing written per completed version...
    assert first.flush_due()
    first.flush()  # ...until the checkpoint
    etag = first.checkpoint.get_blob_properties().etag
    first.flush()  # nothing new: no write
    assert first.checkpoint.get_blob_properties().etag == etag

    second = BlobReceipts(service, host, "Host.Functions.on_blob")  # a restart
    receipts = second.list_all()
    assert receipts[done].pending is False
    assert receipts[flaky].pending is True and receipts[flaky].attempts == 2
    second.complete(flaky)  # a version that had a pending receipt loses the mark at once
    pending_blob = service.get_blob_client("azure-webjobs-hosts", second.path(flaky))
    assert PENDING_KEY not in (pending_blob.get_blob_properties().metadata or {})
    second.flush()
    third = BlobReceipts(service, host, "Host.Functions.on_blob").list_all()
    assert {v: r.pending for v, r in third.items()} == {done: False, flaky: False}

    newer = BlobVersion("forms", "f/a.pdf", '"0x3"')  # the checkpoint keeps the newest version per blob
    second.complete(newer)
    second.flush()
    assert newer in BlobReceipts(service, host, "Host.Functions.on_blob").list_all()


def test_a_torn_checkpoint_is_ignored_not_fatal(azurite: AzuriteInfo) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    ensure_hosts_container(service)
    receipts = BlobReceipts(service, f"h{uuid.uuid4().hex[:8]}", "Host.Functions.on_blob")
    receipts.checkpoint.upload_blob(b'{"forms/a.pdf": "0x', overwrite=True)
    failed = BlobVersion("forms", "b.pdf", '"0x9"')
    receipts.record_failure(failed, "inv", 1)
    assert set(receipts.list_all()) == {failed}  # versions in a torn checkpoint just fire once more


def test_a_checkpoint_write_that_fails_is_kept_for_the_next_flush(azurite: AzuriteInfo) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    ensure_hosts_container(service)
    receipts = BlobReceipts(service, f"h{uuid.uuid4().hex[:8]}", "Host.Functions.on_blob")
    receipts.complete(BlobVersion("forms", "a.pdf", '"0x1"'))
    written_to = receipts.checkpoint
    receipts.checkpoint = service.get_blob_client(
        f"missing-{uuid.uuid4().hex[:8]}", "c.json"
    )  # storage says no
    with pytest.raises(AzureError):
        receipts.flush()
    receipts.checkpoint = written_to
    receipts.flush()  # nothing was lost: the next flush writes it
    assert json.loads(written_to.download_blob().readall()) == {"forms/a.pdf": '"0x1"'}


def test_the_checkpoint_drops_deleted_blobs_but_not_versions_completed_after_the_listing(
    azurite: AzuriteInfo,
) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    ensure_hosts_container(service)
    host = f"h{uuid.uuid4().hex[:8]}"
    first = BlobReceipts(service, host, "Host.Functions.on_blob")
    for name in ("kept.pdf", "deleted.pdf"):
        first.complete(BlobVersion("forms", name, '"0x1"'))
    first.complete(BlobVersion("other", "deleted.pdf", '"0x1"'))  # another container: not this listing's
    first.flush()

    second = BlobReceipts(service, host, "Host.Functions.on_blob")  # a restart reads the checkpoint
    second.list_all()
    listed_at = time.monotonic()
    second.complete(BlobVersion("forms", "new.pdf", '"0x2"'))  # found by a later scan, done since
    second.flush(("forms", {"kept.pdf"}, listed_at))
    assert json.loads(second.checkpoint.download_blob().readall()) == {
        "forms/kept.pdf": '"0x1"',
        "forms/new.pdf": '"0x2"',
        "other/deleted.pdf": '"0x1"',
    }
