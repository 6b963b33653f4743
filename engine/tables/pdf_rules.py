"""Ruling lines of a digital PDF page, from its vector paths (PDFium page objects).

Writers draw table rules three ways, and all three become `Rule`s: stroked lines (reportlab, LaTeX),
thin filled rectangles (Word: a 0.5 pt bar per cell side) and stroked cell rectangles (one `re S` per
cell). A thin path is a rule from its bounds alone, with no segment read (a Word table has hundreds);
wider paths are read segment by segment: stroked ones give their straight axis-aligned segments,
filled ones only their thin rectangular sub-paths. Wide fills are shading, not rules, and white
ink draws nothing. Paths inside form XObjects count, mapped by their form's matrix.

PDFium is called through private prototypes that take and return plain integers (as
`engine/pdf/marks.py` does): a dense tax-form page has ~800 objects, and typed pointer arguments
cost 2-3x more per call.
"""

from __future__ import annotations

import ctypes
import itertools

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from engine.pdf import pdfium_calls as pc
from engine.pdf.frame import PageFrame
from engine.tables.model import Rule

MAX_THICK_PT = 4.0  # thicker bars are shading or decoration, not rules
MIN_LENGTH_PT = 3.0
MAX_SEGMENTS = 400  # a path with more is a drawing (a logo, a chart), not table rules
WHITE = 230  # ink lighter than this in every channel does not show on paper
_MAX_DEPTH = 4

Matrix = tuple[float, float, float, float, float, float]  # PDF a b c d e f: [x y 1] -> [ax+cy+e, bx+dy+f]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_PATH, _FORM = pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM
_LINETO, _MOVETO = pdfium_c.FPDF_SEGMENT_LINETO, pdfium_c.FPDF_SEGMENT_MOVETO
_P, _I = pc.P, pc.I


