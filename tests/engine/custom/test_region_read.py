"""A value OCR found no word for is read from the field's place on the page (issue 19 item 8).

Real purchase-order scans (tests/data) with real Tesseract readings and the real region reader: the words
of a value are taken out of a form's reading (what Tesseract does to a hand-written "0" in a
narrow box), and the model must still answer it from the page image, with a confidence that sends it to
review."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from engine.custom.labels import parse_labels
from engine.custom.matching import match_labels
from engine.custom.ocr_file import parse_ocr
from engine.custom.results import build_result
from engine.custom.scoring.region_read import trim
from engine.custom.source import DirSource
from engine.custom.training import run_training
from engine.layout.analyze import page_image

PO = Path(__file__).resolve().parents[2] / "data" / "purchase-orders"


def _without(layout: dict[str, Any], texts: set[str]) -> dict[str, Any]:
    """The reading with the words of these texts taken out (and their lines, if left empty)."""
    out = copy.deepcopy(layout)
    for page in out["analyzeResult"]["readResults"]:
        for line in page["lines"]:
            line["words"] = [w for w in line["words"] if w["text"] not in texts]
        page["lines"] = [ln for ln in page["lines"] if ln["words"]]
    return out


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("po")
    for p in PO.iterdir():  # all five (training needs five); Form_5 is read back with words taken out
        (folder / p.name).write_bytes(p.read_bytes())
    outcome = run_training(DirSource(folder), "", False, True, lambda _b: pytest.fail("OCR given"))
    assert outcome.status == "ready", outcome.train_result
    return outcome.params


def test_the_model_keeps_where_each_text_field_is_written(model: dict[str, Any]) -> None:
    regions = model["regions"]
    assert "Quantity" in regions and "CompanyName" in regions
    assert not regions["Quantity"]["drawn"]  # labeled on words: read with the detector, not as a cell
    left, top, right, bottom = regions["Quantity"]["abs_box"]
    assert 0 <= left < right <= 1 and 0 <= top < bottom <= 1
    assert regions["Quantity"]["anchors"], "the place is kept relative to printed words"
    assert set(regions["Subtotal"]["chars"]) >= set("$0.")


def test_a_value_ocr_missed_is_read_from_its_place(model: dict[str, Any]) -> None:
    data = (PO / "Form_5.jpg").read_bytes()
    layout = json.loads((PO / "Form_5.jpg.ocr.json").read_text())
    missed = _without(layout, {"Jackrabbit", "Printing"})["analyzeResult"]
    images = functools.cache(lambda n: page_image(data, "image/jpeg", n))
    fields = build_result("m", {}, model, missed, True, images)["documentResults"][0]["fields"]
    got = fields["CompanyName"]
    assert got is not None and got["text"] == "Jackrabbit Printing"
    assert got["confidence"] <= 0.5 and got["elements"] == []  # no OCR word: a reading to review
    assert len(got["boundingBox"]) == 8 and got["page"] == 1
    # without the page image (a caller that has none) the field stays empty, nothing is made up
    plain = build_result("m", {}, model, copy.deepcopy(missed), False)["documentResults"][0]["fields"]
    assert plain["CompanyName"] is None
    # the other fields are what Tesseract read, untouched by the region reader
    assert fields["VendorName"]["text"] == "Jack Sprat" and fields["VendorName"]["elements"]


def test_a_drawn_region_without_ocr_words_still_teaches_the_place() -> None:
    """A region label typed over handwriting OCR saw nothing of is kept (no "matches no OCR words")."""
    layout = json.loads((PO / "Form_1.jpg.ocr.json").read_text())
    quantity = next(lab for lab in json.loads((PO / "Form_1.jpg.labels.json").read_text())["labels"]
                    if lab["label"] == "Quantity")
    box = quantity["value"][0]["boundingBoxes"][0]
    ocr = parse_ocr(_without(layout, {quantity["value"][0]["text"]}))
    labels = parse_labels({"document": "Form_1.jpg", "labels": [
        {"label": "Quantity", "labelType": "region",
         "value": [{"page": 1, "text": "20", "boundingBoxes": [box]}]},
        {"label": "Picture", "labelType": "region",
         "value": [{"page": 1, "text": "", "boundingBoxes": [[0.1, 0.6, 0.2, 0.6, 0.2, 0.62, 0.1, 0.62]]}]},
    ]})
    matched, problems = match_labels(labels, ocr, {})
    assert problems == []
    assert matched["Quantity"].words == [] and matched["Quantity"].text == "20"
    assert matched["Quantity"].region == (1, pytest.approx((min(box[0::2]), min(box[1::2]),
                                                           max(box[0::2]), max(box[1::2]))))
    assert "Picture" not in matched  # an empty drawn region is a picture, not a value


@pytest.mark.parametrize(("text", "chars", "expected"), [
    ("$0", "0", "0"),  # the printed dollar sign of an amount box
    ("$ 120.50", "0125.", "120.50"),
    ("| Jane Doe |", "JaneDo", "Jane Doe"),
    ("Liz", "TesrEight", "Liz"),  # letters and digits are never trimmed, only signs
    ("$1,000.00", "$1,0.", "$1,000.00"),  # a sign the training values have stays
    ("$", "0", ""),
])
def test_signs_no_training_value_has_are_trimmed_from_the_ends(text: str, chars: str, expected: str) -> None:
    assert trim(text, chars) == expected


def test_a_place_reading_and_tesseracts_words_are_merged_by_how_sure_tesseract_was() -> None:
    from engine.custom.scoring.region_read import _merged

    typed = [("938", 0.97), ("NE", 0.97), ("Burner", 0.96), ("Road", 0.96), ("Boulder", 0.97),
             ("City,", 0.65), ("CO", 0.53), ("92848", 0.53)]
    text = " ".join(t for t, _ in typed)
    # typed: the words Tesseract was sure of stay, whatever the place reading made of them
    assert _merged({}, typed, text, "938 N E Burner Road BoulderCity,C0 92848") == text
    # the reading holds Tesseract's words and more: the more is added around them
    assert _merged({}, [("Jennifer", 0.95)], "Jennifer", "Jennifer Lee") == "Jennifer Lee"
    # hand-writing: Tesseract "sure" of few of its words, the reading is taken whole
    hand = [("Wor", 0.52), ("king", 0.52), ("Time", 0.91), ("a", 0.89), ("hours", 0.94), ("eek,", 0.74)]
    assert _merged({}, hand, "Wor king Time a hours eek,", "Working part-time, 20 hours a week") == \
        "Working part-time, 20 hours a week"
