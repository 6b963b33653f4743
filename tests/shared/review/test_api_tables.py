"""Table fields in the review API on a real Azurite: `fields.json` tables read with their columns and rows,
kept exactly (with their definitions) when the page saves the fields, new ones made from their columns;
cell labels checked against the table, renumbered from 0 and escaped as the labeling tool writes them; the
Layout's tables of a form with their cells as word ids (v2.1 from the engine, v4 from spans)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from formgen.generate import GeneratedForm, generate
from shared.forms.label_format import validate_labels
from shared.predictions.field_values import labeled_values
from shared.review.form_view import read_pages
from shared.review.tables.layout import layout_tables
from tests.helpers.pipeline import Stack
from tests.shared.review.test_api import Api

RATES = {"fieldKey": "Rates", "fieldType": "object", "fieldFormat": "not-specified", "itemType": None,
         "fields": [{"fieldKey": "A/B", "fieldType": "Rates_row", "fieldFormat": "not-specified"},
                    {"fieldKey": "Night", "fieldType": "Rates_row", "fieldFormat": "not-specified"}]}
RATES_ROW = {"fieldKey": "Rates_row", "fieldType": "object", "fieldFormat": "not-specified", "itemType": None,
             "fields": [{"fieldKey": "x~y", "fieldType": "number", "fieldFormat": "not-specified"}]}
COLUMNS = [{"name": "Description", "type": "string"}, {"name": "Quantity", "type": "number"},
           {"name": "UnitPrice", "type": "number"}, {"name": "Amount", "type": "number"}]


@pytest.fixture
def folder(stack: Stack, tmp_path: Path) -> tuple[Api, GeneratedForm, dict[str, Any]]:
    """An invoice with line items, its OCR by the engine, and fields.json: `Items`, plus a fixed table
    `Rates` whose names need escaping (row `A/B`, column `x~y`) and a definition nothing uses."""
    api = Api(stack)
    form = generate("invoice_items", 1, tmp_path, seed=9, kind="pdf")[0]
    fields = json.loads((tmp_path / "fields.json").read_bytes())
    fields["fields"][1]["fieldFormat"] = "dmy"  # set in the labeling tool: kept by the page
    fields["fields"].append(RATES)
    fields["definitions"].update({"Rates_row": RATES_ROW, "Stale_object": {**RATES_ROW, "fieldKey": "Stale"}})
    _body, raw = api.stack.client.analyze_layout(form.path.read_bytes(), "application/pdf")
    for name, data in (("fields.json", json.dumps(fields).encode()), (form.path.name, form.path.read_bytes()),
                       (f"{form.path.name}.ocr.json", raw)):
        api.stack.upload(f"inv/{name}", data)
    return api, form, fields


def _predict(api: Api, doc: str, truth: list[dict[str, str]]) -> None:
    """A v2.1 prediction of `Items` as the model writes it, its cells' boxes the Layout's cells'."""
    ocr = json.loads(api.blob(f"inv/{doc}.ocr.json"))["analyzeResult"]
    cells = ocr["pageResults"][0]["tables"][0]["cells"]
    rows = []
    for r, row in enumerate(truth):
        item = {}
        for c, column in enumerate(c["name"] for c in COLUMNS):
            cell = next(x for x in cells if x["rowIndex"] == r + 1 and x["columnIndex"] == c)
            confidence = 0.4 if (r, c) == (1, 1) else 0.95
            item[column] = {"type": "string", "valueString": row[column], "text": row[column], "page": 1,
                            "boundingBox": cell["boundingBox"], "confidence": confidence}
        rows.append({"type": "object", "valueObject": item})
    body = {"status": "succeeded", "analyzeResult": {"version": "2.1.0", "documentResults": [
        {"docType": "custom:m1", "fields": {"Items": {"type": "array", "valueArray": rows}}}]}}
    api.stack.upload(f"inv/{doc}.prediction.json", json.dumps(body).encode())
    api.stack.records.merge_prediction("inv", doc, status="succeeded", modelId="m1")


def _texts(view: dict[str, Any], ids: list[str]) -> str:
    words = {w["id"]: w["text"] for p in view["pages"] for w in p["words"]}
    return " ".join(words[i] for i in ids)