def _compose(m: Matrix, then: Matrix) -> Matrix:
    """`m` followed by `then`."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = then
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


class _Reader:
    """Collects rules in PDF user space (points, y up) while walking the page's objects."""

    def __init__(self) -> None:
        self.h: list[tuple[float, float, float]] = []  # y, x0, x1
        self.v: list[tuple[float, float, float]] = []  # x, y0, y1
        self._f = (ctypes.c_float * 6)()
        self._fa = ctypes.addressof(self._f)
        self._u = (ctypes.c_uint * 4)()
        self._ua = ctypes.addressof(self._u)
        self._i = (ctypes.c_int * 2)()
        self._ia = ctypes.addressof(self._i)

    def walk(self, parent: int, count: int, get: ctypes._CFuncPtr, matrix: Matrix | None, depth: int) -> None:
        for i in range(count):
            obj = get(parent, i)
            kind = pc.obj_type(obj)
            if kind == _PATH:
                self._path(obj, matrix)
            elif kind == _FORM and depth < _MAX_DEPTH:
                own = self._matrix(obj)
                self.walk(obj, max(pc.form_count(obj), 0), pc.form_obj,
                          own if matrix is None else _compose(own, matrix), depth + 1)

    def _matrix(self, obj: int) -> Matrix:
        pc.obj_matrix(obj, self._fa)
        f = self._f
        return f[0], f[1], f[2], f[3], f[4], f[5]

    def _inked(self, obj: int, getter: ctypes._CFuncPtr) -> bool:
        a = self._ua
        if not getter(obj, a, a + 4, a + 8, a + 12):
            return True  # unknown colour: assume ink
        u = self._u
        return u[3] > 0 and min(u[0], u[1], u[2]) < WHITE

    def _path(self, obj: int, matrix: Matrix | None) -> None:
        a = self._fa
        if not pc.obj_bounds(obj, a, a + 4, a + 8, a + 12):
            return
        f = self._f
        l, b, r, t = f[0], f[1], f[2], f[3]  # noqa: E741
        if matrix is not None:  # inside a form XObject: bounds are in the form's space
            (x0, y0), (x1, y1) = _apply(matrix, l, b), _apply(matrix, r, t)
            l, r, b, t = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)  # noqa: E741
        w, h = r - l, t - b
        thin = min(w, h) <= MAX_THICK_PT and max(w, h) >= max(MIN_LENGTH_PT, 2 * min(w, h))
        if not thin and (w < MIN_LENGTH_PT or h < MIN_LENGTH_PT):
            return  # a dot, too small for any rule
        pc.draw_mode(obj, self._ia, self._ia + 4)
        fill = self._i[0] != 0 and self._inked(obj, pc.fill_color)
        stroke = self._i[1] != 0 and self._inked(obj, pc.stroke_color)
        if not (fill or stroke):
            return
        if thin:
            self._thin(l, b, r, t)
            return
        n = pc.seg_count(obj)
        if 0 < n <= MAX_SEGMENTS:
            own = self._matrix(obj)
            self._segments(obj, n, own if matrix is None else _compose(own, matrix), stroke)

    def _thin(self, l: float, b: float, r: float, t: float) -> bool:  # noqa: E741
        """A thin box is one rule along its long side (a stroked line or a filled bar)."""
        w, h = r - l, t - b
        if h <= MAX_THICK_PT and w >= max(MIN_LENGTH_PT, 2 * h):
            self.h.append(((b + t) / 2, l, r))
            return True
        if w <= MAX_THICK_PT and h >= max(MIN_LENGTH_PT, 2 * w):
            self.v.append(((l + r) / 2, b, t))
            return True
        return False

    def _segments(self, obj: int, n: int, matrix: Matrix, stroked: bool) -> None:
        """Straight axis-aligned segments of a stroked path; thin rectangles of a filled one."""
        a, f = self._fa, self._f
        pts: list[tuple[float, float]] = []
        start: tuple[float, float] | None = None
        for k in range(n):
            seg = pc.seg_get(obj, k)
            pc.seg_point(seg, a, a + 4)
            p = _apply(matrix, f[0], f[1])
            kind = pc.seg_type(seg)
            if kind == _MOVETO:
                self._subpath(pts, stroked)
                pts, start = [p], p
                continue
            if kind == _LINETO:
                pts.append(p)
            else:  # a curve ends the straight run
                self._subpath(pts, stroked)
                pts = [p]
            if pc.seg_close(seg) and start is not None:
                pts.append(start)
                self._subpath(pts, stroked)
                pts = [start]
        self._subpath(pts, stroked)

    def _subpath(self, pts: list[tuple[float, float]], stroked: bool) -> None:
        if len(pts) < 2:
            return
        if stroked:
            for (x0, y0), (x1, y1) in itertools.pairwise(pts):
                if abs(y1 - y0) <= 0.5 and abs(x1 - x0) >= MIN_LENGTH_PT:
                    self.h.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
                elif abs(x1 - x0) <= 0.5 and abs(y1 - y0) >= MIN_LENGTH_PT:
                    self.v.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
            return
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        l, r, b, t = min(xs), max(xs), min(ys), max(ys)  # noqa: E741
        if all((abs(x - l) < 0.5 or abs(x - r) < 0.5) and (abs(y - b) < 0.5 or abs(y - t) < 0.5)
               for x, y in pts):
            self._thin(l, b, r, t)  # a filled rectangle: a rule when it is a bar


def vector_rules(page: pdfium.PdfPage, frame: PageFrame, own_objects: int | None = None) -> list[Rule]:
    """The page's rules in `frame` (inches, y down). `own_objects`: walk only the first that many
    top-level objects (form-field appearances flattened in after them draw field boxes, not tables)."""
    reader = _Reader()
    raw = ctypes.cast(page.raw, _P).value or 0
    count = max(pc.page_count(raw), 0)
    if own_objects is not None:
        count = min(count, own_objects)
    reader.walk(raw, count, pc.page_obj, None, 0)
    rules: list[Rule] = []
    for y, x0, x1 in reader.h:
        a, top, b, _ = frame.box(x0, y, x1, y)
        rules.append(Rule(True, top, a, b))
    for x, y0, y1 in reader.v:
        left, a, _, b = frame.box(x, y0, x, y1)
        rules.append(Rule(False, left, a, b))
    return rules
