"""Generated fillable forms and check boxes of every kind, and broken AcroForms, through the real engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formgen import fillable_variants as variants
from formgen import generate
from tests.helpers.engine import Client
from tests.helpers.page_words import inside_share, norm_box, page_words


def _read(client: Client, path: Path) -> list[dict]:
    ctype = "application/pdf" if path.suffix == ".pdf" else "image/jpeg"
    return client.layout(path.read_bytes(), ctype)["analyzeResult"]["readResults"]


def _agreement(pages: list[dict], labels: dict) -> tuple[int, int, int, int]:
    """(value words found where labeled, value words, marks agreeing with their label, marks labeled)."""
    found = words = agree = marks = 0
    for lab in labels["labels"]:
        for v in lab["value"]:
            page = pages[v["page"] - 1]
            box = norm_box(v["boundingBoxes"][0], 1, 1)
            if v["text"] in ("selected", "unselected"):
                marks += 1
                size = page["width"], page["height"]
                under = [m for m in page["selectionMarks"]
                         if inside_share(norm_box(m["boundingBox"], *size), box) > 0.3]
                agree += len(under) == 1 and under[0]["state"] == v["text"]
                continue
            words += 1
            found += any(t == v["text"] and inside_share(b, box) >= 0.5 for t, b in page_words(page))
    return found, words, agree, marks


@pytest.mark.parametrize("layout", ["registration", "tax_form", "invoice"])
def test_every_value_of_a_generated_fillable_form_is_read_with_every_check_box_and_radio_button(
        client: Client, tmp_path: Path, layout: str) -> None:
    forms = generate(layout, 2, tmp_path, seed=11, kind="fillable")
    for form in forms:
        labels = json.loads(form.labels_path.read_text())
        found, words, agree, marks = _agreement(_read(client, form.path), labels)
        assert (found, agree) == (words, marks), form.path.name
        if layout in ("registration", "tax_form"):
            assert marks >= 2


def test_a_comb_field_reads_one_word_per_cell(client: Client, tmp_path: Path) -> None:
    form = generate("tax_form", 1, tmp_path, seed=3, kind="fillable")[0]
    page = _read(client, form.path)[0]
    labels = json.loads(form.labels_path.read_text())
    tin = next(lab for lab in labels["labels"] if lab["label"] == "TaxpayerId")
    assert len(tin["value"]) == 9
    for v in tin["value"]:  # each digit alone in its cell: no word spans two cells
        box = norm_box(v["boundingBoxes"][0], 1, 1)
        hits = [t for t, b in page_words(page) if inside_share(b, box) >= 0.5]
        assert hits == [v["text"]]


@pytest.mark.parametrize("style", ["vector", "image", "glyph"])
def test_check_boxes_drawn_as_paths_images_or_glyphs_are_marks_with_their_state(
        client: Client, tmp_path: Path, style: str) -> None:
    forms = generate("registration", 3, tmp_path, seed=5, kind="pdf", mark_style=style)
    for form in forms:
        pages = _read(client, form.path)
        found, words, agree, marks = _agreement(pages, json.loads(form.labels_path.read_text()))
        assert marks == 5 and agree == marks, (form.path.name, style)
        assert found == words
        # A glyph box (☐, ZapfDingbats ❏) is a mark, never a word of the text.
        assert not {"☐", "☑", "☒", "❏", "❑", "✔", "✘", "■"} & {t for t, _ in page_words(pages[0])}


def test_a_value_without_an_appearance_stream_is_still_read(client: Client) -> None:
    body = client.layout(variants.no_appearance_stream(), "application/pdf")
    page = body["analyzeResult"]["readResults"][0]
    texts = [line["text"] for line in page["lines"]]
    assert variants.DEFAULT_VALUE in texts and variants.DEFAULT_REFERENCE in texts
    name = next(line for line in page["lines"] if line["text"] == variants.DEFAULT_VALUE)
    assert name["boundingBox"][0] == pytest.approx(variants.NAME_X / 72, abs=0.1)  # where the field is


@pytest.mark.parametrize("variant", ["missing_field_type", "kids_not_dictionary", "widget_outside_page"])
def test_broken_field_dictionaries_and_widgets_off_the_page_never_stop_the_page(
        client: Client, variant: str) -> None:
    body = client.layout(variants.VARIANTS[variant](), "application/pdf")
    page = body["analyzeResult"]["readResults"][0]
    texts = [line["text"] for line in page["lines"]]
    assert variants.DEFAULT_REFERENCE in texts and "Reference:" in texts
    for line in page["lines"]:  # nothing reported outside the page
        xs, ys = line["boundingBox"][0::2], line["boundingBox"][1::2]
        assert min(xs) >= 0 and max(xs) <= page["width"] and min(ys) >= 0 and max(ys) <= page["height"]
    if variant == "widget_outside_page":
        assert variants.DEFAULT_VALUE not in " ".join(texts)  # a widget off the page shows nothing


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_rotated_fillable_page_reads_its_lines_whole_with_boxes_on_the_displayed_page(
        client: Client, rotation: int) -> None:
    page = client.layout(variants.rotated_page(rotation=rotation),
                         "application/pdf")["analyzeResult"]["readResults"][0]
    assert (page["width"], page["height"]) == ((11, 8.5) if rotation % 180 else (8.5, 11))
    assert page["angle"] == {90: 90, 180: 180, 270: -90}[rotation]
    texts = [line["text"] for line in page["lines"]]
    assert texts[:5] == ["VARIANT TEST FORM", "Name:", variants.DEFAULT_VALUE, "Reference:",
                         variants.DEFAULT_REFERENCE]
    # The title sits at the unrotated page's top-left (0.69 in, 0.82 in): turned with the page.
    x, y = page["lines"][0]["boundingBox"][:2]
    expected = {90: (11 - 0.82, 0.69), 180: (8.5 - 0.69, 11 - 0.82), 270: (0.82, 8.5 - 0.69)}[rotation]
    assert (x, y) == pytest.approx(expected, abs=0.05)


def stacked_amount_fields() -> bytes:
    """Two right-aligned amount fields one above the other (a tax form's column of lines 19 and 27):
    the lower one's value follows the upper one's in the text stream, with no space between."""
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792))
    c.setFont("Helvetica", 10)
    c.drawString(72, 700, "19 Subtotal")
    c.drawString(72, 600, "27 Credits")
    for name, value, y in (("line19", "45000", 695), ("line27", "0", 595)):
        width = c.stringWidth(value, "Helvetica", 10) + 4
        c.acroForm.textfield(name=name, value=value, x=300 - width, y=y, width=width, height=14,
                             borderWidth=0, fontName="Helvetica", fontSize=10, fieldFlags="",
                             annotationFlags="print")
    c.showPage()
    c.save()
    return buf.getvalue()


def test_a_field_value_is_never_glued_to_the_next_text_in_the_stream(client: Client) -> None:
    """Arizona's returns read "45000" and the "0" of a field below as one word "450000"."""
    body = client.layout(stacked_amount_fields(), "application/pdf")
    page = body["analyzeResult"]["readResults"][0]
    texts = [w["text"] for line in page["lines"] for w in line["words"]]
    assert "45000" in texts and "0" in texts and "450000" not in texts, texts
