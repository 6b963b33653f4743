"""Selection marks (check boxes, radio buttons) on a digital PDF page, whatever draws them.

Forms draw boxes in three ways, and a reader that knows only one misses most of them:
- vector paths: a small closed square or circle; selected when filled dark or when ink (a stroke,
  a tick glyph, a typed 'X', an image) is drawn inside it;
- small images of a box: the pixels are judged like a scan (`engine/scan/marks.py`): an outline
  inked along each side, selected when the interior (or a tick overflowing it) holds ink;
- font glyphs: Unicode ☐ ☑ ☒ ✓ ✔ ✗ ✘ □ ○ ◉ in any font, and symbol fonts whose codes are not Unicode
  (Wingdings ¨/o/q = box, þ = ☑, ý/x = ☒, ü = ✓; Wingdings 2; ZapfDingbats). A symbol font is known
  by its name, so an 'o' in Helvetica stays a letter.
A tick or cross drawn over a box selects it; a tick standing alone is a selected mark of its own,
unless it is set in a phrase (a column header "✓ if you are 65"). A box with a number or a word
inside is a label ("line 12"), not a check box. The characters that are marks are returned in
`glyph_chars` so the text reader leaves them out of the words.

Work happens in PDF user space (points, y up); only the final marks are converted to the displayed
page (inches, y down, /Rotate applied). PDFium is called through private prototypes that take and
return plain integers, and object bounds are written by PDFium straight into one float buffer: per
object that is three C calls and no Python objects, which keeps a dense form page at a few ms.

Why it is long: the three ways PDFs draw a box (paths, images, font glyphs) share one walk over the
page's objects and one set of size and shape checks; apart they would walk the page three times.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from engine.page.model import SelectionMark
from engine.pdf import pdfium_calls as pc
from engine.pdf.frame import PageFrame

MARK_MIN_IN, MARK_MAX_IN = 0.07, 0.4  # vector and image boxes (as before this module)
GLYPH_MIN_IN, GLYPH_MAX_IN = 0.05, 0.5  # glyph marks
IMAGE_MAX_IN = 0.6  # larger images are not read for marks
SELECTED_FILL = 0.08  # interior ink share that selects an image box (as for scans)
EXACT = 0.99  # confidence of digital evidence

_PATH, _TEXT, _IMAGE, _FORM = (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_TEXT,
                               pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM)
_INVISIBLE_TEXT = pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE
_MOVETO = pdfium_c.FPDF_SEGMENT_MOVETO

# Glyph kinds.
BOX, CHECKED, TICK, FILLED, CIRCLE, CIRCLE_ON, DOT = "box", "checked", "tick", "filled", "circle", "on", "dot"

_UNICODE: dict[str, str] = {
    **dict.fromkeys("☐□▢◻◽⬜❏❐❑❒", BOX),
    **dict.fromkeys("☑☒⌧⊠⮽\U0001f5f5\U0001f5f7\U0001f5f9", CHECKED),
    **dict.fromkeys("✓✔✕✖✗✘\U0001f5f4\U0001f5f6\U0001f5f8", TICK),
    **dict.fromkeys("■◼◾⬛", FILLED),
    **dict.fromkeys("○◯❍", CIRCLE),
    **dict.fromkeys("◉◎⦿", CIRCLE_ON),
    **dict.fromkeys("●⚫", DOT),
}
# Symbol fonts: character code -> kind. PDFium reports their codes either unchanged or in the
# private-use area at U+F000 + code (fonts with a symbolic cmap, e.g. Wingdings embedded by Word).
_WINGDINGS = {0x6F: BOX, 0x70: BOX, 0x71: BOX, 0x72: BOX, 0xA8: BOX, 0x78: CHECKED, 0xFD: CHECKED,
              0xFE: CHECKED, 0xFB: TICK, 0xFC: TICK, 0x6E: FILLED, 0x6D: CIRCLE, 0xA1: CIRCLE,
              0xA4: CIRCLE_ON, 0xA5: CIRCLE_ON, 0x6C: DOT}
_WINGDINGS2 = {0x4F: TICK, 0x50: TICK, 0x51: CHECKED, 0x52: CHECKED, 0x53: CHECKED, 0x54: CHECKED,
               0xA3: BOX}
# ZapfDingbats is normally mapped to Unicode by PDFium (❏ ❑ ■ ✔ ✘ ●); these codes are the fallback.
_DINGBATS = {0x6F: BOX, 0x70: BOX, 0x71: BOX, 0x72: BOX, 0x6E: FILLED, 0x6D: CIRCLE, 0x6C: DOT,
             **dict.fromkeys(range(0x33, 0x39), TICK)}
_PUA = "\uf020-\uf0ff"
_UNICODE_RE = re.compile("[" + "".join(_UNICODE) + _PUA + "]")
_SYMBOL_RE = re.compile("[" + re.escape("".join(sorted({chr(c) for t in (_WINGDINGS, _WINGDINGS2, _DINGBATS)
                                                          for c in t}))) + "]")
_LONE_X_RE = re.compile(r"(?<!\S)[xX](?!\S)")  # a typed 'X': a mark only when inside a box
_SUBSET_RE = re.compile(r"^[A-Z]{6}\+")


def _font_table(name: str) -> dict[int, str] | None:
    """The code table of a symbol font, from its (maybe subset-prefixed) name; None for text fonts."""
    n = _SUBSET_RE.sub("", name).lower().replace(" ", "").replace("-", "")
    if "wingdings2" in n:
        return _WINGDINGS2
    if "wingdings3" in n:  # arrows only
        return None
    if "wingdings" in n:
        return _WINGDINGS
    if "dingbats" in n or n.startswith("zadb"):
        return _DINGBATS
    return None


def _code(ch: str) -> int:
    c = ord(ch)
    return c - 0xF000 if 0xF020 <= c <= 0xF0FF else c


# -- PDFium, integers in and out -------------------------------------------------------------------
_P, _I, _U, _F = pc.P, pc.I, pc.U, pc.F
_c = pdfium_c
_text_font = pc.proto(_c.FPDFTextObj_GetFont, _P, _P)
_font_name = pc.proto(_c.FPDFFont_GetBaseFontName, ctypes.c_size_t, _P, _P, ctypes.c_size_t)
_text_of_obj = pc.proto(_c.FPDFTextObj_GetText, _U, _P, _P, _P, _U)
_render_mode = pc.proto(_c.FPDFTextObj_GetTextRenderMode, _I, _P)
_char_obj = pc.proto(_c.FPDFText_GetTextObject, _P, _P, _I)
_char_box = pc.proto(_c.FPDFText_GetCharBox, _I, _P, _I, _P, _P, _P, _P)
_char_at = pc.proto(_c.FPDFText_GetCharIndexAtPos, _I, _P, ctypes.c_double, ctypes.c_double,
                  ctypes.c_double, ctypes.c_double)
_char_unicode = pc.proto(_c.FPDFText_GetUnicode, ctypes.c_uint, _P, _I)


def _addr(handle: object) -> int:
    return ctypes.cast(handle, _P).value or 0


@dataclass
class MarkScan:
    marks: list[SelectionMark]  # inches, y down (PageFrame coordinates)
    glyph_chars: set[int]  # textpage indices of characters that are marks or ticks: not words


@dataclass
class _Box:
    """A candidate mark in user space (points, y up)."""

    l: float  # noqa: E741
    b: float
    r: float
    t: float
    selected: bool
    confidence: float = EXACT
    chars: list[int] = field(default_factory=list)
    obj: int = -1  # row in the object table of the object that draws it (-1: a glyph)
    label: bool = False  # plain text sits inside: a label box ("12"), not a check box

    @property
    def size(self) -> float:
        return max(self.r - self.l, self.t - self.b)


# -- page objects ---------------------------------------------------------------------------------
class _Objects:
    """Paths, texts and images of the page (form XObjects flattened), bounds in page space."""

    def __init__(self, page: pdfium.PdfPage, limit: int | None = None) -> None:
        handles: list[int] = []
        types: list[int] = []
        bounds: list[tuple[float, float, float, float]] = []
        self._walk(_addr(page.raw), pc.page_count, pc.page_obj, None, 0, handles, types, bounds, limit)
        keep = [i for i, k in enumerate(types) if k in (_PATH, _TEXT, _IMAGE)]
        self.handles: list[int] = [handles[i] for i in keep]
        self.types = np.array([types[i] for i in keep], dtype=np.int32)
        self.bounds = np.array([bounds[i] for i in keep], dtype=np.float64).reshape(len(keep), 4)

    @staticmethod
    def _walk(parent: int, count: ctypes._CFuncPtr, get: ctypes._CFuncPtr, matrix: _Matrix | None,
              depth: int, handles: list[int], types: list[int],
              bounds: list[tuple[float, float, float, float]], limit: int | None = None) -> None:
        """Appends every object under `parent`; plain Python, because a flattened fillable page holds one
        small form XObject per widget, where numpy's per-call overhead cost more than the objects."""
        n = max(count(parent), 0)
        if limit is not None:
            n = min(n, limit)
        buf = (ctypes.c_float * 4)()
        a = ctypes.addressof(buf)
        forms: list[int] = []
        for i in range(n):
            h = get(parent, i)
            k = pc.obj_type(h)
            box = (0.0, 0.0, 0.0, 0.0)
            if k == _FORM:
                forms.append(h)
            elif k in (_PATH, _TEXT, _IMAGE):
                if pc.obj_bounds(h, a, a + 4, a + 8, a + 12):
                    box = (buf[0], buf[1], buf[2], buf[3])
                    if matrix is not None:  # children of a form XObject report bounds in the form's space
                        box = _transform(box, matrix)
                else:
                    k = -1
            handles.append(h)
            types.append(k)
            bounds.append(box)
        if depth >= 4:
            return
        for h in forms:
            m = pdfium_c.FS_MATRIX()
            pc.obj_matrix(h, ctypes.addressof(m))
            own = (m.a, m.b, m.c, m.d, m.e, m.f)
            _Objects._walk(h, pc.form_count, pc.form_obj, own if matrix is None else _compose(own, matrix),
                           depth + 1, handles, types, bounds)


