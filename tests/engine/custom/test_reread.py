"""The field-region re-read wins per word: it may fix what Tesseract was unsure of, never what it read surely
(issue 19 item 7: typed purchase orders got worse), and it still takes hand-printed values whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from engine.custom import reread
from engine.custom.labels import parse_fields, parse_labels
from engine.custom.matching import match_labels
from engine.custom.ocr_file import Word, parse_ocr
from engine.custom.scoring.features import TrainDoc
from engine.custom.scoring.model import Pick, analyze_pages, train
from engine.custom.scoring.spans import Span, index_document
from engine.ocr import rapid_region

PO = Path(__file__).resolve().parents[2] / "data" / "purchase-orders"
ADDRESS = "938 NE Burner Road Boulder City, CO 92848"
ADDRESS_SHAPES = {"shapes": ["9 a a a a, a 9", "9 a a a a a, a 9"]}


def _pick(words: list[tuple[str, float]]) -> Pick:
    ws = []
    for i, (text, conf) in enumerate(words):
        x = 10 + 60 * i
        polygon = [x, 100, x + 50, 100, x + 50, 120, x, 120]
        ws.append(Word(text, 1, 0, i, (x / 1000, 0.1, (x + 50) / 1000, 0.12), polygon, conf))
    span = Span(page=1, words=ws, mark=None, box=(0.01, 0.1, 0.5, 0.12),
                text=" ".join(t for t, _ in words), nlines=1, left_ctx="<bol>", right_ctx="<eol>",
                gap_left=99, gap_right=99, inner_gap=0, ml_align=0)
    return Pick("F", span, 0.9, 0.9, span.text)


@pytest.fixture
def region_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The region reader answers with the texts put in the list, in turn."""
    answers: list[str] = []
    monkeypatch.setattr(rapid_region, "available", lambda: True)
    monkeypatch.setattr(rapid_region, "read_region", lambda _img, _allowed=None: (answers.pop(0), 0.9))
    return answers


def _page(_n: int) -> tuple[Image.Image, float]:
    return Image.new("L", (1000, 300), 255), 1.0


def test_words_tesseract_read_surely_stay(region_reads: list[str]) -> None:
    """Form_1's address: Tesseract unsure only of "City, CO 92848"; the re-read's "N E", "BoulderCity"
    and "C0" must not replace what Tesseract read right."""
    pick = _pick([("938", 0.97), ("NE", 0.97), ("Burner", 0.96), ("Road", 0.96), ("Boulder", 0.97),
                  ("City,", 0.65), ("CO", 0.53), ("92848", 0.53)])
    region_reads.append("938 N E Burner Road BoulderCity,C0 92848")
    reread.reread_unsure_fields({"F": pick}, {"F": ADDRESS_SHAPES}, _page)
    assert pick.text == ADDRESS


def test_an_unsure_word_takes_the_reread_at_its_place(region_reads: list[str]) -> None:
    pick = _pick([("Order", 0.96), ("4S7I", 0.31), ("shipped", 0.95)])
    region_reads.append("0rder 4571 shipped")
    reread.reread_unsure_fields({"F": pick}, {"F": {"shapes": ["a 9 a"]}}, _page)
    assert pick.text == "Order 4571 shipped"


def test_look_alikes_follow_the_training_values_shape(region_reads: list[str]) -> None:
    """An unsure word the re-read differs from only by look-alikes is changed when the training values'
    shape prefers the re-read (digits where every ZIP code had digits), kept otherwise."""
    pick = _pick([("Boulder", 0.97), ("CO", 0.95), ("9Z8I8", 0.4)])
    region_reads.append("Boulder C0 92818")
    reread.reread_unsure_fields({"F": pick}, {"F": {"shapes": ["a a 9"]}}, _page)
    assert pick.text == "Boulder CO 92818"


