"""`formloop results` without storage: the table's columns, values and the fallback for slimmed rows."""

from __future__ import annotations

import csv
import io
import json

from formloop.results import FIXED_COLUMNS, ITEM_COLUMNS, line_item_table, result_table, write_csv
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


# -- table fields (issue 18): the cells `Items/<row>/<Column>` of a dynamic table ------------------------
def _cell(text: str, value: object = None) -> dict[str, object]:
    return {"value": text if value is None else value, "text": text, "confidence": 0.9}


def _table_rows() -> list[dict[str, object]]:
    b = {f"Items/{r}/Description": _cell(f"thing {r}") for r in range(11)}
    b.update({f"Items/{r}/Amount": _cell(f"{r}.00", float(r)) for r in range(11)})
    b["Items/3/Amount"] = {"value": None, "text": "", "confidence": None}  # a cell not found
    return [
        _row("b.pdf", {"Total": _cell("55.00"), **b}),
        _row("a.pdf", {
            "Total": _cell("7.00"),
            "Items/0/Description": _cell("Widget"), "Items/0/Quantity": _cell("", 2.0),  # value, no text
            "Parts~1Labor/0/Unit~1Price": _cell("4.50"), "Parts~1Labor/0/row": _cell("first"),
            "Totals/Net/Price": _cell("5.00"),  # a fixed table: a column of its own, never a line item
        }),
        {"document": "c.pdf", "status": "failed", "errorCode": "1022"},
    ]


def test_line_items_are_one_row_each_by_document_table_and_row_number() -> None:
    columns, rows = line_item_table(_table_rows())
    assert columns == [*ITEM_COLUMNS, "Description", "Quantity", "Unit/Price", "field:row", "Amount"]
    assert [(r["document"], r["table"], r["row"]) for r in rows] == [
        ("a.pdf", "Items", 0), ("a.pdf", "Parts/Labor", 0), *(("b.pdf", "Items", i) for i in range(11))]
    assert rows[0] == {"document": "a.pdf", "modelId": "m1", "table": "Items", "row": 0,
                       "Description": "Widget", "Quantity": "2.0", "Unit/Price": "", "field:row": "",
                       "Amount": ""}
    assert rows[1]["Unit/Price"] == "4.50" and rows[1]["field:row"] == "first" and rows[1]["row"] == 0
    assert rows[2 + 10]["Description"] == "thing 10"  # row 10 after row 9, not after row 1
    assert rows[2 + 3]["Amount"] == "" and rows[2 + 4]["Amount"] == "4.00"
    out = io.StringIO()
    write_csv(out, columns, rows)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(parsed) == 13 and parsed[0]["row"] == "0" and parsed[0]["Quantity"] == "2.0"


def test_result_table_nests_dynamic_tables_only_when_asked_and_never_makes_cells_columns() -> None:
    columns, flat = result_table(_table_rows())
    assert columns == [*FIXED_COLUMNS, "Total", "Totals/Net/Price"]
    assert [r["document"] for r in flat] == ["a.pdf", "b.pdf"]
    assert all("Items" not in r and not any(k.startswith("Items/") for k in r) for r in flat)
    nested_columns, nested = result_table(_table_rows(), nest_tables=True)
    assert nested_columns == columns  # the nested tables are no CSV columns
    a, b = nested
    assert a["Items"] == [{"Description": "Widget", "Quantity": "2.0"}]
    assert a["Parts/Labor"] == [{"Unit/Price": "4.50", "row": "first"}]
    assert a["Totals/Net/Price"] == "5.00" and a["Total"] == "7.00"
    assert [item["Description"] for item in b["Items"]] == [f"thing {r}" for r in range(11)]
    assert b["Items"][3] == {"Description": "thing 3", "Amount": ""} and "Parts/Labor" not in b
    assert json.loads(json.dumps(nested)) == nested
