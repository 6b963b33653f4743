"""Erase long ruling lines (table grids, frames, underlines) before OCR.

Tesseract reads text inside table cells badly when the cell borders touch its layout analysis; the
borders carry no text, so removing them costs nothing and recovers the cell contents.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage


def _runs(ink: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels that belong to an unbroken ink run of at least `length` along `axis`."""
    full = ndimage.uniform_filter1d(ink.astype(np.float32), size=length, axis=axis, mode="constant") > 0.999
    return ndimage.maximum_filter1d(full, size=length, axis=axis, mode="constant")


def erase_rules(image: Image.Image, text_height: float = 0.0) -> Image.Image:
    """A grayscale copy with horizontal/vertical lines longer than ~6 text heights painted white."""
    gray = np.asarray(image.convert("L"))
    ink = gray < 160
    h, w = gray.shape
    # Rules are much longer than any letter stroke, even in large headings.
    along = int(max(40, 6 * text_height, 0.03 * w))
    down = int(max(60, 8 * text_height, 0.05 * h))
    lines = _runs(ink, along, axis=1) | _runs(ink, down, axis=0)
    if not lines.any():
        return image if image.mode == "L" else image.convert("L")
    # Thicken slightly so anti-aliased edges of the rules go too.
    lines = ndimage.binary_dilation(lines, iterations=1)
    out = gray.copy()
    out[lines] = 255
    return Image.fromarray(out)
