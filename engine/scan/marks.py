"""Check boxes on a page image: small square outlines found as connected ink components.

Kept deliberately simple and honest: a component counts as a box when its bounding box is roughly
square, about text-sized, and ink covers most of each of its four sides; it is `selected` when its
interior holds a noticeable share of ink (a tick, a cross or a fill). `mark_at` looks for one box where a
custom model expects it, for boxes the page-wide search missed (a ring drawn round them).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage, signal

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
LOCAL_INK = 30  # grey levels a stroke is darker than the paper round it
RINGED = 0.6  # share of the paper round a box that a ring must close in
OUTLINE_SHARE = 0.8  # a box outline found where a model expects a box: at least this share of the clearest
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


def mark_at(gray: np.ndarray, side: float, at: tuple[float, float] | None = None) -> SelectionMark | None:
    """The check box of about `side` pixels in `gray`, a crop round where a model expects one (its top left
    corner at `at`, x and y; the crop's middle if not given), selected when ticked, crossed or circled;
    None when no box outline is there. For boxes the page's detection missed: on phone photos answers are
    circled rather than ticked, and the ring joins a box to its caption, its neighbours and the form's
    rules, so it is neither a lone component nor one box's sides. The box is found by its outline (a square
    of about the size the model learned, slid over the crop)."""
    # ink: darker than the paper around it (its own background, a box's thin strokes taken out), so a
    # shaded row is no ink and a photo's faint grey outline is
    k = max(5, round(0.3 * side)) | 1
    ink = gray.astype(np.int16) < ndimage.grey_closing(gray, size=(k, k)).astype(np.int16) - LOCAL_INK
    found: list[tuple[float, float, int, int, int]] = []  # outline share, off the middle, y, x, side
    for scale in (0.85, 1.0, 1.15):
        s = max(6, round(side * scale))
        if s >= min(ink.shape):
            continue
        t = max(1, round(0.12 * s))
        kernel = np.zeros((s, s), np.float32)
        kernel[:t], kernel[-t:], kernel[:, :t], kernel[:, -t:] = 1, 1, 1, 1
        hits = signal.fftconvolve(ink.astype(np.float32), kernel[::-1, ::-1], mode="valid") / kernel.sum()
        # each outline's clearest position (a local maximum: the band takes in offsets of a few pixels)
        peaks = (hits == ndimage.maximum_filter(hits, size=2 * t + 1)) & (hits >= OUTLINE_SHARE * hits.max())
        ys, xs = np.nonzero(peaks)
        mid_x, mid_y = at if at is not None else ((ink.shape[1] - s) / 2, (ink.shape[0] - s) / 2)
        found += [(float(hits[y, x]), float(np.hypot(y - mid_y, x - mid_x)), int(y), int(x), s)
                  for y, x in zip(ys, xs, strict=True)]
    if not found:
        return None
    # of the outlines nearly as clear as the clearest, the one nearest where the box is expected (a ticked
    # neighbour's outline, its tick crossing the sides, is the clearest)
    top = max(f[0] for f in found)
    _share, _dist, y, x, s = min((f for f in found if f[0] >= OUTLINE_SHARE * top), key=lambda f: f[1])
    mark = _box_mark(ink[y:y + s, x:x + s], y, x, 0.7 * side, 1.3 * side)
    if mark is None or mark.selected:
        return mark
    h = round(mark.y1 - mark.y0)
    if _ringed(ink, (slice(round(mark.y0), round(mark.y1)), slice(round(mark.x0), round(mark.x1))), h):
        return SelectionMark(mark.x0, mark.y0, mark.x1, mark.y1, True, mark.confidence)
    return mark


def _ringed(ink: np.ndarray, box: tuple[slice, slice], side: int) -> bool:
    """A hand-drawn ring round the box: the paper just outside the box is mostly closed in by ink (no way
    out to the crop's edge), and no long straight rule is among that ink (a ruled cell round a box closes
    it in too). A caption, a neighbouring box or a tick running out closes nothing."""
    y0, y1, x0, x1 = box[0].start, box[0].stop, box[1].start, box[1].stop
    closed = ndimage.binary_closing(ink, structure=np.ones((3, 3), bool),
                                    iterations=max(1, round(0.05 * side)))
    free, _count = ndimage.label(~closed)
    h, w = ink.shape
    a, b = max(2, round(0.05 * side)), max(4, round(0.12 * side))  # a thin band just outside the box
    band = np.zeros_like(ink)
    band[max(0, y0 - b):min(h, y1 + b), max(0, x0 - b):min(w, x1 + b)] = True
    band[max(0, y0 - a):min(h, y1 + a), max(0, x0 - a):min(w, x1 + a)] = False
    paper = free[band & ~closed]
    if paper.size == 0:
        return False
    outside = np.unique(np.r_[free[0], free[-1], free[:, 0], free[:, -1]])
    inside = ~np.isin(paper, outside)
    if inside.mean() < RINGED:
        return False
    wall = ndimage.binary_dilation(np.isin(free, np.unique(paper[inside]))) & ink
    run = round(2 * side)
    straight = ndimage.binary_opening(wall, structure=np.ones((1, run), bool)).any() or \
        ndimage.binary_opening(wall, structure=np.ones((run, 1), bool)).any()
    return not straight
