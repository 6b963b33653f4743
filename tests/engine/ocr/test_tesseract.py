"""The in-process Tesseract backend and its accent restoration, on rendered images (real Tesseract)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from engine.ocr import TesseractOcr
from engine.ocr.accent_marks import may_have_lost_accent
from engine.ocr.accent_rule import accept_accented
from engine.ocr.tessdata import tessdata_dir
from tests.helpers.engine import FONT_PATH, text_image
from tests.helpers.paths import REPO_ROOT


@pytest.fixture(scope="module")
def ocr() -> TesseractOcr:
    return TesseractOcr()


def word_image(text: str, font_size: int = 40) -> Image.Image:
    img = Image.new("L", (60 + int(font_size * 0.7 * len(text)), font_size * 2), 255)
    font = ImageFont.truetype(FONT_PATH, font_size)
    ImageDraw.Draw(img).text((30, font_size // 3), text, font=font, fill=0)
    return img


def ink(img: Image.Image) -> np.ndarray:
    """The dark pixels inside the text's bounding box, as Tesseract's binarisation would give them."""
    a = np.asarray(img) < 128
    rows, cols = np.where(a.any(axis=1))[0], np.where(a.any(axis=0))[0]
    return a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def test_words_boxes_and_lines(ocr: TesseractOcr) -> None:
    img = text_image(["Invoice 48213 Total", "Shipping Boulder City"], size=(900, 260), font_size=40)
    words = ocr.recognize(img)
    assert [w.text for w in words] == ["Invoice", "48213", "Total", "Shipping", "Boulder", "City"]
    alone = text_image(["Invoice"], size=(900, 260), font_size=40)  # same place, nothing else
    left, top, right, bottom = ImageOps.invert(alone).getbbox() or (0, 0, 0, 0)
    first = words[0]
    assert abs(first.left - left) <= 2 and abs(first.top - top) <= 2
    assert abs(first.left + first.width - right) <= 2 and abs(first.top + first.height - bottom) <= 2
    assert len({w.line_key for w in words[:3]}) == 1 and words[0].line_key != words[3].line_key
    assert all(0.8 <= w.confidence <= 1.0 for w in words)


def test_accented_names_are_read_with_accents(ocr: TesseractOcr) -> None:
    img = text_image(["Ship to: Liam García", "Contact: Ben Müller, PO-4711"], size=(1000, 260), font_size=40)
    texts = [w.text for w in ocr.recognize(img)]
    assert "García" in texts
    assert "Müller," in texts
    assert "PO-4711" in texts  # the digits and the O keep eng's reading


def test_without_restoration_eng_spells_without_accents() -> None:
    img = text_image(["Ship to: Liam García"], size=(800, 160), font_size=40)
    assert [w.text for w in TesseractOcr(restore_accents=False).recognize(img)][-1] == "Garcia"


@pytest.mark.parametrize(("eng", "latin"), [("Garcia", "García"), ("Miller", "Müller"), ("Zoe", "Zoë"),
                                            ("JOSE", "JOSÉ"), ("Nunez", "Núñez"), ("cafe,", "café,"),
                                            ("Milter", "Mültér")])
def test_rule_accepts_accents_eng_cannot_spell(eng: str, latin: str) -> None:
    assert accept_accented(eng, latin)


@pytest.mark.parametrize(("eng", "latin"), [
    ("PO-4711", "P0-4711"),     # O -> 0
    ("O'Brien", "0'Brien"),
    ("1,123", "1,l23"),         # digit -> letter
    ("T1235", "1,123"),
    ("Garcia", "Garcia"),       # nothing to restore
    ("Garcia", "Garcla"),       # a letter change without an accent
    ("Miller", "Mülier"),       # accent plus a plain letter change
    ("Mller", "Müller"),        # different length
    ("garcia", "García"),       # case change
    ("Milter", "Mültár"),       # two letters eng would have had to mistake
    ("R0se", "Röse"),           # digit replaced by an accented letter
])
def test_rule_rejects_everything_else(eng: str, latin: str) -> None:
    assert not accept_accented(eng, latin)


def test_candidate_words_are_those_with_unexplained_marks() -> None:
    assert may_have_lost_accent("Garcia", ink(word_image("García")))
    assert may_have_lost_accent("Miller", ink(word_image("Müller")))
    assert may_have_lost_accent("JOSE", ink(word_image("JOSÉ")))
    assert not may_have_lost_accent("Garcia", ink(word_image("Garcia")))
    assert not may_have_lost_accent("Institute", ink(word_image("Institute")))
    assert not may_have_lost_accent("4711", ink(word_image("4711")))


def test_each_thread_has_its_own_api(ocr: TesseractOcr) -> None:
    images = [text_image([f"Order {n} shipped"], size=(700, 150), font_size=40) for n in (1234, 5678)]
    results: dict[int, list[str]] = {}

    def work(i: int) -> None:
        results[i] = [w.text for _ in range(2) for w in ocr.recognize(images[i])][:3]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {0: ["Order", "1234", "shipped"], 1: ["Order", "5678", "shipped"]}


def test_missing_latin_model_gives_the_plain_eng_result(tmp_path: Path) -> None:
    """A tessdata directory with only eng/osd: no restoration, one log line, no error."""
    source = Path(tessdata_dir() or "")
    for name in ("eng", "osd"):
        (tmp_path / f"{name}.traineddata").symlink_to(source / f"{name}.traineddata")
    img_path = tmp_path / "page.png"
    text_image(["Ship to: Liam García"], size=(800, 160), font_size=40).save(img_path)
    code = (
        "import json, logging, sys\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
        "from PIL import Image\n"
        "from engine.ocr import TesseractOcr\n"
        f"print(json.dumps([w.text for w in TesseractOcr().recognize(Image.open({str(img_path)!r}))]))\n")
    env = {**os.environ, "TESSDATA_PREFIX": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                         check=True)
    assert json.loads(res.stdout)[-1] == "Garcia"
    assert "no Latin script model" in res.stderr
