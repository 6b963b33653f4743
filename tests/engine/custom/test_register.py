"""Registration (engine/custom/scoring/register.py): a page photographed at an angle is moved back into the
training pages' frame; a page that already lines up, or shares too few printed words, is left alone."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np

from engine.custom.ocr_file import parse_ocr
from engine.custom.scoring.register import apply, reference, register_document
from tests.helpers.paths import DATA_DIR

PO = DATA_DIR / "purchase-orders"


def _layout(i: int) -> dict[str, Any]:
    return json.loads((PO / f"Form_{i}.jpg.ocr.json").read_text())


def _warped(layout: dict[str, Any], h: np.ndarray) -> dict[str, Any]:
    """The same reading with every box moved by a homography (in normalised page units), as a phone photo
    taken at an angle would place it."""
    out = copy.deepcopy(layout)
    for rr in out["analyzeResult"]["readResults"]:
        w, hgt = float(rr["width"]), float(rr["height"])
        for line in rr["lines"]:
            for item in (line, *line["words"]):
                pts = np.array(item["boundingBox"], dtype=float).reshape(4, 2) / [w, hgt]
                item["boundingBox"] = [round(float(v), 2) for v in (apply(h, pts) * [w, hgt]).ravel()]
    return out


PERSPECTIVE = np.array([[0.93, 0.04, 0.03], [-0.03, 0.95, 0.05], [0.06, -0.05, 1.0]])


def test_a_photographed_page_is_moved_back_into_the_reference_frame() -> None:
    ref = reference([parse_ocr(_layout(i)) for i in (1, 2, 3)])
    original = parse_ocr(_layout(4))
    photo = parse_ocr(_warped(_layout(4), PERSPECTIVE))
    offsets_before = [abs(a.box[0] - b.box[0]) + abs(a.box[1] - b.box[1])
                      for a, b in zip(original.pages[0].words, photo.pages[0].words, strict=True)]
    assert np.median(offsets_before) > 0.02  # the photo really is off
    assert register_document(photo, ref) == 1
    offsets = [abs(a.box[0] - b.box[0]) + abs(a.box[1] - b.box[1])
               for a, b in zip(original.pages[0].words, photo.pages[0].words, strict=True)]
    assert np.median(offsets) < 0.004 and np.percentile(offsets, 90) < 0.01
    # answers are given in the page's own unit: those boxes are the photo's, untouched
    assert photo.pages[0].words[0].polygon != original.pages[0].words[0].polygon


def test_a_page_that_lines_up_or_shares_few_words_is_left_alone() -> None:
    ref = reference([parse_ocr(_layout(i)) for i in (1, 2, 3)])
    aligned = parse_ocr(_layout(5))
    boxes = [w.box for w in aligned.pages[0].words]
    assert register_document(aligned, ref) == 0
    assert [w.box for w in aligned.pages[0].words] == boxes
    sparse = parse_ocr(_warped(_layout(5), PERSPECTIVE))
    page = sparse.pages[0]
    page.lines = [line[:1] for line in page.lines[:6]]  # six words: too few to trust a fit
    assert register_document(sparse, ref) == 0
    assert register_document(parse_ocr(_layout(5)), {}) == 0  # a model trained before registration
