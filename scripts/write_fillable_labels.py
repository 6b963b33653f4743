"""Write labeling-tool `.labels.json` files and a `fields.json` from the values in fillable PDFs' form fields.

Run: `.venv/bin/python scripts/write_fillable_labels.py SRC_DIR [--out DIR] [--form irs-1040]`.

A filled fillable PDF already says what was typed where: each form field has a value and a widget
rectangle. This turns that into labels (one value per word, boxes normalised 0-1, as the labeling tool
writes them), so such forms can train and test custom models without labeling by hand.

Word boxes: the widget rectangle gives the field, not the words, and values are aligned left, centred or
right and sometimes shrunk to fit. So the page is rendered with and without its form fields and the ink
that the field adds inside its rectangle gives the value's exact horizontal extent; the words are laid
out inside it in proportion to their Helvetica widths (the field's font from `/DA`, via reportlab's
metrics). A comb field (digit boxes) gives one word per cell (rect width / MaxLen), placed in the cells
that carry ink. Boxes are generous vertically (the whole widget height plus a point) and padded by a
little under half a space horizontally: label matching takes OCR words at least half inside a box.
Check boxes give a selectionMark label (`selected` / `unselected`, box = the widget rectangle).
Fields left empty give a label with no value ("not on this form").
"""

from __future__ import annotations

import argparse
import ctypes
import json
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from reportlab.pdfbase.pdfmetrics import stringWidth

LABELS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/labels.json"
FIELDS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/fields.json"
SCALE = 4.0  # render at 288 dpi to find the ink a field adds
INK_DIFF = 60  # grey levels: a pixel the field changed by less is anti-aliasing noise
COMB_FLAG = 1 << 24

# label -> (page, widget name suffix[, which of the page's widgets with that name]). Check boxes become
# selectionMark fields, text fields strings. A form without an entry is labeled field by field (`--all`).
Spec = list[tuple[str, int, str] | tuple[str, int, str, int]]
FORMS: dict[str, Spec] = {
    "irs-1040": [
        ("Filing Status Single", 1, "FilingStatus[0].c1_01[0]"),
        ("Filing Status Married Filing Jointly", 1, "FilingStatus[0].c1_01[1]"),
        ("Filing Status Married Filing Separately", 1, "FilingStatus[0].c1_01[2]"),
        ("Filing Status Head of Household", 1, "FilingStatus[0].c1_01[3]"),
        ("First Name", 1, "Page1[0].f1_02[0]"),
        ("Last Name", 1, "Page1[0].f1_03[0]"),
        ("SSN", 1, "YourSocial[0].f1_04[0]"),
        ("Spouse First Name", 1, "Page1[0].f1_05[0]"),
        ("Spouse Last Name", 1, "Page1[0].f1_06[0]"),
        ("Spouse SSN", 1, "SpousesSocial[0].f1_07[0]"),
        ("Home Address", 1, "Address[0].f1_08[0]"),
        ("Apt No", 1, "Address[0].f1_09[0]"),
        ("City", 1, "Address[0].f1_10[0]"),
        ("State", 1, "Address[0].f1_11[0]"),
        ("ZIP Code", 1, "Address[0].f1_12[0]"),
        ("Campaign You", 1, "Page1[0].c1_02[0]"),
        ("Campaign Spouse", 1, "Page1[0].c1_03[0]"),
        ("Virtual Currency Yes", 1, "Page1[0].c1_04[0]"),
        ("Virtual Currency No", 1, "Page1[0].c1_04[1]"),
        ("Wages", 1, "f1_28[0]"),
        ("Total Income", 1, "f1_41[0]"),
        ("Adjusted Gross Income", 1, "f1_45[0]"),
        ("Standard Deduction", 1, "Page1[0].f1_46[0]"),
        ("Taxable Income", 1, "Page1[0].f1_49[0]"),
        ("Tax", 2, "Page2[0].f2_02[0]"),
        ("Total Tax", 2, "Page2[0].f2_10[0]"),
        ("Total Payments", 2, "Page2[0].f2_22[0]"),
        ("Overpaid", 2, "Page2[0].f2_23[0]"),
        ("Refund", 2, "Page2[0].f2_24[0]"),
        ("Routing Number", 2, "RoutingNo[0].f2_25[0]"),
        ("Account Type Checking", 2, "Page2[0].c2_05[0]"),
        ("Account Type Savings", 2, "Page2[0].c2_05[1]"),
        ("Amount You Owe", 2, "Page2[0].f2_28[0]"),
        ("Occupation", 2, "Page2[0].f2_36[0]"),
        ("Spouse Occupation", 2, "Page2[0].f2_38[0]"),
        ("Phone", 2, "Page2[0].f2_40[0]"),
        ("Email", 2, "Page2[0].f2_41[0]"),
        ("Preparer Firm", 2, "Page2[0].f2_44[0]"),
    ],
}


