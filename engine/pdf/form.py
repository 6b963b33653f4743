"""What a person sees in a fillable PDF's form fields (AcroForm widgets), read without OCR.

The values people type into a fillable PDF live in form fields, each drawn by its own appearance
stream; the page's own text is the blank form. The engine reads them in two steps:

1. `read_widgets` lists every visible widget with its type, rectangle, value and state through
   PDFium's form API (pypdfium2, `init_forms` done when the document is opened); where the field tree
   omits widgets, a field has a value but no appearance, or the AcroForm says /NeedAppearances, PDFium's
   page view is built first, which adds those widgets to the form and draws every such field from its
   value (font size from /DA or auto, /Q, multi-line), as its viewer and the review page's image show it;
2. the page is *flattened* (`FPDFPage_Flatten`): every widget's normal appearance becomes page
   content, so PDFium's text page gives the typed characters exactly where they are drawn, in the
   font, size, alignment and comb spacing of the appearance. The alternative, laying the value out
   from the field dictionary ourselves, would have to re-implement each writer's appearance rules
   (padding, auto size, quadding, comb cells, multi-line wrapping) and still guess.

From the widgets come what the text page cannot tell: check boxes and radio buttons become selection
marks with the state their appearance shows (`/AS`), the glyph their appearance draws (a ZapfDingbats
check) is not a word, a comb field is one word per cell (as the cloud reads a nine-digit comb field as
nine words); `engine.pdf.field_text` turns the flattened text into the fields' words.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from engine.errors import ApiError
from engine.page.model import SelectionMark
from engine.pdf.frame import PageFrame

log = logging.getLogger("engine.pdf.form")

COMB_FLAG = 1 << 24  # PDF 32000-1, table 228: text field flag bit 25
MULTILINE_FLAG = 1 << 12  # text field flag bit 13
_HIDDEN = (pdfium_c.FPDF_ANNOT_FLAG_HIDDEN | pdfium_c.FPDF_ANNOT_FLAG_INVISIBLE
           | pdfium_c.FPDF_ANNOT_FLAG_NOVIEW)
_MARK_TYPES = {pdfium_c.FPDF_FORMFIELD_CHECKBOX: "checkbox", pdfium_c.FPDF_FORMFIELD_RADIOBUTTON: "radio"}
_TEXT_TYPES = {pdfium_c.FPDF_FORMFIELD_TEXTFIELD: "text", pdfium_c.FPDF_FORMFIELD_COMBOBOX: "choice",
               pdfium_c.FPDF_FORMFIELD_LISTBOX: "choice"}
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
    multiline: bool = False
    align: int = 0  # /Q: 0 left, 1 centred, 2 right
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
    flags = pdfium_c.FPDFAnnot_GetFormFieldFlags(form, annot)
    if kind == "text" and flags & COMB_FLAG:
        widget.comb_cells = _max_len(annot)
    widget.multiline = kind == "text" and bool(flags & MULTILINE_FLAG) and not widget.comb_cells
    q = ctypes.c_float(0)
    if pdfium_c.FPDFAnnot_GetNumberValue(annot, b"Q", ctypes.byref(q)):
        widget.align = int(q.value) if int(q.value) in (0, 1, 2) else 0
    return widget


def read_widgets(page: pdfium.PdfPage, form: ctypes.c_void_p, frame: PageFrame, *,
                 redraw: bool = False) -> list[Widget]:
    """Visible text, choice, check box and radio widgets of the page (others and broken ones skipped).

    With `redraw` (the AcroForm's /NeedAppearances) or where `needs_view` says so, PDFium's page view is
    built for the read and closed after it: it adds the widgets the field tree omits to the form and
    writes each field's appearance from its value, which the flattening then draws.
    """
    view = redraw or needs_view(page, form)
    if view:
        pdfium_c.FORM_OnAfterLoadPage(page.raw, form)
    widgets: list[Widget] = []
    try:
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
    finally:
        if view:
            pdfium_c.FORM_OnBeforeClosePage(page.raw, form)
    return widgets


def load_page(doc: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    """A page without PDFium's interactive page view (`FORM_OnAfterLoadPage`, which pypdfium2 calls for
    a document with a form): reading fields needs only the form handle, and the view cost 3 ms per load
    (`read_widgets` builds it only for the pages that need it)."""
    raw = pdfium_c.FPDF_LoadPage(doc.raw, index)
    if not raw:
        raise pdfium.PdfiumError(f"Failed to load page {index + 1}.")
    page = pdfium.PdfPage(raw, doc, None)
    doc._add_kid(page)  # as PdfDocument.get_page does: closing the document closes its pages first
    return page


_NEED_APPEARANCES = re.compile(rb"/NeedAppearances\s*true")


def needs_appearances(data: bytes) -> bool:
    """Whether the AcroForm asks viewers to draw every field from its value (`/NeedAppearances true`).

    PDFium's API does not show the catalog, so the file's bytes are searched; an AcroForm inside a
    compressed object stream is missed (its stale appearances are then read as they are drawn).
    """
    return _NEED_APPEARANCES.search(data) is not None


def needs_view(page: pdfium.PdfPage, form: ctypes.c_void_p) -> bool:
    """Whether PDFium's page view must be built before the widgets are read and flattened: a widget the
    field tree does not list (its type reads unknown until the view adds it to the form), or a text or
    choice field with a value but no appearance. The view makes PDFium draw such a field from `/V`,
    `/DA`, `/Q` and its flags, as its viewer does (and as the review page's image shows it)."""
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        if not annot:
            continue
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) != pdfium_c.FPDF_ANNOT_WIDGET:
                continue
            ftype = pdfium_c.FPDFAnnot_GetFormFieldType(form, annot)
            if ftype == -1 and (pdfium_c.FPDFAnnot_HasKey(annot, b"FT")
                                or pdfium_c.FPDFAnnot_HasKey(annot, b"Parent")):
                return True
            if (ftype in _TEXT_TYPES and not pdfium_c.FPDFAnnot_HasKey(annot, b"AP")
                    and _utf16(pdfium_c.FPDFAnnot_GetFormFieldValue, form, annot).strip()):
                return True
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return False


def flatten(page: pdfium.PdfPage) -> bool:
    """Draw every visible widget's appearance into the page content; the caller reloads the page."""
    return pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY) == pdfium_c.FLATTEN_SUCCESS


def widget_marks(widgets: list[Widget]) -> list[SelectionMark]:
    """Check boxes and radio buttons with the state their appearance shows: exact, so confidence 0.99."""
    return [SelectionMark(w.x0, w.y0, w.x1, w.y1, w.checked, 0.99)
            for w in widgets if w.kind in ("checkbox", "radio")]


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
