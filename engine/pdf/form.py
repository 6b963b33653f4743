"""What a person sees in a fillable PDF's form fields (AcroForm widgets), read without OCR.

The values people type into a fillable PDF live in form fields, each drawn by its own appearance
stream; the page's own text is the blank form. The engine reads them in two steps:

1. `read_widgets` lists every visible widget with its type, rectangle, value and state through
   PDFium's form API (pypdfium2, `init_forms` done when the document is opened);
2. the page is *flattened* (`FPDFPage_Flatten`): every widget's normal appearance becomes page
   content, so PDFium's text page gives the typed characters exactly where they are drawn, in the
   font, size, alignment and comb spacing of the appearance. The alternative, laying the value out
   from the field dictionary ourselves, would have to re-implement each writer's appearance rules
   (padding, auto size, quadding, comb cells, multi-line wrapping) and still guess.

From the widgets come what the text page cannot tell: check boxes and radio buttons become selection
marks with the state their appearance shows (`/AS`), the glyph their appearance draws (a ZapfDingbats
check) is not a word, a comb field is one word per cell (as the cloud reads a nine-digit comb field as
nine words), and a field with a value but no appearance stream still shows its value (one line, left
aligned, the field's font size or the rectangle's height).
"""

from __future__ import annotations

import ctypes
import logging
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from engine.errors import ApiError
from engine.page.model import SelectionMark, Word
from engine.page.rect_grid import RectGrid
from engine.pdf.frame import PT_PER_INCH, PageFrame

log = logging.getLogger("engine.pdf.form")

COMB_FLAG = 1 << 24  # PDF 32000-1, table 228: text field flag bit 25
_HIDDEN = (pdfium_c.FPDF_ANNOT_FLAG_HIDDEN | pdfium_c.FPDF_ANNOT_FLAG_INVISIBLE
           | pdfium_c.FPDF_ANNOT_FLAG_NOVIEW)
_MARK_TYPES = {pdfium_c.FPDF_FORMFIELD_CHECKBOX: "checkbox", pdfium_c.FPDF_FORMFIELD_RADIOBUTTON: "radio"}
_TEXT_TYPES = {pdfium_c.FPDF_FORMFIELD_TEXTFIELD: "text", pdfium_c.FPDF_FORMFIELD_COMBOBOX: "choice",
               pdfium_c.FPDF_FORMFIELD_LISTBOX: "choice"}
AVG_CHAR_EM = 0.5  # Helvetica's mean advance, for values drawn without an appearance stream
_BUF_CHARS = 4096


@dataclass
class Widget:
    """One visible widget, its rectangle in displayed-page inches (y down)."""

    kind: str  # text | choice | checkbox | radio
    x0: float
    y0: float
    x1: float
    y1: float
    value: str = ""
    checked: bool = False
    comb_cells: int = 0  # MaxLen of a comb field, else 0
    font_size: float = 0.0  # points; 0 = auto
    pdf_rect: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # user space: l, b, r, t


def has_form(doc: pdfium.PdfDocument) -> bool:
    return doc.get_formtype() in (pdfium_c.FORMTYPE_ACRO_FORM, pdfium_c.FORMTYPE_XFA_FOREGROUND)


_BUFFERS = threading.local()


