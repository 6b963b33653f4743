"""Read a PDF page's own text layer with pdfplumber: exact words and boxes, no OCR.

Check boxes drawn as small square rectangles become selection marks; a mark counts as selected when
something (a glyph, a line, a filled shape) is drawn inside it.
"""

from __future__ import annotations

from typing import Any

from engine.pagemodel import SelectionMark, Word

PT_PER_INCH = 72.0
MARK_MIN_IN, MARK_MAX_IN = 0.07, 0.4


def page_words(page: Any) -> list[Word]:
    """Words of a pdfplumber page in inches (upright text only; vertical runs are rare on forms)."""
    words = []
    for w in page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5, y_tolerance=2):
        text = w["text"].strip()
        if not text:
            continue
        words.append(Word(text, w["x0"] / PT_PER_INCH, w["top"] / PT_PER_INCH,
                          w["x1"] / PT_PER_INCH, w["bottom"] / PT_PER_INCH, 1.0))
    return words


def page_selection_marks(page: Any) -> list[SelectionMark]:
    marks: list[SelectionMark] = []
    boxes = []
    for r in page.rects:
        w, h = r["width"] / PT_PER_INCH, r["height"] / PT_PER_INCH
        if MARK_MIN_IN <= w <= MARK_MAX_IN and MARK_MIN_IN <= h <= MARK_MAX_IN and 0.8 <= w / h <= 1.25:
            boxes.append((r["x0"], r["top"], r["x1"], r["bottom"]))
    if not boxes:
        return marks
    inner = [(o["x0"], o["top"], o["x1"], o["bottom"]) for o in (*page.chars, *page.lines, *page.curves)]
    inner += [(r["x0"], r["top"], r["x1"], r["bottom"]) for r in page.rects if r.get("fill")]
    for x0, y0, x1, y1 in boxes:
        pad = 0.15 * (x1 - x0)
        ix0, iy0, ix1, iy1 = x0 + pad, y0 + pad, x1 - pad, y1 - pad
        selected = any(a < ix1 and c > ix0 and b < iy1 and d > iy0 and (c - a) < (x1 - x0) * 0.95
                       for a, b, c, d in inner)
        marks.append(SelectionMark(x0 / PT_PER_INCH, y0 / PT_PER_INCH, x1 / PT_PER_INCH, y1 / PT_PER_INCH,
                                   selected, 0.99))
    return _dedupe(marks)


def _dedupe(marks: list[SelectionMark]) -> list[SelectionMark]:
    """A box drawn twice (fill + stroke) is one mark."""
    out: list[SelectionMark] = []
    for m in marks:
        twin = next((o for o in out if abs(o.x0 - m.x0) < 0.02 and abs(o.y0 - m.y0) < 0.02
                     and abs(o.x1 - m.x1) < 0.02), None)
        if twin is None:
            out.append(m)
        else:
            twin.selected = twin.selected or m.selected
    return out
