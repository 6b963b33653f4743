"""Blob receipts in host storage: which blob versions a function is done with, and which failed.

A version that failed at least once has a receipt laid out as the real host lays them out:
`azure-webjobs-hosts/blobreceipts/<hostId>/<functionId>/<etag>/<container>/<blob>`, with the metadata
`InvocationId` (the real host's "pending" mark) and the number of attempts that ended in
`DevhostAttempts`, so retries survive a restart; once done with, it is rewritten without them.

Versions done with at once (nearly all) are not written one by one (a call each, ~4 ms of CPU in
Azurite and devhost together): they are collected and written as one JSON checkpoint,
`azure-webjobs-hosts/devhost-completed/<hostId>/<functionId>.json` (`{"<container>/<blob>": etag}`,
the newest completed version per blob), at most every `FLUSH_SECONDS` and when the host stops. A
crash loses at most that window: those versions fire once more after the restart, which the
at-least-once contract of blob triggers allows (functions must be idempotent anyway).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

HOSTS_CONTAINER = "azure-webjobs-hosts"
CHECKPOINT_DIR = "devhost-completed"
PENDING_KEY = "InvocationId"
ATTEMPTS_KEY = "DevhostAttempts"
FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class BlobVersion:
    """One version of one blob: what a receipt is about."""

    container: str
    name: str
    etag: str


@dataclass(frozen=True)
class Receipt:
    version: BlobVersion
    pending: bool
    attempts: int


def ensure_hosts_container(service: BlobServiceClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        service.create_container(HOSTS_CONTAINER)


class BlobReceipts:
    """Receipts of one function on one host; all calls are blocking SDK calls (thread-safe)."""

    def __init__(self, service: BlobServiceClient, host_id: str, function_id: str) -> None:
        self._container = service.get_container_client(HOSTS_CONTAINER)
        self.prefix = f"blobreceipts/{host_id}/{function_id}/"
        self.checkpoint = self._container.get_blob_client(f"{CHECKPOINT_DIR}/{host_id}/{function_id}.json")
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one checkpoint write at a time: an older one never lands last
        self._completed: dict[str, str] = {}  # "<container>/<blob>" -> etag of the newest version done
        self._completed_at: dict[str, float] = {}  # when this process completed an entry (monotonic)
        self._unsaved = False
        self._with_receipt: set[BlobVersion] = set()  # versions that have a per-version receipt blob
        self._flushed_at = 0.0

    def path(self, version: BlobVersion) -> str:
        return f"{self.prefix}{version.etag}/{version.container}/{version.name}"

    def list_all(self) -> dict[BlobVersion, Receipt]:
        """Every receipt of this function: the checkpoint, then the per-version receipts (one
        listing call per 5000), which win where both speak of a version."""
        receipts: dict[BlobVersion, Receipt] = {}
        for key, etag in self._read_checkpoint().items():
            container, _, blob = key.partition("/")
            if blob:
                version = BlobVersion(container, blob, etag)
                receipts[version] = Receipt(version, False, 0)
        for item in self._container.list_blobs(name_starts_with=self.prefix, include=["metadata"]):
            rest = item.name[len(self.prefix) :]
            etag, _, container_and_blob = rest.partition("/")
            container, _, blob = container_and_blob.partition("/")
            if not blob:
                continue
            metadata = item.metadata or {}
            version = BlobVersion(container, blob, etag)
            receipts[version] = Receipt(version, PENDING_KEY in metadata, int(metadata.get(ATTEMPTS_KEY, 0)))
            with self._lock:
                self._with_receipt.add(version)
        return receipts

    def _read_checkpoint(self) -> dict[str, str]:
        try:
            data = json.loads(self.checkpoint.download_blob().readall() or b"{}")
        except ResourceNotFoundError:
            data = {}
        except ValueError:  # a torn or hand-edited file: start over (versions may fire once more)
            data = {}
        completed = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        with self._lock:
            self._completed = {**completed, **self._completed}
        return completed

    def record_failure(self, version: BlobVersion, invocation_id: str, attempts: int) -> None:
        """Mark the version pending with the attempts that ended so far (creates the receipt if need be)."""
        self._container.upload_blob(
            self.path(version), b"", overwrite=True,
            metadata={PENDING_KEY: invocation_id, ATTEMPTS_KEY: str(attempts)},
        )  # fmt: skip
        with self._lock:
            self._with_receipt.add(version)

    def complete(self, version: BlobVersion) -> None:
        """This version will not fire again on this host: into the next checkpoint, and a pending
        receipt of it (it failed before) loses its pending mark at once."""
        with self._lock:
            had_receipt = version in self._with_receipt
        if had_receipt:
            self._container.upload_blob(self.path(version), b"", overwrite=True)
        key = f"{version.container}/{version.name}"
        with self._lock:
            self._completed[key] = version.etag
            self._completed_at[key] = time.monotonic()
            self._unsaved = True

    def flush_due(self) -> bool:
        return self._unsaved and time.monotonic() - self._flushed_at >= FLUSH_SECONDS

    def flush(self, listing: tuple[str, Collection[str], float] | None = None) -> None:
        """Write the checkpoint if anything was completed since the last write (blocking).

        `listing` = (container, names, when it started, monotonic): a full listing of the container.
        Entries of blobs it did not find are dropped on the way (deleted blobs), unless they were
        completed after it started, so the checkpoint stays the size of the container."""
        with self._flush_lock:
            with self._lock:
                if listing is not None:
                    container, names, started = listing
                    prefix = f"{container}/"
                    for key in [k for k in self._completed if k.startswith(prefix)]:
                        if key[len(prefix):] not in names and self._completed_at.get(key, 0.0) < started:
                            del self._completed[key]
                            self._completed_at.pop(key, None)
                if not self._unsaved:
                    return
                body = json.dumps(self._completed, separators=(",", ":")).encode()
                self._unsaved = False
            self._flushed_at = time.monotonic()
            try:
                self.checkpoint.upload_blob(
                    body, overwrite=True, content_settings=ContentSettings(content_type="application/json")
                )
            except AzureError:
                with self._lock:
                    self._unsaved = True
                raise
