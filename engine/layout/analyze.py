"""The Layout result builder: document bytes -> analyzeResult in the cloud's v2.x shape.

PDF pages with a text layer are read directly (exact, fast); pages without one are rendered at
300 dpi and OCR'd; images are OCR'd frame by frame. Pages are processed one at a time, so memory stays
flat however long the document is. Used by the layout routes and by custom-model training/analyze.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from PIL import Image

from engine.errors import ApiError, invalid_image
from engine.layout.cache import LAYOUT_CACHE
from engine.layout.documents import PDF, iter_image_pages, open_pdf, sniff_content_type
from engine.ocr import OcrEngine, default_engine
from engine.page.model import PageText, Quad
from engine.pdf.form import (
    init_form,
    is_pure_xfa,
    needs_appearances,
    pure_xfa_error,
)
from engine.pdf.page import read_pdf_page, render_page
from engine.pdf.pdfium_lock import PDFIUM
from engine.scan.page import ocr_page
from engine.tables import Table, render_tables, scan_tables

log = logging.getLogger("engine.layout.analyze")

_PAGES_RE = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_pages(spec: str | None) -> list[int] | None:
    """ "1-3,5" -> [1, 2, 3, 5]; None or empty -> None (all pages). Bad syntax -> 400 InvalidParameter."""
    if spec is None or not spec.strip():
        return None
    pages: set[int] = set()
    for part in spec.split(","):
        m = _PAGES_RE.match(part.strip())
        if not m:
            raise ApiError(400, "InvalidParameter",
                           f"The pages parameter '{spec}' is invalid; use numbers and ranges like 1-3,5.")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if a < 1 or b < a:
            raise ApiError(400, "InvalidParameter",
                           f"The pages parameter '{spec}' is invalid; ranges must be ascending from 1.")
        if b - a > 10000:
            raise ApiError(400, "InvalidPageRange", "The Pages parameter exceeds the number of pages.")
        pages.update(range(a, b + 1))
    return sorted(pages)


def check_page_range(pages: list[int] | None, page_count: int) -> None:
    if pages and pages[-1] > page_count:
        raise ApiError(400, "InvalidPageRange", "The Pages parameter exceeds the number of pages.")


# -- extraction -----------------------------------------------------------------------------------
def _pdf_pages(data: bytes, wanted: list[int] | None, ocr: OcrEngine,
               language: str | None, tables: dict[int, list[Table]] | None = None) -> Iterator[PageText]:
    """Pages in order; every PDFium call holds PDFIUM, none is held across a `yield` or during OCR."""
    doc = open_pdf(data)
    try:
        with PDFIUM:
            if is_pure_xfa(doc):
                raise pure_xfa_error()
            form = init_form(doc)  # before any page is loaded, as PDFium's form API needs
            count = len(doc)
        redraw = form is not None and needs_appearances(data)
        numbers = wanted or list(range(1, count + 1))
        check_page_range(numbers, count)
        for n in numbers:
            with PDFIUM:
                read = read_pdf_page(doc, n, form, tables, redraw_fields=redraw)
            if isinstance(read, PageText):
                yield read
                continue
            result = ocr_page(read.image, n, ocr, language, unit_scale=1.0 / read.dpi, unit="inch")
            result.width, result.height = read.width_pt / 72.0, read.height_pt / 72.0
            if tables is not None:
                tables[n] = scan_tables(read.image, result, 1.0 / read.dpi)
            yield result
    finally:
        with PDFIUM:
            doc.close()


def page_image(data: bytes, content_type: str | None, number: int) -> tuple[Image.Image, float] | None:
    """The image OCR read page `number` from, and its pixels per layout unit (1 for images, the render
    dpi for a PDF page, whose boxes are in inches); None when there is no such page."""
    kind = sniff_content_type(data) or content_type
    if kind == PDF:
        doc = open_pdf(data)
        try:
            with PDFIUM:
                if not 1 <= number <= len(doc):
                    return None
                page = doc[number - 1]
                try:
                    rendered = render_page(page)  # as read_pdf_page renders a page for OCR
                finally:
                    page.close()
        finally:
            with PDFIUM:
                doc.close()
        return rendered.image, rendered.dpi
    for _n, image in iter_image_pages(data, [number]):
        return image, 1.0
    return None


def _image_pages(data: bytes, wanted: list[int] | None, ocr: OcrEngine,
                 language: str | None, tables: dict[int, list[Table]] | None = None) -> Iterator[PageText]:
    for n, image in iter_image_pages(data, wanted):
        page = ocr_page(image, n, ocr, language)
        if tables is not None:
            tables[n] = scan_tables(image, page)
        yield page


def extract_pages(data: bytes, content_type: str | None, pages: list[int] | None = None,
                  language: str | None = None, ocr: OcrEngine | None = None,
                  tables: dict[int, list[Table]] | None = None) -> Iterator[PageText]:
    """PageText per wanted page, one at a time; with `tables`, each page's ruled tables are put there
    under its number before the page is yielded."""
    kind = sniff_content_type(data) or content_type
    ocr = ocr or default_engine()
    if kind == PDF:
        return _pdf_pages(data, pages, ocr, language, tables)
    if kind in ("image/jpeg", "image/png", "image/tiff", "image/bmp"):
        return _image_pages(data, pages, ocr, language, tables)
    raise invalid_image("The bytes are not a PDF, JPEG, PNG, TIFF or BMP file.")


# -- rendering to the wire shape ------------------------------------------------------------------
def _to_page(page: PageText, x: float, y: float) -> tuple[float, float]:
    """Map a point of the upright frame back to the page's own coordinates."""
    r = page.rotation
    if r == 90:
        return page.width - y, x
    if r == 180:
        return page.width - x, page.height - y
    if r == 270:
        return y, page.height - x
    return x, y


