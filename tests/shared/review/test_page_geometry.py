"""What the page draws lines up with what is printed: at 100 % zoom every word's box sits on the word's
ink, on a fillable PDF (whose typed-in values must show) and on each page of a multi-page TIFF."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from formgen.generate import generate
from tests.helpers.browser import ReviewHost
from tests.helpers.engine import multi_tiff, text_image

CSS_PX_PER_INCH = 96
TOLERANCE_PX = 2.0
DARK = 140


def _open_at_100(page: Any, host: ReviewHost, doc: str) -> None:
    host.open(page)
    page.get_by_role("list", name="Forms in review order").get_by_role("button", name=doc).click()
    page.wait_for_function("doc => (document.body.dataset.pageShown || '').startsWith(doc + '#')", arg=doc)
    page.get_by_role("button", name="Actual size (100%)").click()


def _measure(page: Any) -> dict[str, Any]:
    """Screen boxes of the image and of each word, the page's size, and the page as pixels (no overlay)."""
    geometry = page.evaluate("""() => {
        const img = document.getElementById('page-img').getBoundingClientRect();
        const words = [...document.querySelectorAll('#overlay .word')].map(w => {
            const r = w.getBoundingClientRect();
            return {text: w.dataset.text, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
        });
        return {img: {x: img.left, y: img.top, w: img.width, h: img.height}, words};
    }""")
    page.evaluate("document.getElementById('overlay').style.visibility = 'hidden'")
    img = geometry["img"]
    shot = page.screenshot(clip={"x": img["x"], "y": img["y"], "width": img["w"], "height": img["h"]})
    page.evaluate("document.getElementById('overlay').style.visibility = 'visible'")
    geometry["pixels"] = np.asarray(Image.open(io.BytesIO(shot)).convert("L"))
    return geometry


def _ink_errors(geometry: dict[str, Any]) -> list[tuple[float, str]]:
    """Per word: how far its box's sides are from the ink inside it (a box too big), or inf when the
    word's ink runs on past a side (a box too small or misplaced)."""
    pixels, img = geometry["pixels"], geometry["img"]
    errors = []
    for w in geometry["words"]:
        x0, y0 = round(w["x0"] - img["x"]), round(w["y0"] - img["y"])
        x1, y1 = round(w["x1"] - img["x"]), round(w["y1"] - img["y"])
        if len(w["text"]) < 3 or x1 - x0 < 12 or y1 - y0 < 6 or x0 < 1 or x1 >= pixels.shape[1]:
            continue
        dark = pixels[y0:y1, x0 - 1 : x1 + 1] < DARK
        cols = np.where(dark[:, 1:-1].any(axis=0))[0]
        if not len(cols):
            errors.append((float("inf"), w["text"]))
            continue
        # ink in the first/last column inside the box that goes on in the column just outside: cut off
        cut = bool((dark[:, 0] & dark[:, 1]).any()) or bool((dark[:, -1] & dark[:, -2]).any())
        spare = max(cols[0], (x1 - x0) - 1 - cols[-1])
        errors.append((float("inf") if cut else float(spare), w["text"]))
    return errors


def _assert_aligned(geometry: dict[str, Any], page_width_px: float) -> None:
    assert abs(geometry["img"]["w"] - page_width_px) <= 1.0  # 100 % is the page's own size
    errors = sorted(_ink_errors(geometry))
    assert len(errors) >= 10
    median, p90 = errors[len(errors) // 2][0], errors[int(len(errors) * 0.9)][0]
    assert median <= 1.0 and p90 <= TOLERANCE_PX, f"ink-to-box errors (px): {errors}"


def test_fillable_pdf_shows_its_values_and_boxes_sit_on_the_ink(
    review_host: ReviewHost, page: Any, tmp_path: Path
) -> None:
    form = generate("registration", 1, tmp_path / "fill", seed=3, kind="fillable")[0]
    host = review_host
    host.upload("align/fields.json", (form.path.parent / "fields.json").read_bytes())
    host.upload(f"align/{form.path.name}", form.path.read_bytes())
    host.wait_for("its OCR", lambda: host.exists(f"align/{form.path.name}.ocr.json"))
    _open_at_100(page, host, form.path.name)
    view = page.request.get(f"{host.base}/api/review/form?folder=align&doc={form.path.name}").json()
    geometry = _measure(page)
    _assert_aligned(geometry, view["pages"][0]["width"] * CSS_PX_PER_INCH)
    by_text = {w["text"]: w for w in geometry["words"]}
    for value in (form.values["FirstName"], form.values["LastName"]):  # typed into form fields
        w = by_text[value]
        img = geometry["img"]
        crop = geometry["pixels"][
            round(w["y0"] - img["y"]) : round(w["y1"] - img["y"]),
            round(w["x0"] - img["x"]) : round(w["x1"] - img["x"]),
        ]
        assert (crop < DARK).mean() > 0.05, f"the field value {value!r} is not drawn on the page image"


def test_every_page_of_a_multi_page_tiff_lines_up(review_host: ReviewHost, page: Any) -> None:
    lines = [
        ["Invoice number 48213", "Customer Jane Example", "Street 12 Harbour Road", "Total amount 1,284.50"],
        ["Page two of the form", "Signature of the customer", "Date 2024-03-11 and place"],
    ]
    frames = [text_image(text, size=(1100, 700), font_size=30) for text in lines]
    host = review_host
    host.upload("align/fields.json", b'{"fields": [{"fieldKey": "Total", "fieldType": "string"}]}')
    host.upload("align/scan.tiff", multi_tiff(frames))
    host.wait_for("its OCR", lambda: host.exists("align/scan.tiff.ocr.json"))
    _open_at_100(page, host, "scan.tiff")
    assert page.get_by_role("tab").count() == 2
    for number in (1, 2):
        if number > 1:
            page.get_by_role("application").focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("n => document.body.dataset.pageShown.endsWith('#' + n)", arg=number)
            assert page.get_by_role("tab", name=f"Page {number}").get_attribute("aria-selected") == "true"
        _assert_aligned(_measure(page), frames[number - 1].width)
