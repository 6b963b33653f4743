"""What a folder holds, from one listing: its forms, their `.ocr.json` and `.labels.json` files."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.clients.listing import list_versions
from shared.clients.storage import blob_service
from shared.names import BlobKind, basename, classify, folder_prefix, source_of_labels, source_of_ocr
from shared.settings import Settings

__all__ = ["FolderInventory", "inventory"]


@dataclass
class FolderInventory:
    folder: str
    sources: set[str] = field(default_factory=set)
    ocr: set[str] = field(default_factory=set)
    stale_ocr: set[str] = field(default_factory=set)  # `.ocr.json` another API version wrote (sweep only)
    labels: dict[str, str] = field(default_factory=dict)  # document -> labels blob ETag


def inventory(settings: Settings, folder: str) -> FolderInventory:
    """One listing of the folder (not its sub-folders: they are separate training sets)."""
    container = blob_service(settings).get_container_client(settings.forms_container)
    prefix = folder_prefix(folder)
    inv = FolderInventory(folder)
    for name, etag, _type in list_versions(container, prefix or None):
        if "/" in name[len(prefix):]:
            continue
        kind = classify(name)
        if kind is BlobKind.SOURCE:
            inv.sources.add(basename(name))
        elif kind is BlobKind.OCR:
            inv.ocr.add(basename(source_of_ocr(name)))
        elif kind is BlobKind.LABELS:
            inv.labels[basename(source_of_labels(name))] = etag.strip('"')
    return inv
