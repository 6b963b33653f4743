"""Selection marks in digital PDFs (engine/pdf/marks.py): vector, image and glyph boxes, ticks.

Every PDF is generated here with reportlab; positions are asserted in the displayed page's inches.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageDraw
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from engine.layout.documents import open_pdf
from engine.page.model import SelectionMark
from engine.pdf.marks import MarkScan, page_marks
from tests.helpers.engine import FONT_PATH

H = 792.0  # letter page height, points


def make(draw: Callable[[canvas.Canvas], None], rotate: int = 0) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, H))
    if rotate:
        c.setPageRotation(rotate)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def scan(pdf: bytes) -> tuple[MarkScan, str]:
    """page_marks of page 1, and the page text (to check what glyph_chars point at)."""
    doc = open_pdf(pdf)
    try:
        page = doc[0]
        textpage = page.get_textpage()
        result = page_marks(page, textpage)
        text = textpage.get_text_range(0, textpage.count_chars())
        textpage.close()
        page.close()
        return result, text
    finally:
        doc.close()


def at(marks: list[SelectionMark], x_pt: float, top_pt: float, tol: float = 0.04) -> SelectionMark:
    """The mark whose top-left corner is at (x_pt, top_pt) in reportlab's points (y up)."""
    x, y = x_pt / 72, (H - top_pt) / 72
    hits = [m for m in marks if abs(m.x0 - x) < tol and abs(m.y0 - y) < tol]
    assert len(hits) == 1, (x, y, marks)
    return hits[0]


def dejavu() -> str:
    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", FONT_PATH))
    return "DejaVu"


def box_image(ticked: bool) -> ImageReader:
    img = Image.new("RGB", (40, 40), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([1, 1, 38, 38], outline="black", width=3)
    if ticked:
        d.line([(9, 20), (17, 30), (32, 8)], fill="black", width=4)
    return ImageReader(img)


def tick_image() -> ImageReader:
    img = Image.new("RGB", (30, 30), "white")
    ImageDraw.Draw(img).line([(3, 15), (11, 26), (27, 3)], fill="black", width=4)
    return ImageReader(img)


# -- vector paths ---------------------------------------------------------------------------------
def test_vector_boxes_empty_filled_ticked() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont("Helvetica", 11)
        c.drawString(72, 700, "Options:")
        c.rect(150, 700, 10, 10)  # empty
        c.rect(200, 700, 10, 10, fill=1)  # filled black
        c.rect(250, 700, 10, 10)  # ticked with two strokes
        c.lines([(252, 705, 255, 702), (255, 702, 259, 709)])
        c.circle(305, 705, 5)  # a radio button
        c.circle(355, 705, 5)
        c.circle(355, 705, 2.5, fill=1)  # selected radio: a dot inside

    result, _ = scan(make(draw))
    assert len(result.marks) == 5
    empty, filled, ticked = at(result.marks, 149, 711), at(result.marks, 199, 711), at(result.marks, 249, 711)
    assert (empty.selected, filled.selected, ticked.selected) == (False, True, True)
    assert empty.confidence == 0.99
    assert empty.x1 - empty.x0 == pytest.approx(12 / 72, abs=0.02)
    radio_off, radio_on = at(result.marks, 299, 711), at(result.marks, 349, 711)
    assert (radio_off.selected, radio_on.selected) == (False, True)
    assert result.glyph_chars == set()


def test_a_box_around_a_line_number_is_a_label_not_a_mark() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.rect(72, 700, 14, 14)
        c.setFont("Helvetica", 9)
        c.drawString(76, 703, "12")
        c.rect(150, 700, 14, 14)
        c.setFont("Helvetica", 11)
        c.drawString(153, 703, "X")  # a typed X fills a box

    result, text = scan(make(draw))
    assert len(result.marks) == 1
    assert at(result.marks, 149, 715).selected
    assert [text[i] for i in result.glyph_chars] == ["X"]


def test_a_lone_vector_tick_is_not_a_box() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.lines([(100, 705, 104, 700), (104, 700, 112, 712)])

    assert scan(make(draw))[0].marks == []


def test_box_inside_a_scaled_form_xobject() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.beginForm("box")
        c.rect(0, 0, 5, 5)
        c.endForm()
        c.saveState()
        c.translate(300, 400)
        c.scale(2, 2)
        c.doForm("box")
        c.restoreState()

    result, _ = scan(make(draw))
    (mark,) = result.marks
    assert mark.x0 == pytest.approx(299 / 72, abs=0.03) and mark.y0 == pytest.approx((H - 411) / 72, abs=0.03)
    assert not mark.selected


# -- images ---------------------------------------------------------------------------------------
def test_image_boxes_empty_and_ticked_and_tick_image_over_vector_box() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.drawImage(box_image(False), 100, 600, 12, 12)
        c.drawImage(box_image(True), 200, 600, 12, 12)
        c.rect(300, 600, 12, 12)  # empty vector box with a tick image drawn over it
        c.drawImage(tick_image(), 301, 601, 11, 11)

    result, _ = scan(make(draw))
    assert len(result.marks) == 3
    empty, ticked = at(result.marks, 100, 612), at(result.marks, 200, 612)
    assert (empty.selected, ticked.selected) == (False, True)
    assert empty.x1 == pytest.approx(112 / 72, abs=0.03)
    assert empty.y1 == pytest.approx((H - 600) / 72, abs=0.03)
    assert 0.6 <= empty.confidence <= 0.99
    assert at(result.marks, 299, 613).selected


# -- glyphs ---------------------------------------------------------------------------------------
def test_unicode_ballot_boxes_in_dejavu() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont(dejavu(), 12)
        c.drawString(72, 700, "☐ No")
        c.drawString(172, 700, "☑ Yes")
        c.drawString(272, 700, "☒ Maybe")

    result, text = scan(make(draw))
    assert [m.selected for m in sorted(result.marks, key=lambda m: m.x0)] == [False, True, True]
    first = min(result.marks, key=lambda m: m.x0)
    assert first.x0 == pytest.approx(73 / 72, abs=0.03)
    assert first.y1 == pytest.approx((H - 700) / 72, abs=0.03)
    assert sorted(text[i] for i in result.glyph_chars) == ["☐", "☑", "☒"]


def test_zapfdingbats_box_with_tick_inside_and_a_lone_tick() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont("ZapfDingbats", 12)
        c.drawString(100, 700, "\u274f")  # code 'o': a box
        c.drawString(101, 701, "\u2714")  # code '4': a heavy tick, drawn over it
        c.drawString(200, 700, "\u274f")  # an empty box
        c.drawString(300, 700, "\u2714")  # a tick on its own

    result, text = scan(make(draw))
    assert len(result.marks) == 3
    boxed = at(result.marks, 100, 709, tol=0.05)
    assert boxed.selected and not at(result.marks, 200, 709, tol=0.05).selected
    lone = max(result.marks, key=lambda m: m.x0)
    assert lone.selected and lone.x0 == pytest.approx(300 / 72, abs=0.05)
    assert len(result.glyph_chars) == 4 and all(text[i] in "❏✔" for i in result.glyph_chars)


def test_a_tick_set_in_a_phrase_is_text_not_a_mark() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont(dejavu(), 9)
        c.drawString(72, 700, "✓ if you are 65 or over")

    result, text = scan(make(draw))
    assert result.marks == [] and result.glyph_chars == set()
    assert text.startswith("✓")


def test_ordinary_letters_in_a_text_font_are_not_marks() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, "o option q x n l 4 8 ü þ ý ¨")

    result, _ = scan(make(draw))
    assert result.marks == [] and result.glyph_chars == set()