_Matrix = tuple[float, float, float, float, float, float]  # PDF a b c d e f: [x y 1] -> [ax+cy+e, bx+dy+f]


def _compose(m: _Matrix, then: _Matrix) -> _Matrix:
    """`m` followed by `then` (row vectors: m @ then)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = then
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _transform(box: tuple[float, float, float, float], m: _Matrix) -> tuple[float, float, float, float]:
    """Axis-aligned bounds of a box mapped by a PDF matrix."""
    a, b, c, d, e, f = m
    xs, ys = (box[0], box[2]), (box[1], box[3])
    tx = [a * x + c * y + e for x in xs for y in ys]
    ty = [b * x + d * y + f for x in xs for y in ys]
    return min(tx), min(ty), max(tx), max(ty)


def _draw_mode(h: int) -> tuple[bool, bool]:
    fill, stroke = ctypes.c_int(0), ctypes.c_int(0)
    pc.draw_mode(h, ctypes.addressof(fill), ctypes.addressof(stroke))
    return fill.value != 0, bool(stroke.value)


def _color(h: int, getter: ctypes._CFuncPtr) -> tuple[int, int, int, int] | None:
    v = (ctypes.c_uint * 4)()
    a = ctypes.addressof(v)
    if not getter(h, a, a + 4, a + 8, a + 12):
        return None
    return v[0], v[1], v[2], v[3]


def _dark(rgba: tuple[int, int, int, int] | None) -> bool:
    return rgba is not None and rgba[3] > 0 and sum(rgba[:3]) / 3 < 128


def _inked(rgba: tuple[int, int, int, int] | None) -> bool:
    """Leaves visible ink on white paper (unknown colours count as ink)."""
    return rgba is None or (rgba[3] > 0 and min(rgba[:3]) < 200)


def _visible_ink(h: int) -> bool:
    """A path that leaves ink: stroked or filled in something other than (near) white."""
    fill, stroke = _draw_mode(h)
    return (stroke and _inked(_color(h, pc.stroke_color))) or (fill and _inked(_color(h, pc.fill_color)))


def _is_outline(h: int) -> bool:
    """A closed shape whose points all lie near its bounding box's edges: a square or a circle.

    Open strokes (a tick, the two lines of an X) and filled tick or cross outlines (points inside)
    are ink drawn in a box, not boxes.
    """
    n = pc.seg_count(h)
    if n < 3 or n > 60:
        return False
    xy = (ctypes.c_float * 2)()
    a = ctypes.addressof(xy)
    pts: list[tuple[float, float]] = []
    start: tuple[float, float] | None = None
    closed, last_close = True, True
    for i in range(n):
        seg = pc.seg_get(h, i)
        pc.seg_point(seg, a, a + 4)
        p = (xy[0], xy[1])
        if pc.seg_type(seg) == _MOVETO:
            closed &= start is None or last_close or _near(pts[-1], start)
            start = p
        pts.append(p)
        last_close = bool(pc.seg_close(seg))
    closed &= start is None or last_close or _near(pts[-1], start)
    arr = np.array(pts)
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    size = hi - lo
    if not closed or size.min() <= 0:
        return False
    tol = 0.2 * size.min()
    return bool(((arr - lo < tol) | (hi - arr < tol)).any(axis=1).all())


def _near(p: tuple[float, float], q: tuple[float, float]) -> bool:
    return abs(p[0] - q[0]) < 0.5 and abs(p[1] - q[1]) < 0.5


def _vector_boxes(objs: _Objects) -> list[_Box]:
    lo, hi = MARK_MIN_IN * 72, MARK_MAX_IN * 72
    w = objs.bounds[:, 2] - objs.bounds[:, 0]
    h = objs.bounds[:, 3] - objs.bounds[:, 1]
    ok = (objs.types == _PATH) & (w >= lo) & (w <= hi) & (h >= lo) & (h <= hi)
    ok &= (w >= 0.8 * h) & (w <= 1.25 * h)
    boxes = []
    for i in np.flatnonzero(ok).tolist():
        hd = objs.handles[i]
        fill, stroke = _draw_mode(hd)
        if not (fill or stroke) or not _is_outline(hd):
            continue
        fill_rgba = _color(hd, pc.fill_color) if fill else None
        if not stroke and not _inked(fill_rgba):
            continue  # a white patch, not a drawn box
        boxes.append(_Box(*objs.bounds[i].tolist(), selected=fill and _dark(fill_rgba), obj=i))
    return boxes


# -- images ---------------------------------------------------------------------------------------
def _image_ink(page: pdfium.PdfPage, h: int) -> np.ndarray | None:
    """The image as drawn (matrix and masks applied) at about its native resolution: True = ink."""
    try:
        obj = pdfium.PdfObject(ctypes.cast(h, pdfium_c.FPDF_PAGEOBJECT), page=page, pdf=page.pdf)
        bitmap = obj.get_bitmap(render=True)
    except (pdfium.PdfiumError, AttributeError):
        return None
    try:
        arr = np.array(bitmap.to_numpy(), copy=True)
        bgra = bitmap.format == pdfium_c.FPDFBitmap_BGRA
    finally:
        bitmap.close()
    if arr.ndim == 2:
        return arr < 128
    gray = arr[..., :3].astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)  # BGR
    ink = gray < 128
    if bgra and arr.shape[2] == 4:
        ink &= arr[..., 3] >= 128
    return ink


def _side_coverage(mask: np.ndarray) -> float:
    """Smallest share, over the four sides, of positions inked within the side's outer band."""
    h, w = mask.shape
    band = max(1, round(min(h, w) * 0.18))
    return float(min(mask[:band].any(axis=0).mean(), mask[-band:].any(axis=0).mean(),
                     mask[:, :band].any(axis=1).mean(), mask[:, -band:].any(axis=1).mean()))


