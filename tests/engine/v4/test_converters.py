"""Unit tests of the v4.0 converters (no HTTP): v2.1 Layout -> v4 analyzeResult, v4 `.ocr.json` -> v2.1,
custom-model documents, span units, Studio training sources, error mapping and build requests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.custom.source import DirSource
from engine.custom.training import run_training
from engine.custom.v3_ocr import is_v4_layout, to_v2_layout
from engine.errors import ApiError
from engine.v4.build import parse_build_request
from engine.v4.convert.content import Span, merge_spans
from engine.v4.convert.custom_result import documents
from engine.v4.convert.layout_result import convert_layout, layout_result
from engine.v4.convert.text_index import OffsetMap
from engine.v4.errors import V4Error, from_v2
from engine.v4.training_source import StudioSource, read_file_list
from tests.helpers.paths import DATA_DIR

PO = DATA_DIR / "purchase-orders"
ALLOWED = ("127.0.0.1", "localhost", "*.blob.core.windows.net")


def _word(text: str, x: float, y: float, w: float = 0.5, h: float = 0.2, conf: float = 1.0) -> dict:
    return {"boundingBox": [x, y, x + w, y, x + w, y + h, x, y + h], "text": text, "confidence": conf}


def _line(words: list[dict], style: str = "other") -> dict:
    xs = [v for w in words for v in w["boundingBox"][0::2]]
    ys = [v for w in words for v in w["boundingBox"][1::2]]
    box = [min(xs), min(ys), max(xs), min(ys), max(xs), max(ys), min(xs), max(ys)]
    return {"boundingBox": box, "text": " ".join(w["text"] for w in words),
            "appearance": {"style": {"name": style, "confidence": 0.8 if style == "handwriting" else 1}},
            "words": words}


def _v2() -> dict:
    """Two inch pages: an address block, a 2x2 table (header row, one cell with a mark), a handwritten
    line; page 2 has one line."""
    page1 = {"page": 1, "angle": 0, "width": 8.5, "height": 11, "unit": "inch", "language": "en",
             "lines": [_line([_word("Vendor", 1, 1), _word("Name:", 1.6, 1)]),
                       _line([_word("Jack", 1, 1.25), _word("Sprat", 1.6, 1.25)]),
                       _line([_word("Item", 1, 3)]), _line([_word("Qty", 3, 3)]),
                       _line([_word("Pens", 1, 3.5)]), _line([_word("20", 3, 3.5)]),
                       _line([_word("Signed", 5, 8, conf=0.6)], style="handwriting")],
             "selectionMarks": [{"boundingBox": [3.6, 3.5, 3.8, 3.5, 3.8, 3.7, 3.6, 3.7], "confidence": 0.9,
                                 "state": "selected"}]}
    page2 = {"page": 2, "angle": 0, "width": 8.5, "height": 11, "unit": "inch", "language": "en",
             "lines": [_line([_word("Über", 1, 1), _word("👍🏽", 1.6, 1)])], "selectionMarks": []}
    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0, y0, x1, y0, x1, y1, x0, y1]

    table = {"rows": 2, "columns": 2, "boundingBox": box(0.9, 2.9, 4.0, 3.9), "cells": [
        {"rowIndex": 0, "columnIndex": 0, "text": "Item", "isHeader": True,
         "boundingBox": box(0.9, 2.9, 2.9, 3.4), "elements": ["#/readResults/0/lines/2/words/0"]},
        {"rowIndex": 0, "columnIndex": 1, "text": "Qty", "isHeader": True,
         "boundingBox": box(2.9, 2.9, 4.0, 3.4)},
        {"rowIndex": 1, "columnIndex": 0, "text": "Pens", "boundingBox": box(0.9, 3.4, 2.9, 3.9)},
        {"rowIndex": 1, "columnIndex": 1, "text": "20", "rowSpan": 1, "columnSpan": 1,
         "boundingBox": box(2.9, 3.4, 4.0, 3.9)}]}
    return {"version": "2.1.0", "readResults": [page1, page2],
            "pageResults": [{"page": 1, "tables": [table]}, {"page": 2, "tables": []}], "errors": []}


def _text(content: str, span: dict) -> str:
    return content[span["offset"]:span["offset"] + span["length"]]


# -- layout ------------------------------------------------------------------------------------------
def test_layout_content_and_spans_are_consistent() -> None:
    v2 = _v2()
    before = copy.deepcopy(v2)
    r = layout_result(v2, string_index_type="unicodeCodePoint")
    assert v2 == before  # the layout cache's object is never touched
    assert r["apiVersion"] == "2024-11-30" and r["modelId"] == "prebuilt-layout"
    assert r["stringIndexType"] == "unicodeCodePoint" and r["contentFormat"] == "text"
    c = r["content"]
    assert c.startswith("Vendor Name:\nJack Sprat\nItem\nQty\nPens\n20\nSigned\n:selected:\nÜber")
    for page in r["pages"]:
        for w in page["words"]:
            assert _text(c, w["span"]) == w["content"] and len(w["polygon"]) == 8
        for ln in page["lines"]:
            assert _text(c, ln["spans"][0]) == ln["content"]
        assert _text(c, page["spans"][0]).startswith(page["lines"][0]["content"])
    p1, p2 = r["pages"]
    assert (p1["pageNumber"], p1["unit"], p1["width"], p1["height"], p1["angle"]) == (1, "inch", 8.5, 11, 0)
    mark = p1["selectionMarks"][0]
    assert mark["state"] == "selected" and _text(c, mark["span"]) == ":selected:"
    assert p1["spans"][0]["offset"] == 0 and p2["spans"][0]["offset"] == p1["spans"][0]["length"] + 1
    assert p1["words"][1]["content"] == "Name:" and p1["words"][-1]["confidence"] == 0.6


def test_layout_tables_paragraphs_and_styles() -> None:
    r = layout_result(_v2(), string_index_type="unicodeCodePoint")
    c = r["content"]
    (table,) = r["tables"]
    assert (table["rowCount"], table["columnCount"]) == (2, 2)
    assert table["boundingRegions"][0]["pageNumber"] == 1
    cells = {(x["rowIndex"], x["columnIndex"]): x for x in table["cells"]}
    assert cells[(0, 0)]["kind"] == "columnHeader" and "kind" not in cells[(1, 0)]
    assert [_text(c, s) for s in cells[(0, 0)]["spans"]] == ["Item"]  # from `elements`
    assert [_text(c, s) for s in cells[(0, 1)]["spans"]] == ["Qty"]  # from the cell's box
    assert cells[(1, 1)]["content"] == "20 :selected:"  # a mark inside a cell, as the service writes it
    assert [_text(c, s) for s in cells[(1, 1)]["spans"]] == ["20", ":selected:"]
    assert all(x["rowSpan"] == 1 and x["columnSpan"] == 1 for x in table["cells"])
    assert _text(c, table["spans"][0]).startswith("Item")
    paragraphs = [p["content"] for p in r["paragraphs"]]
    assert paragraphs[0] == "Vendor Name: Jack Sprat"  # a label stack is one paragraph
    assert "Item" in paragraphs and "Pens" in paragraphs  # table cells never merge
    for p in r["paragraphs"]:
        assert _text(c, p["spans"][0]).replace("\n", " ") == p["content"]
    assert r["styles"] == [{"confidence": 0.8, "spans": [{"offset": c.index("Signed"), "length": 6}],
                            "isHandwritten": True}]


def test_read_model_has_no_tables_and_no_marks() -> None:
    r = layout_result(_v2(), model_id="prebuilt-read")
    assert "tables" not in r and ":selected:" not in r["content"]
    assert all("selectionMarks" not in p for p in r["pages"])
    assert r["modelId"] == "prebuilt-read" and r["paragraphs"]


def test_string_index_types_count_text_elements_and_utf16() -> None:
    # a decomposed ü (2 code points), an emoji with a skin tone (2 code points, 4 UTF-16 units)
    content = "Mu\u0308ller 👍🏽 x"
    x = content.index("x")
    assert OffsetMap(content, "unicodeCodePoint").offset(x) == 11
    assert OffsetMap(content, "textElements").offset(x) == 9
    assert OffsetMap(content, "utf16CodeUnit").offset(x) == 13
    assert OffsetMap("plain", "utf16CodeUnit").span(1, 3) == {"offset": 1, "length": 3}
    r = layout_result(_v2())  # default textElements: the emoji with its modifier is one element
    words = r["pages"][1]["words"]
    assert words[1]["content"] == "👍🏽" and words[1]["span"]["length"] == 1


def test_pixel_pages_keep_pixel_units_and_integer_regions() -> None:
    v2 = json.loads((PO / "Form_1.jpg.ocr.json").read_text())["analyzeResult"]
    r = layout_result(v2)
    page = r["pages"][0]
    assert (page["unit"], page["width"], page["height"]) == ("pixel", 1700, 2200)
    assert all(isinstance(v, int) for p in r["paragraphs"] for v in p["boundingRegions"][0]["polygon"])
    assert any(p["content"].startswith("Vendor Name:") and "Address:" in p["content"]
               for p in r["paragraphs"])


def test_merge_spans_joins_neighbours_only() -> None:
    assert merge_spans([Span(10, 4), Span(0, 5), Span(6, 3)]) == [Span(0, 14)]
    assert merge_spans([Span(0, 2), Span(5, 1)]) == [Span(0, 2), Span(5, 1)]


# -- custom documents --------------------------------------------------------------------------------
def test_custom_documents_span_into_the_layout_content() -> None:
    v2 = _v2()
    conv = convert_layout(v2, model_id="po", string_index_type="unicodeCodePoint")
    box = [1, 1.25, 2.1, 1.25, 2.1, 1.45, 1, 1.45]
    v2_result = {"documentResults": [{"docType": "custom:po", "docTypeConfidence": 0.9, "fields": {
        "Vendor": {"type": "string", "valueString": "Jack Sprat", "text": "Jack Sprat", "page": 1,
                   "boundingBox": box, "confidence": 0.95,
                   "elements": ["#/readResults/0/lines/1/words/0", "#/readResults/0/lines/1/words/1"]},
        "Block": {"type": "string", "valueString": "Vendor Name: Jack Sprat",
                  "text": "Vendor Name: Jack Sprat", "page": 1, "boundingBox": box, "confidence": 0.5,
                  "elements": ["#/readResults/0/lines/0/words/0", "#/readResults/0/lines/0/words/1",
                               "#/readResults/0/lines/1/words/0", "#/readResults/0/lines/1/words/1"]},
        "Qty": {"type": "number", "valueNumber": 20.0, "text": "20", "page": 1, "boundingBox": box,
                "confidence": 0.9, "elements": ["#/readResults/0/lines/5/words/0"]},
        "Paid": {"type": "selectionMark", "valueSelectionMark": "selected", "text": "selected", "page": 1,
                 "boundingBox": box, "confidence": 0.9, "elements": ["#/readResults/0/selectionMarks/0"]},
        "Date": None}}]}
    (doc,) = documents(v2_result, conv, "po", {"Date": "date"})
    c = conv.result["content"]
    assert doc["docType"] == "po:po" and doc["confidence"] == 0.9
    assert doc["spans"] == [{"offset": 0, "length": len(c)}]
    assert [r["pageNumber"] for r in doc["boundingRegions"]] == [1, 2]
    assert doc["boundingRegions"][0]["polygon"] == [0, 0, 8.5, 0, 8.5, 11, 0, 11]
    f = doc["fields"]
    assert f["Vendor"]["valueString"] == "Jack Sprat" and f["Vendor"]["content"] == "Jack Sprat"
    assert [_text(c, s) for s in f["Vendor"]["spans"]] == ["Jack Sprat"]
    assert f["Block"]["content"] == "Vendor Name:\nJack Sprat" and len(f["Block"]["spans"]) == 1
    assert f["Qty"]["type"] == "number" and f["Qty"]["valueNumber"] == 20.0 and f["Qty"]["content"] == "20"
    assert f["Paid"]["valueSelectionMark"] == "selected" and f["Paid"]["content"] == ":selected:"
    assert f["Vendor"]["boundingRegions"] == [{"pageNumber": 1, "polygon": box}]
    assert f["Date"] == {"type": "date"}


# -- v4 .ocr.json -> v2 ------------------------------------------------------------------------------
def test_v4_ocr_file_round_trips_to_v2_words_and_lines() -> None:
    v2 = json.loads((PO / "Form_1.jpg.ocr.json").read_text())["analyzeResult"]
    v4 = {"status": "succeeded", "analyzeResult": layout_result(v2)}
    assert is_v4_layout(v4) and is_v4_layout(v4["analyzeResult"]) and not is_v4_layout({"analyzeResult": v2})
    back = to_v2_layout(v4)
    rr, orig = back["readResults"][0], v2["readResults"][0]
    assert (rr["page"], rr["width"], rr["height"], rr["unit"]) == (1, 1700, 2200, "pixel")
    assert [ln["text"] for ln in rr["lines"]] == [ln["text"] for ln in orig["lines"]]
    assert [[w["boundingBox"] for w in ln["words"]] for ln in rr["lines"]] == \
        [[w["boundingBox"] for w in ln["words"]] for ln in orig["lines"]]
    assert back["pageResults"] == [{"page": 1, "tables": []}]


def test_v4_ocr_file_without_lines_and_with_long_polygons() -> None:
    page = {"pageNumber": 1, "width": 100, "height": 50, "unit": "pixel", "words": [
        {"content": "a", "polygon": [0, 0, 5, 0, 6, 2, 5, 5, 0, 5, -1, 2], "confidence": 0.5,
         "span": {"offset": 0, "length": 1}},
        {"content": "b", "polygon": "broken", "span": {"offset": 2, "length": 1}}],
        "selectionMarks": [{"state": "selected", "polygon": [1, 1, 2, 1, 2, 2, 1, 2], "confidence": 0.7}]}
    rr = to_v2_layout({"pages": [page]})["readResults"][0]
    rect = [-1, 0, 6, 0, 6, 5, -1, 5]
    assert rr["lines"] == [{"boundingBox": rect, "text": "a",
                            "words": [{"boundingBox": rect, "text": "a", "confidence": 0.5}]}]
    assert rr["selectionMarks"][0]["state"] == "selected"


# -- Studio training data ----------------------------------------------------------------------------
def _studio_folder(root: Path, with_ocr: bool = True) -> None:
    (root / "train").mkdir(parents=True)
    for f in sorted(PO.iterdir()):
        if f.name == "LICENSE" or (f.name.endswith(".ocr.json") and not with_ocr):
            continue
        data = f.read_bytes()
        if f.name.endswith(".ocr.json"):  # as Studio writes it: a v4 Layout result
            data = json.dumps({"status": "succeeded",
                               "analyzeResult": layout_result(json.loads(data)["analyzeResult"])}).encode()
        if f.name.endswith(".labels.json"):  # Studio's schema and extra keys
            labels = json.loads(data)
            labels["$schema"] = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/labels.json"
            for lab in labels["labels"]:
                lab.update(labelType="words", kind="fieldValue")
            data = json.dumps(labels).encode()
        (root / "train" / f.name).write_bytes(data)


def test_studio_data_with_v4_ocr_files_trains_like_v2(tmp_path: Path) -> None:
    _studio_folder(tmp_path)
    source = DirSource(tmp_path)  # v2.1 training reads the v4 files as they are (no StudioSource needed)
    assert "pages" in json.loads(source.read("train/Form_1.jpg.ocr.json"))["analyzeResult"]
    outcome = run_training(source, "train/", True, True, lambda data: pytest.fail("no OCR needed"), "po")
    assert outcome.status == "ready", outcome.train_result
    assert all(d["status"] == "succeeded" for d in outcome.train_result["trainingDocuments"])
    assert outcome.params and outcome.params["field_types"]["Quantity"] == "number"


def test_file_list_limits_the_training_documents(tmp_path: Path) -> None:
    _studio_folder(tmp_path)
    lines = [json.dumps({"file": f"train/Form_{i}.jpg"}) for i in (1, 2, 3)]
    (tmp_path / "list.jsonl").write_text("\n".join(lines) + "\n\n")
    inner = DirSource(tmp_path)
    files = read_file_list(inner, "list.jsonl")
    names = StudioSource(inner, files).names("")
    assert "train/Form_4.jpg" not in names and "train/fields.json" in names
    assert {"train/Form_1.jpg", "train/Form_1.jpg.labels.json", "train/Form_1.jpg.ocr.json"} <= set(names)
    (tmp_path / "bad.jsonl").write_text('{"file": "a.pdf"}\nnot json\n')
    with pytest.raises(V4Error) as err:
        read_file_list(inner, "bad.jsonl")
    assert err.value.inner_code == "TrainingContentMissing" and "line 2" in err.value.message
    with pytest.raises(V4Error):
        read_file_list(inner, "missing.jsonl")


# -- errors and requests -----------------------------------------------------------------------------
def test_v2_errors_become_v4_errors() -> None:
    err = from_v2(ApiError(400, "InvalidImage", "The input data is not a valid image or password protected."))
    assert err.status == 400 and err.body() == {"error": {
        "code": "InvalidRequest", "message": "Invalid request.",
        "innererror": {"code": "InvalidContent", "message": err.message}}}
    unsupported = from_v2(ApiError(415, "UnsupportedMediaType", "x"))
    assert unsupported.body()["error"]["code"] == "UnsupportedMediaType"
    assert from_v2(ApiError(400, "InvalidPageRange", "x")).body()["error"]["innererror"]["code"] == \
        "InvalidParameter"
    busy = ApiError(429, "429", "busy", {"Retry-After": "2"})
    assert from_v2(busy) is busy


@pytest.mark.parametrize(("body", "status", "inner"), [
    (None, 400, "InvalidContent"),
    ({"buildMode": "template"}, 400, "ParameterMissing"),
    ({"modelId": "a b", "buildMode": "template"}, 400, "InvalidParameter"),
    ({"modelId": "prebuilt-x", "buildMode": "template"}, 400, "InvalidParameter"),
    ({"modelId": "m1", "buildMode": "magic"}, 400, "InvalidParameter"),
    ({"modelId": "m1", "buildMode": "template"}, 400, "ParameterMissing"),
    ({"modelId": "m1", "buildMode": "template", "azureBlobSource": {"containerUrl": "ftp://x/c"}}, 400,
     "InvalidContentSourceFormat"),
    ({"modelId": "m1", "buildMode": "template", "azureBlobSource": {"containerUrl": "https://evil.example/c"}},
     403, "OutboundAccessForbidden"),
    ({"modelId": "m1", "buildMode": "template", "azureBlobFileListSource": {"containerUrl": "http://127.0.0.1/c"}},
     400, "ParameterMissing"),
])
def test_bad_build_requests_are_refused(body: object, status: int, inner: str) -> None:
    with pytest.raises(V4Error) as err:
        parse_build_request(body, ALLOWED)
    assert (err.value.status, err.value.inner_code) == (status, inner)


def test_a_build_request_is_read() -> None:
    source = {"containerUrl": "http://127.0.0.1:1/c?sig=x", "prefix": "p/"}
    body = {"modelId": "PO.v1", "buildMode": "Neural", "description": "d", "tags": {"a": "b"},
            "azureBlobSource": source, "allowOverwrite": True}
    req = parse_build_request(body, ALLOWED)
    assert (req.model_id, req.build_mode, req.prefix, req.file_list) == ("PO.v1", "neural", "p/", None)
    assert req.allow_overwrite and req.tags == {"a": "b"} and req.description == "d"


def _one_page(lines: list[list[str]]) -> dict:
    """A v2.1 Layout page (inches) whose lines hold these words, one word per inch, a line per 0.5 inch."""
    out = []
    for i, words in enumerate(lines):
        y = 1 + 0.5 * i
        ws = [{"text": t, "boundingBox": [1 + j, y, 1.8 + j, y, 1.8 + j, y + 0.3, 1 + j, y + 0.3],
               "confidence": 0.99} for j, t in enumerate(words)]
        out.append({"text": " ".join(words), "boundingBox": ws[0]["boundingBox"], "words": ws})
    return {"version": "2.1.0", "readResults": [{"page": 1, "angle": 0, "width": 8.5, "height": 11,
                                                  "unit": "inch", "lines": out}], "pageResults": []}


def test_table_cells_in_v4_keep_their_reading_order_and_their_column_type() -> None:
    """A wrapped cell whose first line a reader split into two lines keeps the value's word order in
    `content` (document order would put "returned" last), and a cell the model did not find is typed by
    its column, not as a string."""
    layout = _one_page([["Widget,"], ["replaced", "under"], ["warranty"]])
    converted = convert_layout(layout)
    refs = ["#/readResults/0/lines/0/words/0", "#/readResults/0/lines/2/words/0",
            "#/readResults/0/lines/1/words/0", "#/readResults/0/lines/1/words/1"]
    text = "Widget, warranty replaced under"
    cell = {"type": "string", "valueString": text, "text": text,
            "page": 1, "boundingBox": [1, 1, 3, 1, 3, 2.3, 1, 2.3], "confidence": 0.9, "elements": refs}
    v2 = {"documentResults": [{"fields": {"Items": {"type": "array", "valueArray": [
        {"type": "object", "valueObject": {"Description": cell, "Amount": None}}]}}}]}
    doc = documents(v2, converted, "m", {"Items/*/Amount": "number"})[0]
    row = doc["fields"]["Items"]["valueArray"][0]["valueObject"]
    assert row["Description"]["content"] == "Widget, warranty replaced under"
    assert row["Description"]["spans"] and row["Description"]["boundingRegions"][0]["pageNumber"] == 1
    assert row["Amount"] == {"type": "number"}
