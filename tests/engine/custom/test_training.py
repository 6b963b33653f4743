"""Which reading training learns from: the given `.ocr.json`, or the engine's own when the given one does
not fit the labels; and label boxes matched against readers that join or split words differently."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from engine.custom.labels import parse_fields, parse_labels
from engine.custom.matching import match_labels
from engine.custom.ocr_file import parse_ocr
from engine.custom.scoring.features import index_document
from engine.custom.scoring.model import analyze_pages
from engine.custom.source import DirSource
from engine.custom.training import run_training
from tests.helpers.paths import REPO_ROOT

PO = REPO_ROOT / "tests" / "data" / "purchase-orders"
IRS = REPO_ROOT / "tests" / "data" / "irs-1040"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _garbled(ocr: dict[str, Any]) -> dict[str, Any]:
    """The same page read badly: every box 12% of the page lower and every word's text reversed."""
    bad = json.loads(json.dumps(ocr))
    for rr in bad["analyzeResult"]["readResults"]:
        dy = 0.12 * float(rr["height"])
        for line in rr["lines"]:
            for item in (line, *line["words"]):
                item["boundingBox"] = [v + dy if i % 2 else v for i, v in enumerate(item["boundingBox"])]
            for w in line["words"]:
                w["text"] = w["text"][::-1]
            line["text"] = " ".join(w["text"] for w in line["words"])
    return bad


def _engine_reading() -> tuple[dict[str, dict[str, Any]], list[bytes]]:
    """Stand-in for the engine's Layout: the right reading for each document's bytes (no Tesseract here)."""
    by_hash, seen = {}, []
    for i in range(1, 6):
        data = (PO / f"Form_{i}.jpg").read_bytes()
        by_hash[hashlib.sha256(data).hexdigest()] = _json(PO / f"Form_{i}.jpg.ocr.json")
        seen.append(data)
    return by_hash, seen


def test_a_given_ocr_file_that_does_not_fit_its_labels_is_replaced_by_the_engines_reading(
        tmp_path: Path) -> None:
    readings, _ = _engine_reading()
    calls: list[str] = []

    def engine_ocr(data: bytes) -> dict[str, Any]:
        calls.append("read")
        return readings[hashlib.sha256(data).hexdigest()]

    for i in range(1, 6):
        for suffix in ("", ".labels.json"):
            (tmp_path / f"Form_{i}.jpg{suffix}").write_bytes((PO / f"Form_{i}.jpg{suffix}").read_bytes())
        bad = _garbled(_json(PO / f"Form_{i}.jpg.ocr.json"))
        (tmp_path / f"Form_{i}.jpg.ocr.json").write_text(json.dumps(bad))
    (tmp_path / "fields.json").write_bytes((PO / "fields.json").read_bytes())

    outcome = run_training(DirSource(tmp_path), "", False, True, engine_ocr)

    assert outcome.status == "ready", outcome.train_result
    assert len(calls) == 5
    docs = outcome.train_result["trainingDocuments"]
    assert all(d["status"] == "partiallySucceeded" for d in docs)  # says which reading it used, and why
    assert all(d["errors"][0]["code"] == "OcrFileMismatch" for d in docs)
    assert outcome.train_result["averageModelAccuracy"] >= 0.9
    ft = parse_fields(_json(PO / "fields.json"))
    picks = analyze_pages(outcome.params or {}, index_document(parse_ocr(_json(PO / "Form_5.jpg.ocr.json"))))
    labels = parse_labels(_json(PO / "Form_5.jpg.labels.json")).labels
    truth = {lab.name: " ".join(lab.text.split()) for lab in labels}
    right = [n for n in ft if picks.get(n) and picks[n].span and picks[n].text == truth.get(n)]
    assert len(right) >= len(ft) - 1, {n: picks[n].text for n in ft if n in picks}


def test_a_given_ocr_file_that_fits_is_used_without_reading_the_document(tmp_path: Path) -> None:
    for i in range(1, 6):
        for suffix in ("", ".ocr.json", ".labels.json"):
            (tmp_path / f"Form_{i}.jpg{suffix}").write_bytes((PO / f"Form_{i}.jpg{suffix}").read_bytes())

    def no_engine(_data: bytes) -> dict[str, Any]:
        raise AssertionError("the given .ocr.json fits its labels: nothing to re-read")

    outcome = run_training(DirSource(tmp_path), "", False, True, no_engine)
    assert outcome.status == "ready"
    assert all(d["status"] == "succeeded" for d in outcome.train_result["trainingDocuments"])


def test_an_engine_that_cannot_read_keeps_the_given_reading(tmp_path: Path) -> None:
    for i in range(1, 6):
        for suffix in ("", ".labels.json"):
            (tmp_path / f"Form_{i}.jpg{suffix}").write_bytes((PO / f"Form_{i}.jpg{suffix}").read_bytes())
        labels = _json(PO / f"Form_{i}.jpg.labels.json")
        corner = [0.9, 0.97, 0.99, 0.97, 0.99, 0.99, 0.9, 0.99]
        value = {"page": 1, "text": "x", "boundingBoxes": [corner]}
        labels["labels"].append({"label": "Nowhere", "value": [value]})
        (tmp_path / f"Form_{i}.jpg.labels.json").write_text(json.dumps(labels))
        (tmp_path / f"Form_{i}.jpg.ocr.json").write_bytes((PO / f"Form_{i}.jpg.ocr.json").read_bytes())

    def broken(_data: bytes) -> dict[str, Any]:
        raise RuntimeError("no OCR here")

    outcome = run_training(DirSource(tmp_path), "", False, True, broken)
    assert outcome.status == "ready"
    for d in outcome.train_result["trainingDocuments"]:
        assert [e["code"] for e in d["errors"]] == ["LabelNotMatched"]


def test_one_reader_word_over_several_label_boxes_matches() -> None:
    """A comb field labeled one box per digit, read as one word (or the reverse) still matches."""
    box = [10, 10, 46, 10, 46, 14, 10, 14]
    word = {"boundingBox": box, "text": "123456789"}
    page = {"page": 1, "width": 100, "height": 100, "unit": "pixel",
            "lines": [{"boundingBox": box, "text": "123456789", "words": [word]}]}
    ocr = parse_ocr({"analyzeResult": {"readResults": [page]}})
    cells = []
    for d in range(9):
        x0, x1 = (10 + 4 * d) / 100, (14 + 4 * d) / 100
        quad = [x0, 0.09, x1, 0.09, x1, 0.15, x0, 0.15]
        cells.append({"page": 1, "text": str(d + 1), "boundingBoxes": [quad]})
    labels = parse_labels({"document": "x.png", "labels": [{"label": "SSN", "value": cells}]})
    matched, problems = match_labels(labels, ocr, {})
    assert not problems
    assert [w.text for w in matched["SSN"].words] == ["123456789"]


def test_fillable_labels_are_written_from_the_form_fields(tmp_path: Path) -> None:
    """scripts/write_fillable_labels.py reproduces the committed irs-1040 labels."""
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from write_fillable_labels import FORMS, label_document

    labels, types = label_document(IRS / "f1040_5.pdf", FORMS["irs-1040"])
    assert labels == _json(IRS / "f1040_5.pdf.labels.json")
    assert types["SSN"] == "string" and types["Filing Status Single"] == "selectionMark"
    ssn = next(lab for lab in labels["labels"] if lab["label"] == "SSN")
    assert "".join(v["text"] for v in ssn["value"]) == "141234489"  # one word per comb cell