def _box_in_pixels(ink: np.ndarray) -> tuple[int, int, int, int, bool, float] | None:
    """(x0, y0, x1, y1, selected, confidence) of a box outline in the pixels, or None.

    The outline is the ink's extent or, when a tick overflows the box, the span of the rows and
    columns that are mostly ink (the box's sides); ink outside the outline then selects it too.
    """
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size < 4 or cols.size < 4:
        return None
    spans = [(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)]
    full_r, full_c = np.flatnonzero(ink.mean(axis=1) >= 0.6), np.flatnonzero(ink.mean(axis=0) >= 0.6)
    if full_r.size >= 2 and full_c.size >= 2:
        spans.append((int(full_c[0]), int(full_r[0]), int(full_c[-1]) + 1, int(full_r[-1]) + 1))
    for x0, y0, x1, y1 in spans:
        cw, ch = x1 - x0, y1 - y0
        if cw < 4 or ch < 4 or not 0.8 <= cw / ch <= 1.25:
            continue
        crop = ink[y0:y1, x0:x1]
        if _side_coverage(crop) < 0.9:
            continue
        border = max(1, round(min(ch, cw) * 0.2))
        interior = crop[border:-border, border:-border]
        if interior.size == 0:
            continue
        fill = float(interior.mean())
        if fill > 0.9:
            return None  # a solid square (a bullet)
        overflow = int(ink.sum()) - int(crop.sum()) > 0.02 * ink.size
        selected = fill >= SELECTED_FILL or overflow
        margin = 1.0 if overflow else abs(fill - SELECTED_FILL) / SELECTED_FILL
        return x0, y0, x1, y1, selected, round(min(EXACT, 0.6 + 0.39 * min(1.0, margin)), 3)
    return None


