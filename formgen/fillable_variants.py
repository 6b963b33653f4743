"""Small fillable PDFs with one defect each, for tests of how the engine copes with bad AcroForms.

Every function returns the bytes of a one-page Letter form with the printed captions "Name:" and
"Reference:", a field `Name` holding `value` (the field with the defect) and a healthy text field `Reference`
holding `reference`, so a test can check both that the engine survives and that it still reads the rest.
The defects are made while reportlab writes the file (by editing the widget dictionary before it is added),
so the PDF stays well-formed apart from the defect itself.

| function | defect |
|---|---|
| `no_appearance_stream` | `Name` has `/V` but no `/AP`; the AcroForm says `/NeedAppearances true` |
| `widget_outside_page` | `Name`'s `/Rect` lies entirely right of the MediaBox (its appearance is intact) |
| `rotated_page` | a portrait page with `/Rotate 90`: shown landscape, the text running downwards |
| `missing_field_type` | `Name`'s field dictionary has no `/FT` (and no parent to inherit one from) |
| `kids_not_dictionary` | `Name` is the kid of a field `Applicant` whose `/Kids` also holds a number, a name |
| `orphan_widgets` | `/Fields` omits the widgets, `/NeedAppearances true`, stale or no appearances |
| `short_multiline` | a small multi-line `Address` (three lines) beside a caption in a larger font |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from reportlab.pdfbase.acroform import PDFFromString
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFString

from formgen.fillable import FIELD_FONT, FillableCanvas

DEFAULT_VALUE = "Jane Q. Public"
DEFAULT_REFERENCE = "REF-1001"
NAME_BASELINE = 120.0
NAME_X = 130.0
ADDRESS = "Test Company\r\n1422 Pine Parkway\r\nSpringfield, IL 62704"
STALE_VALUE = "Old Name"
ADDRESS_BASELINE = 200.0
OUTSIDE_SHIFT = 700.0  # points the `Name` widget moves right: its x0 becomes 826 > 612 (Letter width)

Mutate = Callable[[PDFDictionary], None]


@contextmanager
def _editing_widgets(form: FillableCanvas, mutate: Mutate) -> Iterator[None]:
    """Let `mutate` edit each widget dictionary reportlab makes inside the block, before it is written."""
    canvas = form.canvas
    original = canvas._addAnnotation

    def add(annotation: PDFDictionary, name: str | None = None, addtopage: int = 1) -> None:
        mutate(annotation)
        original(annotation, name, addtopage)

    canvas._addAnnotation = add
    try:
        yield
    finally:
        canvas._addAnnotation = original


def _form(value: str, reference: str, mutate: Mutate | None = None, rotation: int = 0) -> FillableCanvas:
    """The common page; `mutate` is applied to the `Name` widget only."""
    form = FillableCanvas()
    form.text(50, 70, "VARIANT TEST FORM", 14, "sans-bold")
    form.text(50, NAME_BASELINE, "Name:")
    if mutate is None:
        form.value("Name", NAME_X, NAME_BASELINE, value, width=300)
    else:
        with _editing_widgets(form, mutate):
            form.value("Name", NAME_X, NAME_BASELINE, value, width=300)
    form.text(50, 160, "Reference:")
    form.value("Reference", NAME_X, 160, reference, width=200)
    if rotation:
        # reportlab writes MediaBox [0 0 height width] for a page rotated by 90/270: give it the page size
        # swapped so that the MediaBox stays [0 0 612 792] around the portrait drawing.
        form.canvas.setPageRotation(rotation)
        if rotation % 180:
            form.canvas.setPageSize((form.height, form.width))
    return form


def no_appearance_stream(value: str = DEFAULT_VALUE, reference: str = DEFAULT_REFERENCE) -> bytes:
    """`Name` keeps its value but has no appearance: only a viewer that honours NeedAppearances shows it."""

    def drop_appearance(widget: PDFDictionary) -> None:
        del widget.dict["AP"]

    form = _form(value, reference, drop_appearance)
    form.form.extras["NeedAppearances"] = PDFFromString("true")
    return form.finish()


def widget_outside_page(value: str = DEFAULT_VALUE, reference: str = DEFAULT_REFERENCE) -> bytes:
    """`Name`'s widget rectangle lies outside the page (x + OUTSIDE_SHIFT): none of it is visible."""

    def move_out(widget: PDFDictionary) -> None:
        x0, y0, x1, y1 = widget.dict["Rect"].sequence
        widget.dict["Rect"] = PDFArray((x0 + OUTSIDE_SHIFT, y0, x1 + OUTSIDE_SHIFT, y1))

    return _form(value, reference, move_out).finish()


def rotated_page(value: str = DEFAULT_VALUE, reference: str = DEFAULT_REFERENCE, rotation: int = 90) -> bytes:
    """A healthy portrait form (MediaBox 612 x 792) on a page with `/Rotate rotation`.

    Viewers (and the cloud) show the page turned `rotation` degrees clockwise, so at 90 it is landscape with
    the text running top to bottom; coordinates must be reported in that displayed page, not in user space.
    """
    return _form(value, reference, rotation=rotation).finish()


