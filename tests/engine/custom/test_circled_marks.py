"""Check boxes read from their place on the page when the page's mark detection found none there, or found
one empty: answers circled rather than ticked (issue 19 item 9; the real Monthly Report photos: check boxes
77.1 -> 90.8 % right). Generated registration forms, scanned, through the real Layout and the custom model."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from engine.custom.results import build_result
from engine.custom.scoring import region_read
from engine.custom.source import DirSource
from engine.custom.training import run_training
from engine.layout.analyze import analyze_layout, page_image
from formgen import GeneratedForm, generate


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], GeneratedForm, dict[str, Any]]:
    """A model of six scanned registration forms, a seventh form to read and its Layout."""
    folder = tmp_path_factory.mktemp("registration")
    forms = generate("registration", 7, folder, seed=5, kind="scan", dpi=150)
    held = forms[-1]
    held.path.rename(folder.parent / held.path.name)
    held.labels_path.unlink()
    readings = {f.path.name: analyze_layout(f.path.read_bytes(), "image/jpeg") for f in forms[:-1]}
    by_bytes = {f.path.read_bytes(): readings[f.path.name] for f in forms[:-1]}
    outcome = run_training(DirSource(folder), "", False, True, lambda b: copy.deepcopy(by_bytes[b]),
                           image_fn=lambda data, n: page_image(data, "image/jpeg", n))
    assert outcome.status == "ready", outcome.train_result
    path = folder.parent / held.path.name
    return outcome.params, GeneratedForm(path, held.labels_path, held.values), \
        analyze_layout(path.read_bytes(), "image/jpeg")


def _empty_box(params: dict[str, Any], layout: dict[str, Any], form: GeneratedForm,
               ) -> tuple[str, int, list[float]]:
    """An unselected check box of the form: its field, its mark's index and its polygon (pixels)."""
    name = next(k for k in ("Newsletter", "MembershipBasic", "MembershipPremium", "MembershipFamily")
                if form.values[k] == "unselected")
    fields = build_result("m", {}, params, copy.deepcopy(layout), True)["documentResults"][0]["fields"]
    index = int(fields[name]["elements"][0].rsplit("/", 1)[1])
    return name, index, layout["readResults"][0]["selectionMarks"][index]["boundingBox"]


def _ringed(path: Path, box: list[float]) -> Image.Image:
    img = Image.open(path).convert("RGB")
    xs, ys = box[0::2], box[1::2]
    side = max(xs) - min(xs)
    ImageDraw.Draw(img).ellipse((min(xs) - 0.5 * side, min(ys) - 0.6 * side, max(xs) + 1.2 * side,
                                 max(ys) + 0.6 * side), outline="black", width=3)
    return img


def test_a_circled_box_is_read_selected_from_the_page(
        trained: tuple[dict[str, Any], GeneratedForm, dict[str, Any]]) -> None:
    params, form, layout = trained
    name, index, box = _empty_box(params, layout, form)
    img = _ringed(form.path, box)
    images = functools.cache(lambda n: (img, 1.0))

    def answer(reading: dict[str, Any], with_image: bool) -> dict[str, Any] | None:
        result = build_result("m", {}, params, copy.deepcopy(reading), True, images if with_image else None)
        return result["documentResults"][0]["fields"][name]

    # the page's detection found the box, empty: the ring round it selects it
    got = answer(layout, True)
    assert got is not None and got["valueSelectionMark"] == "selected" and got["type"] == "selectionMark"
    assert got["confidence"] <= 0.5 and got["elements"] == []  # a reading of the image, sent to review
    assert answer(layout, False)["valueSelectionMark"] == "unselected"
    # the detection found no box there at all (the ring joined it to its caption and neighbours)
    missed = copy.deepcopy(layout)
    missed["readResults"][0]["selectionMarks"][index]["boundingBox"] = [0, 0, 1, 0, 1, 1, 0, 1]
    assert answer(missed, False) is None
    got = answer(missed, True)
    assert got is not None and got["valueSelectionMark"] == "selected"
    # a box without a ring that the detection missed is read from the page too, and is empty
    images = functools.cache(lambda n: (Image.open(form.path).convert("RGB"), 1.0))
    got = answer(missed, True)
    assert got is not None and got["valueSelectionMark"] == "unselected"


def test_a_digital_pdfs_check_boxes_are_not_looked_for_on_a_drawn_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page read from its text layer has exact boxes and no hand-drawn rings: its unselected boxes are
    not looked for again (that drew the page, ~0.3 s a PDF page, on every analysis of a digital form)."""
    forms = generate("registration", 6, tmp_path / "pdf", seed=5, kind="pdf")
    outcome = run_training(DirSource(tmp_path / "pdf"), "", False, True,
                           lambda b: analyze_layout(b, "application/pdf"),
                           image_fn=lambda data, n: page_image(data, "application/pdf", n))
    assert outcome.status == "ready", outcome.train_result
    looked: list[float] = []
    monkeypatch.setattr(region_read, "mark_at", lambda gray, side, at=None: looked.append(side))
    data = forms[0].path.read_bytes()
    fields = build_result("m", {}, outcome.params, analyze_layout(data, "application/pdf"), True,
                          functools.cache(lambda n: page_image(data, "application/pdf", n)))
    marks = [fields["documentResults"][0]["fields"][k] for k in ("Newsletter", "TermsAccepted")]
    assert [m["valueSelectionMark"] for m in marks] == [forms[0].values[k] for k in ("Newsletter",
                                                                                     "TermsAccepted")]
    assert all(m["elements"] for m in marks) and looked == []