def _image_marks(page: pdfium.PdfPage, objs: _Objects) -> tuple[list[_Box], dict[int, bool]]:
    """Boxes drawn as small images; for every small image, whether it carries ink at all."""
    boxes: list[_Box] = []
    inked: dict[int, bool] = {}
    w = objs.bounds[:, 2] - objs.bounds[:, 0]
    h = objs.bounds[:, 3] - objs.bounds[:, 1]
    top = IMAGE_MAX_IN * 72
    for i in np.flatnonzero((objs.types == _IMAGE) & (w <= top) & (h <= top) & (w > 1) & (h > 1)).tolist():
        ink = _image_ink(page, objs.handles[i])
        inked[i] = ink is not None and bool(ink.any())
        found = _box_in_pixels(ink) if inked[i] else None
        if found is None:
            continue
        x0, y0, x1, y1, selected, conf = found
        l, b, r, t = objs.bounds[i].tolist()  # noqa: E741
        sx, sy = (r - l) / ink.shape[1], (t - b) / ink.shape[0]
        box = _Box(l + x0 * sx, t - y1 * sy, l + x1 * sx, t - y0 * sy, selected, conf, obj=i)
        if MARK_MIN_IN <= box.size / 72 <= MARK_MAX_IN:
            boxes.append(box)
    return boxes, inked


