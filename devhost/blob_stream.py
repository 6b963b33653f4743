"""The blob trigger's argument, read from storage only when the function reads it.

Why: a function that decides by name alone (ours ignores its own `.ocr.json` outputs, and every
output it writes is itself a new blob) would otherwise cost a full download per event. The
properties the real host passes (`blob_properties`: ETag, Content-MD5, length, type, times) come from
the container listing that found the blob; the content and `metadata` come from one download,
conditional on that ETag, on first use. If the blob was deleted or overwritten since it was found,
that read raises `BlobGoneError` and devhost treats the event as skipped (the newer version, if any,
is an event of its own), as it does when an eager download finds the blob gone.
"""

from __future__ import annotations

import io
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.functions.blob import InputStream
from azure.storage.blob import BlobClient


class BlobGoneError(OSError):
    """The blob version the invocation is for no longer exists."""


class LazyBlobStream(InputStream):
    """An `azure.functions.InputStream` whose content is downloaded on the first `read()`."""

    def __init__(self, client: BlobClient, *, name: str, etag: str, properties: dict[str, Any]) -> None:
        super().__init__(
            data=b"",
            name=name,
            uri=client.url,
            length=properties.get("ContentLength"),
            blob_properties=properties,
            metadata=None,
        )
        self._client = client
        self._etag = etag
        self._loaded = False
        self.gone = False
        self.downloads = 0

    def _load(self) -> None:
        if self._loaded:
            return
        self.downloads += 1
        try:
            downloader = self._client.download_blob(
                etag=self._etag, match_condition=MatchConditions.IfNotModified
            )
            data = downloader.readall()
        except (ResourceNotFoundError, ResourceModifiedError) as exc:
            self.gone = True
            raise BlobGoneError(
                f"{self.name} ({self._etag}) was deleted or changed since it was found"
            ) from exc
        self._io = io.BytesIO(data)
        self._metadata = dict(downloader.properties.metadata or {})
        self._loaded = True

    def read(self, size: int = -1) -> bytes:
        self._load()
        return self._io.read(size)

    read1 = read

    @property
    def metadata(self) -> dict[str, str]:
        self._load()
        return self._metadata or {}
