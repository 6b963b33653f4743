"""PP-OCRv4 on field crops without OpenCV (engine/ocr/ppocr.py) and the region reader on top of it
(engine/ocr/rapid_region.py), on rendered images with the real models."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading

import pytest
from PIL import Image, ImageDraw, ImageFont

from engine.ocr import ppocr, rapid_region
from tests.helpers.engine import FONT_PATH
from tests.helpers.paths import REPO_ROOT


def crop(*words: str, size: int = 32, gap: float = 0.3, box: bool = False) -> Image.Image:
    """A field crop: the words in DejaVu Sans, `gap` font sizes apart, a margin of one font size, and a
    ruled field box around them if `box`."""
    font = ImageFont.truetype(FONT_PATH, size)
    widths = [int(font.getlength(w)) for w in words]
    img = Image.new("L", (sum(widths) + int(gap * size) * (len(words) - 1) + 2 * size, 2 * size), 255)
    draw = ImageDraw.Draw(img)
    x = size
    for word, width in zip(words, widths, strict=True):
        draw.text((x, size // 2), word, font=font, fill=0)
        x += width + int(gap * size)
    if box:
        draw.rectangle((4, 4, img.width - 5, img.height - 5), outline=0, width=2)
    return img


def test_models_are_found_where_make_puts_them() -> None:
    """scripts/ocr_models.py took the PP-OCRv4 detector and the PP-OCRv6 recognizer out of their wheels
    into the virtualenv; the reader loads those files."""
    assert ppocr.available() and rapid_region.available()
    det, rec = ppocr.model_paths()  # type: ignore[misc]
    assert det == ppocr.installed_dir() / ppocr.DET_MODEL and rec == ppocr.installed_dir() / ppocr.REC_MODEL


@pytest.mark.parametrize("value", ["Hello World", "12/03/2024", "$1,250.00", "jane.doe@example.com",
                                   "Boulder City, CO 92848", "Invoice 4711"])
@pytest.mark.parametrize("size", [24, 40])
def test_printed_values_read_back_exactly(value: str, size: int) -> None:
    text, confidence = rapid_region.read_region(crop(value, size=size))
    assert text == value
    assert 0.8 <= confidence <= 1.0


def test_a_ruled_field_box_is_not_read() -> None:
    assert rapid_region.read_region(crop("Maria Lopez", box=True))[0] == "Maria Lopez"


def test_blank_and_tiny_crops_read_nothing() -> None:
    assert rapid_region.read_region(Image.new("L", (400, 60), 255)) == ("", 0.0)
    assert ppocr.read_lines(Image.new("L", (400, 60), 255)) == []
    assert rapid_region.read_region(Image.new("L", (3, 40), 0)) == ("", 0.0)
    assert rapid_region.read_region(crop("A").crop((30, 30, 33, 33))) == ("", 0.0)
    assert ppocr.read_lines(Image.new("L", (0, 10))) == []


def test_two_words_with_a_clear_gap_keep_their_space() -> None:
    for gap in (0.8, 1.5, 3.0):  # one detected line, or two
        assert rapid_region.read_region(crop("Maria", "Lopez", gap=gap))[0] == "Maria Lopez"


def test_a_space_the_recognizer_dropped_is_put_back_at_the_ink_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recognizer's character positions (time steps) place the gap between the two words, so a space it
    dropped is restored there; words written close together stay one."""
    img = crop("Maria", "Lopez", gap=0.8)
    (line,) = ppocr.read_lines(img)
    assert line.text == "Maria Lopez" and len(line.cols) == len(line.text)
    assert line.cols == sorted(line.cols) and 0 < line.cols[-1] < line.steps
    dropped = dataclasses.replace(line, text="MariaLopez", cols=line.cols[:5] + line.cols[6:])
    monkeypatch.setattr(ppocr, "read_lines", lambda _img, _allowed=None: [dropped])
    assert rapid_region.read_region(img)[0] == "Maria Lopez"
    monkeypatch.undo()
    (tight,) = ppocr.read_lines(crop("MariaLopez"))
    assert tight.text == "MariaLopez"
    monkeypatch.setattr(ppocr, "read_lines", lambda _img, _allowed=None: [tight])
    assert rapid_region.read_region(img)[0] == "MariaLopez"


def test_lines_come_in_reading_order() -> None:
    font = ImageFont.truetype(FONT_PATH, 30)
    img = Image.new("L", (520, 170), 255)
    draw = ImageDraw.Draw(img)
    draw.text((30, 20), "938 NE Burner Road", font=font, fill=0)
    draw.text((30, 100), "Boulder City, CO", font=font, fill=0)
    lines = [ln.text.replace(" ", "") for ln in ppocr.read_lines(img)]  # it reads "938NE": spaces below
    assert lines == ["938NEBurnerRoad", "BoulderCity,CO"]
    assert rapid_region.read_region(img)[0] == "938 NE Burner Road Boulder City, CO"