# -- glyphs ---------------------------------------------------------------------------------------
@dataclass
class _Glyph:
    index: int
    kind: str
    l: float  # noqa: E741
    b: float
    r: float
    t: float


class _Text:
    """The text page's characters and the few per-character lookups the glyph scan needs."""

    def __init__(self, textpage: pdfium.PdfTextPage) -> None:
        self.raw = _addr(textpage.raw)
        n = max(textpage.count_chars(), 0)
        text = textpage.get_text_range(0, n) if n else ""
        if len(text) != n:  # characters outside the BMP: one code point per index
            text = "".join(chr(_char_unicode(self.raw, i) or 32) for i in range(n))
        self.n, self.text = n, text
        self._box = (ctypes.c_double * 4)()
        self._a = ctypes.addressof(self._box)

    def box(self, i: int) -> tuple[float, float, float, float]:
        """Tight glyph box (l, b, r, t) in user space."""
        a = self._a
        _char_box(self.raw, i, a, a + 8, a + 16, a + 24)  # left, right, bottom, top
        v = self._box
        return v[0], v[2], v[1], v[3]

    def invisible(self, i: int) -> bool:
        obj = _char_obj(self.raw, i)
        return bool(obj) and _render_mode(obj) == _INVISIBLE_TEXT


def _font_name_of(font: int | None) -> str:
    if not font:
        return ""
    buf = ctypes.create_string_buffer(256)
    k = _font_name(font, buf, 256)
    return buf.raw[:max(k - 1, 0)].decode("latin-1", "replace")


