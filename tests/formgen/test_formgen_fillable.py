"""Fillable forms, mark styles and defective AcroForms: values really are fields, labels sit on the ink."""

from __future__ import annotations

import ctypes
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as raw
import pytest
from PIL import Image

from formgen import generate
from formgen.fillable_variants import (
    DEFAULT_REFERENCE,
    DEFAULT_VALUE,
    kids_not_dictionary,
    missing_field_type,
    no_appearance_stream,
    rotated_page,
    widget_outside_page,
)
from formgen.layouts import TAX_TIN, TAX_ZIP

REPO = Path(__file__).resolve().parents[2]
SCALE = 4  # render at 288 dpi: a point is 4 pixels
DARK = 128
MARKS = ("selected", "unselected")
BAD_OPTIONS = ("--kind", "fillable", "--mark-style", "glyph")


def _labels(path: Path) -> list[tuple[str, int, str, list[float]]]:
    labels = json.loads(path.read_text(encoding="utf-8"))["labels"]
    return [
        (lab["label"], v["page"], v["text"], v["boundingBoxes"][0]) for lab in labels for v in lab["value"]
    ]


def _render(pdf: Path | bytes, forms: bool) -> list[np.ndarray]:
    doc = pdfium.PdfDocument(pdf)
    if forms:
        doc.init_forms()
    pages = [
        np.asarray(doc[i].render(scale=SCALE, grayscale=True, may_draw_forms=forms).to_pil().convert("L"))
        for i in range(len(doc))
    ]
    doc.close()
    return pages


def _dark(page: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> int:
    """Dark pixels inside a rectangle given in points (top-down)."""
    region = page[round(y0 * SCALE) : round(y1 * SCALE), round(x0 * SCALE) : round(x1 * SCALE)]
    return int((region < DARK).sum())


def _points(box: list[float], page: np.ndarray) -> tuple[float, float, float, float]:
    height, width = page.shape[0] / SCALE, page.shape[1] / SCALE
    xs, ys = box[0::2], box[1::2]
    return min(xs) * width, min(ys) * height, max(xs) * width, max(ys) * height


# ---------------------------------------------------------------- reading fields back with pdfium's raw API


@dataclass
class Widget:
    name: str
    type: int
    value: str
    checked: bool
    flags: int
    rect: tuple[float, float, float, float]
    keys: frozenset[str]
    maxlen: float = 0.0


def _wide(call, *args) -> str:  # a pdfium getter that fills a UTF-16 buffer
    size = call(*args, None, 0)
    buffer = ctypes.create_string_buffer(size)
    call(*args, ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR)), size)
    return buffer.raw[: max(0, size - 2)].decode("utf-16-le")


def _widgets(pdf: Path | bytes, forms: bool = True) -> list[Widget]:
    doc = pdfium.PdfDocument(pdf)
    if forms:
        doc.init_forms()
    env = doc.formenv
    found = []
    for number in range(len(doc)):
        page = doc[number]
        for i in range(raw.FPDFPage_GetAnnotCount(page)):
            annot = raw.FPDFPage_GetAnnot(page, i)
            rect = raw.FS_RECTF()
            raw.FPDFAnnot_GetRect(annot, rect)
            keys = frozenset(
                k for k in ("AP", "FT", "V", "Parent") if raw.FPDFAnnot_HasKey(annot, k.encode())
            )
            maxlen = ctypes.c_float(0.0)
            raw.FPDFAnnot_GetNumberValue(annot, b"MaxLen", maxlen)
            if env:
                found.append(
                    Widget(
                        _wide(raw.FPDFAnnot_GetFormFieldName, env, annot),
                        raw.FPDFAnnot_GetFormFieldType(env, annot),
                        _wide(raw.FPDFAnnot_GetFormFieldValue, env, annot),
                        bool(raw.FPDFAnnot_IsChecked(env, annot)),
                        raw.FPDFAnnot_GetFormFieldFlags(env, annot),
                        (rect.left, rect.bottom, rect.right, rect.top),
                        keys,
                        maxlen.value,
                    )
                )
            else:
                found.append(
                    Widget("", -1, "", False, 0, (rect.left, rect.bottom, rect.right, rect.top), keys)
                )
            raw.FPDFPage_CloseAnnot(annot)
    doc.close()
    return found


