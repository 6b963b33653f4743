"""The line-item invoices' promises: rows vary within bounds, every cell label sits on exactly the words of
its cell (read back with pdfplumber), the multipage table continues on page 2, fields.json has the
labeling tool's array + definitions shape, both styles occur, and scans match their labels' pages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from PIL import Image

from formgen import GeneratedForm, generate, layouts, table_layouts
from formgen.line_items.layout import ITEMS, cell_label

REPO = Path(__file__).resolve().parents[2]
COLUMNS = ("Description", "Quantity", "UnitPrice", "Amount")
CELL = re.compile(r"^Items/(\d+)/(Description|Quantity|UnitPrice|Amount)$")
TABLE_TOP = 240.0  # points: the table starts below the letterhead's last rule (175) and the Bill-to name


def _labels(form: GeneratedForm) -> list[dict]:
    return json.loads(form.labels_path.read_text(encoding="utf-8"))["labels"]


def _cells(form: GeneratedForm) -> dict[tuple[int, str], dict]:
    out = {}
    for label in _labels(form):
        match = CELL.match(label["label"])
        if match:
            out[(int(match[1]), match[2])] = label
    return out


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union else 0.0


def _words_under(label: dict, pages: dict[int, tuple[float, float, list[dict]]]) -> list[str]:
    """For each of the label's boxes, the PDF words whose centre lies in it, each kept only if the box
    fits it (IoU > 0.8: a box shifted by a few points loses its word)."""
    found: list[str] = []
    for value in label["value"]:
        width, height, words = pages[value["page"]]
        box = value["boundingBoxes"][0]
        rect = (min(box[0::2]) * width, min(box[1::2]) * height, max(box[0::2]) * width,
                max(box[1::2]) * height)
        for w in words:
            cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
            if rect[0] <= cx <= rect[2] and rect[1] <= cy <= rect[3]:
                fit = _iou(rect, (w["x0"], w["top"], w["x1"], w["bottom"])) > 0.8
                found.append(w["text"] if fit else f"<{w['text']} misplaced>")
    return found


def _pages(path: Path) -> dict[int, tuple[float, float, list[dict]]]:
    with pdfplumber.open(path) as pdf:
        return {n: (p.width, p.height, p.extract_words()) for n, p in enumerate(pdf.pages, start=1)}


def test_the_table_layouts_are_listed_apart_and_the_others_unchanged(tmp_path: Path) -> None:
    assert table_layouts() == ["invoice_items", "invoice_items_multipage"]
    assert not set(table_layouts()) & set(layouts())  # layouts(): every field scalar, as before
    with pytest.raises(ValueError, match="invoice_items_multipage"):
        generate("receipt", 1, tmp_path)
    plain = generate("invoice", 1, tmp_path / "plain")[0]
    assert plain.tables == {}


def test_row_counts_vary_and_stay_within_bounds(tmp_path: Path) -> None:
    bounds = (("invoice_items", 20, (1, 12)), ("invoice_items_multipage", 8, (14, 30)))
    for layout, count, (low, high) in bounds:
        forms = generate(layout, count, tmp_path / layout, seed=1)
        rows = [len(f.tables["Items"]) for f in forms]
        assert all(low <= n <= high for n in rows), rows
        assert len(set(rows)) >= count // 3, rows
        for form, n in zip(forms, rows, strict=True):
            cells = _cells(form)
            assert set(cells) == {(i, col) for i in range(n) for col in COLUMNS}  # every cell labeled once
            assert set(form.values) == {"InvoiceNumber", "InvoiceDate", "CustomerName", "Total"}
            amounts = sum(float(row["Amount"].replace(",", "")) for row in form.tables["Items"])
            assert float(form.values["Total"].replace(",", "")) == pytest.approx(amounts, abs=0.005)


@pytest.mark.parametrize("layout", ["invoice_items", "invoice_items_multipage"])
def test_every_label_is_the_words_printed_under_its_boxes(tmp_path: Path, layout: str) -> None:
    """Cell labels spell the table truth and cover exactly the words pdfplumber extracts there; a long
    description is labeled on both its lines; scalar labels spell the values."""
    wrapped = 0
    for form in generate(layout, 6, tmp_path, seed=11):
        pages = _pages(form.path)
        for label in _labels(form):
            text = " ".join(v["text"] for v in label["value"])
            match = CELL.match(label["label"])
            truth = form.tables["Items"][int(match[1])][match[2]] if match else form.values[label["label"]]
            assert text == truth, label["label"]
            assert _words_under(label, pages) == text.split(), f"{form.path.name} {label['label']}"
        lines = {(i, col): {round(v["boundingBoxes"][0][1], 4) for v in cell["value"]}
                 for (i, col), cell in _cells(form).items()}
        long = [key for key, tops in lines.items() if len(tops) > 1]
        assert all(key[1] == "Description" and len(lines[key]) == 2 for key in long)
        assert len(long) <= 3
        wrapped += len(long)
    assert wrapped >= 2  # descriptions do wrap sometimes


def test_the_multipage_table_continues_on_page_2_under_a_repeated_header(tmp_path: Path) -> None:
    for form in generate("invoice_items_multipage", 6, tmp_path, seed=4):
        cells = _cells(form)
        page_of = {i: {v["page"] for v in cells[(i, col)]["value"]} for (i, col) in cells}
        assert all(len(p) == 1 for p in page_of.values())  # a row is never split across pages
        pages = [page_of[i].pop() for i in range(len(form.tables["Items"]))]
        assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == 2 and set(pages) == {1, 2}
        assert 9 <= pages.count(1) <= 13
        total = next(label for label in _labels(form) if label["label"] == "Total")
        assert {v["page"] for v in total["value"]} == {2}
        with pdfplumber.open(form.path) as pdf:
            assert len(pdf.pages) == 2
            for page in pdf.pages:
                captions = [w["text"] for w in page.extract_words() if w["top"] < 300]
                assert {"Description", "Qty", "Unit", "price", "Amount"} <= set(captions)


def test_fields_json_has_the_array_and_its_definition_as_the_labeling_tool_writes(tmp_path: Path) -> None:
    forms = generate("invoice_items", 3, tmp_path, seed=2)
    fields = json.loads((tmp_path / "fields.json").read_text(encoding="utf-8"))
    tool = {"fieldKey", "fieldType", "fieldFormat", "itemType", "fields"}
    items = next(f for f in fields["fields"] if f["fieldKey"] == "Items")
    assert items == {"fieldKey": "Items", "fieldType": "array", "fieldFormat": "not-specified",
                     "itemType": "Items_object", "fields": None}
    row = fields["definitions"]["Items_object"]
    assert set(row) == tool and row["fieldType"] == "object" and row["itemType"] is None
    assert [(c["fieldKey"], c["fieldType"]) for c in row["fields"]] == [
        ("Description", "string"), ("Quantity", "number"), ("UnitPrice", "number"), ("Amount", "number")]
    assert all(set(c) == tool and c["itemType"] is None and c["fields"] is None for c in row["fields"])
    scalars = {f["fieldKey"]: f["fieldType"] for f in fields["fields"] if f["fieldKey"] != "Items"}
    assert scalars == {"InvoiceNumber": "string", "InvoiceDate": "date", "CustomerName": "string",
                       "Total": "number"}
    for form in forms:
        for label in _labels(form):
            assert label["label"] in scalars or CELL.match(label["label"]), label["label"]


def _ruled(path: Path) -> bool:
    """Whether page 1 has any rule or box below the letterhead, i.e. in the table or around the Total."""
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[0]
        return any(obj["top"] >= TABLE_TOP for obj in [*page.lines, *page.rects])


@pytest.mark.parametrize(("seed", "start"), [(0, 1), (7, 5)])
def test_both_styles_occur_in_any_six_consecutive_forms(tmp_path: Path, seed: int, start: int) -> None:
    forms = generate("invoice_items", 14, tmp_path, seed=seed, start_index=start)
    ruled = [_ruled(f.path) for f in forms]
    for k in range(len(ruled) - 5):
        assert set(ruled[k: k + 6]) == {True, False}, ruled
    # An unruled table has no line at all: nothing below the letterhead but text.
    unruled = forms[ruled.index(False)]
    with pdfplumber.open(unruled.path) as pdf:
        assert not [o for o in [*pdf.pages[0].lines, *pdf.pages[0].rects, *pdf.pages[0].curves]
                    if o["top"] >= TABLE_TOP]


def test_same_seed_same_bytes_and_every_kind_carries_the_same_table(tmp_path: Path) -> None:
    a = generate("invoice_items", 2, tmp_path / "a", seed=3)
    b = generate("invoice_items", 2, tmp_path / "b", seed=3)
    scan = generate("invoice_items", 2, tmp_path / "scan", seed=3, kind="scan")
    fillable = generate("invoice_items", 2, tmp_path / "fillable", seed=3, kind="fillable")
    for x, y, s, f in zip(a, b, scan, fillable, strict=True):
        assert x.path.read_bytes() == y.path.read_bytes()
        assert x.labels_path.read_bytes() == y.labels_path.read_bytes()
        assert x.tables == s.tables == f.tables and x.values == s.values == f.values
        for (i, col), label in _cells(f).items():  # fillable: a field per cell, labels spell it as well
            assert " ".join(v["text"] for v in label["value"]) == f.tables["Items"][i][col]


@pytest.mark.parametrize(("layout", "frames"), [("invoice_items", 1), ("invoice_items_multipage", 2)])
def test_scans_are_page_images_whose_labels_sit_on_ink(tmp_path: Path, layout: str, frames: int) -> None:
    form = generate(layout, 1, tmp_path, seed=5, kind="scan")[0]
    assert form.path.suffix == (".jpg" if frames == 1 else ".tiff")
    boxes = [(v["page"], v["boundingBoxes"][0]) for label in _labels(form) for v in label["value"]]
    with Image.open(form.path) as image:
        assert getattr(image, "n_frames", 1) == frames == max(page for page, _ in boxes)
        inked = 0
        for number in range(1, frames + 1):
            image.seek(number - 1)
            width, height = image.size  # Letter at 150 dpi (pdfium rounds up): what the boxes are 0..1 of
            assert abs(width - 8.5 * 150) <= 1 and abs(height - 11 * 150) <= 1
            pixels = np.asarray(image.convert("L"))
            for page, box in boxes:
                if page != number:
                    continue
                x0, x1 = int(min(box[0::2]) * width), int(max(box[0::2]) * width) + 1
                y0, y1 = int(min(box[1::2]) * height), int(max(box[1::2]) * height) + 1
                inked += int(pixels[y0:y1, x0:x1].min() < 110)
    assert inked == len(boxes)


def test_command_line_writes_scans_of_the_table_layout(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "formgen", "invoice_items", "6", str(tmp_path), "--kind", "scan"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    paths = [Path(p) for p in run.stdout.split()]
    assert [p.name for p in paths] == [f"invoice_items_{i:04d}.jpg" for i in range(1, 7)]
    assert all(p.with_name(p.name + ".labels.json").exists() for p in paths)
    assert "definitions" in json.loads((tmp_path / "fields.json").read_text(encoding="utf-8"))


def test_names_with_a_slash_or_tilde_are_escaped_in_label_paths() -> None:
    assert cell_label(ITEMS, 3, "UnitPrice") == "Items/3/UnitPrice"
    assert cell_label(type(ITEMS)("a/b~c", ()), 0, "x/y") == "a~1b~0c/0/x~1y"