class _Fonts:
    """Symbol-font code tables by PDFium font handle: one name lookup per font of the page."""

    def __init__(self) -> None:
        self._tables: dict[int, dict[int, str] | None] = {}

    def table(self, font: int | None) -> dict[int, str] | None:
        if not font:
            return None
        if font not in self._tables:
            self._tables[font] = _font_table(_font_name_of(font))
        return self._tables[font]

    def of_char(self, text: _Text, i: int) -> dict[int, str] | None:
        obj = _char_obj(text.raw, i)
        return self.table(_text_font(obj)) if obj else None


def _symbol_letters(text: _Text, objs: _Objects, fonts: _Fonts) -> dict[int, str]:
    """Characters of symbol fonts that PDFium reports by their raw codes ('o', 'þ'): index -> kind.

    A font reports all its codes one way (private use, Unicode or raw), so one object decides for
    the font, and only objects of raw-code fonts are read character by character; the thousands
    of ordinary letters of a page are never looked at one by one.
    """
    raw: dict[int, bool | None] = {}
    found: dict[int, str] = {}
    for i in np.flatnonzero(objs.types == _TEXT).tolist():
        h = objs.handles[i]
        font = _text_font(h)
        table = fonts.table(font)
        if table is None or raw.get(font) is False:
            continue
        chars = _object_chars(text, h, objs.bounds[i])
        string = "".join(text.text[j] for j in chars) if chars else _object_text(h, text.raw)
        if raw.get(font) is None:
            coded = [ch for ch in string if not ch.isspace()]
            raw[font] = None if not coded else any(ord(ch) <= 0xFF for ch in coded)
        if not raw.get(font) or not any(ord(ch) in table for ch in string):
            continue
        if not chars:
            chars = [k for k in range(text.n) if _char_obj(text.raw, k) == h]  # rare: ask them all
        for j in chars:
            kind = table.get(ord(text.text[j]))
            if kind is not None:
                found[j] = kind
    return found


def _object_chars(text: _Text, h: int, bounds: np.ndarray) -> list[int]:
    """Text-page indices of a text object's characters: one hit test, then the contiguous run.

    (FPDFTextObj_GetText walks the whole text page on every call: ~100x dearer on a dense page.)
    """
    l, b, r, t = bounds.tolist()  # noqa: E741
    j = _char_at(text.raw, (l + r) / 2, (b + t) / 2, (r - l) / 2 + 1, (t - b) / 2 + 1)
    if j < 0 or _char_obj(text.raw, j) != h:
        return []
    lo = hi = j
    while lo > 0 and _char_obj(text.raw, lo - 1) == h:
        lo -= 1
    while hi + 1 < text.n and _char_obj(text.raw, hi + 1) == h:
        hi += 1
    return list(range(lo, hi + 1))


def _object_string(text: _Text, h: int, bounds: np.ndarray) -> str:
    chars = _object_chars(text, h, bounds)
    return "".join(text.text[j] for j in chars) if chars else _object_text(h, text.raw)


def _glyphs(text: _Text, objs: _Objects) -> list[_Glyph]:
    fonts = _Fonts()
    found: dict[int, str] = {}
    for m in _UNICODE_RE.finditer(text.text):
        ch = m.group()
        kind = _UNICODE.get(ch)
        if kind is None:  # private use: a symbol font's own code
            table = fonts.of_char(text, m.start())
            kind = table.get(_code(ch)) if table else None
        if kind is not None:
            found[m.start()] = kind
    if _SYMBOL_RE.search(text.text):
        found.update(_symbol_letters(text, objs, fonts))
    lo, hi = GLYPH_MIN_IN * 72, GLYPH_MAX_IN * 72
    out = []
    for i, kind in sorted(found.items()):
        l, b, r, t = text.box(i)  # noqa: E741
        big, small = max(r - l, t - b), min(r - l, t - b)
        if lo <= big <= hi and small >= 0.4 * big and not text.invisible(i):
            out.append(_Glyph(i, kind, l, b, r, t))
    return out