def test_hand_printed_values_are_taken_whole(region_reads: list[str]) -> None:
    """Every word unsure (hand-printed): the region reader's text, as before."""
    pick = _pick([("0/0029", 0.48)])
    region_reads.append("10/01/2023")
    reread.reread_unsure_fields({"F": pick}, {"F": {}}, _page)
    assert pick.text == "10/01/2023"


def test_a_letter_in_a_digits_only_field_is_reread_however_sure(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hand-written SIN Tesseract read as "d34-456-112" at 0.95: every training value was digits and
    dashes, so the letter is a misreading; the region is read again with digits and dashes only."""
    asked: list[str | None] = []

    def read(_img: Image.Image, allowed: str | None = None) -> tuple[str, float]:
        asked.append(allowed)
        return "234-456-112", 0.8

    monkeypatch.setattr(rapid_region, "available", lambda: True)
    monkeypatch.setattr(rapid_region, "read_region", read)
    fs = {"type": "string", "n": 3, "values": ["123-456-789", "777-021-000", "555-111-222"]}
    pick = _pick([("d34-456-112", 0.95)])
    reread.reread_unsure_fields({"F": pick}, {"F": fs}, _page)
    assert pick.text == "234-456-112" and asked == ["0123456789-"]
    sure = _pick([("234-456-112", 0.95)])  # nothing foreign in it: left alone
    reread.reread_unsure_fields({"F": sure}, {"F": fs}, _page)
    assert sure.text == "234-456-112" and len(asked) == 1
    # values OCR missed on the training forms count too: regions drawn over handwriting (the model's places)
    few = {"type": "string", "n": 1, "values": ["123-456-789"]}
    pick = _pick([("d34-456-112", 0.95)])
    places = {"F": {"chars": "-0123456789", "n": 4}}
    reread.reread_unsure_fields({"F": pick}, {"F": few}, _page, regions=places)
    assert pick.text == "234-456-112" and asked[-1] == "0123456789-"


def test_readable_chars_follow_the_type_and_the_training_values() -> None:
    from engine.custom.scoring.values import readable_chars

    assert readable_chars("number", "$1,0.5", 1) == "0123456789.,-$"
    assert readable_chars("string", "()-0123456789", 3) == "0123456789()-"
    assert readable_chars("string", "()-0123456789", 2) is None  # too few values to trust the shape
    assert readable_chars("string", "-0123456789COT", 6) is None  # "Oct" dates: letters are allowed
    assert readable_chars("string", "", 6) is None


def test_word_segments_align_the_two_readings() -> None:
    assert reread.word_segments(["Boulder", "City,", "CO"], "BoulderCity,C0") == ["Boulder", "City,", "C0"]
    assert reread.word_segments(["BoulderCity,"], "Boulder City,") == ["Boulder City,"]
    assert reread.word_segments(["0/0029"], "10/01/2023") == ["10/01/2023"]


def test_typed_purchase_order_keeps_what_tesseract_read_right() -> None:
    """Real data: trained on the five purchase orders' cloud `.ocr.json`, Form_1 read by the engine and its
    unsure values re-read: the address stays as Tesseract read it (it came back garbled before)."""
    from engine.layout.analyze import analyze_layout, page_image

    ft = parse_fields(json.loads((PO / "fields.json").read_text()))
    docs = []
    for p in sorted(PO.glob("Form_*.jpg")):
        ocr = parse_ocr(json.loads(Path(f"{p}.ocr.json").read_text()))
        matched, _ = match_labels(parse_labels(json.loads(Path(f"{p}.labels.json").read_text())), ocr, ft)
        docs.append(TrainDoc.build(p.name, ocr, matched))
    model, _ = train(docs, ft)
    data = (PO / "Form_1.jpg").read_bytes()
    picks = analyze_pages(model, index_document(parse_ocr(analyze_layout(data, None))))
    reread.reread_unsure_fields(picks, model["fields"], lambda n: page_image(data, None, n))
    assert picks["CompanyAddress"].text == ADDRESS
