"""Read a PDF page's own text layer with PDFium: exact words and boxes, no OCR.

PDFium (C) instead of pdfplumber (pure Python): the text layer of a form page is read in a few
milliseconds instead of ~150 ms, which is what makes ≥50 pages/s per core possible. Check boxes are
found by `engine.pdf.marks` (vector paths, images, glyphs) and form fields by `engine.pdf.form`; the
characters they draw are skipped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from engine.page.model import Word
from engine.page.rect_grid import Rect, RectGrid
from engine.pdf.frame import PageFrame

_PATH, _TEXT, _IMAGE = pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_IMAGE


def page_words(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage | None = None, *,
               skip_chars: AbstractSet[int] = frozenset(),
               skip_rects: Sequence[Rect] = (), field_rects: Sequence[Rect] = (),
               frame: PageFrame | None = None) -> list[Word]:
    """Words (whitespace-separated runs of characters) with their union boxes, in inches.

    `skip_chars` (text-page indices) and characters centred in `skip_rects` (PDF user space: left,
    bottom, right, top) are not text but drawings of marks: a check glyph, a ☐ box. A word never runs
    across the edge of a `field_rects` rectangle: a form field's value is not glued to a digit printed
    beside its box ("45000" + a printed "0" read as "450000").
    """
    frame = frame or PageFrame(page)
    n_skip = len(skip_rects)
    regions = RectGrid([*skip_rects, *field_rects], cell=24.0)  # points: about two check boxes wide
    own = textpage is None
    if textpage is None:
        textpage = page.get_textpage()
    try:
        n = textpage.count_chars()
        if n <= 0:
            return []
        text = textpage.get_text_range(0, n)
        if len(text) != n:  # characters outside the BMP: fall back to per-character text
            text = "".join(textpage.get_text_range(i, 1)[:1] or " " for i in range(n))
        words: list[Word] = []
        chars: list[str] = []
        # The hot loop of digital PDFs: one raw PDFium call per character into a reused struct.
        rect = pdfium_c.FS_RECTF()
        charbox = pdfium_c.FPDFText_GetLooseCharBox
        raw = textpage.raw
        bl = bb = br = bt = 0.0
        skipping = bool(skip_chars)
        zoned = bool(regions)
        zone: int | None = None  # the region the current word's characters lie in
        for i, ch in enumerate(text):
            if ch.isspace() or ch == "\x00":
                if chars:
                    words.append(Word("".join(chars), *frame.box(bl, bb, br, bt)))
                    chars = []
                continue
            charbox(raw, i, rect)
            l, b, r, t = rect.left, rect.bottom, rect.right, rect.top  # noqa: E741
            if skipping and i in skip_chars:
                if chars:
                    words.append(Word("".join(chars), *frame.box(bl, bb, br, bt)))
                    chars = []
                continue
            if zoned:
                here = regions.find((l + r) / 2, (b + t) / 2)
                if here is not None and here < n_skip:  # a mark's drawing
                    if chars:
                        words.append(Word("".join(chars), *frame.box(bl, bb, br, bt)))
                        chars = []
                    continue
                if chars and here != zone:  # into or out of a form field
                    words.append(Word("".join(chars), *frame.box(bl, bb, br, bt)))
                    chars = []
                zone = here
            if chars and (l < bl - 1 or b > bt or t < bb):
                # A jump back, up or down inside one "word": the text layer continues elsewhere.
                words.append(Word("".join(chars), *frame.box(bl, bb, br, bt)))
                chars = []
            if not chars:
                bl, bb, br, bt = l, b, r, t
            else:
                if l < bl:
                    bl = l
                if b < bb:
                    bb = b
                if r > br:
                    br = r
                if t > bt:
                    bt = t
            chars.append(ch)
        if chars:
            words.append(Word("".join(chars), *frame.box(bl, bb, br, bt)))
        return words
    finally:
        if own:
            textpage.close()


def mostly_image(page: pdfium.PdfPage, share: float = 0.5) -> bool:
    """True when one image covers most of the page: a scan, whatever stray text sits on top of it."""
    w, h = page.get_size()
    area = max(w * h, 1.0)
    for obj in page.get_objects(filter=[_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) >= share * area:
            return True
    return False
