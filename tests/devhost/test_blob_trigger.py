"""Blob trigger semantics against a real Azurite and a real devhost process."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable

from devhost.blob_listener import POISON_QUEUE
from devhost.receipts import CHECKPOINT_DIR, HOSTS_CONTAINER, PENDING_KEY
from tests.helpers.devhost import AppUnderTest, DevhostRun, peek, wait_until


def _upload(app: AppUnderTest, name: str, data: bytes) -> str:
    container = app.blobs().get_container_client(app.container)
    if not container.exists():
        container.create_container()
    blob = container.get_blob_client(name)
    return str(blob.upload_blob(data, overwrite=True, metadata={"origin": "test"})["etag"])


def _records_for(app: AppUnderTest, blob: str) -> list[dict]:
    return [r for r in app.read("blob") if r["name"] == f"{app.container}/{blob}"]


def _completed(app: AppUnderTest) -> dict[str, str]:
    """The checkpoint of versions done with ({"container/blob": etag}), empty before the first write."""
    blob = app.blobs().get_blob_client(
        HOSTS_CONTAINER, f"{CHECKPOINT_DIR}/{app.host_id}/Host.Functions.on_blob.json"
    )
    return json.loads(blob.download_blob().readall()) if blob.exists() else {}


def _receipt_blob(app: AppUnderTest, etag: str, name: str):  # type: ignore[no-untyped-def]
    return app.blobs().get_blob_client(
        HOSTS_CONTAINER, f"blobreceipts/{app.host_id}/Host.Functions.on_blob/{etag}/{app.container}/{name}"
    )


def _poison_message(app: AppUnderTest) -> dict | None:
    """This app's message in the poison queue (the queue is the account's: other tests write to it too)."""
    for message in peek(app.queue_client(POISON_QUEUE)):
        body = json.loads(base64.b64decode(message.content))
        if body["ContainerName"] == app.container:
            return body
    return None


def test_blob_fires_with_input_stream(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    run = devhost(app, "--functions", "on_blob")
    etag = _upload(app, "folder/doc one.txt", b"hello blob")

    (rec,) = wait_until(lambda: _records_for(app, "folder/doc one.txt"), "the blob invocation", run)
    assert rec["input_stream"] is True
    assert rec["md5"] == base64.b64encode(hashlib.md5(b"hello blob").digest()).decode()
    assert rec["data"] == "hello blob"
    assert rec["length"] == len(b"hello blob")
    assert rec["uri"].endswith(f"/{app.container}/folder/doc%20one.txt")
    assert rec["etag"] == etag
    assert rec["metadata"] == {"origin": "test"}
    assert "Executed 'Functions.on_blob' (Succeeded" in run.log()
    # done at once: recorded in the checkpoint (within a second), no receipt blob of its own
    key = f"{app.container}/folder/doc one.txt"
    wait_until(lambda: _completed(app).get(key) == etag, "the checkpoint to record the version", run)
    assert not _receipt_blob(app, etag, "folder/doc one.txt").exists()


def test_blob_fires_once_per_version_across_restart(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    first = devhost(app, "--functions", "on_blob")
    _upload(app, "a.txt", b"version 1")
    wait_until(lambda: _records_for(app, "a.txt"), "the first invocation", first)
    assert first.stop() == 0

    second = devhost(app, "--functions", "on_blob")
    # One worker handles work in scan order: once the sentinel has fired, a refire of a.txt would show.
    _upload(app, "sentinel.txt", b"after restart")
    wait_until(lambda: _records_for(app, "sentinel.txt"), "the sentinel invocation", second)
    assert [r["data"] for r in _records_for(app, "a.txt")] == ["version 1"]

    _upload(app, "a.txt", b"version 2")
    wait_until(lambda: len(_records_for(app, "a.txt")) == 2, "the invocation for the new version", second)
    assert [r["data"] for r in _records_for(app, "a.txt")] == ["version 1", "version 2"]


def test_failing_blob_is_retried_then_poisoned(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    run = devhost(app, "--functions", "on_blob")
    etag = _upload(app, "bad.pdf", b"fail: corrupt")
    body = wait_until(lambda: _poison_message(app), "the poison message", run)
    assert body == {
        "Type": "BlobTrigger",
        "FunctionId": "Host.Functions.on_blob",
        "BlobType": "BlockBlob",
        "ContainerName": app.container,
        "BlobName": "bad.pdf",
        "ETag": etag,
    }
    assert len(_records_for(app, "bad.pdf")) == 5
    # One line per failed attempt with the reason; the app's traceback only with the poisoning one.
    failed = [line for line in run.log().splitlines() if "(Failed," in line]
    assert len(failed) == 5
    assert all(f"attempt {n}/5) RuntimeError: blob" in line for n, line in enumerate(failed, 1))
    assert all(" WARNING " in line for line in failed[:4]) and " ERROR " in failed[4]
    assert run.log().count("Traceback") == 1
    assert run.log().index("Traceback") > run.log().index("attempt 5/5)")

    # A poisoned version is done with: it does not fire again, later blobs still do.
    _upload(app, "good.pdf", b"fine")
    wait_until(lambda: _records_for(app, "good.pdf"), "the next blob", run)
    assert len(_records_for(app, "bad.pdf")) == 5


def test_blob_pending_at_shutdown_resumes_after_restart(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    """A receipt left pending (host stopped mid-way) is taken up again with its attempt count."""
    app = make_app()
    etag = _upload(app, "half-done.txt", b"resume me")
    hosts = app.blobs().get_container_client(HOSTS_CONTAINER)
    if not hosts.exists():
        hosts.create_container()
    receipt = f"blobreceipts/{app.host_id}/Host.Functions.on_blob/{etag}/{app.container}/half-done.txt"
    hosts.upload_blob(receipt, b"", metadata={PENDING_KEY: "crashed", "DevhostAttempts": "2"})

    run = devhost(app, "--functions", "on_blob")
    wait_until(lambda: _records_for(app, "half-done.txt"), "the resumed invocation", run)
    assert "attempt 3/5" in run.log()


def test_blob_receipts_count_ended_attempts_across_a_restart(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    """No receipt while a first attempt runs (a version that succeeds costs one receipt write); each
    failure is recorded at once, so a restart resumes with the attempts that ended and still poisons
    after five in all."""
    app = make_app(
        host_json={
            "version": "2.0",
            "extensions": {
                "blobs": {"maxDegreeOfParallelism": 1},
                "queues": {"visibilityTimeout": "00:00:01"},
            },
        }
    )
    first = devhost(app, "--functions", "on_blob")
    etag = _upload(app, "flaky.pdf", b"fail: twice at least")
    hosts = app.blobs().get_container_client(HOSTS_CONTAINER)
    receipt = hosts.get_blob_client(
        f"blobreceipts/{app.host_id}/Host.Functions.on_blob/{etag}/{app.container}/flaky.pdf"
    )
    wait_until(lambda: first.log().count("(Failed,") >= 2, "two failed attempts", first)
    assert first.stop() == 0
    ended = first.log().count("(Failed,")
    meta = receipt.get_blob_properties().metadata
    assert PENDING_KEY in meta and meta["DevhostAttempts"] == str(ended)

    second = devhost(app, "--functions", "on_blob")
    wait_until(lambda: _poison_message(app), "the poison message", second)
    assert f"attempt {ended + 1}/5" in second.log()
    assert ended + second.log().count("(Failed,") == 5
    # The poison message goes out before the receipt loses its pending mark (a crash in between
    # sends it again rather than never), so the receipt is waited for, not read at once.
    wait_until(
        lambda: PENDING_KEY not in (receipt.get_blob_properties().metadata or {}),
        "the receipt done with",
        second,
    )

    # a version that succeeds at once is only recorded in the checkpoint, once it is done
    ok_etag = _upload(app, "fine.txt", b"all good")
    wait_until(lambda: _records_for(app, "fine.txt"), "the good blob", second)
    wait_until(lambda: _completed(app).get(f"{app.container}/fine.txt") == ok_etag, "its checkpoint", second)
    assert not _receipt_blob(app, ok_etag, "fine.txt").exists()


def _upload_before_start(app: AppUnderTest, names: list[str], data: bytes) -> None:
    """Blobs present before devhost starts are all found by its first scan: one burst of work."""
    for name in names:
        _upload(app, name, data)


def test_blob_invocations_run_concurrently_up_to_max_degree_of_parallelism(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app(
        host_json={
            "version": "2.0",
            "functionTimeout": "00:02:00",
            "extensions": {"blobs": {"maxDegreeOfParallelism": 3}},
        }
    )
    names = [f"h{i}.txt" for i in range(5)]
    _upload_before_start(app, names, b"hold-3")
    run = devhost(app, "--functions", "on_blob")  # --workers stays 1: host.json decides for blobs
    records = wait_until(lambda: len(app.read("blob")) == 5 and app.read("blob"), "five invocations", run)
    assert sorted(r["name"] for r in records) == sorted(f"{app.container}/{n}" for n in names)
    assert max(r["peak"] for r in records) == 3
    assert "up to 3 blob(s) at once" in run.log()


def test_blob_workers_option_overrides_host_json(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app(host_json={"version": "2.0", "extensions": {"blobs": {"maxDegreeOfParallelism": 3}}})
    _upload_before_start(app, ["a.txt", "b.txt", "c.txt"], b"hold-2")
    run = devhost(app, "--functions", "on_blob", "--blob-workers", "2")
    records = wait_until(lambda: len(app.read("blob")) == 3 and app.read("blob"), "three invocations", run)
    assert max(r["peak"] for r in records) == 2


def test_blob_changed_while_its_invocation_runs_is_processed_again(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    run = devhost(app, "--functions", "on_blob")
    first = _upload(app, "doc.txt", b"block until released")
    wait_until(lambda: (app.records / "blocked").exists(), "the first invocation to start", run)
    second = _upload(app, "doc.txt", b"second version")
    (app.records / "release").write_text("")
    records = wait_until(
        lambda: len(_records_for(app, "doc.txt")) == 2 and _records_for(app, "doc.txt"),
        "the invocation for the new version",
        run,
    )
    assert [(r["etag"], r["data"]) for r in records] == [
        (first, "block until released"),
        (second, "second version"),
    ]


def test_blob_deleted_or_changed_before_the_function_reads_it_is_skipped(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    """devhost downloads on the function's first read; a version gone by then is skipped, not retried."""
    app = make_app()
    run = devhost(app, "--functions", "on_blob")
    etag = _upload(app, "read-late.txt", b"first")
    wait_until(lambda: (app.records / "blocked").exists(), "the invocation to start", run)
    app.blobs().get_container_client(app.container).delete_blob("read-late.txt")
    (app.records / "release").write_text("")
    wait_until(
        lambda: "read-late.txt" in run.log() and "deleted or changed since" in run.log(), "the skip", run
    )
    wait_until(lambda: _completed(app).get(f"{app.container}/read-late.txt") == etag, "the checkpoint", run)
    assert _records_for(app, "read-late.txt") == []
    assert "attempt 2/" not in run.log() and _poison_message(app) is None
