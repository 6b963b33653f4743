"""What the engine reads: rotated scans, selection marks, reading order, the purchase orders' words."""

from __future__ import annotations

import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from tests.helpers.engine import Client, encode, make_pdf, text_image
from tests.helpers.paths import DATA_DIR

LINES = ["Invoice number 4711 from Contoso", "Total amount due 120 dollars", "Please pay within thirty days"]
PURCHASE_ORDERS = DATA_DIR / "purchase-orders"


def page_of(body: dict) -> dict:
    return body["analyzeResult"]["readResults"][0]


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_rotated_scan_reports_angle_and_page_coordinates(client: Client, turn: int) -> None:
    upright = text_image(LINES, size=(1200, 700), font_size=36)
    reference = page_of(client.layout(encode(upright, "PNG"), "image/png"))
    turned = upright.rotate(-turn, expand=True)  # text now runs `turn` degrees clockwise
    page = page_of(client.layout(encode(turned, "PNG"), "image/png"))
    assert -180 < page["angle"] <= 180
    off = (page["angle"] - {90: 90, 180: 180, 270: -90}[turn] + 180) % 360 - 180  # 180.05 is -179.95
    assert off == pytest.approx(0, abs=1)
    assert (page["width"], page["height"]) == turned.size
    assert [ln["text"] for ln in page["lines"]] == [ln["text"] for ln in reference["lines"]] == LINES
    # The first word's box starts at the text's own top-left corner, mapped into the turned page.
    x, y = reference["lines"][0]["words"][0]["boundingBox"][:2]
    w, h = upright.size
    expected = {90: (h - y, x), 180: (w - x, h - y), 270: (y, w - x)}[turn]
    got = page["lines"][0]["words"][0]["boundingBox"][:2]
    assert got == pytest.approx(expected, abs=6)


def test_slight_skew_is_reported(client: Client) -> None:
    img = text_image(LINES, size=(1400, 600), font_size=36).rotate(-2, expand=True, fillcolor=255)
    page = page_of(client.layout(encode(img, "PNG"), "image/png"))
    assert page["angle"] == pytest.approx(2, abs=0.6)
    assert [ln["text"] for ln in page["lines"]] == LINES


def test_selection_marks_on_a_scan(client: Client) -> None:
    img = text_image(["Live delivery", "Gift wrap"], boxes=[(600, 52, True), (600, 113, False)])
    page = page_of(client.layout(encode(img, "PNG"), "image/png"))
    marks = sorted(page["selectionMarks"], key=lambda m: m["boundingBox"][1])
    assert [m["state"] for m in marks] == ["selected", "unselected"]
    x0, y0 = marks[0]["boundingBox"][:2]
    assert x0 == pytest.approx(600, abs=3) and y0 == pytest.approx(52, abs=3)
    assert all(0 < m["confidence"] <= 1 for m in marks)
    assert [ln["text"] for ln in page["lines"]] == ["Live delivery", "Gift wrap"]  # boxes are not words


def test_selection_marks_in_a_digital_pdf(client: Client) -> None:
    pdf = make_pdf([["Options"]], boxes=[(300, 500, True), (340, 500, False)])
    page = page_of(client.layout(pdf, "application/pdf"))
    marks = sorted(page["selectionMarks"], key=lambda m: m["boundingBox"][0])
    assert [m["state"] for m in marks] == ["selected", "unselected"]
    assert marks[0]["boundingBox"][0] == pytest.approx(300 / 72, abs=0.03)
    assert marks[0]["boundingBox"][1] == pytest.approx((792 - 510) / 72, abs=0.03)


def test_reading_order_two_columns(client: Client) -> None:
    """Column text is read column by column; a form row is read left to right."""
    from io import BytesIO

    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.drawString(72, 740, "Report title across the page")
    for i in range(5):
        c.drawString(72, 700 - 14 * i, f"left column line {i}")
        c.drawString(330, 700 - 14 * i, f"right column line {i}")
    c.showPage()
    c.save()
    texts = [ln["text"] for ln in page_of(client.layout(buf.getvalue(), "application/pdf"))["lines"]]
    assert texts == ["Report title across the page"] + [f"left column line {i}" for i in range(5)] + [
        f"right column line {i}" for i in range(5)]


def _norm_words(result: dict) -> list[str]:
    words = (w["text"] for p in result["readResults"] for ln in p["lines"] for w in ln["words"])
    return [n for n in (re.sub(r"[^\w]", "", w.lower()) for w in words) if n]


def word_match(cloud: list[str], ours: list[str]) -> tuple[int, int, int]:
    """(matched, cloud words, our words), as multisets after normalising case and punctuation."""
    return sum((Counter(cloud) & Counter(ours)).values()), len(cloud), len(ours)


def test_purchase_orders_match_cloud_words(client: Client) -> None:
    forms = sorted(PURCHASE_ORDERS.glob("Form_*.jpg"))
    assert len(forms) == 5
    with ThreadPoolExecutor(5) as pool:
        bodies = list(pool.map(lambda p: client.layout(p.read_bytes(), "image/jpeg"), forms))
    matched = cloud_total = ours_total = 0
    for form, body in zip(forms, bodies, strict=True):
        cloud = json.loads(form.with_name(form.name + ".ocr.json").read_text())["analyzeResult"]
        assert page_of(body)["width"] == cloud["readResults"][0]["width"] == Image.open(form).size[0]
        m, c, o = word_match(_norm_words(cloud), _norm_words(body["analyzeResult"]))
        matched, cloud_total, ours_total = matched + m, cloud_total + c, ours_total + o
    recall, precision = matched / cloud_total, matched / ours_total
    print(f"purchase orders word match: recall {recall:.3f}, precision {precision:.3f}")
    assert recall >= 0.95 and precision >= 0.95


def test_scan_with_a_stray_text_layer_is_still_ocred(client: Client) -> None:
    """A scanned page whose text layer holds only a stamped page number is read by OCR, not from the stamp."""
    from io import BytesIO

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = text_image(["Scanned invoice text"], size=(1700, 600), font_size=40)
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 216))
    c.drawImage(ImageReader(img.convert("RGB")), 0, 0, width=612, height=216)
    c.setFont("Helvetica", 6)
    c.drawString(590, 5, "p1")
    c.showPage()
    c.save()
    texts = [ln["text"] for ln in page_of(client.layout(buf.getvalue(), "application/pdf"))["lines"]]
    assert texts[0] == "Scanned invoice text"
