"""Table fields in custom models (issue 18): fields.json table schemas, label paths, and real maintenance
records (a ruled table of 2-8 filled rows under a two-line header) trained and read back, from the PDF
and from a 200-dpi scan of it read by Tesseract."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from engine.custom.labels import parse_fields
from engine.custom.results import build_result
from engine.custom.source import DirSource
from engine.custom.table_fields.paths import dynamic_cell, join_path, nest, split_path
from engine.custom.table_fields.schema import field_schema
from engine.custom.training import run_training
from engine.layout.analyze import analyze_layout
from tests.helpers.paths import DATA_DIR
from tests.helpers.table_labels import COLUMNS, FIELDS_JSON, maintenance_labels

RECORDS = sorted((DATA_DIR / "maintenance-records").glob("*.pdf"))
TABLES = DATA_DIR / "label-format-examples" / "tables"


def _layout(data: bytes) -> dict[str, Any]:
    return analyze_layout(data, None)


def _folder(tmp: Path, docs: list[Path], labels: Any = maintenance_labels, fields: Any = FIELDS_JSON) -> Path:
    for pdf in docs:
        (tmp / pdf.name).write_bytes(pdf.read_bytes())
        (tmp / (pdf.name + ".labels.json")).write_text(json.dumps(labels(pdf)[0]))
    (tmp / "fields.json").write_text(json.dumps(fields))
    return tmp


@cache
def _trained(tmp: str) -> dict[str, Any]:
    outcome = run_training(DirSource(_folder(Path(tmp), RECORDS)), "", False, True, _layout)
    assert outcome.status == "ready", outcome.train_result
    return {"params": outcome.params, "result": outcome.train_result}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _trained(str(tmp_path_factory.mktemp("records")))


def _rows(result: dict[str, Any], table: str = "Maintenance") -> list[dict[str, str]]:
    items = result["documentResults"][0]["fields"][table]["valueArray"]
    return [{c: (v or {}).get("text", "") for c, v in item["valueObject"].items()} for item in items]


def test_every_table_schema_of_the_labeling_tools_parses() -> None:
    dynamic = parse_fields(json.loads((TABLES / "sdk-labeled-tables/dynamic/fields.json").read_text()))
    assert dynamic["table"] == "array" and [k for k in dynamic if k.startswith("table/*/")] == [
        "table/*/Item", "table/*/Price", "table/*/Tax", "table/*/Total"]
    fixed = parse_fields(json.loads((TABLES / "sdk-labeled-tables/fixed/fields.json").read_text()))
    assert fixed["table"] == "object" and fixed["table/Apple/Price"] == "string" and len(fixed) == 1 + 4 * 3
    newer = parse_fields(json.loads((TABLES / "CustomGen/fields.json").read_text()))  # 2024-11-30 fieldSchema
    assert newer["TableVehicleDescription"] == "array" and newer["Employee_Signature_Date"] == "date"
    assert newer["TableVehicleDescription/*/YEAR"] == "string"
    neural = parse_fields(json.loads((TABLES / "CustomNeural/fields.json").read_text()))
    # a "/" inside a name is escaped as the labeling tool escapes it in label names
    phone = join_path("Table_Section I. Family Identification.", "A", "Phone no. (work/school)")
    assert neural[phone] == "string"
    every = parse_fields(json.loads((TABLES / "di_data/fields.json").read_text()))
    assert every["dynamic_table/*/currency$"] == "number"
    assert every["dynamic_table/*/selectionMark"] == "selectionMark"


def test_label_paths_split_before_they_unescape() -> None:
    assert split_path("a~1b/0/c~0d") == ["a/b", "0", "c~d"]
    assert dynamic_cell("Items/3/Unit price") == ("Items", 3, "Unit price")
    assert dynamic_cell("table/Apple/Price") is None and dynamic_cell("Total") is None
    nested = nest({"table/Apple/Price": {"text": "5.00"}, "table/Pear/Tax": None,
                   "Total": {"text": "9"}})
    assert nested["table"]["valueObject"]["Apple"]["valueObject"]["Price"] == {"text": "5.00"}
    assert nested["table"]["valueObject"]["Pear"]["valueObject"]["Tax"] is None
    assert nested["Total"]["text"] == "9"


def test_training_reports_the_tables_leave_one_out_accuracy(trained: dict[str, Any]) -> None:
    model = trained["params"]["tables"]["Maintenance"]
    assert model["columns"] == list(COLUMNS)
    assert model["column_accuracy"] == dict.fromkeys(COLUMNS, 1.0)  # each form read by the other four
    assert model["row_count_accuracy"] == 1.0
    assert {"fieldName": "Maintenance", "accuracy": 1.0} in trained["result"]["fields"]
    assert {"fieldName": "Maintenance/*/Mileage", "accuracy": 1.0} in trained["result"]["fields"]
    assert trained["result"]["averageModelAccuracy"] == 1.0
    schema, confidence = field_schema(trained["params"])
    assert schema["Maintenance"] == {"type": "array", "items": {"type": "object", "properties": {
        "Date": {"type": "string"}, "Operation": {"type": "string"}, "Mileage": {"type": "number"},
        "NextDue": {"type": "string"}}}}
    assert confidence["Maintenance"] == 1.0


@pytest.mark.parametrize("record", RECORDS[:3], ids=lambda p: p.stem.rsplit(" ", 1)[-1])
def test_rows_of_a_record_come_back_typed_with_their_words(trained: dict[str, Any], record: Path) -> None:
    layout = _layout(record.read_bytes())
    result = build_result("m", {}, trained["params"], layout, include_text=True)
    truth = maintenance_labels(record)[1]
    assert _rows(result) == truth
    first = result["documentResults"][0]["fields"]["Maintenance"]["valueArray"][0]["valueObject"]
    assert first["Mileage"]["valueNumber"] == float(truth[0]["Mileage"].replace(",", ""))
    assert first["Date"]["elements"][0].startswith("#/readResults/0/lines/")
    assert 0 < first["Operation"]["confidence"] <= 1 and len(first["Operation"]["boundingBox"]) == 8


def test_a_scan_of_a_record_is_read_by_the_model_trained_on_the_pdfs(trained: dict[str, Any]) -> None:
    record = RECORDS[0]  # Adatum: six rows
    page = pdfium.PdfDocument(record.read_bytes())[0]
    png = io.BytesIO()
    page.render(scale=200 / 72).to_pil().convert("L").save(png, format="PNG")
    result = build_result("m", {}, trained["params"], _layout(png.getvalue()), include_text=False)
    got, truth = _rows(result), maintenance_labels(record)[1]
    assert len(got) == len(truth)
    right = sum(got[r][c] == t[c] for r, t in enumerate(truth) for c in t)
    assert right >= 0.9 * len(truth) * len(COLUMNS), (got, truth)


def _fixed_labels(pdf: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The first two rows as a fixed table (named rows First/Second), the rest unlabeled."""
    labels, truth = maintenance_labels(pdf)
    kept = []
    for lab in labels["labels"]:
        _, row, col = dynamic_cell(lab["label"]) or ("", 9, "")
        if row < 2:
            kept.append({**lab, "label": join_path("Service", ("First", "Second")[row], col)})
    return {**labels, "labels": kept}, truth[:2]


