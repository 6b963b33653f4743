"""Ruling lines and words -> tables: the one grid builder behind digital PDFs and scans.

Rules that meet form connected groups; each group's rule positions cut its extent into a grid of
elementary cells, and an inner cell side that no rule draws joins its two cells (a merged cell:
rowSpan/columnSpan). Full-width rows (a form's one-field rows, a section title) split a group into
bands, so a Word form laid out as one big table gives its real tables, not itself. A band is a table
when it has at least 2 rows and 2 columns and text in at least 2 cells: a lone box, a comb field
(one row) or a check box never is. Every distance is a share of the page's text height, so the same
rules hold in inches (PDF) and pixels (scans).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.tables.model import Cell, Rule, Table, TextWord, rect_corners
from engine.tables.words import RULE_LIKE

SNAP = 0.45  # lines closer than this many text heights are one line: a double rule holds no text
STEP = 0.2  # ... and pieces of one rule lie within this of each other
TOUCH = 0.4  # a rule that stops this short of another still meets it (scanned rules fade at the ends)
JOIN = 1.0  # collinear pieces this close are one rule (a rule drawn cell by cell, or broken by noise)
LONG = 3.0  # a vertical rule this long counts even when it does not end on horizontal ones
COVER = 0.6  # an inner cell side is drawn when rules cover this share of it
REMNANT = 0.4  # a stray mark this close to a grid line is a piece of a scanned rule read as a character
THIN = 0.75  # an empty row (column) narrower than this many text heights is the gap in a double rule
MIN_TEXT_CELLS = 2
_DIGIT = re.compile(r"\d")


@dataclass
class _Seg:
    pos: float
    start: float
    end: float


def _merge(rules: list[Rule], step: float, snap: float, join: float) -> list[_Seg]:
    """Collinear rules as segments: rules whose positions follow each other by at most `step` (pieces of
    one scanned rule wander a pixel or two), `snap` in all, share their length-weighted mean position;
    pieces less than `join` apart along the line are one segment."""
    out: list[_Seg] = []
    ordered = sorted(rules, key=lambda r: r.pos)
    i, n = 0, len(ordered)
    while i < n:
        first = ordered[i].pos
        j = i
        while (j + 1 < n and ordered[j + 1].pos - ordered[j].pos <= step
               and ordered[j + 1].pos - first <= snap):
            j += 1
        group = ordered[i: j + 1]
        weight = sum(max(r.end - r.start, 1e-9) for r in group)
        pos = sum(r.pos * max(r.end - r.start, 1e-9) for r in group) / weight
        spans = sorted((r.start, r.end) for r in group)
        start, end = spans[0]
        for a, b in spans[1:]:
            if a > end + join:
                out.append(_Seg(pos, start, end))
                start = a
            end = max(end, b)
        out.append(_Seg(pos, start, end))
        i = j + 1
    return out


def _snap(values: list[float], snap: float) -> list[float]:
    """Sorted positions, those within `snap` of the first of a run replaced by the run's mean."""
    out: list[float] = []
    run: list[float] = []
    for v in sorted(values):
        if run and v - run[0] > snap:
            out.append(sum(run) / len(run))
            run = []
        run.append(v)
    if run:
        out.append(sum(run) / len(run))
    return out


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _components(hs: list[_Seg], vs: list[_Seg], tol: float) -> list[tuple[list[_Seg], list[_Seg]]]:
    """Groups of rules that meet: (horizontal, vertical) segments of each."""
    if not hs or not vs:
        return []
    h = np.array([(s.pos, s.start, s.end) for s in hs])
    v = np.array([(s.pos, s.start, s.end) for s in vs])
    meet = ((v[None, :, 0] >= h[:, None, 1] - tol) & (v[None, :, 0] <= h[:, None, 2] + tol)
            & (h[:, None, 0] >= v[None, :, 1] - tol) & (h[:, None, 0] <= v[None, :, 2] + tol))
    parent = list(range(len(hs) + len(vs)))
    for a, b in zip(*np.nonzero(meet), strict=True):
        ra, rb = _find(parent, int(a)), _find(parent, len(hs) + int(b))
        if ra != rb:
            parent[ra] = rb
    groups: dict[int, tuple[list[_Seg], list[_Seg]]] = {}
    for i, s in enumerate(hs):
        groups.setdefault(_find(parent, i), ([], []))[0].append(s)
    for j, s in enumerate(vs):
        groups.setdefault(_find(parent, len(hs) + j), ([], []))[1].append(s)
    return [g for g in groups.values() if g[0] and g[1]]


