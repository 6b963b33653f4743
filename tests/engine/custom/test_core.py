"""Unit tests of the custom-model learning core (no HTTP): label formats, matching, values, the model."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from engine.custom.labels import LabelFormatError, parse_fields, parse_labels
from engine.custom.matching import match_labels
from engine.custom.ocr_file import OcrFormatError, parse_ocr
from engine.custom.scoring.features import TrainDoc
from engine.custom.scoring.model import analyze_pages, train
from engine.custom.scoring.values import parse_date, parse_number, parse_time, typed_value
from engine.custom.source import DirSource, select_names
from engine.custom.training import run_training
from tests.helpers.paths import DATA_DIR

PO = DATA_DIR / "purchase-orders"
EXAMPLES = DATA_DIR / "label-format-examples"


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def po_docs() -> tuple[list[TrainDoc], dict[str, str]]:
    ft = parse_fields(_json(PO / "fields.json"))
    docs = []
    for i in range(1, 6):
        ocr = parse_ocr(_json(PO / f"Form_{i}.jpg.ocr.json"))
        matched, problems = match_labels(parse_labels(_json(PO / f"Form_{i}.jpg.labels.json")), ocr, ft)
        assert problems == []
        docs.append(TrainDoc.build(f"Form_{i}.jpg", ocr, matched))
    return docs, ft


def test_fields_json_types_are_read() -> None:
    ft = parse_fields(_json(PO / "fields.json"))
    assert ft["Quantity"] == "number" and ft["Total"] == "string" and len(ft) == 15
    assert parse_fields({"fields": [{"fieldKey": "A", "fieldType": "checkbox"},
                                    {"fieldKey": "B", "fieldType": "signature"}]}) == {
        "A": "selectionMark", "B": "string"}
    with pytest.raises(LabelFormatError):
        parse_fields({"nope": []})


def test_tool_format_with_schema_state_and_region_type() -> None:
    lf = parse_labels(_json(EXAMPLES / "DLsample.jpg.labels.json"))
    assert lf.format == "labels" and lf.document.endswith(".jpg")
    by_name = {lab.name: lab for lab in lf.labels}
    assert by_name["LastName"].text == "LIAM R." and len(by_name["LastName"].regions) == 2
    assert by_name["Profile"].label_type == "region"
    ocr = parse_ocr(_json(EXAMPLES / "DLsample.jpg.ocr.json"))
    matched, problems = match_labels(lf, ocr, {})
    assert matched["FirstName"].text == "TALBOT"
    # a drawn region with no label text: its value is whatever OCR words lie inside, never an error
    assert not any("Profile" in p for p in problems)


def test_v1_format_matches_the_same_words_as_the_tool_format() -> None:
    ocr = parse_ocr(_json(PO / "Form_2.jpg.ocr.json"))
    v1 = parse_labels(_json(EXAMPLES / "Form_2.jpg.v1.labels.json"))
    tool = parse_labels(_json(PO / "Form_2.jpg.labels.json"))
    assert v1.format == "v1.0" and v1.document == "Form_2.jpg"
    m1, p1 = match_labels(v1, ocr, {})
    m2, p2 = match_labels(tool, ocr, {})
    assert p1 == p2 == []
    assert set(m1) == set(m2)
    for name in m1:
        assert m1[name].text == m2[name].text
        assert [w.ref for w in m1[name].words] == [w.ref for w in m2[name].words]


_BAD_LABELS = [
    [],
    {"labels": "x"},
    {"labels": [{"value": []}]},
    {"labels": [{"label": "A", "value": [{"page": 1, "boundingBoxes": [[1, 2]]}]}]},
    {"labels": [{"label": "A", "value": [{"page": 0, "boundingBoxes": [[0] * 8]}]}]},
    {"version": "v1.0", "labels": [{"fieldKey": "A", "regions": [{"pageNumber": 1}]}]},
]


@pytest.mark.parametrize("bad", _BAD_LABELS)
def test_malformed_label_files_say_why(bad: object) -> None:
    with pytest.raises(LabelFormatError) as exc:
        parse_labels(bad)
    assert str(exc.value)


def test_label_problems_are_reported_not_raised() -> None:
    ocr = parse_ocr(_json(PO / "Form_1.jpg.ocr.json"))
    data = _json(PO / "Form_1.jpg.labels.json")
    corner = [0.9, 0.97, 0.99, 0.97, 0.99, 0.99, 0.9, 0.99]
    nowhere = {"label": "Nowhere", "value": [{"page": 1, "text": "x", "boundingBoxes": [corner]}]}
    data["labels"].append(nowhere)
    box = [0.1, 0.1, 0.2, 0.1, 0.2, 0.2, 0.1, 0.2]
    data["labels"].append({"label": "Page3", "value": [{"page": 3, "text": "x", "boundingBoxes": [box]}]})
    matched, problems = match_labels(parse_labels(data), ocr, {})
    assert len(matched) == 15
    assert any("Nowhere" in p and "matches no OCR words" in p for p in problems)
    assert any("Page3" in p and "page 3" in p and "does not exist" in p for p in problems)


def test_ocr_reader_accepts_envelope_or_bare_result_and_rejects_other_json() -> None:
    env = _json(EXAMPLES / "testdata.pdf.ocr.json")
    doc = parse_ocr(env)
    assert doc.pages[0].unit == "inch" and doc.pages[0].words
    assert all(0 <= v <= 1.01 for w in doc.pages[0].words for v in w.box)
    assert len(parse_ocr(env["analyzeResult"]).pages) == len(doc.pages)
    studio = parse_ocr(_json(EXAMPLES / "testdata.jpg.2021-09-30-preview.ocr.json"))  # the v3 layout format
    assert studio.pages[0].words and all(0 <= v <= 1.01 for w in studio.pages[0].words for v in w.box)
    for other in ({"status": "succeeded"}, {"analyzeResult": {"content": "text only"}}, []):
        with pytest.raises(OcrFormatError):
            parse_ocr(other)  # type: ignore[arg-type]


def test_typed_values() -> None:
    assert parse_number("$1,234.50") == 1234.5
    assert parse_number("5,00") == 5.0
    assert parse_number("(12)") == -12
    assert parse_number("abc") is None
    assert parse_date("12/20/2020") == "2020-12-20"
    assert parse_date("1900/01/01") == "1900-01-01"
    assert parse_date("20.12.2020") == "2020-12-20"
    assert parse_date("Dec 20, 2020") == "2020-12-20"
    assert parse_date("13/45/2020") is None
    assert parse_time("3:05 pm") == "15:05:00"
    assert typed_value("integer", "20") == {"valueInteger": 20}
    assert typed_value("number", "20") == {"valueNumber": 20.0}
    assert typed_value("selectionMark", "selected") == {"valueSelectionMark": "selected"}
    assert typed_value("string", "x y") == {"valueString": "x y"}


def test_leave_one_out_accuracy_on_purchase_orders(po_docs: tuple[list[TrainDoc], dict[str, str]]) -> None:
    docs, ft = po_docs
    _model, report = train(docs, ft)
    loo = [r["correct"] for r in report.loo]
    assert len(loo) == 75
    assert sum(loo) / len(loo) >= 0.95
    assert set(report.field_accuracy) == set(ft)
    assert all(0.0 <= a <= 1.0 for a in report.field_accuracy.values())
    # confident LOO picks are right
    assert all(r["correct"] for r in report.loo if r["kept"] and r["score"] > 0.5)


def test_model_is_plain_json_and_predicts_the_same_after_a_round_trip(po_docs) -> None:
    docs, ft = po_docs
    model, _ = train(docs[:4], ft)
    restored = json.loads(json.dumps(model))
    a = analyze_pages(model, docs[4].pages)
    b = analyze_pages(restored, docs[4].pages)
    assert {k: (v.span.text if v.span else None) for k, v in a.items()} == {
        k: (v.span.text if v.span else None) for k, v in b.items()}
    assert a["PurchaseOrderNumber"].span.text == "2992848"
    assert a["Total"].span.text == "$1000.00"
    assert 0.0 <= a["Total"].confidence <= 1.0


def _transform(doc: TrainDoc, dx: float, dy: float, scale: float, angle_deg: float) -> TrainDoc:
    """Shift, scale and rotate every OCR box of a document (what a different scan does)."""
    raw = copy.deepcopy(doc.ocr.raw)
    rr = raw["readResults"][0]
    cx, cy = rr["width"] / 2, rr["height"] / 2
    a = math.radians(angle_deg)

    def move(poly: list[float]) -> list[float]:
        out = []
        for x, y in zip(poly[0::2], poly[1::2], strict=True):
            x, y = (x - cx) * scale, (y - cy) * scale
            out += [x * math.cos(a) - y * math.sin(a) + cx + dx, x * math.sin(a) + y * math.cos(a) + cy + dy]
        return out

    for line in rr["lines"]:
        line["boundingBox"] = move(line["boundingBox"])
        for w in line["words"]:
            w["boundingBox"] = move(w["boundingBox"])
    return TrainDoc.build(doc.name, parse_ocr(raw), {})


def test_robust_to_shift_scale_and_rotation(po_docs) -> None:
    docs, ft = po_docs
    model, _ = train(docs[:4], ft)
    moved = _transform(docs[4], dx=60, dy=-45, scale=0.97, angle_deg=1.5)
    picks = analyze_pages(model, moved.pages)
    truth = {name: mf.text for name, mf in docs[4].fields.items()}
    right = sum(1 for name, t in truth.items() if picks[name].span and picks[name].span.text == t)
    assert right >= len(truth) - 1


def test_empty_field_on_some_forms_is_learned_as_absent(po_docs) -> None:
    docs, ft = po_docs
    stripped = []
    for d in docs:
        fields = dict(d.fields)
        fields.pop("Tax")  # never labeled: the model has no such field
        stripped.append(TrainDoc(d.name, d.ocr, d.pages, fields))
    model, _ = train(stripped[:4], ft)
    assert "Tax" not in model["fields"]
    picks = analyze_pages(model, docs[4].pages)
    assert picks["Subtotal"].span.text == "$900.00"


def test_training_run_reports_every_document_problem(tmp_path: Path) -> None:
    folder = tmp_path / "po"
    folder.mkdir()
    for f in PO.iterdir():
        if f.name != "LICENSE":
            (folder / f.name).write_bytes(f.read_bytes())
    (folder / "Orphan.jpg.labels.json").write_bytes((PO / "Form_1.jpg.labels.json").read_bytes())
    (folder / "Broken.jpg").write_bytes((PO / "Form_1.jpg").read_bytes())
    (folder / "Broken.jpg.ocr.json").write_bytes((PO / "Form_1.jpg.ocr.json").read_bytes())
    (folder / "Broken.jpg.labels.json").write_text("{not json", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "Deep.jpg").write_bytes(b"x")
    # Over the labels size limit the pipeline applies too (shared/forms/labels.py): refused on both sides.
    (folder / "Huge.jpg").write_bytes((PO / "Form_2.jpg").read_bytes())
    (folder / "Huge.jpg.ocr.json").write_bytes((PO / "Form_2.jpg.ocr.json").read_bytes())
    huge = (PO / "Form_2.jpg.labels.json").read_bytes()
    (folder / "Huge.jpg.labels.json").write_bytes(huge + b" " * (8 * 1024 * 1024 + 1 - len(huge)))

    def no_ocr(_data: bytes) -> dict:
        raise AssertionError("every document here has an .ocr.json")

    outcome = run_training(DirSource(tmp_path), "po/", False, True, no_ocr)
    assert outcome.status == "ready"
    docs = {d["documentName"]: d for d in outcome.train_result["trainingDocuments"]}
    assert "sub/Deep.jpg" not in docs  # sub-folders only with includeSubFolders
    assert docs["Orphan.jpg"]["status"] == "failed"
    assert "no document" in docs["Orphan.jpg"]["errors"][0]["message"]
    assert docs["Broken.jpg"]["status"] == "failed"
    assert "not valid JSON" in docs["Broken.jpg"]["errors"][0]["message"]
    assert docs["Huge.jpg"]["status"] == "failed"
    assert docs["Huge.jpg"]["errors"][0]["code"] == "InvalidLabelFile"
    assert "larger than the limit of 8388608 bytes" in docs["Huge.jpg"]["errors"][0]["message"]
    assert all(docs[f"Form_{i}.jpg"]["status"] == "succeeded" for i in range(1, 6))
    assert outcome.train_result["averageModelAccuracy"] >= 0.9


def test_too_few_labeled_documents_make_an_invalid_model(tmp_path: Path) -> None:
    for i in range(1, 4):
        for suffix in ("", ".ocr.json", ".labels.json"):
            (tmp_path / f"Form_{i}.jpg{suffix}").write_bytes((PO / f"Form_{i}.jpg{suffix}").read_bytes())
    outcome = run_training(DirSource(tmp_path), "", False, True, lambda b: {})
    assert outcome.status == "invalid"
    assert "at least 5" in outcome.train_result["errors"][0]["message"]
    assert len(outcome.train_result["trainingDocuments"]) == 3


def test_source_filter_prefix_and_subfolders() -> None:
    names = ["a/x.pdf", "a/b/y.pdf", "ab/z.pdf", "c.pdf"]
    assert select_names(names, "a/", False) == ["a/x.pdf"]
    assert select_names(names, "a/", True) == ["a/b/y.pdf", "a/x.pdf"]
    assert select_names(names, "", False) == ["c.pdf"]


def test_a_scanned_box_side_read_into_a_value_is_dropped_unless_training_values_have_one() -> None:
    from engine.custom.scoring.features import fix_text

    plain = {"type": "string", "framed": False}
    assert fix_text(plain, "| Priya") == "Priya"
    assert fix_text(plain, "[2024-11-19") == "2024-11-19"
    assert fix_text(plain, "Priya]") == "Priya"
    assert fix_text(plain, "|") == "|"  # nothing else left: keep what was read
    assert fix_text({"type": "string", "framed": True}, "[A-17]") == "[A-17]"  # labeled values do this
