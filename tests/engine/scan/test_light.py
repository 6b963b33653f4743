"""Uneven light (engine/scan/pixels.flatten_light): a sheet photographed on a dark table with a shadow
across it is read like a scan; a page lit evenly is left exactly as it was."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.layout.analyze import analyze_layout
from engine.scan.pixels import flatten_light

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = ["Membership registration form", "First name Valentina", "Street address 67959 Park Blvd",
         "City state ZIP Redmond WA 63011", "Date signed September 04 2024"]


def _sheet() -> Image.Image:
    page = Image.new("L", (1100, 1400), 235)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 30)
    for i, text in enumerate(LINES):
        draw.text((90, 120 + 110 * i), text, fill=25, font=font)
        draw.line((90, 165 + 110 * i, 1000, 165 + 110 * i), fill=60, width=2)
    return page


def _photo(sheet: Image.Image) -> Image.Image:
    """The sheet on a dark table, a shadow darkening it towards one corner (to ~45 % of its light)."""
    table = Image.new("L", (1300, 1650), 70)
    table.paste(sheet, (100, 120))
    yy, xx = np.mgrid[0:table.height, 0:table.width]
    light = 1.0 - 0.55 * (xx / table.width + yy / table.height) / 2
    return Image.fromarray((np.asarray(table, dtype=float) * light).astype(np.uint8), "L")


def _words(image: Image.Image) -> set[str]:
    data = io.BytesIO()
    image.save(data, format="PNG")
    result = analyze_layout(data.getvalue(), None)
    return {w["text"].lower() for rr in result["readResults"] for ln in rr["lines"] for w in ln["words"]}


def test_a_photographed_sheet_is_read_like_a_scan() -> None:
    wanted = {w.lower() for text in LINES for w in text.split()}
    photo = _photo(_sheet())
    flat = np.asarray(flatten_light(photo))
    paper = flat[200:1300, 150:1150]
    assert np.percentile(paper, 90) > 230  # paper white in the shadow too
    found = _words(photo)
    assert len(wanted & found) >= 0.9 * len(wanted), sorted(wanted - found)


def test_a_page_lit_evenly_is_left_as_it_was() -> None:
    sheet = _sheet()
    assert flatten_light(sheet) is sheet
    tiny = Image.new("L", (30, 30), 255)
    assert flatten_light(tiny) is tiny