@dataclass
class Widget:
    """One widget: page-space rectangle (points, y up) and what the field holds."""

    name: str
    kind: str  # text | mark
    rect: tuple[float, float, float, float]  # left, bottom, right, top
    value: str
    checked: bool
    max_len: int
    comb: bool
    font: str
    font_size: float


def _utf16(fn: Any, *args: Any) -> str:
    n = fn(*args, None, 0)
    if n <= 2:
        return ""
    buf = ctypes.create_string_buffer(n)
    fn(*args, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)), n)
    return buf.raw[: n - 2].decode("utf-16-le", errors="replace")


def _font(da: str) -> tuple[str, float]:
    """(reportlab base-14 name, size) from a /DA string such as `/HelveticaLTStd-Bold 8.00 Tf`."""
    m = re.search(r"/(\S+)\s+([\d.]+)\s+Tf", da)
    if not m:
        return "Helvetica", 0.0
    name = m.group(1).lower()
    bold = "bold" in name or name.endswith("-bd")
    if "cour" in name:
        return ("Courier-Bold" if bold else "Courier"), float(m.group(2))
    if "times" in name:
        return ("Times-Bold" if bold else "Times-Roman"), float(m.group(2))
    return ("Helvetica-Bold" if bold else "Helvetica"), float(m.group(2))


def read_widgets(pdf: pdfium.PdfDocument, page: pdfium.PdfPage) -> list[Widget]:
    """Every text-field and check-box widget of the page (form environment already initialised)."""
    handle = pdf.formenv.raw
    out: list[Widget] = []
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) != pdfium_c.FPDF_ANNOT_WIDGET:
                continue
            ftype = pdfium_c.FPDFAnnot_GetFormFieldType(handle, annot)
            rect = pdfium_c.FS_RECTF()
            pdfium_c.FPDFAnnot_GetRect(annot, rect)
            box = (min(rect.left, rect.right), min(rect.bottom, rect.top),
                   max(rect.left, rect.right), max(rect.bottom, rect.top))
            name = _utf16(pdfium_c.FPDFAnnot_GetFormFieldName, handle, annot)
            if ftype in (pdfium_c.FPDF_FORMFIELD_CHECKBOX, pdfium_c.FPDF_FORMFIELD_RADIOBUTTON):
                out.append(Widget(name, "mark", box, "", bool(pdfium_c.FPDFAnnot_IsChecked(handle, annot)),
                                  0, False, "", 0.0))
                continue
            if ftype != pdfium_c.FPDF_FORMFIELD_TEXTFIELD:
                continue
            flags = pdfium_c.FPDFAnnot_GetFormFieldFlags(handle, annot)
            max_len = ctypes.c_float(0)
            has_max = pdfium_c.FPDFAnnot_GetNumberValue(annot, b"MaxLen", ctypes.byref(max_len))
            font, size = _font(_utf16(pdfium_c.FPDFAnnot_GetStringValue, annot, b"DA"))
            value = _utf16(pdfium_c.FPDFAnnot_GetFormFieldValue, handle, annot)
            out.append(Widget(name, "text", box, value, False, int(max_len.value) if has_max else 0,
                              bool(flags & COMB_FLAG), font, size))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return out


