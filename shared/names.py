"""What a blob name means to the pipeline: a form, a labels file, one of our outputs, or nothing.

Also the table-key encoding: Azure Table keys may not hold ``/ \\ # ?`` or control characters, but
folders and document names may, so keys are percent-encoded (reversibly) for exactly those. A key may
be at most 1 KiB (UTF-16: 512 code units), which a long name or a deep path exceeds, so such keys are
replaced by a readable prefix and a hash of the whole name; rows keep the full names in their columns.
"""

from __future__ import annotations

import enum
import hashlib
import re

SOURCE_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
OCR_SUFFIX = ".ocr.json"
PREDICTION_SUFFIX = ".prediction.json"
LABELS_SUFFIX = ".labels.json"
FIELDS_FILE = "fields.json"


class BlobKind(enum.Enum):
    SOURCE = "source"
    LABELS = "labels"
    OCR = "ocr"
    PREDICTION = "prediction"
    FIELDS = "fields"
    OTHER = "other"


def classify(blob_name: str) -> BlobKind:
    """Decide what a blob is from its name alone (cheap, and the same on every path)."""
    lower = blob_name.lower()
    base = lower.rsplit("/", 1)[-1]
    if lower.endswith(OCR_SUFFIX):
        return BlobKind.OCR
    if lower.endswith(PREDICTION_SUFFIX):
        return BlobKind.PREDICTION
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


MAX_FOLDER_CHARS = 1024 - len("/x.pdf.prediction.json")  # room for a form and our longest output name
_BAD_FOLDER_CHARS = re.compile(r"[\x00-\x1f\\]")


def folder_problem(folder: str) -> str:
    """Why `folder` cannot name a folder of the forms container ('' when it can): a name is a blob
    prefix, so `./`, `..`, empty segments or a backslash would make blobs no one meant."""
    if not folder:
        return ""
    if len(folder) > MAX_FOLDER_CHARS:
        return f"a folder name is at most {MAX_FOLDER_CHARS} characters (blob names are at most 1024)"
    if _BAD_FOLDER_CHARS.search(folder):
        return "a folder name has no backslash or control characters (use / between folder levels)"
    segments = folder.split("/")
    if any(s in ("", ".", "..") for s in segments):
        return ("a folder name is one or more names joined by /, without leading or trailing /, "
                "'.', '..' or '//' (it is a prefix of blob names, not a path on disk)")
    return ""


def basename(blob_name: str) -> str:
    return blob_name.rsplit("/", 1)[-1]


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def folder_prefix(folder: str) -> str:
    """The blob prefix that lists exactly one folder's files (trailing slash: 'a' must not match 'ab/')."""
    return f"{folder}/" if folder else ""


def ocr_name(source_name: str) -> str:
    return source_name + OCR_SUFFIX


def prediction_name(source_name: str) -> str:
    return source_name + PREDICTION_SUFFIX


def labels_name(source_name: str) -> str:
    return source_name + LABELS_SUFFIX


def source_of_labels(labels_blob: str) -> str:
    return labels_blob[: -len(LABELS_SUFFIX)]


def source_of_ocr(ocr_blob: str) -> str:
    return ocr_blob[: -len(OCR_SUFFIX)]


MAX_BLOB_NAME = 1024  # Azure: a blob name is 1 to 1024 characters (Azurite takes longer ones)


def output_name_problem(source_name: str) -> str:
    """Why the form's `.ocr.json` cannot be written beside it ('' when it can): a form of 1016 to 1024
    characters is a valid blob whose output name is not, so it could only fail after a paid OCR."""
    length = len(ocr_name(source_name))
    if length <= MAX_BLOB_NAME:
        return ""
    return (f"the OCR output name would be {length} characters long; Azure allows {MAX_BLOB_NAME} per "
            f"blob name, so forms may have at most {MAX_BLOB_NAME - len(OCR_SUFFIX)} (this one has "
            f"{len(source_name)})")


_FORBIDDEN = re.compile(r"[/\\#?%\x00-\x1f\x7f-\x9f]")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")
MAX_KEY_BYTES = 1024  # PartitionKey and RowKey are each at most 1 KiB, counted in UTF-16 (as Azurite does)
HASH_MARK = "%~"  # never in a plain key: encode_key writes every % as %XX
KEY_PREFIX_UNITS = 120  # the readable start of a hashed key (UTF-16 code units)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _escape(value: str) -> str:
    return _FORBIDDEN.sub(lambda m: f"%{ord(m.group(0)):02X}", value)


def encode_key(value: str) -> str:
    """Make a string usable as a PartitionKey/RowKey. Deterministic, so rows are read back by name.

    Keys that fit are percent-encoded and `decode_key` reverses them. A key that would be longer than
    1 KiB becomes `<readable prefix>%~<sha256 of the name>` (at most 186 code units): unique per name,
    never equal to a plain key, and not reversible (`decode_key` refuses it)."""
    key = _escape(value)
    if _utf16_units(key) * 2 <= MAX_KEY_BYTES:
        return key
    prefix: list[str] = []
    units = 0
    for char in value:  # whole characters and whole escapes only
        piece = _escape(char)
        units += _utf16_units(piece)
        if units > KEY_PREFIX_UNITS:
            break
        prefix.append(piece)
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return "".join(prefix) + HASH_MARK + digest


def is_hashed_key(key: str) -> bool:
    return HASH_MARK in key


def decode_key(key: str) -> str:
    """The name behind a plain key; a hashed key has no way back (read the row's name columns)."""
    if is_hashed_key(key):
        raise ValueError(f"{key[:40]}... is a hashed key: the name is in the row's columns")
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), key)


# -- label paths: a table cell's label is `Table/<row>/<Column>`, each name escaped as the labeling tool
# escapes it (`~` -> `~0`, `/` -> `~1`) so that a name may hold a "/" --------------------------------------
def escape_label_name(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def unescape_label_name(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def join_label_path(*parts: str) -> str:
    """A cell's label name from its names, each escaped."""
    return "/".join(escape_label_name(p) for p in parts)


def split_label_path(name: str) -> list[str]:
    """The names of a label path, split before they are unescaped."""
    return [unescape_label_name(part) for part in name.split("/")]


_DYNAMIC_CELL = re.compile(r"^([^/]+)/(\d+)/([^/]+)$")


def dynamic_cell(name: str) -> tuple[str, int, str] | None:
    """(table, row, column) of a dynamic table's cell label (`Items/0/Description`), else None."""
    m = _DYNAMIC_CELL.match(name)
    return (unescape_label_name(m[1]), int(m[2]), unescape_label_name(m[3])) if m else None