def _utf16(fn, *args) -> str:  # a raw PDFium getter writing UTF-16LE
    buf = getattr(_BUFFERS, "buf", None)
    if buf is None:  # one buffer per thread, reused: a page has dozens of widgets
        buf = _BUFFERS.buf = (ctypes.c_ushort * _BUF_CHARS)()
    n = fn(*args, buf, ctypes.sizeof(buf))
    if n <= 2:
        return ""
    if n > ctypes.sizeof(buf):  # a longer value: ask again with room for it
        buf = (ctypes.c_ushort * (n // 2 + 1))()
        n = fn(*args, buf, ctypes.sizeof(buf))
    return ctypes.string_at(buf, n - 2).decode("utf-16-le", errors="replace")


def _max_len(annot: ctypes.c_void_p) -> int:
    """MaxLen of the widget's field, which it may inherit from its parent field."""
    value = ctypes.c_float(0)
    if pdfium_c.FPDFAnnot_GetNumberValue(annot, b"MaxLen", ctypes.byref(value)):
        return max(0, int(value.value))
    parent = pdfium_c.FPDFAnnot_GetLinkedAnnot(annot, b"Parent")
    if not parent:
        return 0
    try:
        if pdfium_c.FPDFAnnot_GetNumberValue(parent, b"MaxLen", ctypes.byref(value)):
            return max(0, int(value.value))
        return 0
    finally:
        pdfium_c.FPDFPage_CloseAnnot(parent)


def _appearance_on(annot: ctypes.c_void_p) -> bool:
    """Whether a check box or radio button *shows* its on state: its /AS is set and not /Off (what is
    drawn; the field's /V can say otherwise in files written by careless tools)."""
    state = _utf16(pdfium_c.FPDFAnnot_GetStringValue, annot, b"AS")
    return bool(state) and state != "Off"


def _read_widget(form: ctypes.c_void_p, annot: ctypes.c_void_p, frame: PageFrame) -> Widget | None:
    if pdfium_c.FPDFAnnot_GetSubtype(annot) != pdfium_c.FPDF_ANNOT_WIDGET:
        return None
    if pdfium_c.FPDFAnnot_GetFlags(annot) & _HIDDEN:
        return None
    ftype = pdfium_c.FPDFAnnot_GetFormFieldType(form, annot)
    kind = _MARK_TYPES.get(ftype) or _TEXT_TYPES.get(ftype)
    if kind is None:  # push buttons, signatures, broken fields (no /FT): nothing a person typed
        return None
    rect = pdfium_c.FS_RECTF()
    if not pdfium_c.FPDFAnnot_GetRect(annot, ctypes.byref(rect)):
        return None
    left, right = sorted((rect.left, rect.right))
    bottom, top = sorted((rect.bottom, rect.top))
    if right - left <= 0 or top - bottom <= 0:
        return None
    x0, y0, x1, y1 = frame.box(left, bottom, right, top)
    widget = Widget(kind, x0, y0, x1, y1, pdf_rect=(left, bottom, right, top))
    if kind in ("checkbox", "radio"):
        widget.checked = _appearance_on(annot)
        return widget
    widget.value = _utf16(pdfium_c.FPDFAnnot_GetFormFieldValue, form, annot)
    size = ctypes.c_float(0)
    if pdfium_c.FPDFAnnot_GetFontSize(form, annot, ctypes.byref(size)):
        widget.font_size = max(0.0, float(size.value))
    if kind == "text" and pdfium_c.FPDFAnnot_GetFormFieldFlags(form, annot) & COMB_FLAG:
        widget.comb_cells = _max_len(annot)
    return widget


def read_widgets(page: pdfium.PdfPage, form: ctypes.c_void_p, frame: PageFrame) -> list[Widget]:
    """Visible text, choice, check box and radio widgets of the page (others and broken ones skipped)."""
    widgets: list[Widget] = []
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        if not annot:
            continue
        try:
            widget = _read_widget(form, annot, frame)
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
        if widget is not None:
            widgets.append(widget)
    return widgets


def load_page(doc: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    """A page without PDFium's interactive page view (`FORM_OnAfterLoadPage`, which pypdfium2 calls for
    a document with a form): reading fields needs only the form handle, and the view cost 3 ms per load."""
    raw = pdfium_c.FPDF_LoadPage(doc.raw, index)
    if not raw:
        raise pdfium.PdfiumError(f"Failed to load page {index + 1}.")
    page = pdfium.PdfPage(raw, doc, None)
    doc._add_kid(page)  # as PdfDocument.get_page does: closing the document closes its pages first
    return page


def flatten(page: pdfium.PdfPage) -> bool:
    """Draw every visible widget's appearance into the page content; the caller reloads the page."""
    return pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY) == pdfium_c.FLATTEN_SUCCESS


def widget_marks(widgets: list[Widget]) -> list[SelectionMark]:
    """Check boxes and radio buttons with the state their appearance shows: exact, so confidence 0.99."""
    return [SelectionMark(w.x0, w.y0, w.x1, w.y1, w.checked, 0.99)
            for w in widgets if w.kind in ("checkbox", "radio")]


def split_comb_cells(words: list[Word], widgets: list[Widget]) -> list[Word]:
    """A word drawn in a comb field becomes one word per cell, each the cell's character."""
    combs = [w for w in widgets if w.comb_cells > 1]
    if not combs:
        return words
    grid = RectGrid(((c.x0, c.y0, c.x1, c.y1) for c in combs), cell=0.5)
    out: list[Word] = []
    for word in words:
        hit = grid.find((word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2) if len(word.text) > 1 else None
        comb = combs[hit] if hit is not None else None
        if comb is None:
            out.append(word)
            continue
        cell = (comb.x1 - comb.x0) / comb.comb_cells
        step = (word.x1 - word.x0) / len(word.text)  # the characters' own spacing (= cell width)
        for i, ch in enumerate(word.text):
            left = word.x0 + i * step
            mid = left + step / 2
            index = min(comb.comb_cells - 1, max(0, int((mid - comb.x0) / cell)))
            # The character's box inside its cell: as wide as the glyph advance, never past the cell.
            c0 = max(comb.x0 + index * cell, left)
            c1 = min(comb.x0 + (index + 1) * cell, left + step)
            out.append(Word(ch, c0, word.y0, max(c1, c0 + 1e-3), word.y1, word.confidence))
    return out


def synthesized_words(widgets: list[Widget], words: list[Word]) -> list[Word]:
    """Words for fields that hold a value but drew nothing: the value, one line, left aligned.

    A PDF whose writer set /NeedAppearances instead of drawing the value still shows it in every
    viewer (the viewer draws it); without this the value would be lost to the reader.
    """
    filled = [w for w in widgets if w.kind in ("text", "choice") and w.value.strip()]
    if not filled:
        return []
    grid = RectGrid(((w.x0, w.y0, w.x1, w.y1) for w in filled), cell=0.5)
    drawn = {grid.find((t.x0 + t.x1) / 2, (t.y0 + t.y1) / 2) for t in words}
    out: list[Word] = []
    for i, w in enumerate(filled):
        if i in drawn:
            continue  # its appearance drew the value
        height_pt = (w.y1 - w.y0) * PT_PER_INCH
        size_pt = w.font_size or min(12.0, max(4.0, 0.7 * height_pt))
        size = size_pt / PT_PER_INCH
        pad = 2.0 / PT_PER_INCH
        top = w.y0 + max(0.0, ((w.y1 - w.y0) - size) / 2)
        first_line = w.value.splitlines()[0] if w.value.splitlines() else w.value
        if w.comb_cells > 1:
            cell = (w.x1 - w.x0) / w.comb_cells
            out.extend(Word(ch, w.x0 + (i + 0.2) * cell, top, w.x0 + (i + 0.8) * cell, top + size)
                       for i, ch in enumerate(first_line[: w.comb_cells]) if not ch.isspace())
            continue
        x = w.x0 + pad
        for token in first_line.split(" "):
            width = len(token) * AVG_CHAR_EM * size
            if token:
                out.append(Word(token, x, top, min(x + width, w.x1), top + size))
            x += width + AVG_CHAR_EM * size
    return out


def init_form(doc: pdfium.PdfDocument) -> ctypes.c_void_p | None:
    """The form handle of a document with fields (to be called before any page is loaded), else None.

    A hybrid AcroForm + XFA file is read from its AcroForm (this PDFium has no XFA); pypdfium2 logs a
    warning for every such file saying so, which is expected here and silenced.
    """
    if not has_form(doc):
        return None
    quiet = logging.getLogger("pypdfium2._helpers.document")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        doc.init_forms()
    except pdfium.PdfiumError as exc:  # a form PDFium cannot set up: read the page as it is
        log.info("form fields not read: %s", exc)
        return None
    finally:
        quiet.setLevel(level)
    return doc.formenv.raw if doc.formenv else None


def is_pure_xfa(doc: pdfium.PdfDocument) -> bool:
    """A dynamic XFA form: its pages are a placeholder ("Please wait..."), the form exists only as XFA."""
    return doc.get_formtype() == pdfium_c.FORMTYPE_XFA_FULL


def pure_xfa_error() -> ApiError:
    return ApiError(400, "UnsupportedXfaForm",
                    "The PDF is a dynamic XFA form: its pages hold only a placeholder and the form exists "
                    "only as XFA, which is not read. Save or print it as a regular PDF (or a PDF with "
                    "AcroForm fields) and submit that.")


def merge_marks(widget: list[SelectionMark], drawn: list[SelectionMark]) -> list[SelectionMark]:
    """Widget marks win: the box drawn under or by a check box widget is the same mark, not another."""
    def inside(m: SelectionMark, w: SelectionMark) -> bool:
        cx, cy = (m.x0 + m.x1) / 2, (m.y0 + m.y1) / 2
        pad = 0.25 * max(w.x1 - w.x0, w.y1 - w.y0)
        return w.x0 - pad <= cx <= w.x1 + pad and w.y0 - pad <= cy <= w.y1 + pad
    return widget + [m for m in drawn if not any(inside(m, w) for w in widget)]


def on_page(x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> bool:
    """Whether a box shows at least partly on the page (widgets may sit outside it)."""
    return x1 > 0 and y1 > 0 and x0 < width and y0 < height