def _field_ink(diff: np.ndarray, page_h: float, rect: tuple[float, float, float, float]
               ) -> tuple[float, float, float, float] | None:
    """Points (x0, top, x1, bottom; y down) of the ink the field adds inside its rectangle."""
    l, b, r, t = rect  # noqa: E741
    x0, x1 = int(l * SCALE) + 1, int(r * SCALE) - 1
    y0, y1 = int((page_h - t) * SCALE) + 1, int((page_h - b) * SCALE) - 1
    ys, xs = np.nonzero(diff[y0:y1, x0:x1])
    if not len(xs):
        return None
    return ((x0 + xs.min()) / SCALE, (y0 + ys.min()) / SCALE, (x0 + xs.max() + 1) / SCALE,
            (y0 + ys.max() + 1) / SCALE)


def _quad(x0: float, y0: float, x1: float, y1: float, w: float, h: float) -> list[float]:
    a, b, c, d = max(0.0, x0 / w), max(0.0, y0 / h), min(1.0, x1 / w), min(1.0, y1 / h)
    return [round(v, 6) for v in (a, b, c, b, c, d, a, d)]


def text_words(widget: Widget, ink: tuple[float, float, float, float] | None,
               page_h: float) -> list[tuple[str, float, float, float, float]]:
    """(word, x0, top, x1, bottom) in points, y down, one per word of the value."""
    l, b, r, t = widget.rect  # noqa: E741
    top, bottom = page_h - t - 1.0, page_h - b + 1.0
    if ink is not None:  # tall fields: keep the box around the text line, with room above and below
        height = ink[3] - ink[1]
        top, bottom = max(top, ink[1] - 1.2 * height), min(bottom, ink[3] + 1.2 * height)
    value = widget.value
    if widget.comb and widget.max_len > 0:
        cell = (r - l) / widget.max_len
        chars = [c for c in value if not c.isspace()]
        start = round((ink[0] - l) / cell - 0.3) if ink is not None else 0
        start = max(0, min(start, widget.max_len - len(chars)))
        return [(c, l + (start + i) * cell, top, l + (start + i + 1) * cell, bottom)
                for i, c in enumerate(chars)]
    tokens = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"\S+", value)]
    if not tokens:
        return []
    size = widget.font_size or 8.0

    def width(s: str) -> float:
        return stringWidth(s, widget.font, size)

    spans = [(tok, width(value[:s]), width(value[:e])) for tok, s, e in tokens]
    text0, text1 = spans[0][1], spans[-1][2]
    if ink is not None:
        ink0, ink1 = ink[0], ink[2]
    else:  # no appearance drawn: the value as a viewer lays it out, left-aligned with 2 pt padding
        ink0, ink1 = l + 2.0, l + 2.0 + (text1 - text0)
    scale = (ink1 - ink0) / max(1e-6, text1 - text0)
    pad = 0.45 * width(" ") * scale
    return [(tok, ink0 + (a - text0) * scale - pad, top, ink0 + (z - text0) * scale + pad, bottom)
            for tok, a, z in spans]


