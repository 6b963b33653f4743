"""One page of a digital PDF, read under the PDFium lock: its text layer, form-field values, selection
marks and ruled tables, or (no text layer) its rendering for OCR outside the lock."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from engine.page.lines import group_words, reading_order
from engine.page.model import PageText
from engine.pdf.field_text import field_lines, split_comb_cells, synthesized_words
from engine.pdf.form import (
    flatten,
    load_page,
    merge_marks,
    on_page,
    read_widgets,
    widget_marks,
)
from engine.pdf.frame import PageFrame, to_upright
from engine.pdf.marks import page_marks
from engine.pdf.text import mostly_image, page_words
from engine.tables import Table, pdf_tables

__all__ = ["MIN_TEXT_LAYER_WORDS", "RENDER_DPI", "RenderedPage", "read_pdf_page", "render_page"]

RENDER_DPI = 300
MIN_TEXT_LAYER_WORDS = 3
MAX_RENDER_SIDE_PX = 10000


@dataclass
class RenderedPage:
    """A page without a text layer, rendered for OCR (done outside the PDFium lock)."""

    image: Image.Image
    dpi: float
    width_pt: float
    height_pt: float


def read_pdf_page(doc: pdfium.PdfDocument, n: int, form: ctypes.c_void_p | None,
                  tables: dict[int, list[Table]] | None = None, *,
                  redraw_fields: bool = False) -> PageText | RenderedPage:
    """The page from its text layer and form fields, or (neither) its rendering; its ruled tables go
    into `tables[n]` when asked for. `redraw_fields` (the AcroForm's /NeedAppearances): every field is
    drawn from its value, as viewers do, not from its (maybe stale) appearance."""
    page = load_page(doc, n - 1)
    try:
        w_pt, h_pt = page.get_size()  # as displayed, /Rotate applied
        width, height = w_pt / 72.0, h_pt / 72.0
        # Text is read in the frame where it runs left to right; boxes are turned back at rendering.
        rotation = page.get_rotation() % 360
        upright = (height, width) if rotation in (90, 270) else (width, height)
        frame = PageFrame(page, upright=True)
        widgets = read_widgets(page, form, frame, redraw=redraw_fields) if form else []
        own_objects = None
        if widgets:
            own_objects = pdfium_c.FPDFPage_CountObjects(page.raw)
        if widgets and flatten(page):  # the fields' appearances become page content on reload
            page.close()
            page = load_page(doc, n - 1)
        mark_rects = [w.pdf_rect for w in widgets if w.kind in ("checkbox", "radio")]
        textpage = page.get_textpage()
        try:
            drawn = page_marks(page, textpage, own_objects)  # boxes as paths, images or font glyphs
            words = page_words(page, textpage, skip_chars=drawn.glyph_chars, skip_rects=mark_rects,
                               field_rects=[w.pdf_rect for w in widgets if w.kind in ("text", "choice")],
                               frame=frame)
        finally:
            textpage.close()
        fixed: list = []  # the lines of multi-line fields, grouped inside each field
        if widgets:
            words = split_comb_cells(words, widgets) + synthesized_words(widgets, words)
            words = [w for w in words if on_page(w.x0, w.y0, w.x1, w.y1, *upright)]
            fixed, words = field_lines(words, widgets)
        # A scan with a stray stamp or page number in its text layer still needs OCR.
        n_words = len(words) + sum(len(line.words) for line in fixed)
        if n_words >= MIN_TEXT_LAYER_WORDS or ((n_words or widgets) and not mostly_image(page)):
            drawn_marks = drawn.marks
            if rotation:
                for m in drawn_marks:
                    m.x0, m.y0, m.x1, m.y1 = to_upright((m.x0, m.y0, m.x1, m.y1), rotation, (width, height))
            marks = merge_marks(widget_marks(widgets), drawn_marks)
            marks = [m for m in marks if on_page(m.x0, m.y0, m.x1, m.y1, *upright)]
            lines = reading_order(group_words(words) + fixed)
            if tables is not None:
                tables[n] = pdf_tables(page, lines, marks, own_objects)
            return PageText(number=n, width=width, height=height, unit="inch",
                            angle=float(rotation if rotation <= 180 else rotation - 360),
                            lines=lines, marks=marks, rotation=rotation,
                            upright_size=upright)
        return render_page(page)  # no text layer: OCR happens outside the lock
    finally:
        page.close()


def render_page(page: pdfium.PdfPage) -> RenderedPage:
    """The page at 300 dpi (less if it is huge, so no side exceeds MAX_RENDER_SIDE_PX), grey."""
    w_pt, h_pt = page.get_size()
    dpi = min(RENDER_DPI, MAX_RENDER_SIDE_PX * 72.0 / max(w_pt, h_pt, 1.0))
    bitmap = page.render(scale=dpi / 72.0, grayscale=True)
    image = bitmap.to_pil().copy()  # our own pixels, not a view of PDFium's bitmap
    bitmap.close()
    return RenderedPage(image, dpi, w_pt, h_pt)
