"""Lean blob listing: name, ETag and blob type only, parsed straight from the service's XML.

Why: the SDK's `list_blobs` builds a full model object per blob and spends ~0.3 ms of CPU on each;
the folder inventory needs three fields. This uses the SDK's own names-only path (the one behind
`list_blob_names`) and reads the ETag and type from the same XML; if that internal path is ever
missing, it falls back to `list_blobs` (same results, slower).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from azure.core.paging import ItemPaged
from azure.storage.blob import ContainerClient

try:  # internal helpers of azure-storage-blob 12.x (used by its own list_blob_names)
    from azure.storage.blob._list_blobs_helper import BlobNamesPaged, IgnoreListBlobsDeserializer
except ImportError:  # pragma: no cover - exercised by the fallback test through the flag below
    BlobNamesPaged = None  # type: ignore[assignment,misc]
    IgnoreListBlobsDeserializer = None  # type: ignore[assignment,misc]

LEAN = BlobNamesPaged is not None


def _text(element: Any, name: str) -> str:
    node = element.find(name)
    if node is None or not node.text:
        return ""
    return unquote(node.text) if node.get("Encoded") == "true" else node.text


if BlobNamesPaged is not None:

    class _VersionsPaged(BlobNamesPaged):  # type: ignore[misc,valid-type]
        def _extract_data_cb(self, get_next_return: Any) -> tuple[str | None, list[tuple[str, str, str]]]:
            next_marker, _names = super()._extract_data_cb(get_next_return)
            blobs = self._response.find("Blobs")
            items = []
            for blob in blobs.findall("Blob") if blobs is not None else []:
                props = blob.find("Properties")
                items.append((_text(blob, "Name"), _text(props, "Etag") if props is not None else "",
                              (_text(props, "BlobType") if props is not None else "") or "BlockBlob"))
            self.current_page = items
            return next_marker, items


def list_versions(container: ContainerClient, prefix: str | None = None) -> Iterator[tuple[str, str, str]]:
    """(name, etag, blob type) of every blob under `prefix`, in the service's order."""
    if LEAN:
        try:
            client = container._build_generated_client()  # as list_blob_names does
            client.container._deserialize = IgnoreListBlobsDeserializer()
        except AttributeError:
            pass
        else:
            command = functools.partial(client.container.list_blob_flat_segment)
            yield from ItemPaged(command, prefix=prefix, container=container.container_name,
                                 page_iterator_class=_VersionsPaged)
            return
    for item in container.list_blobs(name_starts_with=prefix):
        yield item.name, str(item.etag), str(getattr(item.blob_type, "value", item.blob_type) or "BlockBlob")
