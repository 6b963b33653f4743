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
# Share of a found box that its straight sides may cover: a 30-px box drawn 3 px thick covers ~0.4, the
# bold "o" or "D" of a heading (strokes a quarter of the letter wide) 0.7 or more.
THIN_OUTLINE = 0.5
STRAIGHT = 0.85  # share of a found box's height (width) one column (row) of each side must ink


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
        y0, x0 = sl[0].start * POOL, sl[1].start * POOL
        if lo <= pw * POOL <= hi + POOL and lo <= ph * POOL <= hi + POOL and 0.7 <= pw / ph <= 1.4:
            mark = _box_mark(ink[y0: sl[0].stop * POOL, x0: sl[1].stop * POOL], y0, x0, lo, hi)
            if mark is not None:
                marks.append(mark)
                continue
        if lo <= pw * POOL <= 3 * hi and lo <= ph * POOL <= 3 * hi:
            # a box that ran into its tick is at least as tall as the text (bold letters run together
            # into blobs of straight strokes too, smaller)
            marks.extend(_ticked_boxes(ink[y0: sl[0].stop * POOL, x0: sl[1].stop * POOL], y0, x0,
                                       max(lo, 0.9 * text_height), hi))
    return marks


def _box_mark(crop: np.ndarray, y0: int, x0: int, lo: float, hi: float,
              ink: np.ndarray | None = None) -> SelectionMark | None:
    """The check box whose outline is this component (its exact ink box is found inside); `ink` is what
    the interior is measured on, when not the crop itself."""
    rows, cols = np.flatnonzero(crop.any(axis=1)), np.flatnonzero(crop.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return None
    crop = crop[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    inside = crop if ink is None else ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    y0, x0 = y0 + int(rows[0]), x0 + int(cols[0])
    ch, cw = crop.shape
    if not (lo <= cw <= hi and lo <= ch <= hi and 0.8 <= cw / ch <= 1.25):
        return None
    if _side_coverage(crop) < 0.9:
        return None
    border = max(2, round(min(ch, cw) * 0.2))
    interior = inside[border:-border, border:-border]
    if interior.size == 0:
        return None
    fill = float(interior.mean())
    if fill > SOLID:  # a solid square (a bullet) is not a check box outline
        return None
    selected = fill >= SELECTED_FILL
    margin = abs(fill - SELECTED_FILL) / SELECTED_FILL
    confidence = round(min(0.99, 0.6 + 0.39 * min(1.0, margin)), 3)
    return SelectionMark(float(x0), float(y0), float(x0 + cw), float(y0 + ch), selected, confidence)


def _straight_sides(box: np.ndarray) -> bool:
    """Each side of the outline has one row or column inked along nearly all of the box, and at least three
    corners are sharp (measured on the ink: a bold "Q" or "O" has straight stretches, but round corners)."""
    h, w = box.shape
    band = max(2, round(min(h, w) * 0.18))
    cols, rows = box.sum(axis=0), box.sum(axis=1)
    k = max(1, round(min(h, w) * 0.08))
    corners = sum(int(c.any()) for c in (box[:k, :k], box[:k, -k:], box[-k:, :k], box[-k:, -k:]))
    return bool(min(cols[:band].max(), cols[-band:].max()) >= STRAIGHT * h
                and min(rows[:band].max(), rows[-band:].max()) >= STRAIGHT * w and corners >= 3)


def _ticked_boxes(crop: np.ndarray, y0: int, x0: int, lo: float, hi: float) -> list[SelectionMark]:
    """Boxes inside a component too big or not square to be one: a hand-drawn tick or cross that runs out
    of its box (and into the caption beside it) joins them into one blob. The box's straight sides are
    kept (ink runs along a row or column of at least 0.8 of the smallest box side; a tick's slanted strokes
    are not), each outline found among them whose four sides are each one straight line is a box (a bold
    "Q" or "o" has straight-ish strokes, but round sides), and its interior is measured on all the ink."""
    run = max(4, int(0.8 * lo))
    # cheap necessary condition first (most blobs on a page are words): two columns and two rows with at
    # least a side's worth of ink
    if (crop.sum(axis=0) >= run).sum() < 2 or (crop.sum(axis=1) >= run).sum() < 2:
        return []
    sides = (ndimage.binary_opening(crop, structure=np.ones((1, run), dtype=bool))
             | ndimage.binary_opening(crop, structure=np.ones((run, 1), dtype=bool)))
    labels, _count = ndimage.label(sides, structure=np.ones((3, 3), dtype=bool))
    out = []
    for sl in ndimage.find_objects(labels):
        if sl is None:
            continue
        part = sides[sl]
        # the outline's own extent: its sides are the rows/columns with the longest ink (a stroke of the tick
        # that joins a side lengthens that side's row a little, and would widen a plain bounding box)
        rows = np.flatnonzero(part.sum(axis=1) >= 0.6 * part.sum(axis=1).max())
        cols = np.flatnonzero(part.sum(axis=0) >= 0.6 * part.sum(axis=0).max())
        if rows.size < 2 or cols.size < 2:
            continue
        ys, xs = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
        box, ink = part[ys, xs], crop[sl][ys, xs]
        if box.mean() > THIN_OUTLINE or not _straight_sides(ink):  # a bold letter, not a box's thin sides
            continue
        top, left = sl[0].start + ys.start, sl[1].start + xs.start
        mark = _box_mark(box, y0 + top, x0 + left, lo, hi, ink)
        if mark is not None:
            out.append(mark)
    return out