def test_cells_are_shown_and_saved_by_path_renumbered_and_escaped(
    folder: tuple[Api, GeneratedForm, dict[str, Any]],
) -> None:
    api, form, _fields = folder
    doc, truth = form.path.name, form.tables["Items"]
    view = api.json("GET", "form", folder="inv", doc=doc)
    assert view["schema"][4] == {"name": "Items", "type": "array", "columns": COLUMNS}
    assert view["schema"][5] == {"name": "Rates", "type": "object", "rows": ["A/B", "Night"],
                                 "columns": [{"name": "x~y", "type": "number"}]}
    table = view["pages"][0]["tables"][0]  # the Layout's: a header row, the items, the Total line
    assert (table["rows"], table["columns"]) == (len(truth) + 2, 4) and all(0 <= v <= 1 for v in table["box"])
    grid = {(c["row"], c["column"]): c for c in table["cells"]}
    assert [grid[0, k]["header"] for k in range(4)] == [True] * 4
    assert [[_texts(view, grid[r + 1, k]["words"]) for k in range(4)] for r in range(len(truth))] == [
        [row[c["name"]] for c in COLUMNS] for row in truth]

    _predict(api, doc, truth)
    predicted = api.json("GET", "form", folder="inv", doc=doc)["prediction"]["fields"]
    assert predicted["Items/1/Quantity"]["confidence"] == 0.4
    assert _texts(view, predicted["Items/0/Description"]["words"]) == truth[0]["Description"]

    def ids(r: int, k: int) -> list[str]:
        return grid[r + 1, k]["words"]

    edits = {"Items/0/Description": {"words": ids(0, 0)}, "Items/5/Amount": {"words": ids(1, 3)},
             "Items/2/Quantity": {"words": []},  # a row with nothing is no row
             "Rates/A~1B/x~0y": {"words": ids(0, 1)}}
    api.json("PUT", "labels", {"etag": None, "fields": edits}, folder="inv", doc=doc)
    raw = api.blob(f"inv/{doc}.labels.json")
    assert validate_labels(raw).ok
    assert labeled_values(raw) == {"Items/0/Description": truth[0]["Description"],
                                   "Items/1/Amount": truth[1]["Amount"],
                                   "Rates/A~1B/x~0y": truth[0]["Quantity"]}
    assert set(api.json("GET", "form", folder="inv", doc=doc)["labels"]) == set(labeled_values(raw))

    for name in ("Items/0/Nope", "Items/01/Description", "Items/-1/Description", "Items", "Items/0",
                 "Rates/Day/x~0y", "Rates/0/x~0y", "Other/0/Description"):
        error = api.json("PUT", "labels", {"fields": {name: {"words": ids(0, 0)}}}, status=400,
                         folder="inv", doc=doc)["error"]
        assert error["code"] == "UnknownField", name
    twice = {"Rates/A~1B/x~0y": {"words": ids(0, 0)}, "Rates/A~1B/x~y": {"words": ids(0, 1)}}
    assert api.json("PUT", "labels", {"fields": twice}, status=400, folder="inv",
                    doc=doc)["error"]["code"] == "DuplicateLabel"