def _inline(text: _Text, g: _Glyph) -> bool:
    """A tick set in a phrase ("✓ if you are 65", a column header): a letter right next to it."""
    h = g.t - g.b
    for step in (1, -1):
        j = g.index + step
        while 0 <= j < text.n and text.text[j] == " ":
            j += step
        if not (0 <= j < text.n and text.text[j].isalnum()):
            continue
        l, b, r, t = text.box(j)  # noqa: E741
        same_line = min(t, g.t) - max(b, g.b) > 0.3 * min(t - b, h)
        gap = l - g.r if step == 1 else g.l - r
        if same_line and gap < 1.5 * max(h, t - b):  # a space apart, not a cell apart
            return True
    return False


# -- ink inside boxes -----------------------------------------------------------------------------
def _object_text(h: int, tp: int) -> str:
    n = _text_of_obj(h, tp, None, 0)  # bytes, UTF-16LE with a terminator
    if n <= 2:
        return ""
    buf = ctypes.create_string_buffer(n)
    _text_of_obj(h, tp, ctypes.addressof(buf), n)
    return buf.raw[: n - 2].decode("utf-16-le", "replace")


def _text_meaning(text: _Text, h: int, bounds: np.ndarray) -> str:
    """A small text object inside a box: "tick" (X, ✓, a symbol), "label" (a number, a word) or ""."""
    chars = [ch for ch in _object_string(text, h, bounds) if not ch.isspace()]
    if not chars:
        return ""
    table = _font_table(_font_name_of(_text_font(h)))
    kinds = []
    for ch in chars:
        kind = _UNICODE.get(ch) or (table.get(_code(ch), TICK) if table is not None else None)
        kinds.append(kind or ("label" if ch.isalnum() and ch not in "xX" else TICK))
    if all(k in (BOX, CIRCLE) for k in kinds):
        return ""  # a box glyph (perhaps the box itself)
    return "label" if "label" in kinds else "tick"


def _ink_inside(boxes: list[_Box], objs: _Objects, inked: dict[int, bool], text: _Text) -> None:
    """Select a box when ink is drawn inside it; flag it a label box when plain text sits there.

    What counts: an object overlapping the box's interior (20% in from each side) and narrower than
    the box, so the box itself, its row's ruling and the text beside it do not.
    """
    if not boxes or not len(objs.handles):
        return
    bx = np.array([(q.l, q.b, q.r, q.t) for q in boxes])
    pad = 0.2 * (bx[:, 2:3] - bx[:, 0:1])
    c = objs.bounds
    hit = ((c[None, :, 0] < bx[:, 2:3] - pad) & (c[None, :, 2] > bx[:, 0:1] + pad)
           & (c[None, :, 1] < bx[:, 3:4] - pad) & (c[None, :, 3] > bx[:, 1:2] + pad)
           & ((c[None, :, 2] - c[None, :, 0]) < 0.9 * (bx[:, 2:3] - bx[:, 0:1])))
    by_obj = {q.obj: q for q in boxes if q.obj >= 0}
    for k, i in zip(*np.nonzero(hit), strict=True):
        box, i = boxes[int(k)], int(i)
        if i == box.obj:
            continue
        kind = objs.types[i]
        if i in by_obj:  # another box (a double border, an inner radio dot): only its fill counts
            box.selected |= by_obj[i].selected
        elif kind == _PATH:
            box.selected |= _visible_ink(objs.handles[i])
        elif kind == _IMAGE:
            box.selected |= inked.get(i, True)
        else:
            meaning = _text_meaning(text, objs.handles[i], objs.bounds[i])
            box.selected |= meaning == "tick"
            box.label |= meaning == "label"


def _box_at(boxes: list[_Box], x: float, y: float) -> _Box | None:
    """The box a tick centred at (x, y) is drawn over: within the box grown by a quarter."""
    best, dist = None, float("inf")
    for bx in boxes:
        grow = 0.25 * (bx.r - bx.l)
        if bx.l - grow <= x <= bx.r + grow and bx.b - grow <= y <= bx.t + grow:
            d = abs(x - (bx.l + bx.r) / 2) + abs(y - (bx.b + bx.t) / 2)
            if d < dist:
                best, dist = bx, d
    return best


