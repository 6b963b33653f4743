"""Check boxes on a page image: small square outlines found as connected ink components.

Kept deliberately simple and honest: a component counts as a box when its bounding box is roughly
square, about text-sized, and ink covers most of each of its four sides; it is `selected` when its
interior holds a noticeable share of ink (a tick, a cross or a fill).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from engine.page.model import SelectionMark
from engine.scan.pixels import min_pool2

SELECTED_FILL = 0.08
# Grey levels below this are ink. Not 128: a printed form's thin box outlines scan as grey (130-190 at
# 200 dpi on the tax return), and at 128 their sides break up, so empty boxes were not found.
INK = 190
# Interior ink above this is a solid square (a bullet), not a box: a ticked radio button's large dot with
# the field's grey bevel round it reaches 0.9 at that threshold.
SOLID = 0.97
POOL = 2  # must match min_pool2


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
    """Selection marks in pixel coordinates of `image`; text_height (px) sets the expected box size.

    Components are found on a 2x2-pooled ink mask (4x fewer pixels to label); each candidate is then
    checked on the full-resolution pixels of its box.
    """
    gray = np.asarray(image.convert("L"))
    ink = gray < INK
    small = min_pool2(gray) < INK
    lo, hi = max(8.0, 0.6 * text_height), max(24.0, 3.0 * text_height)
    labels, _count = ndimage.label(small, structure=np.ones((3, 3), dtype=bool))
    marks: list[SelectionMark] = []
    for sl in ndimage.find_objects(labels):
        if sl is None:
            continue
        ph, pw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if not (lo <= pw * POOL <= hi + POOL and lo <= ph * POOL <= hi + POOL and 0.7 <= pw / ph <= 1.4):
            continue
        # Back to full resolution: the exact ink box inside the pooled box.
        y0, x0 = sl[0].start * POOL, sl[1].start * POOL
        crop = ink[y0: sl[0].stop * POOL, x0: sl[1].stop * POOL]
        rows, cols = np.flatnonzero(crop.any(axis=1)), np.flatnonzero(crop.any(axis=0))
        if rows.size == 0 or cols.size == 0:
            continue
        crop = crop[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
        y0, x0 = y0 + int(rows[0]), x0 + int(cols[0])
        ch, cw = crop.shape
        if not (lo <= cw <= hi and lo <= ch <= hi and 0.8 <= cw / ch <= 1.25):
            continue
        if _side_coverage(crop) < 0.9:
            continue
        border = max(2, round(min(ch, cw) * 0.2))
        interior = crop[border:-border, border:-border]
        if interior.size == 0:
            continue
        fill = float(interior.mean())
        if fill > SOLID:  # a solid square (a bullet) is not a check box outline
            continue
        selected = fill >= SELECTED_FILL
        margin = abs(fill - SELECTED_FILL) / SELECTED_FILL
        confidence = round(min(0.99, 0.6 + 0.39 * min(1.0, margin)), 3)
        box = (float(x0), float(y0), float(x0 + cw), float(y0 + ch))
        marks.append(SelectionMark(*box, selected, confidence))
    return marks