def _page_text(pdf: Path | bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    doc.close()
    return text


# ---------------------------------------------------------------- fillable kind


def test_fillable_forms_are_deterministic_and_carry_the_pdf_values(tmp_path: Path) -> None:
    first = generate("tax_form", 2, tmp_path / "a", seed=4, kind="fillable")
    again = generate("tax_form", 2, tmp_path / "b", seed=4, kind="fillable")
    printed = generate("tax_form", 2, tmp_path / "c", seed=4)
    for a, b, p in zip(first, again, printed, strict=True):
        assert a.path.suffix == ".pdf"
        assert a.path.read_bytes() == b.path.read_bytes()
        assert a.labels_path.read_bytes() == b.labels_path.read_bytes()
        assert a.values == p.values
        # the same words are labeled on paper and in the fields (boxes differ: other font, field padding)
        assert [w[:3] for w in _labels(a.labels_path)] == [w[:3] for w in _labels(p.labels_path)]


@pytest.mark.parametrize("layout", ["tax_form", "registration", "invoice_multipage", "purchase_order"])
def test_fillable_label_boxes_sit_on_the_ink_of_the_drawn_fields(tmp_path: Path, layout: str) -> None:
    """Every word box has ink once the fields are drawn, none without them (values are not page content),
    and the strips just left of and below each word are blank (the box starts where the word starts and
    reaches down to its descenders)."""
    form = generate(layout, 1, tmp_path, seed=6, kind="fillable")[0]
    with_fields, without = _render(form.path, True), _render(form.path, False)
    words = _labels(form.labels_path)
    assert words
    for field, page, text, box in words:
        drawn, bare = with_fields[page - 1], without[page - 1]
        x0, y0, x1, y1 = _points(box, drawn)
        inside = _dark(drawn, x0, y0, x1, y1)
        if text in MARKS:
            assert inside > 0, f"{field}: no widget ink in its box"
            continue
        assert inside >= 0.05 * (x1 - x0) * (y1 - y0) * SCALE**2, f"{field} {text!r}: box is not on the word"
        assert _dark(bare, x0, y0, x1, y1) == 0, f"{field} {text!r}: value is page content, not a field"
        assert _dark(drawn, x0 - 1.5, y0 + 1, x0 - 0.3, y1 - 1) == 0, f"{field} {text!r}: ink left of the box"
        assert _dark(drawn, x0 + 0.5, y1 + 0.3, x1 - 0.5, y1 + 1.5) == 0, f"{field} {text!r}: ink below box"


def test_comb_fields_are_one_word_per_cell(tmp_path: Path) -> None:
    form = generate("tax_form", 1, tmp_path, seed=2, kind="fillable")[0]
    page = _render(form.path, True)[0]
    words = _labels(form.labels_path)
    for key, comb in (("TaxpayerId", TAX_TIN), ("ZipCode", TAX_ZIP)):
        cells = [(text, _points(box, page)) for field, _, text, box in words if field == key]
        assert [text for text, _ in cells] == list(form.values[key])
        assert len(cells) == comb.cells
        for i, (_, (x0, y0, x1, y1)) in enumerate(cells):
            left = comb.x + i * comb.cell_width
            assert left < x0 < x1 < left + comb.cell_width, f"{key} digit {i} is not in cell {i}"
            assert comb.top < y0 < y1 < comb.top + comb.height
            centre = (x0 + x1) / 2
            assert centre == pytest.approx(left + comb.cell_width / 2, abs=0.01)
        widget = next(w for w in _widgets(form.path) if w.name == key)
        assert widget.flags & (1 << 24), "comb flag missing"
        assert widget.value == form.values[key]
        assert widget.maxlen == comb.cells


def test_fields_are_acroform_fields_holding_the_values(tmp_path: Path) -> None:
    for layout in ("tax_form", "registration"):
        for form in generate(layout, 3, tmp_path / layout, seed=8, kind="fillable"):
            widgets = _widgets(form.path)
            by_name: dict[str, list[Widget]] = {}
            for widget in widgets:
                by_name.setdefault(widget.name, []).append(widget)
            for key, value in form.values.items():
                if key.startswith("Membership"):
                    continue  # the radio group, below
                (widget,) = by_name[key]
                if value in MARKS:
                    assert widget.type == raw.FPDF_FORMFIELD_CHECKBOX
                    assert widget.checked == (value == "selected")
                    assert widget.value == ("Yes" if value == "selected" else "Off")
                else:
                    expected = (
                        raw.FPDF_FORMFIELD_COMBOBOX
                        if key == "TaxClassification"
                        else raw.FPDF_FORMFIELD_TEXTFIELD
                    )
                    assert widget.type == expected
                    assert " ".join(widget.value.split()) == value
                    if value:
                        assert value.split()[0] not in _page_text(form.path).split()
            if layout == "registration":
                radios = by_name["Membership"]
                assert [w.type for w in radios] == [raw.FPDF_FORMFIELD_RADIOBUTTON] * 3
                chosen = next(
                    k for k in ("Basic", "Premium", "Family") if form.values[f"Membership{k}"] == "selected"
                )
                assert {w.value for w in radios} == {chosen}
                assert [w.checked for w in radios] == [
                    form.values[f"Membership{k}"] == "selected" for k in ("Basic", "Premium", "Family")
                ]
            else:
                assert "\n" in by_name["Address"][0].value  # one multi-line field
                assert by_name["Address"][0].flags & (1 << 12)


# ---------------------------------------------------------------- mark styles


def test_vector_is_the_default_and_other_styles_keep_the_labels(tmp_path: Path) -> None:
    default = generate("registration", 2, tmp_path / "d", seed=5)
    vector = generate("registration", 2, tmp_path / "v", seed=5, mark_style="vector")
    assert [f.path.read_bytes() for f in default] == [f.path.read_bytes() for f in vector]
    for style in ("image", "glyph"):
        styled = generate("registration", 2, tmp_path / style, seed=5, mark_style=style)
        for a, b in zip(default, styled, strict=True):
            assert a.values == b.values
            assert [w[:3] for w in _labels(a.labels_path)] == [w[:3] for w in _labels(b.labels_path)]
            assert a.path.read_bytes() != b.path.read_bytes()


def test_image_marks_are_embedded_rasters_under_their_label_boxes(tmp_path: Path) -> None:
    form = generate("registration", 1, tmp_path, seed=5, mark_style="image")[0]
    doc = pdfium.PdfDocument(form.path)
    images = [obj for obj in doc[0].get_objects() if obj.type == raw.FPDF_PAGEOBJ_IMAGE]
    marks = [w for w in _labels(form.labels_path) if w[2] in MARKS]
    assert len(images) == len(marks) == 5
    page = _render(form.path, False)[0]
    height = doc[0].get_height()
    # each picture fills exactly its labeled square (bounds in PDF user space, y up)
    placed = sorted(
        tuple(round(v, 2) for v in (left, height - top, right, height - bottom))
        for left, bottom, right, top in (image.get_bounds() for image in images)
    )
    assert placed == sorted(tuple(round(v, 2) for v in _points(w[3], page)) for w in marks)
    for _, _, text, box in marks:
        x0, y0, x1, y1 = _points(box, page)
        assert _dark(page, x0, y0, x1, y1) > 0
        assert (_dark(page, x0 + 2.5, y0 + 2.5, x1 - 2.5, y1 - 2.5) > 0) == (text == "selected")


def _glyph_forms(tmp_path: Path) -> dict[str, Path]:
    """One registration form per glyph family (zapf / dejavu), found among the first seeds."""
    found: dict[str, Path] = {}
    for seed in range(12):
        form = generate("registration", 1, tmp_path / str(seed), seed=seed, mark_style="glyph")[0]
        family = "zapf" if b"/ZapfDingbats" in form.path.read_bytes() else "dejavu"
        found.setdefault(family, form.labels_path)
        if len(found) == 2:
            return found
    raise AssertionError("the first seeds do not cover both glyph families")


def test_glyph_marks_are_box_characters_with_the_glyph_square_as_box(tmp_path: Path) -> None:
    forms = _glyph_forms(tmp_path)
    # DejaVu boxes are embedded: rendered, the box square carries ink and a tick/cross only when selected.
    labels = forms["dejavu"]
    pdf = labels.with_name(labels.name.removesuffix(".labels.json"))
    assert {"\u2610", "\u2611", "\u2612"} & set(_page_text(pdf))
    page = _render(pdf, False)[0]
    for _, _, text, box in (w for w in _labels(labels) if w[2] in MARKS):
        x0, y0, x1, y1 = _points(box, page)
        assert _dark(page, x0, y0, x1, y1) > 0
        assert _dark(page, x0 - 1.5, y0, x0 - 0.3, y1) == 0  # the square starts at the box
        assert (_dark(page, x0 + 2.5, y0 + 2.5, x1 - 2.5, y1 - 2.5) > 0) == (text == "selected")
    # ZapfDingbats (not embedded): the text layer holds the box characters (❏ or ❑, never the ■ a wrongly
    # encoded code `n` gives), each one's origin where the AFM metrics put the labeled square.
    labels = forms["zapf"]
    pdf = labels.with_name(labels.name.removesuffix(".labels.json"))
    doc = pdfium.PdfDocument(pdf)
    textpage = doc[0].get_textpage()
    height = doc[0].get_height()
    origins = []
    for i in range(textpage.count_chars()):
        font = ctypes.create_string_buffer(64)
        raw.FPDFText_GetFontInfo(textpage, i, font, 64, None)
        size = raw.FPDFText_GetFontSize(textpage, i)
        if font.value == b"ZapfDingbats" and size > 12:  # the box (~14.5 pt), not the mark inside (~10 pt)
            assert chr(raw.FPDFText_GetUnicode(textpage, i)) in "\u274f\u2751"  # ❏ ❑, not ■
            x, y = ctypes.c_double(), ctypes.c_double()
            raw.FPDFText_GetCharOrigin(textpage, i, x, y)
            origins.append((x.value, height - y.value, size))
    marks = [w for w in _labels(labels) if w[2] in MARKS]
    assert len(origins) == len(marks) == 5
    page_w, page_h = doc[0].get_width(), height
    for (ox, oy, size), (_, _, _, box) in zip(origins, marks, strict=True):
        x0, _, _, y1 = box[0] * page_w, box[1] * page_h, box[2] * page_w, box[5] * page_h
        assert ox == pytest.approx(x0 - 0.035 * size, abs=0.05)  # AFM: box glyphs start 35/1000 em right
        assert oy == pytest.approx(y1, abs=0.05)  # ... and sit on the baseline (y0 = 0)


# ---------------------------------------------------------------- fillable-scan


def test_fillable_scan_prints_the_fields_and_moves_the_labels(tmp_path: Path) -> None:
    fillable = generate("registration", 1, tmp_path / "f", seed=3, kind="fillable")[0]
    scan = generate("registration", 1, tmp_path / "s", seed=3, kind="fillable-scan")[0]
    again = generate("registration", 1, tmp_path / "t", seed=3, kind="fillable-scan")[0]
    assert scan.path.suffix == ".jpg" and scan.values == fillable.values
    assert scan.path.read_bytes() == again.path.read_bytes()
    assert [w[:3] for w in _labels(scan.labels_path)] == [w[:3] for w in _labels(fillable.labels_path)]
    image = np.asarray(Image.open(scan.path).convert("L"))
    height, width = image.shape
    words = [w for w in _labels(scan.labels_path) if w[2] not in MARKS]
    inked = 0
    for _, _, _, box in words:
        xs, ys = [c * width for c in box[0::2]], [c * height for c in box[1::2]]
        region = image[round(min(ys)) : round(max(ys)), round(min(xs)) : round(max(xs))]
        inked += bool((region < 110).sum() >= 3)
    assert inked == len(words), (
        "a field value is missing from the scan (fields not drawn?) or a box moved off"
    )
    moved = [b for *_, b in _labels(scan.labels_path)] != [b for *_, b in _labels(fillable.labels_path)]
    assert moved


# ---------------------------------------------------------------- defective AcroForms


def _named(widgets: list[Widget]) -> dict[str, Widget]:
    return {w.name: w for w in widgets}


def test_no_appearance_variant_has_a_value_but_no_appearance() -> None:
    pdf = no_appearance_stream("Ana Lopez")
    assert b"/NeedAppearances true" in pdf
    raw_widgets = _widgets(pdf, forms=False)
    assert [("AP" in w.keys, "V" in w.keys) for w in raw_widgets] == [(False, True), (True, True)]
    assert _render(pdf, False)[0].min() < DARK  # the captions are there ...
    name = _named(_widgets(pdf))["Name"]
    assert name.value == "Ana Lopez"  # ... and the value is in the field dictionary


def test_outside_rotated_and_broken_variants_have_their_defect() -> None:
    outside = _named(_widgets(widget_outside_page()))
    assert outside["Name"].rect[0] > 612 and outside["Name"].value == DEFAULT_VALUE
    assert outside["Reference"].rect[2] < 612

    doc = pdfium.PdfDocument(rotated_page())
    assert doc[0].get_rotation() == 90 and doc[0].get_mediabox() == (0, 0, 612, 792)
    assert doc[0].get_size() == (792, 612)
    assert _named(_widgets(rotated_page()))["Name"].value == DEFAULT_VALUE

    untyped = _widgets(missing_field_type())
    assert "FT" not in untyped[0].keys and "V" in untyped[0].keys
    assert untyped[0].type == -1  # pdfium no longer sees a form field there
    assert _named(untyped)["Reference"].value == DEFAULT_REFERENCE

    pdf = kids_not_dictionary()
    kids = re.search(rb"/Kids \[ (\d+) 0 R (\d+) 0 R /NotAField \]", pdf)
    assert kids, "the parent's /Kids is not [widget, number, name]"
    assert re.search(rb"\n" + kids.group(2) + rb" 0 obj\n42\nendobj", pdf)
    fields = _named(_widgets(pdf))
    assert fields["Applicant.Name"].value == DEFAULT_VALUE
    assert fields["Reference"].value == DEFAULT_REFERENCE


# ---------------------------------------------------------------- API and command line


def test_bad_kind_and_style_combinations_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mark_style applies to kinds pdf and scan"):
        generate("registration", 1, tmp_path, kind="fillable", mark_style="glyph")
    with pytest.raises(ValueError, match="mark_style must be one of"):
        generate("registration", 1, tmp_path, mark_style="emoji")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_command_line_kinds_and_mark_styles(tmp_path: Path) -> None:
    cases = (
        ("tax_form", ["--kind", "fillable"], {"kind": "fillable"}),
        ("registration", ["--mark-style", "image"], {"mark_style": "image"}),
    )
    for layout, options, kwargs in cases:
        out = tmp_path / layout
        run = subprocess.run(
            [sys.executable, "-m", "formgen", layout, "1", str(out), "--seed", "2", *options],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        api = generate(layout, 1, tmp_path / f"{layout}-api", seed=2, **kwargs)[0]  # type: ignore[arg-type]
        assert run.stdout.split() == [str(out / api.path.name)]
        assert (out / api.path.name).read_bytes() == api.path.read_bytes()
    bad = subprocess.run(
        [sys.executable, "-m", "formgen", "registration", "1", str(tmp_path / "x"), *BAD_OPTIONS],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--mark-style applies to --kind pdf and scan only" in bad.stderr
