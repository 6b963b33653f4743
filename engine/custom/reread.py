"""Re-read a picked field's region with the field-region recognizer when Tesseract was unsure of it.

Why: Tesseract garbles hand-printed values (exact 37 % on hand-printed field crops), PP-OCRv4 reads them
far better (66 %) but is ~4x slower per region and slightly worse on typed text. Gating on Tesseract's own
word confidence keeps the best of both: `bench/bench_handprint.py` measured Tesseract if every word of the
value is read with confidence >= 0.90, else the region reader, at 72 % exact (CER 4.7 %) overall and
94 % on typed values (Tesseract alone 96 %). Only OCR'd pages are concerned: words from a PDF's text layer
or form fields have confidence 1 and are never re-read.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from PIL import Image

from engine.custom.scoring.features import fix_text
from engine.custom.scoring.model import Pick
from engine.ocr import rapid_region

log = logging.getLogger("engine.custom.reread")

REREAD_BELOW = 0.90
PAD_LINES = 0.5  # the region is the value's words padded by half a line height on every side

# page number -> (the page image the words were read from, image pixels per layout unit), or None
PageImage = Callable[[int], tuple[Image.Image, float] | None]


@functools.cache
def _say_unavailable() -> None:
    log.warning("the field-region reader (rapidocr-onnxruntime) cannot be imported; hand-printed values "
                "are left as Tesseract read them (install engine/requirements.txt; OpenCV needs libGL.so.1)")


def reread_unsure_fields(picks: dict[str, Pick], fields: dict[str, dict], page_image: PageImage) -> int:
    """Replace the text of picks whose words Tesseract read with low confidence; returns how many changed."""
    if not rapid_region.available():
        _say_unavailable()
        return 0
    changed = 0
    for name, pick in picks.items():
        span = pick.span
        if span is None or span.mark is not None or not span.words:
            continue
        if min(w.confidence for w in span.words) >= REREAD_BELOW:
            continue
        got = page_image(span.page)
        if got is None:
            continue
        image, scale = got
        xs = [v * scale for w in span.words for v in w.polygon[0::2]]
        ys = [v * scale for w in span.words for v in w.polygon[1::2]]
        pad = PAD_LINES * (max(ys) - min(ys)) / max(1, span.nlines)
        box = (max(0, int(min(xs) - pad)), max(0, int(min(ys) - pad)),
               min(image.width, int(max(xs) + pad) + 1), min(image.height, int(max(ys) + pad) + 1))
        if box[2] - box[0] < 4 or box[3] - box[1] < 4:
            continue
        text, _confidence = rapid_region.read_region(image.crop(box))
        if not text:
            continue
        before = pick.text or span.text
        text = fix_text(fields.get(name, {}), rapid_region.with_spacing_of(text, span.text))
        if text != before:
            pick.text = text
            changed += 1
    return changed
