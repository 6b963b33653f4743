"""Lean blob listing for the container scan: name, ETag and blob type, parsed straight from the XML.

Each entry also keeps its raw `<Properties>` so that the few blobs a scan finds new get their
trigger properties (`listed_properties`) without a call of their own.

Why: the SDK's `list_blobs` builds a full model object per blob and spends ~0.3 ms of CPU on each;
a scan needs three fields. (A copy of the app's `shared/clients/listing.py`: devhost must not import the
app's packages, which an app folder may shadow.) This uses the SDK's own names-only path (the one behind
`list_blob_names`) and reads the ETag and type from the same XML; if that internal path is ever
missing, it falls back to `list_blobs` (same results, slower).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import unquote

from azure.core.paging import ItemPaged
from azure.storage.blob import ContainerClient

try:  # internal helpers of azure-storage-blob 12.x (used by its own list_blob_names)
    from azure.storage.blob._list_blobs_helper import BlobNamesPaged, IgnoreListBlobsDeserializer
except ImportError:  # pragma: no cover - exercised by the fallback test through the flag below
    BlobNamesPaged = None  # type: ignore[assignment,misc]
    IgnoreListBlobsDeserializer = None  # type: ignore[assignment,misc]

LEAN = BlobNamesPaged is not None


class Listed(NamedTuple):
    name: str
    etag: str
    blob_type: str
    raw: Any = None  # the `<Properties>` XML element (lean path) or the SDK's BlobProperties


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
                items.append(
                    Listed(
                        _text(blob, "Name"),
                        _text(props, "Etag") if props is not None else "",
                        (_text(props, "BlobType") if props is not None else "") or "BlockBlob",
                        props,
                    )
                )
            self.current_page = items
            return next_marker, items


def list_versions(container: ContainerClient, prefix: str | None = None) -> Iterator[Listed]:
    """(name, etag, blob type, raw properties) of every blob under `prefix`, in the service's order."""
    if LEAN:
        try:
            client = container._build_generated_client()  # as list_blob_names does
            client.container._deserialize = IgnoreListBlobsDeserializer()
        except AttributeError:
            pass
        else:
            command = functools.partial(client.container.list_blob_flat_segment)
            yield from ItemPaged(
                command, prefix=prefix, container=container.container_name, page_iterator_class=_VersionsPaged
            )
            return
    for item in container.list_blobs(name_starts_with=prefix):
        yield Listed(
            item.name,
            str(item.etag),
            str(getattr(item.blob_type, "value", item.blob_type) or "BlockBlob"),
            item,
        )


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None


def _http_date(text: str) -> str | None:
    try:
        return parsedate_to_datetime(text).isoformat() if text else None
    except (TypeError, ValueError):
        return None


def listed_properties(item: Listed, etag: str) -> dict[str, Any]:
    """The trigger's `blob_properties` (as devhost passes them after a download) from a listing entry."""
    raw = item.raw
    if raw is None or not hasattr(raw, "find"):  # the SDK's BlobProperties (fallback path)
        settings = getattr(raw, "content_settings", None)
        md5 = getattr(settings, "content_md5", None)
        return {
            "ContentLength": getattr(raw, "size", None),
            "ContentType": getattr(settings, "content_type", None),
            "ContentMD5": base64.b64encode(bytes(md5)).decode() if md5 else None,
            "ETag": etag,
            "LastModified": _iso(getattr(raw, "last_modified", None)),
            "CreatedOn": _iso(getattr(raw, "creation_time", None)),
            "BlobType": item.blob_type,
        }
    length = _text(raw, "Content-Length")
    return {
        "ContentLength": int(length) if length.isdigit() else None,
        "ContentType": _text(raw, "Content-Type") or None,
        "ContentMD5": _text(raw, "Content-MD5") or None,
        "ETag": etag,
        "LastModified": _http_date(_text(raw, "Last-Modified")),
        "CreatedOn": _http_date(_text(raw, "Creation-Time")),
        "BlobType": item.blob_type,
    }