def missing_field_type(value: str = DEFAULT_VALUE, reference: str = DEFAULT_REFERENCE) -> bytes:
    """`Name` has no `/FT`: a reader cannot tell it is a text field (pdfium then reports an unknown type)."""

    def drop_type(widget: PDFDictionary) -> None:
        del widget.dict["FT"]

    return _form(value, reference, drop_type).finish()


def kids_not_dictionary(value: str = DEFAULT_VALUE, reference: str = DEFAULT_REFERENCE) -> bytes:
    """`Name` hangs under a parent `Applicant` whose `/Kids` also lists an indirect number and a name."""
    form = FillableCanvas()
    doc = form.canvas._doc
    kids = PDFArray([])
    parent = PDFDictionary({"T": PDFString("Applicant"), "Kids": kids})
    parent_ref = doc.Reference(parent)

    def adopt(widget: PDFDictionary) -> None:
        widget.dict["Parent"] = parent_ref

    form.text(50, 70, "VARIANT TEST FORM", 14, "sans-bold")
    form.text(50, NAME_BASELINE, "Name:")
    with _editing_widgets(form, adopt):
        form.value("Name", NAME_X, NAME_BASELINE, value, width=300)
    widget_ref = form.form.fields.pop()  # the widget is reached through its parent, not from /Fields
    kids.sequence.extend([widget_ref, doc.Reference(PDFFromString("42")), PDFName("NotAField")])
    form.form.fields.append(parent_ref)
    form.text(50, 160, "Reference:")
    form.value("Reference", NAME_X, 160, reference, width=200)
    return form.finish()


def orphan_widgets(value: str = DEFAULT_VALUE, reference: str = DEFAULT_REFERENCE, address: str = ADDRESS,
                   listed: tuple[str, ...] = ()) -> bytes:
    """Widgets outside the field tree, as some writers leave them: `/Fields` lists only `listed` (empty by
    default) and the AcroForm says `/NeedAppearances true`, so viewers draw every value from `/V`.

    `Name`'s appearance is stale (it draws STALE_VALUE, its `/V` is `value`); `Reference` is right aligned
    (`/Q 2`) and has no appearance; `Address` is a multi-line field (`address` with CR LF line breaks),
    auto-sized (`/DA` size 0), without appearance.
    """
    form = FillableCanvas()

    def edit(widget: PDFDictionary) -> None:
        name = widget.dict["T"].s
        if name == "Name":  # the appearance shows what the field held before it was changed
            widget.dict["V"] = widget.dict["DV"] = PDFString(value)
            return
        del widget.dict["AP"]
        if name == "Reference":
            widget.dict["Q"] = 2
        elif name == "Address":
            widget.dict["V"] = widget.dict["DV"] = PDFString(address)
            widget.dict["DA"] = PDFString("/Helv 0 Tf 0 g")

    form.text(50, 70, "VARIANT TEST FORM", 14, "sans-bold")
    form.text(50, NAME_BASELINE, "Name:")
    form.text(50, 160, "Reference:")
    form.text(50, ADDRESS_BASELINE, "Address:")
    with _editing_widgets(form, edit):
        form.value("Name", NAME_X, NAME_BASELINE, STALE_VALUE, width=300)
        form.value("Reference", NAME_X, 160, reference, width=200)
        form.multiline("Address", NAME_X, ADDRESS_BASELINE, address.replace("\r\n", "\n"), width=200)
    fields = form.form.fields
    names = ("Name", "Reference", "Address")
    fields[:] = [ref for ref, name in zip(list(fields), names, strict=True) if name in listed]
    form.form.extras["NeedAppearances"] = PDFFromString("true")
    return form.finish()


def short_multiline(value: str = DEFAULT_VALUE, reference: str = DEFAULT_REFERENCE, address: str = ADDRESS,
                    size: float = 6.0) -> bytes:
    """A healthy multi-line field `Address` (`address`, CR LF line breaks, drawn at `size` pt: three lines in
    a field 26 pt high) beside the caption "Address" set in 16 pt bold, taller than two of its lines."""
    form = _form(value, reference)
    form.text(50, ADDRESS_BASELINE, "Address", 16, "sans-bold")
    lines = address.split("\r\n")

    def line_breaks(widget: PDFDictionary) -> None:
        widget.dict["V"] = widget.dict["DV"] = PDFString(address)

    with _editing_widgets(form, line_breaks):
        bottom = form._y(ADDRESS_BASELINE + 10)
        form.form.textfield(name="Address", value="\n".join(lines), x=NAME_X, y=bottom, width=200,
                            height=26, fontName=FIELD_FONT, fontSize=size, borderWidth=1,
                            fieldFlags="multiline", fillColor=None, borderColor=None, textColor=None)
    return form.finish()


VARIANTS: dict[str, Callable[..., bytes]] = {
    "no_appearance_stream": no_appearance_stream,
    "widget_outside_page": widget_outside_page,
    "rotated_page": rotated_page,
    "missing_field_type": missing_field_type,
    "kids_not_dictionary": kids_not_dictionary,
    "orphan_widgets": orphan_widgets,
    "short_multiline": short_multiline,
}
