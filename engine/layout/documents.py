"""Decide what a document is and refuse what must not be processed, before any operation is queued.

Everything here runs at the POST so that a corrupt, encrypted, oversized or bomb-like file is answered
with the service's 400 at once (the SDK expects the error from the POST, not from polling). Images are
measured from their header before any pixel is decoded, so a decompression bomb never gets decoded.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image, ImageSequence, UnidentifiedImageError

from engine.errors import ApiError, invalid_image
from engine.pdf.form import is_pure_xfa, pure_xfa_error
from engine.pdf.pdfium_lock import PDFIUM

MAX_BYTES = 50 * 1024 * 1024
MAX_PAGES = 2000
MIN_SIDE_PX = 50
MAX_SIDE_PX = 10000
PDF = "application/pdf"
SUPPORTED_V21 = ("application/pdf", "image/jpeg", "image/png", "image/tiff", "image/bmp")
SUPPORTED_V20 = ("application/pdf", "image/jpeg", "image/png", "image/tiff")

# Pillow refuses (DecompressionBombError) anything over twice this; we refuse at 1x from the header.
Image.MAX_IMAGE_PIXELS = MAX_SIDE_PX * MAX_SIDE_PX


@dataclass(frozen=True)
class DocumentInfo:
    content_type: str
    page_count: int


def sniff_content_type(data: bytes) -> str | None:
    """The type from magic bytes, as the SDK and the service decide it."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"BM"):
        return "image/bmp"
    return None


def unsupported_media(content_type: str | None, supported: tuple[str, ...] = SUPPORTED_V21) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f"Content type '{content_type or ''}' is not supported; use one of "
                    f"{', '.join(supported)} or application/json with a source URL.")


def validate_document(data: bytes, content_type: str | None,
                      supported: tuple[str, ...] = SUPPORTED_V21) -> DocumentInfo:
    """Check bytes against every input limit; return the real type (from magic bytes) and the page count."""
    declared = (content_type or "").split(";")[0].strip().lower() or None
    if len(data) > MAX_BYTES:
        raise ApiError(400, "InvalidImageSize", "The document is larger than 50 MB; the limit is 50 MB.")
    if not data:
        raise ApiError(400, "InvalidImage", "The request body is empty; send the document's bytes.")
    sniffed = sniff_content_type(data)
    if sniffed is None:
        if declared in supported or declared in (None, "application/octet-stream"):
            raise invalid_image("The bytes are not a PDF, JPEG, PNG, TIFF or BMP file.")
        raise unsupported_media(declared, supported)
    if sniffed not in supported:
        raise unsupported_media(sniffed, supported)
    if sniffed == PDF:
        return DocumentInfo(PDF, _check_pdf(data))
    return DocumentInfo(sniffed, _check_image(data))


def _too_many_pages(n: int) -> ApiError:
    return ApiError(400, "InvalidImage", f"The document has {n} pages; the limit is {MAX_PAGES} pages.")


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open under PDFIUM; a PDF that PDFium cannot open is the service's InvalidImage."""
    with PDFIUM:
        try:
            return pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            raise invalid_image(f"({e})") from None


def _check_pdf(data: bytes) -> int:
    doc = open_pdf(data)
    with PDFIUM:
        try:
            n = len(doc)
            xfa_only = is_pure_xfa(doc)
        finally:
            doc.close()
    if xfa_only:
        raise pure_xfa_error()
    if n < 1:
        raise invalid_image("The PDF has no pages.")
    if n > MAX_PAGES:
        raise _too_many_pages(n)
    return n


def _dimension_error(w: int, h: int, page: int) -> ApiError:
    return ApiError(400, "InvalidImageDimension",
                    f"Page {page} is {w}x{h} pixels; images must be between {MIN_SIDE_PX}x{MIN_SIDE_PX} "
                    f"and {MAX_SIDE_PX}x{MAX_SIDE_PX} pixels.")


def _open_image(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ApiError(400, "InvalidImageDimension",
                       f"The image is larger than {MAX_SIDE_PX}x{MAX_SIDE_PX} pixels.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise invalid_image(f"({e})") from None


def _check_image(data: bytes) -> int:
    """Measure every frame from its header first; only then decode, to catch truncation."""
    img = _open_image(data)
    try:
        n = 0
        try:
            for n, frame in enumerate(ImageSequence.Iterator(img), start=1):
                if n > MAX_PAGES:
                    raise _too_many_pages(n)
                w, h = frame.size
                if min(w, h) < MIN_SIDE_PX or max(w, h) > MAX_SIDE_PX:
                    raise _dimension_error(w, h, n)
                frame.load()
        except ApiError:
            raise
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as e:
            raise invalid_image(f"(page {max(n, 1)}: {e})") from None
        if n == 0:
            raise invalid_image("The image has no frames.")
        return n
    finally:
        img.close()


def iter_image_pages(data: bytes, pages: list[int] | None = None) -> Iterator[tuple[int, Image.Image]]:
    """(1-based page number, RGB or L image) per wanted frame; one frame decoded at a time."""
    img = Image.open(io.BytesIO(data))
    try:
        wanted = set(pages) if pages else None
        for n, frame in enumerate(ImageSequence.Iterator(img), start=1):
            if wanted is not None and n not in wanted:
                continue
            frame.load()
            out = frame.convert("L") if frame.mode not in ("L", "RGB") else frame.copy()
            yield n, out
    finally:
        img.close()