def test_a_fixed_table_is_answered_as_an_object_of_named_rows(tmp_path: Path) -> None:
    fields = {"fields": [{"fieldKey": "Service", "fieldType": "object", "fields": [
        {"fieldKey": "First", "fieldType": "row"}, {"fieldKey": "Second", "fieldType": "row"}]}],
        "definitions": {"row": {"fieldKey": "row", "fieldType": "object", "fields": [
            {"fieldKey": c, "fieldType": "string"} for c in COLUMNS]}}}
    folder = _folder(tmp_path, RECORDS, _fixed_labels, fields)
    outcome = run_training(DirSource(folder), "", False, True, _layout)
    assert outcome.status == "ready", outcome.train_result
    record = RECORDS[1]
    result = build_result("m", {}, outcome.params, _layout(record.read_bytes()), include_text=False)
    service = result["documentResults"][0]["fields"]["Service"]
    assert service["type"] == "object" and set(service["valueObject"]) == {"First", "Second"}
    truth = _fixed_labels(record)[1]
    for name, row in zip(("First", "Second"), truth, strict=True):
        cells = service["valueObject"][name]["valueObject"]
        assert {c: cells[c]["text"] for c in COLUMNS} == row
    schema, _ = field_schema(outcome.params)
    assert schema["Service"]["properties"]["First"]["properties"]["Date"] == {"type": "string"}


def _field_labels(pdf: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The same labels in Document Intelligence 2024-11-30's format: nested `fieldLabels`, polygons in
    inches (the unit Layout gives a PDF page)."""
    labels, truth = maintenance_labels(pdf)
    width, height = 8.5, 11.0  # the records are US Letter
    rows: dict[int, dict[str, Any]] = {}
    for lab in labels["labels"]:
        _, row, col = dynamic_cell(lab["label"]) or ("", 0, "")
        regions = [{"pageNumber": v["page"], "polygon": [round(c * (width if i % 2 == 0 else height), 4)
                                                         for i, c in enumerate(v["boundingBoxes"][0])]}
                   for v in lab["value"]]
        content = " ".join(v["text"] for v in lab["value"])
        rows.setdefault(row, {})[col] = {"type": "string", "content": content, "boundingRegions": regions,
                                         "spans": [], "kind": "confirmed"}
    items = [{"type": "object", "valueObject": rows[r]} for r in sorted(rows)]
    return {"$schema": "https://schema.ai.azure.com/documentintelligence/2024-11-30/labels.json",
            "fieldLabels": {"Maintenance": {"type": "array", "valueArray": items}}}, truth


def test_the_2024_11_30_labels_format_trains_the_same_table(tmp_path: Path) -> None:
    schema = {"fieldSchema": {"Maintenance": {"type": "array", "items": {"type": "object", "properties": {
        c: {"type": "number" if c == "Mileage" else "string"} for c in COLUMNS}}}}}
    folder = _folder(tmp_path, RECORDS, _field_labels, schema)
    outcome = run_training(DirSource(folder), "", False, True, _layout)
    assert outcome.status == "ready", outcome.train_result
    model = outcome.params["tables"]["Maintenance"]
    assert model["column_accuracy"] == dict.fromkeys(COLUMNS, 1.0) and model["types"]["Mileage"] == "number"
    result = build_result("m", {}, outcome.params, _layout(RECORDS[2].read_bytes()), include_text=False)
    assert _rows(result) == maintenance_labels(RECORDS[2])[1]


@pytest.mark.parametrize(("name", "why"), [("Items//Description", "no part empty"),
                                           ("Items/0/Unit~price", "'~' in a name")])
def test_a_malformed_cell_label_is_refused_with_its_reason(name: str, why: str) -> None:
    from engine.custom.labels import LabelFormatError, parse_labels

    labels = {"document": "a.pdf", "labels": [{"label": name, "value": [
        {"page": 1, "text": "x", "boundingBoxes": [[0.1, 0.1, 0.2, 0.1, 0.2, 0.2, 0.1, 0.2]]}]}]}
    with pytest.raises(LabelFormatError, match=why):
        parse_labels(labels)
