"""A page of a form as a person sees it, as a PNG: PDFs rendered with their form fields drawn (the
values a person typed into a fillable PDF show), images frame by frame (multi-page TIFF), in the pixel
frame the OCR measured (no EXIF turn: the engine does not apply one either)."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable

import pypdfium2 as pdfium
from PIL import Image, ImageSequence

from shared.review.web import ApiError

__all__ = ["PDF_DPI", "page_count", "page_png"]

PDF_DPI = 150  # crisp at 100 % zoom (96 CSS px per inch) and at 150 %
MAX_SIDE_PX = 4000
CACHE_ENTRIES = 48
_LOCK = threading.Lock()  # PDFium is not thread-safe
_cache: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()


def _is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF")


def page_count(data: bytes) -> int:
    """The form's pages; 0 when it cannot be opened (the page then says so for each page it asks)."""
    try:
        return _page_count(data)
    except (pdfium.PdfiumError, OSError, Image.DecompressionBombError, ValueError):
        return 0


def _page_count(data: bytes) -> int:
    if _is_pdf(data):
        with _LOCK:
            doc = pdfium.PdfDocument(data)
            try:
                return len(doc)
            finally:
                doc.close()
    with Image.open(io.BytesIO(data)) as img:
        return getattr(img, "n_frames", 1)


def _render_pdf(data: bytes, number: int) -> Image.Image:
    with _LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            if not 1 <= number <= len(doc):
                raise ApiError(404, "NoSuchPage", f"the form has {len(doc)} page(s), not a page {number}")
            doc.init_forms()  # before the page loads: its widgets are drawn with their values
            page = doc[number - 1]
            try:
                w, h = page.get_size()
                scale = min(PDF_DPI / 72.0, MAX_SIDE_PX / max(w, h, 1.0))
                bitmap = page.render(scale=scale, may_draw_forms=True)
                image = bitmap.to_pil().convert("RGB")
                bitmap.close()
                return image
            finally:
                page.close()
        finally:
            doc.close()


def _frame(data: bytes, number: int) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    with img:
        for n, frame in enumerate(ImageSequence.Iterator(img), start=1):
            if n == number:
                frame.load()
                return frame.convert("RGB") if frame.mode not in ("L", "RGB") else frame.copy()
        raise ApiError(404, "NoSuchPage", f"the form has {n} page(s), not a page {number}")


def page_png(name: str, etag: str, number: int, load: Callable[[], bytes]) -> bytes:
    """The page as PNG bytes; recent pages are kept (by blob version), so paging back is instant and
    `load` (the form's bytes) is called only when the page is not kept."""
    key = (name, etag, number)
    with _LOCK:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    data = load()
    try:
        image = _render_pdf(data, number) if _is_pdf(data) else _frame(data, number)
    except (pdfium.PdfiumError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ApiError(415, "CannotShow", f"this form cannot be shown as an image: {exc}") from exc
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    png = out.getvalue()
    with _LOCK:
        _cache[key] = png
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return png
