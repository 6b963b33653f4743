"""A review of a form with a dynamic table: cells compare one by one, and the table's row count is
right or wrong on its own (a missed last row is one wrong count, not only some missed cells)."""

from __future__ import annotations

import json

from shared.predictions.field_values import compare, table_rows


def _found(text: str, confidence: float = 0.95) -> dict[str, object]:
    return {"text": text, "confidence": confidence}


def test_cells_compare_one_by_one_and_row_counts_per_table() -> None:
    predicted = {"Items/0/Description": _found("Desk lamp"), "Items/0/Amount": _found("12.00"),
                 "Items/1/Description": _found("Toner"), "Items/1/Amount": _found("9.00", 0.5),
                 "Total": _found("21.00")}
    labeled = {"Items/0/Description": "Desk  lamp", "Items/0/Amount": "12.00",
               "Items/1/Description": "Toner cartridge", "Items/1/Amount": "9.00",
               "Items/2/Description": "Cable", "Items/2/Amount": "3.00", "Total": "24.00"}
    result = compare(predicted, labeled, confident_at=0.9)
    assert sorted(result.agreed) == ["Items/0/Amount", "Items/0/Description", "Items/1/Amount"]
    assert [c["field"] for c in result.corrected] == ["Items/1/Description", "Total"]
    assert result.missed == ["Items/2/Amount", "Items/2/Description"]
    assert result.tables == {"Items": {"predictedRows": 2, "labeledRows": 3, "rowsRight": False}}


def test_a_row_counts_once_whatever_cells_it_has() -> None:
    assert table_rows(["T/0/a", "T/0/b", "T/3/a", "U/0/x", "Total", "Fixed/Row/Col"]) == {"T": 2, "U": 1}
    same = compare({"T/0/a": _found("x")}, {"T/0/a": "x", "T/0/b": ""}, 0.9)
    assert same.tables == {"T": {"predictedRows": 1, "labeledRows": 1, "rowsRight": True}}


def test_a_name_with_a_slash_is_compared_as_its_label_names_it() -> None:
    """The service answers field "Date/Time"; the labeling tool names it "Date~1Time". Both sides meet."""
    from shared.predictions.field_values import labeled_values, predicted_fields

    body = {"analyzeResult": {"documentResults": [{"fields": {
        "Date/Time": {"type": "string", "valueString": "9:00", "text": "9:00", "confidence": 0.99},
        "Ship/Bill": {"type": "object", "valueObject": {"Net": {"type": "object", "valueObject": {
            "Price": {"type": "string", "text": "5", "confidence": 0.99}}}}}}}]}}
    box = [[0, 0, 1, 0, 1, 1, 0, 1]]
    labels = json.dumps({"document": "a.pdf", "labels": [
        {"label": "Date~1Time", "value": [{"page": 1, "text": "9:00", "boundingBoxes": box}]},
        {"label": "Ship~1Bill/Net/Price", "value": [{"page": 1, "text": "5", "boundingBoxes": box}]},
    ]}).encode()
    result = compare(predicted_fields(body), labeled_values(labels), 0.9)
    assert sorted(result.agreed) == ["Date~1Time", "Ship~1Bill/Net/Price"]
    assert not result.missed and not result.spurious
