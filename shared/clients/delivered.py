"""What the blob trigger already delivered: the blob's bytes and the version they belong to.

Why: the host has read the whole blob (and its properties) before the function runs; reading it
again from storage costs one more round trip per event and, on a busy local stack, CPU that the
engine needs. When the trigger carries no ETag (an old host, a hand-made call), callers fall back to
reading storage themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol


class TriggerStream(Protocol):
    """The part of `azure.functions.InputStream` used here."""

    def read(self, size: int = -1) -> bytes: ...


@dataclass
class DeliveredBlob:
    etag: str
    md5: str  # base64, as storage reports Content-MD5; "" when the blob has none
    reader: Callable[[], bytes]

    @cached_property
    def content(self) -> bytes:
        """Read on first use only, so blobs that are ignored by name are never copied."""
        return self.reader()


def _first(props: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = props.get(key)
        if value:
            return str(value)
    return ""


def delivered_blob(stream: TriggerStream) -> DeliveredBlob | None:
    """The trigger's content with its ETag/MD5, or None when the trigger did not say which version it is."""
    props = getattr(stream, "blob_properties", None)
    if not isinstance(props, Mapping):
        return None
    etag = _first(props, "ETag", "Etag", "etag").strip('"')
    if not etag:
        return None
    md5 = _first(props, "ContentMD5", "ContentHash", "ContentMd5")
    return DeliveredBlob(etag=etag, md5=md5, reader=lambda: stream.read())
