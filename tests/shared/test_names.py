"""Blob names and table keys (shared/names.py): what kind of blob a name is, folders and prefixes, keys
that round-trip without the characters Azure Tables forbid."""

from __future__ import annotations

import pytest

from shared.names import BlobKind, classify, decode_key, encode_key, folder_of, folder_prefix


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("po/Form_1.jpg", BlobKind.SOURCE),
        ("po/scan.TIFF", BlobKind.SOURCE),
        ("a.Pdf", BlobKind.SOURCE),
        ("po/x.bmp", BlobKind.SOURCE),
        ("po/x.jpeg", BlobKind.SOURCE),
        ("po/x.png", BlobKind.SOURCE),
        ("po/x.tif", BlobKind.SOURCE),
        ("po/Form_1.jpg.labels.json", BlobKind.LABELS),
        ("po/Form_1.jpg.ocr.json", BlobKind.OCR),
        ("po/fields.json", BlobKind.FIELDS),
        ("po/notes.txt", BlobKind.OTHER),
        ("po/x.docx", BlobKind.OTHER),
        ("po/notes.txt.labels.json", BlobKind.OTHER),
        ("po/Form_1.jpg.ocr.json.labels.json", BlobKind.OTHER),
    ],
)
def test_classify_never_treats_outputs_as_inputs(name: str, kind: BlobKind) -> None:
    assert classify(name) is kind


def test_folders_and_prefixes() -> None:
    assert folder_of("a/b/c.pdf") == "a/b" and folder_of("c.pdf") == ""
    assert folder_prefix("a") == "a/" and folder_prefix("") == ""


@pytest.mark.parametrize(
    "value",
    ["plain", "a/b", "back\\slash", "hash#tag", "what?", "100%", "tab\there", "ctl\x01\x7f", "ünïcødé/ß", ""],
)
def test_table_keys_round_trip_without_forbidden_characters(value: str) -> None:
    key = encode_key(value)
    assert not any(c in key for c in "/\\#?") and all(ord(c) >= 32 and not 127 <= ord(c) < 160 for c in key)
    assert decode_key(key) == value
