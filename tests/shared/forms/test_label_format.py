"""Label files in both formats (shared/forms/label_format.py): the bundled ones are valid, malformed ones
are explained."""

from __future__ import annotations

import pytest

from shared.forms.label_format import validate_labels
from tests.helpers.paths import DATA_DIR

DATA = DATA_DIR


def test_bundled_label_files_in_both_formats_are_valid() -> None:
    files = sorted(DATA.glob("*/*.labels.json"))
    assert len(files) >= 10
    for path in files:
        check = validate_labels(path.read_bytes())
        assert check.ok, (path, check.errors)
    v1 = validate_labels((DATA / "label-format-examples" / "Form_2.jpg.v1.labels.json").read_bytes())
    tool = validate_labels((DATA / "purchase-orders" / "Form_2.jpg.labels.json").read_bytes())
    assert v1.format == "v1.0" and tool.format == "labeling-tool"
    assert sorted(v1.field_names) == sorted(tool.field_names) and v1.label_count == 15


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "top level must be a JSON object"),
        (b'{"hello": 1}', "neither label format"),
        (b'{"document": "a.pdf", "labels": "x"}', "'labels' must be a list"),
        (b'{"document": "a.pdf", "labels": []}', "no labeled values"),
        (
            b'{"document": "a.pdf", "labels": [{"label": "A", "value": [{"page": 0, "text": "x", '
            b'"boundingBoxes": [[0,0,1,0,1,1,0,1]]}]}]}',
            "page must be a whole number",
        ),
        (
            b'{"document": "a.pdf", "labels": [{"label": "A", "value": [{"page": 1, "text": "x", '
            b'"boundingBoxes": [[0,0,1,0]]}]}]}',
            "8 numbers",
        ),
        (
            b'{"document": "a.pdf", "labels": [{"label": "A", "value": [{"page": 1, "text": "x", '
            b'"boundingBoxes": [[0,0,700,0,700,20,0,20]]}]}]}',
            "normalised",
        ),
        (b'{"document": "a.pdf", "labels": [{"value": []}]}', "'label' (the field name) is missing"),
        (
            b'{"version": "v1.0", "docName": "a.pdf", "labels": [{"fieldKey": "A", '
            b'"regions": [{"pageNumber": 1, "polygon": [0.1, 0.1]}]}]}',
            "8 numbers",
        ),
        (b'{"version": "v1.0", "labels": []}', "'docName' must name"),
    ],
)
def test_malformed_labels_are_explained(raw: bytes, error: str) -> None:
    check = validate_labels(raw)
    assert not check.ok
    assert error in check.message
