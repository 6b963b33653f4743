"""Comb fields labeled per cell (issue 19 item 5): a training `.ocr.json` with one word per comb cell, each
cell or each group of cells (SSN 3-2-4, EIN 2-7) a line of its own, labels one digit per cell. Same
template, same cells on a new form: the model must find them."""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.custom.labels import parse_labels
from engine.custom.matching import match_labels
from engine.custom.ocr_file import parse_ocr
from engine.custom.scoring.features import TrainDoc, doc_examples
from engine.custom.scoring.model import analyze_pages, train
from engine.custom.scoring.spans import index_document

W, H = 1700, 2200  # pixels, as a 200-dpi scan's `.ocr.json`
TEXT_H, CELL = 24, 42  # digit height and comb cell pitch; a dash cell stands between groups
COMBS = (("SSN", "Your social security number", 500, (3, 2, 4)),
         ("EIN", "Employer identification number", 700, (2, 7)))


def _word(text: str, x: int, y: int, width: int) -> dict[str, Any]:
    return {"boundingBox": [x, y, x + width, y, x + width, y + TEXT_H, x, y + TEXT_H], "text": text,
            "confidence": 0.99}


def _line(words: list[dict[str, Any]]) -> dict[str, Any]:
    x0, y0, x1, y1 = words[0]["boundingBox"][0], words[0]["boundingBox"][1], words[-1]["boundingBox"][2], \
        words[0]["boundingBox"][5]
    return {"boundingBox": [x0, y0, x1, y0, x1, y1, x0, y1], "text": " ".join(w["text"] for w in words),
            "words": words}


def _norm(box: list[float]) -> list[float]:
    return [v / (W if i % 2 == 0 else H) for i, v in enumerate(box)]


def comb_form(seed: int, lines_per: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(`.ocr.json`, `.labels.json`) of one filled form; `lines_per`: "row", "group" or "cell" (how the
    reader grouped the comb's one-word-per-cell digits into lines)."""
    rng = random.Random(seed)
    lines: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []

    def text(words: str, x: int, y: int) -> list[dict[str, Any]]:
        ws = []
        for t in words.split():
            ws.append(_word(t, x, y, 14 * len(t)))
            x += 14 * len(t) + 12
        lines.append(_line(ws))
        return ws

    text("Form W-99 Request for identification", 100, 100)
    text("Name of taxpayer", 100, 300)
    name = text(rng.choice(["Ann Lee", "Bo Chan", "Cy Diaz", "Di Eng", "Ed Fox", "Flo Gray"]), 120, 340)
    labels.append({"label": "Name", "value": [{"page": 1, "text": w["text"],
                                               "boundingBoxes": [_norm(w["boundingBox"])]} for w in name]})
    for key, caption, y, groups in COMBS:
        text(caption, 100, y)
        x, row, values = 110, [], []
        for size in groups:
            group = []
            for _ in range(size):
                digit = str(rng.randint(0, 9))
                group.append(_word(digit, x + 14, y + 48, 14))
                cell = [x, y + 40, x + CELL, y + 40, x + CELL, y + 80, x, y + 80]
                values.append({"page": 1, "text": digit, "boundingBoxes": [_norm(cell)]})
                x += CELL
            if lines_per == "cell":
                lines.extend(_line([w]) for w in group)
            elif lines_per == "group":
                lines.append(_line(group))
            row.extend(group)
            x += CELL
        if lines_per == "row":
            lines.append(_line(row))
        labels.append({"label": key, "value": values})
    page = {"page": 1, "width": W, "height": H, "unit": "pixel", "lines": lines}
    return ({"status": "succeeded", "analyzeResult": {"version": "2.1.0", "readResults": [page]}},
            {"document": f"form{seed}.jpg", "labels": labels})


@pytest.mark.parametrize("lines_per", ["row", "group", "cell"])
def test_comb_labeled_per_cell_is_learned_and_found(lines_per: str) -> None:
    forms = [comb_form(seed, lines_per) for seed in range(6)]
    docs = []
    for i, (ocr_json, labels_json) in enumerate(forms[:5]):
        ocr = parse_ocr(ocr_json)
        matched, problems = match_labels(parse_labels(labels_json), ocr, {})
        assert not problems
        doc = TrainDoc.build(f"form{i}", ocr, matched)
        assert set(doc_examples(doc)) == {"Name", "SSN", "EIN"}  # the cells are one proposable value
        docs.append(doc)
    model, _ = train(docs, {})
    ocr_json, labels_json = forms[5]
    picks = analyze_pages(model, index_document(parse_ocr(ocr_json)))
    for lab in labels_json["labels"]:
        pick = picks.get(lab["label"])
        assert pick is not None and pick.span is not None, lab["label"]
        assert pick.text == " ".join(v["text"] for v in lab["value"])