def test_symbol_font_reporting_raw_codes() -> None:
    """A font named Wingdings whose codes come out as plain letters: 'o' box, 'þ' checked, 'ü' tick."""
    def draw(c: canvas.Canvas) -> None:
        pdfmetrics.registerFont(TTFont("DejaVuRenamed", FONT_PATH))
        c.setFont("Helvetica", 12)
        c.drawString(72, 650, "Hello world, no marks here.")
        c.setFont("DejaVuRenamed", 14)
        c.drawString(100, 700, "o")
        c.drawString(200, 700, "þ")
        c.drawString(300, 700, "ü")

    pdf = make(draw).replace(b"DejaVuSans", b"Wingdings-")  # same length: offsets stay valid
    result, text = scan(pdf)
    assert [m.selected for m in sorted(result.marks, key=lambda m: m.x0)] == [False, True, True]
    assert sorted(text[i] for i in result.glyph_chars) == ["o", "ü", "þ"]


# -- rotated page ---------------------------------------------------------------------------------
def test_marks_on_a_rotated_page() -> None:
    """/Rotate 90 (clockwise): user space (x, y up) is displayed at (y, x) from the top-left."""
    def draw(c: canvas.Canvas) -> None:
        c.rect(100, 600, 10, 10, fill=1)
        c.setFont(dejavu(), 12)
        c.drawString(200, 500, "☐ option")

    result, _ = scan(make(draw, rotate=90))
    assert len(result.marks) == 2
    vector = next(m for m in result.marks if m.selected)
    assert vector.x0 == pytest.approx(599 / 72, abs=0.03)
    assert vector.y0 == pytest.approx(99 / 72, abs=0.03)
    assert vector.x1 - vector.x0 == pytest.approx(12 / 72, abs=0.02)
    glyph = next(m for m in result.marks if not m.selected)
    assert glyph.y0 == pytest.approx(201 / 72, abs=0.03)
    assert glyph.x0 == pytest.approx(499 / 72, abs=0.04)
