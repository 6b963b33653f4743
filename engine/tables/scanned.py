"""Tables of a scanned page: ruling lines found in the image, around the words OCR read there.

The skew is measured on the page's long horizontal rules (a least-squares slope per rule; the word-based
`angle` Layout reports was up to 0.7 degrees off on the generated scans) and the pooled ink mask is turned
upright by it, so rules are axis-aligned runs of ink again: a 2-degree tilt moves a 500-px rule 17 px
from end to end, which no run detector follows. Rules are found as `engine/scan/rules.py` finds the ones it
erases before OCR (runs of ink on a 2x2-pooled mask, its `ink_runs`), but sized by the page's text height
instead of the page size, so the sides of one short table row count too. Check box outlines and strokes
that run through OCR'd words (letters stacked in a tight cell) are not rules, and the grid builder keeps
only vertical strokes that end on horizontal rules, which no letter does. Cell corners are turned back
onto the page, so on a skewed scan they are the slightly rotated quadrilaterals the cloud reports.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from engine.page.model import PageText, SelectionMark
from engine.scan.pixels import min_pool2
from engine.scan.rules import POOL, ink_runs
from engine.tables.grid import find_tables
from engine.tables.model import Corners, Point, Rule, Table
from engine.tables.words import not_marks, not_through_words, text_height, text_words

INK = 180  # grey below this is ink: thin printed rules scan grey
MIN_ACROSS = 2.0  # text heights: a horizontal rule is at least this long (no letter stroke is)
MIN_DOWN = 0.9  # a vertical rule at least this long: the side of a one-line cell
MAX_THICK = 0.4  # text heights; a thicker run is a filled block, whose edges are the rules
MIN_SKEW_DEG = 0.05  # below this the page is used as it is
LONG_RULE = 8.0  # text heights: the rules the skew is measured on are at least this long
MAX_SKEW_DEG = 5.0
_TRANSPOSE = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


def image_rules(small: np.ndarray, text_height: float) -> list[Rule]:
    """Horizontal and vertical rules of an upright page's pooled ink mask, in full-size pixels."""
    across = ink_runs(small, max(4, int(MIN_ACROSS * text_height) // POOL), axis=1)
    down = ink_runs(small, max(3, int(MIN_DOWN * text_height) // POOL), axis=0)
    thick = max(2.0, MAX_THICK * text_height / POOL)
    rules: list[Rule] = []
    for mask, horizontal in ((across, True), (down, False)):
        labels, _count = ndimage.label(mask)
        for rows, cols in ndimage.find_objects(labels):
            across_span, along = (rows, cols) if horizontal else (cols, rows)
            a, b = along.start * POOL, along.stop * POOL
            if across_span.stop - across_span.start <= thick:
                rules.append(Rule(horizontal, (across_span.start + across_span.stop) / 2 * POOL, a, b))
            else:  # a filled block (a dark header band): its two long edges
                rules.append(Rule(horizontal, across_span.start * POOL, a, b))
                rules.append(Rule(horizontal, across_span.stop * POOL, a, b))
    return rules


def rule_skew(small: np.ndarray, text_height: float) -> float | None:
    """The page's skew in degrees (clockwise positive, as Layout's `angle`) from its long horizontal
    rules (`small`: the page's pooled ink mask), or None without any. Measured on the rules because
    the words' baselines drift: on the generated scans the word-based angle was off by up to 0.7
    degrees, which bends a 500-px rule by 6 px."""
    across = ink_runs(small, max(4, int(MIN_ACROSS * text_height) // POOL), axis=1)
    labels, count = ndimage.label(across, structure=np.ones((3, 3), dtype=bool))  # a tilted rule steps
    if count == 0:
        return None
    ys, xs = (v.astype(np.float64) for v in np.nonzero(across))
    lab = labels[across]  # the same row-major order as np.nonzero
    n = np.maximum(np.bincount(lab, minlength=count + 1)[1:], 1)
    mx, my = (np.bincount(lab, v, count + 1)[1:] / n for v in (xs, ys))
    sxx = np.bincount(lab, xs * xs, count + 1)[1:] / n - mx * mx
    sxy = np.bincount(lab, xs * ys, count + 1)[1:] / n - mx * my
    width = np.array([c.stop - c.start for _r, c in ndimage.find_objects(labels)], dtype=np.float64)
    long = (width >= LONG_RULE * text_height / POOL) & (sxx > 0)
    if not long.any():
        return None
    slopes = sxy[long] / sxx[long]
    keep = np.abs(slopes) < math.tan(math.radians(MAX_SKEW_DEG))
    if not keep.any():
        return None
    order = np.argsort(slopes[keep])
    weights = width[long][keep][order]
    median = slopes[keep][order][np.searchsorted(np.cumsum(weights), weights.sum() / 2)]
    return math.degrees(math.atan(median))


class _Turn:
    """Rotation by `degrees` (counter-clockwise as seen) about a centre, y down; `back` undoes it."""

    def __init__(self, degrees: float, cx: float, cy: float) -> None:
        t = math.radians(degrees)
        self.cos, self.sin, self.cx, self.cy = math.cos(t), math.sin(t), cx, cy

    def forth(self, x: float, y: float) -> Point:
        dx, dy = x - self.cx, y - self.cy
        return self.cx + dx * self.cos + dy * self.sin, self.cy - dx * self.sin + dy * self.cos

    def back(self, x: float, y: float) -> Point:
        dx, dy = x - self.cx, y - self.cy
        return self.cx + dx * self.cos - dy * self.sin, self.cy + dx * self.sin + dy * self.cos


def scan_tables(image: Image.Image, page: PageText, unit_scale: float = 1.0) -> list[Table]:
    """Tables of an OCR'd page, in the page's upright frame and unit (`unit_scale`: unit per pixel)."""
    if sum(len(ln.words) for ln in page.lines) < 2:
        return []
    upright = image.transpose(_TRANSPOSE[page.rotation]) if page.rotation in _TRANSPOSE else image
    small = min_pool2(np.asarray(upright.convert("L"))) < INK
    height = text_height(page.lines) / unit_scale
    skew = rule_skew(small, height)
    if skew is None:
        return []  # no long horizontal rule: no table
    turn = _Turn(skew, small.shape[1] * POOL / 2, small.shape[0] * POOL / 2)
    if abs(skew) >= MIN_SKEW_DEG:  # the pooled mask turned, cheaper than turning the page
        turned = Image.fromarray(small.view(np.uint8) * 255).rotate(skew, resample=Image.Resampling.NEAREST)
        small = np.asarray(turned) > 127
    words = text_words(page.lines, lambda x, y: turn.forth(x / unit_scale, y / unit_scale), 1 / unit_scale)
    marks = []
    for m in page.marks:  # into the turned frame: same size, centre moved
        cx, cy = turn.forth((m.x0 + m.x1) / 2 / unit_scale, (m.y0 + m.y1) / 2 / unit_scale)
        hw, hh = (m.x1 - m.x0) / 2 / unit_scale, (m.y1 - m.y0) / 2 / unit_scale
        marks.append(SelectionMark(cx - hw, cy - hh, cx + hw, cy + hh, m.selected, m.confidence))
    rules = not_through_words(not_marks(image_rules(small, height), marks), words)
    tables = find_tables(rules, lambda: words, height)

    def place(corners: Corners) -> Corners:
        a, b, c, d = (turn.back(x, y) for x, y in corners)
        return tuple((x * unit_scale, y * unit_scale) for x, y in (a, b, c, d))  # type: ignore[return-value]

    for table in tables:
        table.corners = place(table.corners)
        for cell in table.cells:
            cell.corners = place(cell.corners)
    return tables

