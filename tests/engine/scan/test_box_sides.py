"""Scanned field boxes and comb cells: their sides are not letters, and a comb is one word per cell."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from tests.helpers.engine import FONT_PATH, Client, encode


def boxed_form() -> Image.Image:
    """A 200-dpi page: a value in a framed field, a five-cell comb (a digit per cell), and a plain line."""
    img = Image.new("L", (1400, 700), 245)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH, 34)
    draw.text((60, 40), "First name", font=font, fill=0)
    draw.rectangle((60, 90, 700, 150), outline=0, width=3)  # the field's frame, touching nothing
    draw.text((72, 100), "Priya", font=font, fill=0)
    draw.text((60, 230), "ZIP code", font=font, fill=0)
    cell = 50
    for i, digit in enumerate("58576"):
        x = 60 + i * cell
        draw.rectangle((x, 280, x + cell, 340), outline=0, width=3)
        draw.text((x + 15, 288), digit, font=font, fill=0)
    draw.text((60, 450), "Signed in Raleigh on the first of May", font=font, fill=0)
    return img


def test_frame_sides_are_not_read_and_a_comb_is_one_word_per_cell(client: Client) -> None:
    page = client.layout(encode(boxed_form(), "PNG"), "image/png")["analyzeResult"]["readResults"][0]
    words = [(w["text"], w["boundingBox"]) for line in page["lines"] for w in line["words"]]
    texts = [t for t, _ in words]
    assert "Priya" in texts  # not "[Priya" or "|Priya"
    comb = [(t, box) for t, box in words if box[1] >= 280 and box[5] <= 345]
    assert [t for t, _ in comb] == list("58576")
    for i, (_t, box) in enumerate(comb):  # each digit's box inside its own cell
        assert 60 + i * 50 <= box[0] and box[2] <= 60 + (i + 1) * 50
    assert "Signed in Raleigh on the first of May" in [line["text"] for line in page["lines"]]


def test_digits_standing_apart_are_one_word_each_and_ordinary_words_stay_whole(client: Client) -> None:
    """A comb field printed without cell walls (a tax form's SSN) reads as one digit per cell, as the
    cloud reads it; Tesseract joins them into one word."""
    img = Image.new("L", (1400, 300), 245)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH, 34)
    mono = ImageFont.truetype(FONT_PATH.replace("DejaVuSans.ttf", "DejaVuSansMono.ttf"), 34)
    draw.text((60, 40), "Your social security number", font=font, fill=0)
    for i, digit in enumerate("112345678"):
        draw.text((60 + i * 42, 110), digit, font=font, fill=0)
    draw.text((60, 200), "Requested by P. Smith", font=mono, fill=0)
    page = client.layout(encode(img, "PNG"), "image/png")["analyzeResult"]["readResults"][0]
    words = [w["text"] for line in page["lines"] for w in line["words"]]
    assert words[words.index("number") + 1:][:9] == list("112345678")
    assert "Requested" in words and "P." in words and "Smith" in words


def test_a_ticked_radio_in_a_grey_bevelled_box_is_selected_and_a_bullet_is_no_mark(client: Client) -> None:
    """A fillable form printed and scanned: the radio's big dot inside a grey bevel fills most of the box
    (it was taken for a solid bullet and dropped); a solid square really is a bullet."""
    img = Image.new("L", (900, 300), 245)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH, 30)
    for x, ticked in ((60, True), (360, False)):
        draw.rectangle((x, 60, x + 34, 94), outline=40, width=3)
        draw.rectangle((x + 4, 64, x + 30, 90), outline=150, width=3)  # the field's grey bevel
        if ticked:
            draw.ellipse((x + 5, 65, x + 29, 89), fill=30)
        draw.text((x + 50, 58), "Premium" if ticked else "Basic", font=font, fill=0)
    draw.rectangle((60, 180, 90, 210), fill=0)  # a bullet
    draw.text((110, 176), "Terms apply", font=font, fill=0)
    page = client.layout(encode(img, "PNG"), "image/png")["analyzeResult"]["readResults"][0]
    marks = sorted((m["boundingBox"][0], m["state"]) for m in page["selectionMarks"])
    assert [state for _x, state in marks] == ["selected", "unselected"], marks
    assert marks[0][0] < 100 < 300 < marks[1][0]
