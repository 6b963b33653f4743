"""Blob receipts in host storage, laid out as the real host lays them out.

`azure-webjobs-hosts/blobreceipts/<hostId>/<functionId>/<etag>/<container>/<blob>` exists once a
blob version was done with, or has failed at least once. A receipt of a version that failed and
will be retried carries the metadata `InvocationId` (the real host's "pending" mark) and the number
of attempts that ended in `DevhostAttempts`, so retries survive a restart; a completed receipt has
none. Each write is one call: a version that succeeds at once costs one receipt write, not two.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient

HOSTS_CONTAINER = "azure-webjobs-hosts"
PENDING_KEY = "InvocationId"
ATTEMPTS_KEY = "DevhostAttempts"


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
    """Receipts of one function on one host; all calls are blocking SDK calls."""

    def __init__(self, service: BlobServiceClient, host_id: str, function_id: str) -> None:
        self._container = service.get_container_client(HOSTS_CONTAINER)
        self.prefix = f"blobreceipts/{host_id}/{function_id}/"

    def path(self, version: BlobVersion) -> str:
        return f"{self.prefix}{version.etag}/{version.container}/{version.name}"

    def list_all(self) -> dict[BlobVersion, Receipt]:
        """Every receipt of this function (one listing call per 5000 receipts)."""
        receipts: dict[BlobVersion, Receipt] = {}
        for item in self._container.list_blobs(name_starts_with=self.prefix, include=["metadata"]):
            rest = item.name[len(self.prefix) :]
            etag, _, container_and_blob = rest.partition("/")
            container, _, blob = container_and_blob.partition("/")
            if not blob:
                continue
            metadata = item.metadata or {}
            version = BlobVersion(container, blob, etag)
            receipts[version] = Receipt(version, PENDING_KEY in metadata, int(metadata.get(ATTEMPTS_KEY, 0)))
        return receipts

    def record_failure(self, version: BlobVersion, invocation_id: str, attempts: int) -> None:
        """Mark the version pending with the attempts that ended so far (creates the receipt if need be)."""
        self._container.upload_blob(
            self.path(version), b"", overwrite=True,
            metadata={PENDING_KEY: invocation_id, ATTEMPTS_KEY: str(attempts)},
        )

    def complete(self, version: BlobVersion) -> None:
        """Write the receipt without a pending mark: this version will not fire again on this host."""
        self._container.upload_blob(self.path(version), b"", overwrite=True)
