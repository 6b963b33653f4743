"""`formloop results` without storage: the table's columns, values and the fallback for slimmed rows."""

from __future__ import annotations

import csv
import io
import json

from formloop.results import FIXED_COLUMNS, result_table, write_csv
from shared.predictions.field_values import stored_fields as prediction_fields


def _row(document: str, fields: dict[str, dict[str, object]], **extra: object) -> dict[str, object]:
    return {"document": document, "modelId": "m1", "status": "succeeded", "lowestConfidence": 0.5,
            "reviewStatus": "needsReview", "blobName": f"f/{document}", "fields": json.dumps(fields), **extra}


def test_columns_are_the_union_of_fields_sorted_and_values_the_text_or_value() -> None:
    rows = [
        _row("b.pdf", {"Total": {"value": 12.5, "text": "", "confidence": 0.9},
                       "Agreed": {"value": "selected", "text": "", "confidence": 0.9}}),
        _row("a.pdf", {"Name": {"value": "Ann", "text": "ANN", "confidence": 0.4}}),
        {"document": "c.pdf", "status": "failed", "errorCode": "1022"},  # no fields: not a result
        _row("d.pdf", {"document": {"value": "x", "text": "x", "confidence": 1.0}}, lowestConfidence=None),
    ]
    columns, table = result_table(rows)
    assert columns == [*FIXED_COLUMNS, "Agreed", "Name", "Total", "field:document"]
    assert [r["document"] for r in table] == ["a.pdf", "b.pdf", "d.pdf"]
    assert table[0]["Name"] == "ANN" and table[0]["Total"] == ""
    assert table[1]["Total"] == "12.5" and table[1]["Agreed"] == "selected"
    assert table[2]["field:document"] == "x" and table[2]["lowestConfidence"] is None
    out = io.StringIO()
    write_csv(out, columns, table)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert parsed[2]["lowestConfidence"] == "" and parsed[2]["document"] == "d.pdf"


def test_a_slimmed_row_is_read_from_its_prediction_file() -> None:
    slim = _row("a.pdf", {"Name": {"text": "A very long name cut at eighty charac", "confidence": 0.9}})
    whole = "A very long name, whole"
    body = {"status": "succeeded", "analyzeResult": {"documentResults": [{"fields": {
        "Name": {"type": "string", "valueString": whole, "text": whole, "confidence": 0.9}}}]}}
    read: list[str] = []

    def read_blob(name: str) -> bytes:
        read.append(name)
        return json.dumps(body).encode()

    assert prediction_fields(slim, read_blob)["Name"]["text"] == "A very long name, whole"
    assert read == ["f/a.pdf.prediction.json"]
    cut = {**slim, "fields": '{"Name": {"text": "abc'}  # cut JSON
    assert prediction_fields(cut, read_blob)["Name"]["text"] == "A very long name, whole"
    full = _row("a.pdf", {"Name": {"value": "v", "text": "t", "confidence": 0.9}})
    assert prediction_fields(full, read_blob)["Name"]["text"] == "t" and len(read) == 2  # no read


def test_csv_values_never_become_spreadsheet_formulas() -> None:
    from formloop.results import csv_cell

    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("+1 555") == "'+1 555" and csv_cell("@sum") == "'@sum" and csv_cell("-cmd") == "'-cmd"
    assert csv_cell("-5.00") == "-5.00" and csv_cell("-.5") == "-.5" and csv_cell("Acme") == "Acme"
    assert csv_cell(None) == "" and csv_cell(0.93) == 0.93