def test_threads_share_one_model_and_read_alike() -> None:
    img = crop("PO-4711")
    expected = rapid_region.read_region(img)
    results: list[tuple[str, float]] = []

    def read() -> None:
        results.append(rapid_region.read_region(img))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_runs_without_opencv_and_the_rapidocr_code() -> None:
    """The reader neither needs nor imports OpenCV, pyclipper, shapely, PyYAML, six, tqdm or the
    rapidocr package's own code (a fresh interpreter where importing them fails)."""
    code = """
import importlib.abc, json, sys
BLOCKED = {"cv2", "pyclipper", "shapely", "yaml", "six", "tqdm"}  # rapidocr's __init__ needs cv2
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked: {name}")
        return None
sys.meta_path.insert(0, Block())
from PIL import Image, ImageDraw, ImageFont
from engine.ocr import rapid_region
img = Image.new("L", (300, 64), 255)
ImageDraw.Draw(img).text((32, 16), "92848", font=ImageFont.truetype(sys.argv[1], 32), fill=0)
print(json.dumps([rapid_region.available(), rapid_region.read_region(img)[0],
                  sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED | {"rapidocr_onnxruntime"})]))
"""
    res = subprocess.run([sys.executable, "-c", code, FONT_PATH], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=120, check=True)
    assert json.loads(res.stdout) == [True, "92848", []]


def test_a_number_field_reads_only_what_a_number_may_hold() -> None:
    """Told the characters a field may hold, the decoder picks the likeliest of those: the printed "$" of
    an amount box beside a hand-drawn 0 is not read, and a word that is plainly letters gives no reading
    at all rather than digits made up of it (issue 19 item 8: amounts)."""
    img = Image.new("L", (200, 90), 255)
    draw = ImageDraw.Draw(img)
    draw.text((20, 20), "$", fill=0, font=ImageFont.truetype(FONT_PATH, 40))
    draw.ellipse((90, 18, 122, 72), outline=0, width=4)  # a zero drawn by hand
    free, _ = rapid_region.read_region(img)
    digits, confidence = rapid_region.read_region(img, "0123456789.,-")
    assert "$" in free and digits == "0" and confidence > 0.5
    assert rapid_region.read_region(crop("Jane", size=40), "0123456789.,-") == ("", 0.0)


def test_a_lone_small_character_the_detector_misses_is_still_read() -> None:
    """Once an amount box's printed "$" is dropped, a small hand-drawn 0 far right in the box is alone:
    the detector finds no text line in it, so the crop's ink is read as one line."""
    img = Image.new("L", (400, 90), 255)
    ImageDraw.Draw(img).ellipse((300, 30, 318, 60), outline=0, width=4)
    assert ppocr.read_lines(img, "0123456789.,-") == []
    text, confidence = rapid_region.read_region(img, "0123456789.,-")
    assert text == "0" and confidence > 0.5
    edge = Image.new("L", (400, 90), 255)  # ink reaching in from the crop's edge is a rule or a neighbour
    ImageDraw.Draw(edge).line((200, 0, 200, 40), fill=0, width=3)
    assert rapid_region.read_region(edge, "0123456789.,-") == ("", 0.0)


def test_a_cell_is_read_from_its_own_ink() -> None:
    """A drawn cell with its print dropped holds the value alone: its ink is read as one line, but for
    ink that reaches in over the crop's edge (the neighbouring row's hand-writing, a line drawn through)."""
    img = Image.new("L", (300, 80), 255)
    draw = ImageDraw.Draw(img)
    draw.text((120, 18), "742", fill=0, font=ImageFont.truetype(FONT_PATH, 36))
    draw.line((40, 0, 46, 30), fill=0, width=4)  # a stroke from the row above
    draw.line((260, 50, 262, 79), fill=0, width=4)  # and one from below
    assert rapid_region.read_region(img, "0123456789.,-", cell=True)[0] == "742"
    strokes = Image.new("L", (300, 80), 255)  # an empty cell the neighbours' strokes reach into
    ImageDraw.Draw(strokes).line((40, 0, 46, 30), fill=0, width=4)
    ImageDraw.Draw(strokes).line((260, 50, 262, 79), fill=0, width=4)
    assert rapid_region.read_region(strokes, "0123456789.,-", cell=True) == ("", 0.0)


@pytest.mark.parametrize(("read_as", "strokes"), [
    ("D", [(100, 20), (130, 22), (140, 45), (128, 70), (100, 70), (100, 20)]),
    ("C", [(140, 24), (105, 22), (98, 45), (104, 70), (140, 68)]),
    ("U", [(100, 20), (100, 62), (118, 72), (136, 62), (136, 20)]),
])
def test_a_loosely_drawn_zero_read_as_a_letter_is_a_zero_where_only_digits_may_be(
        read_as: str, strokes: list[tuple[int, int]]) -> None:
    """Hand-drawn zeros on scanned forms are often a "D", a "C" or a "U" to the recognizer; where only
    digits may be read the letter's look-alike digit wins (bench_monthly: such zeros came back empty)."""
    img = Image.new("L", (240, 90), 255)
    ImageDraw.Draw(img).line(strokes, fill=0, width=4, joint="curve")
    assert rapid_region.read_region(img, cell=True)[0] == read_as
    text, confidence = rapid_region.read_region(img, "0123456789.,-", cell=True)
    assert text == "0" and confidence > 0.9


def test_a_letter_stays_a_letter_where_letters_may_be_read() -> None:
    """The look-alikes count only for digits that are allowed and only where the letter itself is not:
    a field that may hold letters still reads its "D"."""
    img = Image.new("L", (240, 90), 255)
    ImageDraw.Draw(img).line([(100, 20), (130, 22), (140, 45), (128, 70), (100, 70), (100, 20)], fill=0,
                             width=4, joint="curve")
    assert rapid_region.read_region(img, "0123456789ABCD", cell=True)[0] == "D"
