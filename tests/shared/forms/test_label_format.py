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
        (b'{"hello": 1}', "no label format"),
        (
            b'{"document": "a.pdf", "labels": [{"label": "Items//Amount", "value": [{"page": 1, "text": "x", '
            b'"boundingBoxes": [[0,0,1,0,1,1,0,1]]}]}]}',
            "no part empty",
        ),
        (
            b'{"document": "a.pdf", "labels": [{"label": "Items/0/Unit~price", "value": [{"page": 1, '
            b'"text": "x", "boundingBoxes": [[0,0,1,0,1,1,0,1]]}]}]}',
            "is written '~0'",
        ),
        (
            b'{"fieldLabels": {"Items": {"type": "array", "valueArray": [{"type": "object", "valueObject": '
            b'{"Amount": {"type": "string", "content": "9", "boundingRegions": [{"pageNumber": 1, '
            b'"polygon": [1, 2, -3, 2]}]}}}]}}}',
            "polygon is 4 or more points",
        ),
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


def test_table_labels_of_every_layout_are_valid_and_named_by_cell() -> None:
    """Dynamic and fixed tables of the labeling tool, and Document Intelligence 2024-11-30's nested
    `fieldLabels` (polygons in inches), as real projects wrote them."""
    tables = DATA / "label-format-examples" / "tables"
    sdk = tables / "sdk-labeled-tables"
    dynamic = validate_labels((sdk / "dynamic/label_table_dynamic_rows1.pdf.labels.json").read_bytes())
    assert dynamic.ok and "table/0/Item" in dynamic.field_names
    fixed = validate_labels((sdk / "fixed/label_table_fixed_rows1.pdf.labels.json").read_bytes())
    assert fixed.ok and "table/Apple/Price" in fixed.field_names
    newer = validate_labels((tables / "CustomGen/labels.json").read_bytes())
    assert newer.ok, newer.errors
    assert newer.format == "2024-11-30" and newer.max_page == 1
    assert "TableVehicleDescription/0/YEAR" in newer.field_names
    assert "TableVehicleCoverages/SingleLimitLiabCsl/Veh1" in newer.field_names


def test_labeled_values_of_nested_field_labels_are_cells() -> None:
    from shared.predictions.field_values import labeled_values

    tables = DATA / "label-format-examples" / "tables"
    values = labeled_values((tables / "CustomGen/labels.json").read_bytes())
    assert values["TableVehicleCoverages/SingleLimitLiabCsl/Veh1"] == "$ 2353 EA ACCIDENT"
    assert any(k.startswith("TableVehicleDescription/0/") for k in values)