def _merge(boxes: list[_Box]) -> list[_Box]:
    """One mark per place: a box drawn twice, a glyph box on a vector box, an inner dot or square.

    Largest first; a box whose centre lies in an already kept box joins it.
    """
    if len(boxes) < 2:
        return boxes
    order = sorted(boxes, key=lambda q: -(q.r - q.l) * (q.t - q.b))
    bx = np.array([(q.l, q.b, q.r, q.t) for q in order])
    cx, cy = (bx[:, 0] + bx[:, 2]) / 2, (bx[:, 1] + bx[:, 3]) / 2
    inside = ((bx[:, None, 0] <= cx[None, :]) & (cx[None, :] <= bx[:, None, 2])
              & (bx[:, None, 1] <= cy[None, :]) & (cy[None, :] <= bx[:, None, 3]))  # [home, box]
    kept = np.zeros(len(order), dtype=bool)
    out: list[_Box] = []
    for j, q in enumerate(order):
        homes = np.flatnonzero(inside[:j, j] & kept[:j])
        if homes.size == 0:
            kept[j] = True
            out.append(q)
            continue
        home = order[int(homes[0])]
        home.selected |= q.selected
        home.label &= q.label
        home.chars += q.chars
        home.confidence = max(home.confidence, q.confidence)
    return out


# -- the page -------------------------------------------------------------------------------------
def page_marks(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage,
               own_objects: int | None = None) -> MarkScan:
    """All selection marks of a digital page, and the text characters that draw them.

    `own_objects`: how many top-level objects the page had before its form fields were flattened into it;
    the widget appearances appended after them are not walked (their marks come from the widgets).
    """
    objs = _Objects(page, own_objects)
    text = _Text(textpage)
    boxes: list[_Box] = _vector_boxes(objs)
    image_boxes, inked = _image_marks(page, objs)
    boxes += image_boxes

    ticks: list[_Glyph] = []
    filled: list[_Glyph] = []
    for g in _glyphs(text, objs) if text.n else []:
        if g.kind == TICK:
            ticks.append(g)
        elif g.kind in (FILLED, DOT):
            filled.append(g)
        else:
            boxes.append(_Box(g.l, g.b, g.r, g.t, g.kind in (CHECKED, CIRCLE_ON), chars=[g.index]))
    # A filled square or dot is a chosen option only among empty boxes or circles of its size;
    # elsewhere it is a bullet.
    sizes = [bx.size for bx in boxes]
    for g in filled:
        s = max(g.r - g.l, g.t - g.b)
        if any(0.67 * s <= z <= 1.5 * s for z in sizes):
            boxes.append(_Box(g.l, g.b, g.r, g.t, True, chars=[g.index]))

    _ink_inside(boxes, objs, inked, text)

    # A tick glyph selects the box it is drawn over, and so does a typed 'X'; a tick on its own is a
    # selected mark unless it belongs to a phrase.
    lone: list[_Box] = []
    for g in ticks:
        home = _box_at(boxes, (g.l + g.r) / 2, (g.b + g.t) / 2)
        if home is not None:
            home.selected = True
            home.chars.append(g.index)
        elif not _inline(text, g):
            lone.append(_Box(g.l, g.b, g.r, g.t, True, chars=[g.index]))
    if boxes:
        for m in _LONE_X_RE.finditer(text.text):
            l, b, r, t = text.box(m.start())  # noqa: E741
            home = _box_at(boxes, (l + r) / 2, (b + t) / 2)
            if home is not None:
                home.selected = True
                home.chars.append(m.start())

    frame = PageFrame(page)
    glyph_chars: set[int] = set()
    marks: list[SelectionMark] = []
    for bx in _merge(boxes) + lone:
        if bx.label and not bx.chars:
            continue  # a box around a line number ("1", "94"), not a check box
        glyph_chars.update(bx.chars)
        x0, y0, x1, y1 = frame.box(bx.l, bx.b, bx.r, bx.t)
        marks.append(SelectionMark(x0, y0, x1, y1, bx.selected, bx.confidence))
    marks.sort(key=lambda m: (round(m.y0, 2), m.x0))
    return MarkScan(marks, glyph_chars)
