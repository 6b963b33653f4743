"""Check boxes on a page image: small square outlines found as connected ink components.

Kept deliberately simple and honest: a component counts as a box when its bounding box is roughly
square, about text-sized, and ink covers most of each of its four sides; it is `selected` when its
interior holds a noticeable share of ink (a tick, a cross or a fill).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from engine.pagemodel import SelectionMark

SELECTED_FILL = 0.08


def _side_coverage(mask: np.ndarray) -> float:
    """Smallest share, over the four sides, of positions where ink sits within the side's outer band."""
    h, w = mask.shape
    band = max(2, round(min(h, w) * 0.18))
    top = mask[:band, :].any(axis=0).mean()
    bottom = mask[-band:, :].any(axis=0).mean()
    left = mask[:, :band].any(axis=1).mean()
    right = mask[:, -band:].any(axis=1).mean()
    return float(min(top, bottom, left, right))


def detect_marks(image: Image.Image, text_height: float) -> list[SelectionMark]:
    """Selection marks in pixel coordinates of `image`; text_height (px) sets the expected box size."""
    gray = np.asarray(image.convert("L"))
    ink = gray < 128
    lo, hi = max(8.0, 0.6 * text_height), max(24.0, 3.0 * text_height)
    labels, _count = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    marks: list[SelectionMark] = []
    for idx, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        h = sl[0].stop - sl[0].start
        w = sl[1].stop - sl[1].start
        if not (lo <= w <= hi and lo <= h <= hi and 0.8 <= w / h <= 1.25):
            continue
        comp = labels[sl] == idx
        if _side_coverage(comp) < 0.9:
            continue
        border = max(2, round(min(h, w) * 0.2))
        interior = ink[sl][border:-border, border:-border]
        if interior.size == 0:
            continue
        # A solid square (a filled bullet) is not a check box outline.
        if comp[border:-border, border:-border].mean() > 0.9:
            continue
        fill = float(interior.mean())
        selected = fill >= SELECTED_FILL
        margin = abs(fill - SELECTED_FILL) / SELECTED_FILL
        confidence = round(min(0.99, 0.6 + 0.39 * min(1.0, margin)), 3)
        marks.append(SelectionMark(float(sl[1].start), float(sl[0].start), float(sl[1].stop),
                                   float(sl[0].stop), selected, confidence))
    return marks