def _ends_on_rules(vs: list[_Seg], hs: list[_Seg], tol: float) -> np.ndarray:
    """Per vertical segment: both its ends lie on horizontal rules (a cell side; no letter's stroke does)."""
    if not hs or not vs:
        return np.zeros(len(vs), dtype=bool)
    h = np.array([(s.pos, s.start, s.end) for s in hs])
    v = np.array([(s.pos, s.start, s.end) for s in vs])
    across = (h[None, :, 1] - tol <= v[:, None, 0]) & (v[:, None, 0] <= h[None, :, 2] + tol)
    top = (np.abs(h[None, :, 0] - v[:, None, 1]) <= tol) & across
    bottom = (np.abs(h[None, :, 0] - v[:, None, 2]) <= tol) & across
    return top.any(axis=1) & bottom.any(axis=1)


def _coverage(segs: list[_Seg], pos: float, a: float, b: float, snap: float) -> float:
    """Share of [a, b] at `pos` that the segments draw."""
    drawn = sum(max(0.0, min(s.end, b) - max(s.start, a)) for s in segs if abs(s.pos - pos) <= snap)
    return min(1.0, drawn / max(b - a, 1e-9))


class _Grid:
    """One group of rules cut into elementary cells; `label` holds each cell's merged-cell id."""

    def __init__(self, hs: list[_Seg], vs: list[_Seg], snap: float, all_h: list[_Seg],
                 all_v: list[_Seg]) -> None:
        """`hs`, `vs`: the group's rules, which span the grid; `all_h`, `all_v`: every rule of the page,
        since a piece of a scanned rule that meets no other rule still draws its part of a side."""
        x0 = min(min(s.start for s in hs), min(s.pos for s in vs))
        x1 = max(max(s.end for s in hs), max(s.pos for s in vs))
        y0 = min(min(s.pos for s in hs), min(s.start for s in vs))
        y1 = max(max(s.pos for s in hs), max(s.end for s in vs))
        self.hs = [s for s in all_h if y0 - snap <= s.pos <= y1 + snap and s.start < x1 and s.end > x0]
        self.vs = [s for s in all_v if x0 - snap <= s.pos <= x1 + snap and s.start < y1 and s.end > y0]
        self.snap = snap
        self.xs = _snap([x0, x1, *(s.pos for s in vs)], snap)
        self.ys = _snap([y0, y1, *(s.pos for s in hs)], snap)
        self.xs[0], self.xs[-1], self.ys[0], self.ys[-1] = x0, x1, y0, y1
        rows, cols = len(self.ys) - 1, len(self.xs) - 1
        self.label = np.arange(max(rows, 0) * max(cols, 0)).reshape(max(rows, 0), max(cols, 0))

    def merge_open_sides(self) -> None:
        """Join the two cells on either side of every inner side that no rule draws."""
        rows, cols = self.label.shape
        v_open = _cover(self.vs, self.xs, self.ys, self.snap)[1:-1].T < COVER  # [row, inner x line]
        h_open = _cover(self.hs, self.ys, self.xs, self.snap)[1:-1] < COVER  # [inner y line, column]
        # Cells and open sides as pixels of one picture: its connected parts are the merged cells.
        picture = np.zeros((2 * rows - 1, 2 * cols - 1), dtype=bool)
        picture[::2, ::2] = True
        picture[::2, 1::2] = v_open
        picture[1::2, ::2] = h_open
        parts, _n = ndimage.label(picture)
        self.label = parts[::2, ::2] - 1
        _rectangular(self.label)


def _cover(segs: list[_Seg], lines: list[float], cuts: list[float], snap: float) -> np.ndarray:
    """[line, interval]: share of each interval between consecutive `cuts` that the segments lying on
    each of `lines` draw."""
    cut = np.asarray(cuts)
    s = np.array([(g.pos, g.start, g.end) for g in segs]).reshape(-1, 3)
    overlap = np.clip(np.minimum(s[:, 2:3], cut[None, 1:]) - np.maximum(s[:, 1:2], cut[None, :-1]), 0, None)
    near = np.abs(np.asarray(lines)[:, None] - s[None, :, 0]) <= snap
    return np.minimum(1.0, (near @ overlap) / np.maximum(np.diff(cut), 1e-9))


def _blocks(label: np.ndarray) -> list[tuple[int, slice, slice]]:
    """(id, rows, columns) of every merged cell's bounding block."""
    return [(k - 1, rows, cols) for k, found in enumerate(ndimage.find_objects(label + 1), start=1)
            if found is not None for rows, cols in [found]]


def _rectangular(label: np.ndarray) -> None:
    """Every merged cell a rectangle: a cell whose bounding block holds others swallows them whole. Whole,
    so that every change leaves one cell fewer and the loop ends (swallowing only the part inside the
    block could hand cells back and forth between two cells for ever: a photographed page did)."""
    changed = True
    while changed:
        changed = False
        for g, rows, cols in _blocks(label):
            others = np.unique(label[rows, cols])
            others = others[others != g]
            if others.size:
                label[np.isin(label, others)] = g
                changed = True
                break  # the blocks moved: measure them again


