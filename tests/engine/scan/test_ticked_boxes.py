"""Hand-ticked check boxes: a tick or cross that runs out of its box (into the caption beside it) joins them
into one ink blob that is neither square nor box-sized; the box is still found, and selected (issue 19
item 8: the real Monthly Report scans read 3 of 9 ticked boxes before)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from engine.scan.marks import detect_marks
from tests.helpers.engine import FONT_PATH

TEXT_HEIGHT = 24.0


def _row(tick: str) -> Image.Image:
    """Two 30-px boxes with "Yes"/"No" captions at 300 dpi; the first one ticked as asked."""
    img = Image.new("L", (420, 120), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH, 30)
    for x, caption in ((40, "Yes"), (240, "No")):
        draw.rectangle((x, 40, x + 30, 70), outline=0, width=3)
        draw.text((x + 36, 38), caption, font=font, fill=0)
    if tick == "out":  # a check mark whose long stroke leaves the box up and right, over the caption
        draw.line((44, 52, 54, 68), fill=0, width=4)
        draw.line((54, 68, 90, 18), fill=0, width=4)
    elif tick == "cross":  # a cross larger than the box
        draw.line((32, 32, 80, 78), fill=0, width=4)
        draw.line((80, 32, 32, 78), fill=0, width=4)
    return img


def _marks(img: Image.Image) -> list[tuple[int, bool]]:
    return sorted((round(m.x0), m.selected) for m in detect_marks(img, TEXT_HEIGHT))


def test_a_tick_running_out_of_its_box_still_selects_it() -> None:
    assert _marks(_row("out")) == [(40, True), (240, False)]


def test_a_cross_larger_than_its_box_still_selects_it() -> None:
    assert _marks(_row("cross")) == [(40, True), (240, False)]


def test_untouched_boxes_stay_as_they_were() -> None:
    assert _marks(_row("")) == [(40, False), (240, False)]


def test_bold_words_are_not_boxes() -> None:
    """Letters of a bold heading run together into blobs of straight strokes; none is a box."""
    img = Image.new("L", (700, 100), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), 26)
    heading = "Declare all income and submit proof"
    draw.text((20, 30), heading, font=font, fill=0, stroke_width=1, stroke_fill=0)
    assert detect_marks(img, TEXT_HEIGHT) == []


def test_a_bold_letter_with_straight_sides_and_round_corners_is_not_a_box() -> None:
    """The bold "Q" of "Quantity" in a real purchase order's table header (nearly straight sides, round
    corners) was read as a ticked box, and the header word would have been dropped inside it."""
    page = Image.open(Path(__file__).resolve().parents[2] / "data" / "purchase-orders" / "Form_1.jpg")
    header = page.convert("L").crop((840, 1000, 1100, 1110))
    assert detect_marks(header, 18.0) == []