def all_fields_spec(path: Path) -> Spec:
    """Every text field and check box of a PDF, labeled by its field name (`#k` when a name repeats on a
    page, `(p N)` when it appears on several pages)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pdf = pdfium.PdfDocument(str(path))
        pdf.init_forms()
    try:
        per_page = [[w.name for w in read_widgets(pdf, pdf[i])] for i in range(len(pdf))]
    finally:
        pdf.close()
    pages_of: dict[str, set[int]] = {}
    for i, names in enumerate(per_page):
        for name in names:
            pages_of.setdefault(name, set()).add(i + 1)
    spec: Spec = []
    for i, names in enumerate(per_page):
        for k_name in dict.fromkeys(names):
            n = names.count(k_name)
            for k in range(n):
                label = k_name + (f" #{k + 1}" if n > 1 else "")
                label += f" (p{i + 1})" if len(pages_of[k_name]) > 1 else ""
                spec.append((label, i + 1, k_name, k))
    return spec


def label_document(path: Path, spec: Spec) -> tuple[dict[str, Any], dict[str, str]]:
    """(labels.json content, {label: field type}) for one filled PDF."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pdf = pdfium.PdfDocument(str(path))
        pdf.init_forms()
    labels: list[dict[str, Any]] = []
    types: dict[str, str] = {}
    try:
        by_page: dict[int, tuple[list[Widget], np.ndarray, float, float]] = {}
        for label, page_no, suffix, *which in spec:
            if page_no not in by_page:
                page = pdf[page_no - 1]
                w, h = page.get_size()
                shown = np.asarray(page.render(scale=SCALE, may_draw_forms=True, grayscale=True).to_pil())
                blank = np.asarray(page.render(scale=SCALE, may_draw_forms=False, grayscale=True).to_pil())
                diff = np.abs(shown.astype(np.int16) - blank.astype(np.int16)) > INK_DIFF
                by_page[page_no] = (read_widgets(pdf, page), diff, w, h)
            widgets, diff, w, h = by_page[page_no]
            found = [x for x in widgets if x.name.endswith(suffix)]
            k = which[0] if which else 0
            if len(found) <= k:
                raise ValueError(f"{path.name}: no form field ending in {suffix!r} on page {page_no}")
            widget = found[k]
            values: list[dict[str, Any]] = []
            if widget.kind == "mark":
                types[label] = "selectionMark"
                l, b, r, t = widget.rect  # noqa: E741
                values.append({"page": page_no, "text": "selected" if widget.checked else "unselected",
                               "boundingBoxes": [_quad(l, h - t, r, h - b, w, h)]})
            else:
                types[label] = "string"
                ink = _field_ink(diff, h, widget.rect)
                for text, x0, y0, x1, y1 in text_words(widget, ink, h):
                    box = _quad(x0, y0, x1, y1, w, h)
                    values.append({"page": page_no, "text": text, "boundingBoxes": [box]})
            labels.append({"label": label, "key": None, "value": values})
    finally:
        pdf.close()
    return {"$schema": LABELS_SCHEMA, "document": path.name, "labels": labels}, types


def fields_json(types: dict[str, str]) -> dict[str, Any]:
    return {"$schema": FIELDS_SCHEMA, "definitions": {},
            "fields": [{"fieldKey": k, "fieldType": v, "fieldFormat": "not-specified"}
                       for k, v in types.items()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="folder with the filled PDFs")
    ap.add_argument("--out", type=Path, help="where to write (default: beside the PDFs)")
    ap.add_argument("--form", choices=sorted(FORMS), help="field set (default: the folder's name)")
    ap.add_argument("--all", action="store_true", help="label every form field by its name")
    ap.add_argument("--glob", default="*.pdf", help="which PDFs (default *.pdf)")
    args = ap.parse_args(argv)
    form = args.form or args.src.resolve().name
    if not args.all and form not in FORMS:
        ap.error(f"no field set for {form!r}; use --form ({', '.join(sorted(FORMS))}) or --all")
    write_labels(args.src, args.out or args.src, None if args.all else FORMS[form], args.glob)
    return 0


def write_labels(src: Path, out: Path, spec: Spec | None, pattern: str = "*.pdf") -> list[Path]:
    """Label every PDF matching `pattern` in `src` into `out` (spec None: every field, from the first PDF)."""
    out.mkdir(parents=True, exist_ok=True)
    types: dict[str, str] = {}
    pdfs = sorted(src.glob(pattern))
    if spec is None and pdfs:
        spec = all_fields_spec(pdfs[0])
    for pdf_path in pdfs:
        labels, types = label_document(pdf_path, spec or [])
        (out / f"{pdf_path.name}.labels.json").write_text(json.dumps(labels, indent=1) + "\n")
        filled = sum(1 for lab in labels["labels"] if lab["value"])
        print(f"{pdf_path.name}: {filled}/{len(labels['labels'])} labels with a value")
    (out / "fields.json").write_text(json.dumps(fields_json(types), indent=4) + "\n")
    return pdfs


if __name__ == "__main__":
    sys.exit(main())
