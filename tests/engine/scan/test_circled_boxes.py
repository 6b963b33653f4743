"""A check box looked for where a model expects one (`marks.mark_at`): answers circled rather than ticked, on
phone photos of filled forms, join the box to its ring and the ring to captions and neighbours, so the
page's own mark detection finds no box there, or finds it empty (issue 19 item 9: the real Monthly Report
photos read 77 % of their check boxes right)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.scan.marks import detect_marks, mark_at
from tests.helpers.engine import FONT_PATH

SIDE = 30


def _rows(ring: bool = False, tick: bool = False, ticked_below: bool = False,
          cell: bool = False) -> Image.Image:
    """Three "[ ] Yes" rows 40 px apart, as on a form; the middle box (at 85, 65, the crop's middle, where
    the model expects it) as asked."""
    img = Image.new("L", (200, 160), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH, 26)
    for y in (25, 65, 105):
        draw.rectangle((85, y, 85 + SIDE, y + SIDE), outline=0, width=3)
        draw.text((123, y), "Yes", font=font, fill=0)
    if ring:  # a ring round the box and its caption, touching the rows above and below
        draw.ellipse((72, 52, 186, 108), outline=0, width=4)
    if tick:
        draw.line((89, 79, 99, 91), fill=0, width=4)
        draw.line((99, 91, 121, 59), fill=0, width=4)
    if ticked_below:  # the box below crossed: its outline is the clearest one in the crop
        draw.line((85, 105, 115, 135), fill=0, width=5)
        draw.line((115, 105, 85, 135), fill=0, width=5)
    if cell:  # the box in a ruled table cell
        draw.rectangle((70, 58, 196, 102), outline=0, width=2)
    return img


def _mark(img: Image.Image) -> tuple[int, int, bool] | None:
    m = mark_at(np.asarray(img), SIDE)
    return None if m is None else (round(m.x0), round(m.y0), m.selected)


def test_a_circled_box_is_selected() -> None:
    """The page's detection reads the box as empty (the ring is outside it); where a model expects a
    box, the ring round it selects it."""
    circled = _rows(ring=True)
    assert [(m.y0, m.selected) for m in detect_marks(circled, 26.0) if abs(m.y0 - 65) < 4] == [(65, False)]
    assert _mark(circled) == (85, 65, True)


def test_an_empty_box_between_others_and_beside_its_caption_is_unselected() -> None:
    assert _mark(_rows()) == (85, 65, False)


def test_a_ticked_box_is_selected() -> None:
    assert _mark(_rows(tick=True)) == (85, 65, True)


def test_the_box_expected_is_read_not_a_clearer_ticked_neighbour() -> None:
    assert _mark(_rows(ticked_below=True)) == (85, 65, False)


def test_a_ruled_cell_round_a_box_is_no_ring() -> None:
    assert _mark(_rows(cell=True)) == (85, 65, False)


def test_no_box_there_is_no_answer() -> None:
    blank = Image.new("L", (200, 160), 255)
    ImageDraw.Draw(blank).text((20, 60), "Applicant", font=ImageFont.truetype(FONT_PATH, 26), fill=0)
    assert _mark(blank) is None
