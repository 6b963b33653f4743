"""Where training files come from: a blob container SAS URL (the protocol's `source`) or, for the
benchmarks and unit tests, a local folder. Both answer the same two questions: which names, which bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from engine.errors import ApiError
from engine.sources import check_source_url

DOC_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
MAX_TRAINING_FILE_BYTES = 50 * 1024 * 1024


class TrainingSource(Protocol):
    def names(self, prefix: str) -> list[str]: ...
    def read(self, name: str) -> bytes: ...


class ContainerSource:
    """A container listed and read with the storage SDK (Azurite locally, Azure Storage in the cloud)."""

    def __init__(self, url: str, allowed_hosts: tuple[str, ...]) -> None:
        check_source_url(url, allowed_hosts)
        from azure.storage.blob import ContainerClient

        self._client = ContainerClient.from_container_url(url)

    def names(self, prefix: str) -> list[str]:
        return [b.name for b in self._client.list_blobs(name_starts_with=prefix or None)]

    def read(self, name: str) -> bytes:
        """One ranged read of at most the limit + 1 byte (content and size check in one call)."""
        from azure.core.exceptions import HttpResponseError

        blob = self._client.get_blob_client(name)
        try:
            data = blob.download_blob(offset=0, length=MAX_TRAINING_FILE_BYTES + 1).readall()
        except HttpResponseError as exc:
            if getattr(exc, "status_code", None) == 416:  # an empty blob has no byte 0 to range over
                return b""
            raise
        if len(data) > MAX_TRAINING_FILE_BYTES:
            raise ValueError(f"{name} is larger than {MAX_TRAINING_FILE_BYTES // (1024 * 1024)} MB")
        return data


class DirSource:
    """A local folder; names are '/'-separated paths relative to it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self, prefix: str) -> list[str]:
        out = sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return [n for n in out if n.startswith(prefix)]

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()


def select_names(names: list[str], prefix: str, include_subfolders: bool) -> list[str]:
    """Apply the sourceFilter: names under prefix; deeper folders only with includeSubFolders."""
    out = []
    for n in names:
        if not n.startswith(prefix):
            continue
        rest = n[len(prefix):].lstrip("/")
        if "/" in rest and not include_subfolders:
            continue
        out.append(n)
    return sorted(out)


def is_document(name: str) -> bool:
    return name.lower().endswith(DOC_EXTENSIONS)


def listing_error(exc: Exception) -> ApiError:
    return ApiError(400, "2012",
                    f"Unable to list blobs on the Azure blob storage account: {type(exc).__name__}")