def test_saving_the_fields_keeps_tables_and_their_definitions_and_makes_new_ones(
    folder: tuple[Api, GeneratedForm, dict[str, Any]],
) -> None:
    api, _form, declared = folder
    shown = api.json("GET", "fields", folder="inv")
    assert [f["name"] for f in shown["fields"]] == ["InvoiceNumber", "InvoiceDate", "CustomerName", "Total",
                                                    "Items", "Rates"]
    fields = [{"name": f["name"], "type": f["type"]} for f in shown["fields"][:5]]  # Rates removed
    fields[2]["name"] = "Customer"
    fields.append({"name": "Taxes", "type": "array",
                   "columns": [{"name": "Rate", "type": "number"}, "Amount"]})
    saved = api.json("PUT", "fields", {"etag": shown["etag"], "fields": fields}, folder="inv")
    stored = json.loads(api.blob("inv/fields.json"))
    assert stored["fields"][4] == declared["fields"][4]  # Items as the labeling tool wrote it
    assert stored["fields"][1]["fieldFormat"] == "dmy" and stored["fields"][2]["fieldKey"] == "Customer"
    assert stored["fields"][5] == {"fieldKey": "Taxes", "fieldType": "array", "fieldFormat": "not-specified",
                                   "itemType": "Taxes_object", "fields": None}
    assert list(stored["definitions"]) == ["Items_object", "Taxes_object"]  # Rates' and the stale one gone
    assert stored["definitions"]["Items_object"] == declared["definitions"]["Items_object"]
    assert [(c["fieldKey"], c["fieldType"]) for c in stored["definitions"]["Taxes_object"]["fields"]] == [
        ("Rate", "number"), ("Amount", "string")]
    assert saved["fields"][5] == {"name": "Taxes", "type": "array", "columns": [
        {"name": "Rate", "type": "number"}, {"name": "Amount", "type": "string"}]}
    assert api.json("GET", "fields", folder="inv")["fields"] == saved["fields"]

    fixed = [*fields[:5], {"name": "Rates", "type": "object", "rows": ["Day", "Night"], "columns": ["Price"]}]
    again = api.json("PUT", "fields", {"etag": saved["etag"], "fields": fixed}, folder="inv")
    assert again["fields"][5] == {"name": "Rates", "type": "object", "rows": ["Day", "Night"],
                                  "columns": [{"name": "Price", "type": "string"}]}
    assert list(json.loads(api.blob("inv/fields.json"))["definitions"]) == ["Items_object", "Rates_object"]
    for table, code in (
        ({"name": "Items", "type": "array", "columns": ["Description"]}, "TableChanged"),
        ({"name": "New", "type": "array"}, "BadTable"),
        ({"name": "New", "type": "array", "columns": [{"name": "A", "type": "money"}]}, "BadFieldType"),
        ({"name": "New", "type": "array", "columns": ["A", "a"]}, "DuplicateField"),
        ({"name": "New", "type": "object", "columns": ["A"]}, "BadTable"),
        ({"name": "New", "type": "array", "columns": ["A/B"]}, "BadFieldName"),
    ):
        body = {"etag": again["etag"], "fields": [*fields[:4], table]}
        assert api.json("PUT", "fields", body, status=400, folder="inv")["error"]["code"] == code, table


def test_a_field_schema_file_is_shown_but_not_rewritten(stack: Stack) -> None:
    api = Api(stack)
    schema = {"fieldSchema": {"Name": {"type": "string"}, "Items": {"type": "array", "items": {
        "type": "object", "properties": {"Description": {"type": "string"}, "Amount": {"type": "number"}}}}}}
    api.stack.upload("fs/fields.json", json.dumps(schema).encode())
    shown = api.json("GET", "fields", folder="fs")
    items = {"name": "Items", "type": "array",
             "columns": [{"name": "Description", "type": "string"}, {"name": "Amount", "type": "number"}]}
    assert shown["fields"] == [{"name": "Name", "type": "string"}, items]
    body = {"etag": shown["etag"], "fields": [{"name": "Name", "type": "string"}]}
    assert api.json("PUT", "fields", body, status=409, folder="fs")["error"]["code"] == "FieldSchemaFile"


def test_v4_layout_tables_find_their_words_by_span() -> None:
    words = [("Item", 0), ("Cost", 5), ("Tea", 10), ("green", 14), ("3.50", 20)]
    page = {"pageNumber": 1, "width": 10, "height": 10, "unit": "inch", "words": [
        {"content": t, "span": {"offset": o, "length": len(t)}, "confidence": 1,
         "polygon": [i, 1, i + 0.5, 1, i + 0.5, 1.2, i, 1.2]} for i, (t, o) in enumerate(words)]}
    region = {"pageNumber": 1, "polygon": [0, 1, 5, 1, 5, 2, 0, 2]}
    def cell(row: int, column: int, content: str, offset: int, **kind: str) -> dict[str, Any]:
        return {"rowIndex": row, "columnIndex": column, "content": content,
                "spans": [{"offset": offset, "length": len(content)}], **kind}

    table = {"rowCount": 2, "columnCount": 2, "boundingRegions": [region], "cells": [
        cell(0, 0, "Item", 0, kind="columnHeader"), cell(0, 1, "Cost", 5, kind="columnHeader"),
        cell(1, 0, "Tea green", 10), cell(1, 1, "3.50", 20)]}
    ocr = {"analyzeResult": {"pages": [page], "tables": [table]}}
    found = layout_tables(ocr, read_pages(ocr))  # type: ignore[arg-type]
    cells = found[1][0]["cells"]
    assert found[1][0]["box"] == [0.0, 0.1, 0.5, 0.2]
    assert [(c["row"], c["column"], c["header"], c["words"]) for c in cells] == [
        (0, 0, True, ["1.0"]), (0, 1, True, ["1.1"]), (1, 0, False, ["1.2", "1.3"]), (1, 1, False, ["1.4"])]