def _quad(page: PageText, x0: float, y0: float, x1: float, y1: float) -> Quad:
    if page.rotation == 0:  # the common case, kept cheap: thousands of boxes per page
        if page.unit == "pixel":
            a, b, c, d = round(x0), round(y0), round(x1), round(y1)
        else:
            a, b, c, d = round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4)
        return [a, b, c, b, c, d, a, d]
    pts = [_to_page(page, x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    if page.unit == "pixel":
        return [round(v) for p in pts for v in p]
    return [round(v, 4) for p in pts for v in p]


def render_read_result(page: PageText, v21: bool, language: str) -> dict:
    lines = []
    for ln in page.lines:
        line: dict = {"boundingBox": _quad(page, ln.x0, ln.y0, ln.x1, ln.y1), "text": ln.text}
        if v21:
            line["appearance"] = {"style": {"name": "other", "confidence": page.style_confidence}}
        else:
            line["language"] = language
        line["words"] = [{"boundingBox": _quad(page, w.x0, w.y0, w.x1, w.y1), "text": w.text,
                          "confidence": w.confidence} for w in ln.words]
        lines.append(line)
    size = (round(page.width), round(page.height)) if page.unit == "pixel" else (
        round(page.width, 4), round(page.height, 4))
    out: dict = {"page": page.number, "angle": page.angle, "width": size[0], "height": size[1],
                 "unit": page.unit, "language": language, "lines": lines}
    if v21:
        out["selectionMarks"] = [
            {"boundingBox": _quad(page, m.x0, m.y0, m.x1, m.y1), "confidence": m.confidence,
             "state": "selected" if m.selected else "unselected"} for m in page.marks]
    return out


def analyze_layout(data: bytes, content_type: str | None, *, pages: list[int] | None = None,
                   language: str | None = None, api_version: str = "2.1") -> dict:
    """analyzeResult {"version", "readResults", "pageResults"} in the cloud's v2.x shape; a document
    read moments ago with the same options comes from LAYOUT_CACHE (see engine/layout/cache.py)."""
    key = LAYOUT_CACHE.key(data, content_type, pages, language, api_version)
    cached = LAYOUT_CACHE.get(key)
    if cached is not None:
        return cached
    result = _read_layout(data, content_type, pages=pages, language=language, api_version=api_version)
    LAYOUT_CACHE.put(key, result)
    return result


def _read_layout(data: bytes, content_type: str | None, *, pages: list[int] | None,
                 language: str | None, api_version: str) -> dict:
    v21 = not api_version.lstrip("v").startswith("2.0")
    lang = language or "en"
    read_results, page_results = [], []
    found: dict[int, list[Table]] = {}
    for page in extract_pages(data, content_type, pages, language, tables=found):
        read_results.append(render_read_result(page, v21, lang))
        to_page = (lambda x, y, p=page: _to_page(p, x, y)) if page.rotation else None
        tables = render_tables(found.pop(page.number, []), len(read_results) - 1, to_page, page.unit, v21)
        page_results.append({"page": page.number, "tables": tables})
    if pages and not read_results:
        raise ApiError(400, "InvalidPageRange", "The Pages parameter exceeds the number of pages.")
    return {"version": "2.1.0" if v21 else "2.0.0", "readResults": read_results,
            "pageResults": page_results, "errors": []}