def _bands(label: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges that can be tables: the grid is cut at full-width rows (one cell across the whole
    grid: a form's one-field row, a section title), which belong to no table, and between two rows
    that share no inner column side (one table drawn straight under another, as on a tax form)."""
    sides = label[:, 1:] != label[:, :-1]  # [row, inner side]: the side is drawn in that row
    full = ~sides.any(axis=1)
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i in range(label.shape[0] + 1):
        if i == label.shape[0] or full[i]:
            if start is not None:
                out.append((start, i))
            start = None
        elif start is None:
            start = i
        elif not (sides[i - 1] & sides[i]).any():
            out.append((start, i))
            start = i
    return out


def _cell_of_words(words: list[TextWord], at: np.ndarray, xs: list[float], ys: list[float],
                   text_height: float) -> dict[tuple[int, int], list[TextWord]]:
    """Words by the elementary cell their centre falls in (`at`: the centres, one row per word), less
    the remnants of scanned rules that OCR read as characters ("|", "_", a tiny "5" on a joint)."""
    x, y = at[:, 0], at[:, 1]
    inside = np.flatnonzero((x > xs[0]) & (x < xs[-1]) & (y > ys[0]) & (y < ys[-1]))
    cols = np.searchsorted(xs, x[inside]) - 1
    rows = np.searchsorted(ys, y[inside]) - 1
    out: dict[tuple[int, int], list[TextWord]] = {}
    for k, i, j in zip(inside.tolist(), rows.tolist(), cols.tolist(), strict=True):
        w = words[k]
        near = min(w.x - xs[j], xs[j + 1] - w.x, w.y - ys[i], ys[i + 1] - w.y) < REMNANT * text_height
        if near and (RULE_LIKE.match(w.text) or (len(w.text) <= 2 and w.height < 0.55 * text_height)):
            continue
        out.setdefault((i, j), []).append(w)
    return out


@dataclass
class _Band:
    """Rows of one grid that may be one table: merged-cell ids, grid lines, words by elementary cell."""

    label: np.ndarray
    xs: list[float]
    ys: list[float]
    words: dict[tuple[int, int], list[TextWord]]

    def _remove(self, axis: int, k: int, cut: int) -> None:
        """Delete row (axis 0) or column k and grid line `cut`; words of k go to k - 1, later ones shift."""
        self.label = np.delete(self.label, k, axis=axis)
        del (self.ys if axis == 0 else self.xs)[cut]
        moved: dict[tuple[int, int], list[TextWord]] = {}
        for key, ws in self.words.items():
            index = key[axis] - 1 if key[axis] >= k and key[axis] > 0 else key[axis]
            moved.setdefault((index, key[1]) if axis == 0 else (key[0], index), []).extend(ws)
        self.words = moved

    def _empty(self, axis: int, k: int) -> bool:
        return not any(key[axis] == k for key in self.words)

    def compress(self) -> None:
        """Drop grid lines that no row (column) of the band draws: they belong to other bands."""
        lab = self.label
        keep_r = [0, *(np.flatnonzero((lab[1:] != lab[:-1]).any(axis=1)) + 1).tolist()]
        keep_c = [0, *(np.flatnonzero((lab[:, 1:] != lab[:, :-1]).any(axis=0)) + 1).tolist()]
        row_of = np.searchsorted(keep_r, np.arange(self.label.shape[0]), side="right") - 1
        col_of = np.searchsorted(keep_c, np.arange(self.label.shape[1]), side="right") - 1
        words: dict[tuple[int, int], list[TextWord]] = {}
        for (i, j), ws in self.words.items():
            words.setdefault((int(row_of[i]), int(col_of[j])), []).extend(ws)
        self.words = words
        self.label = self.label[np.ix_(keep_r, keep_c)]
        self.xs = [self.xs[j] for j in keep_c] + [self.xs[-1]]
        self.ys = [self.ys[i] for i in keep_r] + [self.ys[-1]]

    def drop_thin(self, least: float) -> None:
        """Fold empty rows and columns too narrow for text (between the two lines of a double rule)
        into their neighbours."""
        for axis in (0, 1):
            cuts = self.ys if axis == 0 else self.xs
            for k in range(self.label.shape[axis] - 1, -1, -1):
                if self.label.shape[axis] > 1 and cuts[k + 1] - cuts[k] < least and self._empty(axis, k):
                    mid = (cuts[k] + cuts[k + 1]) / 2
                    self._remove(axis, k, k + 1)
                    cuts[k] = mid

    def trim(self, grid: _Grid) -> None:
        """Drop empty outer rows and columns that no rule closes (a rule overshooting the table)."""
        changed = True
        while changed:
            changed = False
            for axis in (0, 1):
                n = self.label.shape[axis]
                for k, cut in ((0, 0), (n - 1, n)):
                    if n > 1 and self._empty(axis, k) and self._open(grid, axis, k, cut):
                        self._remove(axis, k, cut)
                        changed = True
                        break
                if changed:
                    break

    def _open(self, grid: _Grid, axis: int, k: int, cut: int) -> bool:
        """Outer row/column k has no cell of its own reaching into the rest, and no rule on its edge."""
        own = set(np.take(self.label, k, axis=axis).tolist())
        rest = set(np.delete(self.label, k, axis=axis).ravel().tolist())
        if own & rest:
            return False
        if axis == 0:
            return _coverage(grid.hs, self.ys[cut], self.xs[0], self.xs[-1], grid.snap) < COVER
        return _coverage(grid.vs, self.xs[cut], self.ys[0], self.ys[-1], grid.snap) < COVER

    def table(self) -> Table | None:
        rows, cols = self.label.shape
        if rows < 2 or cols < 2:
            return None
        cells: list[Cell] = []
        for _g, rs, cs in _blocks(self.label):
            words = sorted((w for i in range(rs.start, rs.stop) for j in range(cs.start, cs.stop)
                            for w in self.words.get((i, j), ())), key=lambda w: w.ref)
            corners = rect_corners(self.xs[cs.start], self.ys[rs.start], self.xs[cs.stop], self.ys[rs.stop])
            cells.append(Cell(rs.start, cs.start, rs.stop - rs.start, cs.stop - cs.start, corners, words))
        if sum(1 for cell in cells if cell.words) < MIN_TEXT_CELLS:
            return None
        cells.sort(key=lambda cell: (cell.row, cell.column))
        _mark_header(cells, rows)
        return Table(rows, cols, cells, rect_corners(self.xs[0], self.ys[0], self.xs[-1], self.ys[-1]))


def _mark_header(cells: list[Cell], rows: int) -> None:
    """The first row (and the rows its cells span) is a header when it names columns: some text, no
    digits. A first row with numbers or dates in it is data (a totals block: "SUBTOTAL | $140.00")."""
    depth = max(c.row_span for c in cells if c.row == 0)
    top = [c for c in cells if c.row < depth]
    if depth >= rows or not any(c.words for c in top) or any(_DIGIT.search(c.text) for c in top):
        return
    for c in top:
        c.header = True


MAX_GRID_CELLS = 5000  # a ruled "grid" of more cells is noise (a hatched area, a texture), not a table


def find_tables(rules: list[Rule], words_of: Callable[[], list[TextWord]], text_height: float) -> list[Table]:
    """Tables (top to bottom, then left to right) that the rules draw around the words; `words_of` is
    called only when the rules form a grid (most pages have none)."""
    snap, tol = SNAP * text_height, TOUCH * text_height
    step, join = STEP * text_height, JOIN * text_height
    hs = _merge([r for r in rules if r.horizontal], step, snap, join)
    vs = _merge([r for r in rules if not r.horizontal], step, snap, join)
    ends = _ends_on_rules(vs, hs, tol)
    vs = [v for v, on in zip(vs, ends.tolist(), strict=True) if on or v.end - v.start >= LONG * text_height]
    words: list[TextWord] | None = None
    at = np.zeros((0, 2))
    tables: list[Table] = []
    for group_h, group_v in _components(hs, vs, tol):
        grid = _Grid(group_h, group_v, snap, hs, vs)
        if grid.label.shape[0] < 2 or grid.label.shape[1] < 2:
            continue
        if grid.label.size > MAX_GRID_CELLS:
            continue  # rules crossing everywhere (a photo's texture, a hatched area): no table
        if words is None:
            words = words_of()
            at = np.array([(w.x, w.y) for w in words]).reshape(-1, 2)
        grid.merge_open_sides()
        inside = _cell_of_words(words, at, grid.xs, grid.ys, text_height)
        for a, b in _bands(grid.label):
            band = _Band(grid.label[a:b].copy(), list(grid.xs), grid.ys[a: b + 1],
                         {(i - a, j): ws for (i, j), ws in inside.items() if a <= i < b})
            band.compress()
            band.trim(grid)
            band.drop_thin(THIN * text_height)
            band.compress()
            table = band.table()
            if table is not None:
                tables.append(table)
    tables.sort(key=lambda t: (round(t.corners[0][1], 3), t.corners[0][0]))
    return tables
