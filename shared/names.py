"""What a blob name means to the pipeline: a form, a labels file, one of our outputs, or nothing.

Also the table-key encoding: Azure Table keys may not hold ``/ \\ # ?`` or control characters, but
folders and document names may, so keys are percent-encoded (reversibly) for exactly those.
"""

from __future__ import annotations

import enum
import re

SOURCE_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
OCR_SUFFIX = ".ocr.json"
LABELS_SUFFIX = ".labels.json"
FIELDS_FILE = "fields.json"


class BlobKind(enum.Enum):
    SOURCE = "source"
    LABELS = "labels"
    OCR = "ocr"
    FIELDS = "fields"
    OTHER = "other"


def classify(blob_name: str) -> BlobKind:
    """Decide what a blob is from its name alone (cheap, and the same on every path)."""
    lower = blob_name.lower()
    base = lower.rsplit("/", 1)[-1]
    if lower.endswith(OCR_SUFFIX):
        return BlobKind.OCR
    if lower.endswith(LABELS_SUFFIX):
        return BlobKind.LABELS if is_source(blob_name[: -len(LABELS_SUFFIX)]) else BlobKind.OTHER
    if base == FIELDS_FILE:
        return BlobKind.FIELDS
    if is_source(blob_name):
        return BlobKind.SOURCE
    return BlobKind.OTHER


def is_source(blob_name: str) -> bool:
    return blob_name.lower().endswith(SOURCE_EXTENSIONS) and bool(basename(blob_name)[:1])


def folder_of(blob_name: str) -> str:
    """The folder (= form type = training set) a blob belongs to; '' for the container root."""
    return blob_name.rsplit("/", 1)[0] if "/" in blob_name else ""


def basename(blob_name: str) -> str:
    return blob_name.rsplit("/", 1)[-1]


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def folder_prefix(folder: str) -> str:
    """The blob prefix that lists exactly one folder's files (trailing slash: 'a' must not match 'ab/')."""
    return f"{folder}/" if folder else ""


def ocr_name(source_name: str) -> str:
    return source_name + OCR_SUFFIX


def labels_name(source_name: str) -> str:
    return source_name + LABELS_SUFFIX


def source_of_labels(labels_blob: str) -> str:
    return labels_blob[: -len(LABELS_SUFFIX)]


def source_of_ocr(ocr_blob: str) -> str:
    return ocr_blob[: -len(OCR_SUFFIX)]


_FORBIDDEN = re.compile(r"[/\\#?%\x00-\x1f\x7f-\x9f]")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")


def encode_key(value: str) -> str:
    """Make a string usable as a PartitionKey/RowKey; `decode_key` reverses it."""
    return _FORBIDDEN.sub(lambda m: f"%{ord(m.group(0)):02X}", value)


def decode_key(key: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), key)
