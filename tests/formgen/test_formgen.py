"""The generator's promises: deterministic, labels on exactly the rendered words, boxes follow the scan."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytesseract
import pytest
from PIL import Image

from formgen import generate, layouts
from formgen.scan import ScanParams

REPO = Path(__file__).resolve().parents[2]


def _labels(form) -> dict:
    return json.loads(form.labels_path.read_text(encoding="utf-8"))


def _rect(box: list[float], width: float, height: float) -> tuple[float, float, float, float]:
    xs, ys = box[0::2], box[1::2]
    return min(xs) * width, min(ys) * height, max(xs) * width, max(ys) * height


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def _label_words(labels: dict) -> list[tuple[str, int, str, list[float]]]:
    return [
        (label["label"], value["page"], value["text"], value["boundingBoxes"][0])
        for label in labels["labels"]
        for value in label["value"]
    ]


def test_there_are_several_layouts_and_one_is_multipage(tmp_path: Path) -> None:
    names = layouts()
    assert len(names) >= 3
    assert {"invoice", "purchase_order", "registration", "invoice_multipage"} <= set(names)
    form = generate("invoice_multipage", 1, tmp_path)[0]
    assert {page for _, page, _, _ in _label_words(_labels(form))} == {1, 2}
    with pdfplumber.open(form.path) as pdf:
        assert len(pdf.pages) == 2


@pytest.mark.parametrize("kind", ["pdf", "scan"])
def test_same_seed_gives_the_same_bytes_and_another_seed_other_values(tmp_path: Path, kind: str) -> None:
    first = generate("purchase_order", 2, tmp_path / "a", seed=7, kind=kind)
    again = generate("purchase_order", 2, tmp_path / "b", seed=7, kind=kind)
    other = generate("purchase_order", 2, tmp_path / "c", seed=8, kind=kind)
    for a, b in zip(first, again, strict=True):
        assert a.path.name == b.path.name
        assert a.path.read_bytes() == b.path.read_bytes()
        assert a.labels_path.read_bytes() == b.labels_path.read_bytes()
        assert a.values == b.values
    assert (tmp_path / "a" / "fields.json").read_bytes() == (tmp_path / "b" / "fields.json").read_bytes()
    assert [f.values for f in first] != [f.values for f in other]


def test_start_index_continues_the_same_sequence(tmp_path: Path) -> None:
    whole = generate("registration", 3, tmp_path / "whole", seed=1)
    tail = generate("registration", 1, tmp_path / "tail", seed=1, start_index=3)
    assert tail[0].path.name == whole[2].path.name == "registration_0003.pdf"
    assert tail[0].values == whole[2].values


def test_pdf_and_scan_of_one_index_carry_the_same_values(tmp_path: Path) -> None:
    pdf = generate("invoice", 1, tmp_path / "pdf", seed=4)[0]
    scan = generate("invoice", 1, tmp_path / "scan", seed=4, kind="scan")[0]
    assert pdf.values == scan.values
    assert scan.path.suffix == ".jpg"
    assert _labels(scan)["document"] == scan.path.name == scan.labels_path.name.removesuffix(".labels.json")


@pytest.mark.parametrize("layout", ["invoice", "invoice_multipage", "purchase_order", "registration"])
def test_pdf_label_boxes_cover_exactly_the_rendered_words(tmp_path: Path, layout: str) -> None:
    """Every labeled word is a word pdfplumber extracts at the same place, and the labels spell the values."""
    for form in generate(layout, 3, tmp_path, seed=11):
        labels = _labels(form)
        with pdfplumber.open(form.path) as pdf:
            pages = {
                number: (page.width, page.height, page.extract_words(keep_blank_chars=False))
                for number, page in enumerate(pdf.pages, start=1)
            }
        for field, page, text, box in _label_words(labels):
            if text in ("selected", "unselected"):
                continue  # a check box: no text to extract (checked separately)
            width, height, words = pages[page]
            rect = _rect(box, width, height)
            same = [w for w in words if w["text"] == text]
            best = max((_iou(rect, (w["x0"], w["top"], w["x1"], w["bottom"])) for w in same), default=0.0)
            assert best > 0.8, f"{form.path.name} {field}: label word {text!r} is not where it was drawn"
        by_field: dict[str, list[str]] = {}
        for field, _, text, _ in _label_words(labels):
            by_field.setdefault(field, []).append(text)
        assert {k: " ".join(v) for k, v in by_field.items()} == {k: v for k, v in form.values.items() if v}


def test_fields_json_matches_labels_and_values(tmp_path: Path) -> None:
    for layout in layouts():
        forms = generate(layout, 4, tmp_path / layout, seed=2)
        fields = json.loads((tmp_path / layout / "fields.json").read_text())["fields"]
        types = {f["fieldKey"]: f["fieldType"] for f in fields}
        assert all(f["fieldFormat"] == "not-specified" for f in fields)
        assert set(types.values()) <= {"string", "number", "date", "selectionMark"}
        for form in forms:
            assert set(form.values) == set(types)
            for label in _labels(form)["labels"]:
                assert label["key"] is None
                kind = types[label["label"]]
                texts = [v["text"] for v in label["value"]]
                for value in label["value"]:
                    box = value["boundingBoxes"][0]
                    assert len(box) == 8 and all(0.0 <= c <= 1.0 for c in box)
                if kind == "selectionMark":
                    assert texts in (["selected"], ["unselected"])
                elif kind == "number":
                    float(" ".join(texts).replace(",", ""))
                elif kind == "date":
                    text = " ".join(texts)
                    formats = ("%Y-%m-%d", "%m/%d/%Y", "%b %d, %Y")
                    assert any(_parses(text, f) for f in formats), text


def _parses(text: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def test_values_vary_in_length_and_optional_fields_are_sometimes_empty(tmp_path: Path) -> None:
    forms = generate("invoice", 15, tmp_path, seed=0)
    assert len({len(f.values["CustomerName"].split()) for f in forms}) >= 2
    assert len({len(f.values["Total"]) for f in forms}) >= 2
    po_numbers = [f.values["PONumber"] for f in forms]
    assert "" in po_numbers and any(po_numbers)
    empty = next(f for f in forms if not f.values["PONumber"])
    assert "PONumber" not in {label["label"] for label in _labels(empty)["labels"]}


def test_registration_check_boxes_are_labeled_with_their_state(tmp_path: Path) -> None:
    for form in generate("registration", 5, tmp_path, seed=3):
        labels = {label["label"]: label["value"] for label in _labels(form)["labels"]}
        plans = [labels[k][0]["text"] for k in ("MembershipBasic", "MembershipPremium", "MembershipFamily")]
        assert sorted(plans) == ["selected", "unselected", "unselected"]
        for key in ("Newsletter", "TermsAccepted"):
            assert labels[key][0]["text"] == form.values[key]


def _angle_index(layout: str, seed: int, minimum: float) -> int:
    """An index whose first scanned page is rotated by >= `minimum` degrees (same draw as generate)."""
    for index in range(1, 50):
        params = ScanParams.random(random.Random(f"formgen-scan:{layout}:{seed}:{index}:1"))
        if abs(params.angle_deg) >= minimum:
            return index
    raise AssertionError("no rotated page among the first 50")


def _normal(text: str) -> str:
    return text.strip(".,;:").lower()


@pytest.mark.parametrize("layout", ["invoice", "registration"])
def test_scan_boxes_follow_the_rotation_onto_the_words_tesseract_reads(tmp_path: Path, layout: str) -> None:
    index = _angle_index(layout, 5, 1.2)
    form = generate(layout, 1, tmp_path, seed=5, kind="scan", start_index=index)[0]
    image = Image.open(form.path)
    width, height = image.size
    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)
    ocr = [
        (_normal(t), (x, y, x + w, y + h))
        for t, x, y, w, h in zip(
            data["text"], data["left"], data["top"], data["width"], data["height"], strict=True
        )
        if t.strip()
    ]
    words = [
        (t, box) for _, page, t, box in _label_words(_labels(form)) if t not in ("selected", "unselected")
    ]
    hits = 0
    for text, box in words:
        rect = _rect(box, width, height)
        if any(t == _normal(text) and _iou(rect, r) > 0.5 for t, r in ocr):
            hits += 1
    assert hits >= 0.85 * len(words), f"only {hits}/{len(words)} label words sit on the OCR word"
    # The label boxes are tilted like the page: the top edge of a long word slopes by the rotation angle.
    params = ScanParams.random(random.Random(f"formgen-scan:{layout}:5:{index}:1"))
    text, box = max(words, key=lambda w: w[1][2] - w[1][0])
    slope = (box[3] - box[1]) * height / ((box[2] - box[0]) * width)
    assert slope == pytest.approx(math.tan(math.radians(params.angle_deg)), abs=1e-3)


def test_multipage_scan_is_one_tiff_with_a_frame_per_page(tmp_path: Path) -> None:
    form = generate("invoice_multipage", 1, tmp_path, kind="scan")[0]
    assert form.path.suffix == ".tiff"
    with Image.open(form.path) as image:
        assert image.n_frames == 2


def test_bad_arguments_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown layout 'receipt'"):
        generate("receipt", 1, tmp_path)
    with pytest.raises(ValueError, match="kind must be"):
        generate("invoice", 1, tmp_path, kind="png")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_command_line_writes_the_same_forms_as_the_api(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "formgen", "registration", "2", str(tmp_path / "cli"), "--seed", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    api = generate("registration", 2, tmp_path / "api", seed=3)
    assert run.stdout.split() == [str(tmp_path / "cli" / f.path.name) for f in api]
    for form in api:
        assert (tmp_path / "cli" / form.path.name).read_bytes() == form.path.read_bytes()
    bad = subprocess.run(
        [sys.executable, "-m", "formgen", "receipt", "1", str(tmp_path / "x")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "invalid choice: 'receipt'" in bad.stderr
