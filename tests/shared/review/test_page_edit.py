"""Editing on the page: a check box set by clicking it, a region drawn where no word is, undo and clear,
every input format shown (JPEG, PNG, BMP beside the PDFs and TIFFs of the other tests)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from formgen.generate import generate
from shared.predictions.field_values import labeled_values
from tests.helpers.browser import ReviewHost, field_value


def test_check_box_by_click_region_by_drawing_then_undo_and_clear(
    review_host: ReviewHost, page: Any, tmp_path: Path
) -> None:
    form = generate("registration", 1, tmp_path / "reg", seed=5, kind="fillable")[0]
    host = review_host
    host.upload("reg/fields.json", (form.path.parent / "fields.json").read_bytes())
    host.upload(f"reg/{form.path.name}", form.path.read_bytes())
    host.wait_for("its OCR", lambda: host.exists(f"reg/{form.path.name}.ocr.json"))
    host.open(page)
    fields = page.get_by_role("list", name="Fields of this form")

    mark = page.locator("#overlay .mark").first
    state = page.evaluate("() => document.querySelector('#overlay .mark').title.replace('check box: ', '')")
    fields.get_by_role("button", name="MembershipFamily: empty").click()
    mark.click()
    assert field_value(page, "MembershipFamily") == state
    page.keyboard.press("Control+z")
    assert field_value(page, "MembershipFamily") == "—"  # undone
    mark.click()

    fields.get_by_role("button", name="SignatureDate: empty").click()
    page.keyboard.press("r")
    box = page.locator("#overlay").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.70, box["y"] + box["height"] * 0.03)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.06, steps=5)
    page.mouse.up()
    assert page.locator('#overlay .region[data-region="SignatureDate"]').count() == 1

    fields.get_by_role("button", name="FirstName: empty").click()
    page.locator(f'#overlay .word[data-text="{form.values["FirstName"]}"]').click()
    assert field_value(page, "FirstName") == form.values["FirstName"]
    page.keyboard.press("Delete")  # cleared: the saved file leaves the field out
    assert field_value(page, "FirstName") == "—"

    page.get_by_role("application").focus()
    page.keyboard.press("Enter")
    host.wait_for("the labels", lambda: host.exists(f"reg/{form.path.name}.labels.json"))
    saved = json.loads(host.read(f"reg/{form.path.name}.labels.json"))
    by_name = {label["label"]: label for label in saved["labels"]}
    assert set(by_name) == {"MembershipFamily", "SignatureDate"}
    assert labeled_values(host.read(f"reg/{form.path.name}.labels.json"))["MembershipFamily"] == state
    region = by_name["SignatureDate"]
    assert region["labelType"] == "region"
    x0, y0, x1, y1 = region["value"][0]["boundingBoxes"][0][0:2] + region["value"][0]["boundingBoxes"][0][4:6]
    assert (x0, y0, x1, y1) == pytest.approx((0.70, 0.03, 0.85, 0.06), abs=0.01)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP"])
def test_images_of_every_kind_show_at_their_own_size(review_host: ReviewHost, page: Any, fmt: str) -> None:
    image = Image.new("RGB", (640, 480), "white")
    out = io.BytesIO()
    image.save(out, fmt)
    name = f"photo.{fmt.lower()}"
    review_host.upload("kinds/fields.json", b'{"fields": [{"fieldKey": "A", "fieldType": "string"}]}')
    review_host.upload(f"kinds/{name}", out.getvalue())
    review_host.open(page)
    page.get_by_role("button", name="Actual size (100%)").click()
    size = page.evaluate(
        "() => { const i = document.getElementById('page-img'); "
        "return [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width]; }"
    )
    assert size[:2] == [640, 480]
