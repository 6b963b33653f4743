"""The form's print in a field's place is learned from the training pages and painted out before the place
is read (issue 19 item 8: an emptied amount box read as "1", an empty name box read as its caption)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from engine.custom.matching import MatchedField
from engine.custom.ocr_file import Word
from engine.custom.results import build_result
from engine.custom.scoring import dropout
from engine.custom.source import DirSource
from engine.custom.training import run_training
from engine.layout.analyze import page_image

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "tests" / "data" / "purchase-orders"
FONT = ImageFont.truetype(str(ROOT / "formgen" / "fonts" / "ShadowsIntoLight.ttf"), 30)
W, H = 600, 800
FIELD = {"page": 1, "abs_box": [0.3, 0.4, 0.6, 0.45], "wider": 0.0}
PRINT_BOX = (180, 314, 366, 364)  # the field's box rule, in pixels
DOLLAR = (190, 328, 198, 352)  # a printed sign at its left


def _page(value: str, at: int, shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    """A form page: the box and its sign (moved by `shift`, as a scan lies) and a hand-written value."""
    img = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(img)
    dx, dy = shift
    x0, y0, x1, y1 = PRINT_BOX
    draw.rectangle((x0 + dx, y0 + dy, x1 + dx, y1 + dy), outline=0, width=2)
    a, b, c, d = DOLLAR
    draw.rectangle((a + dx, b + dy, c + dx, d + dy), fill=0)
    if value:
        draw.text((at + dx, 318 + dy), value, fill=0, font=FONT)
    return np.asarray(img)


def _learn(pages: list[np.ndarray], boxes: list[list[tuple[float, float, float, float]]] | None = None,
           ) -> np.ndarray:
    boxes = boxes or [[] for _ in pages]
    training = [dropout.TrainingPage(p, None, {"F": b}) for p, b in zip(pages, boxes, strict=True)]
    masks = dropout.learn({"F": FIELD}, {1: training}, H / W)
    return dropout.unpack(masks["F"]) if "F" in masks else np.zeros((1, 1), bool)


def _share_masked(mask: np.ndarray, page: np.ndarray, ink_box: tuple[int, int, int, int]) -> float:
    """The share of a page's ink inside `ink_box` (pixels) that the mask covers."""
    box = dropout.mask_box(FIELD)
    shape = mask.shape
    ink = dropout.ink(dropout.sample(page, None, box, shape))
    pts = dropout._grid(box, shape)
    inside = ((pts[:, 0] * W >= ink_box[0]) & (pts[:, 0] * W <= ink_box[2]) & (pts[:, 1] * H >= ink_box[1])
              & (pts[:, 1] * H <= ink_box[3])).reshape(shape)
    hit = ink & inside
    return float((mask & hit).sum() / max(1, hit.sum()))


def test_the_print_is_learned_and_the_values_are_not() -> None:
    values = [("4120", 250), ("77", 300), ("", 0), ("305", 220), ("9", 320), ("1168", 240)]
    pages = [_page(v, at, shift=(i % 3 - 1, (i % 2) * 2)) for i, (v, at) in enumerate(values)]
    mask = _learn(pages)
    plain = _page("", 0)
    assert _share_masked(mask, plain, DOLLAR) > 0.9  # the sign
    assert _share_masked(mask, plain, (180, 310, 366, 318)) > 0.6  # the box's top rule (2 px; drop_print
    # dilates the mask by a sample, which covers the rest)
    written = _page("4120", 250)
    assert _share_masked(mask, written, (240, 320, 360, 360)) < 0.2  # a value is not print


def test_a_value_typed_alike_on_most_pages_is_not_print() -> None:
    """A typed "0" at one place on four of five pages is their value (its words are labeled), not print."""
    pages = [_page("0", 300) for _ in range(4)] + [_page("", 0)]
    zero_box = (300 / W, 318 / H, 330 / W, 360 / H)
    labeled = _learn(pages, [[zero_box]] * 4 + [[]])
    assert _share_masked(labeled, _page("0", 300), (296, 322, 330, 358)) < 0.2
    unlabeled = _learn(pages)  # what the value boxes are for: without them the "0" would be dropped
    assert _share_masked(unlabeled, _page("0", 300), (296, 322, 330, 358)) > 0.5


def test_the_sign_ocr_joined_to_a_drawn_value_is_still_print() -> None:
    """Tesseract reads the printed "$" and a hand-written 0 beside it as one word "$0": the value's part
    of the word has no say, the "$" still does (bench_monthly: the "$" was read as the value "5")."""
    dollar_zero = Word("$0", 1, 0, 0, (DOLLAR[0] / W, 318 / H, 330 / W, 360 / H), [])
    label = MatchedField("F", "0", [dollar_zero], region=(1, (0.3, 0.4, 0.6, 0.45)))
    (box,) = dropout.value_boxes({"F": label})["F"]
    assert box[0] == pytest.approx((DOLLAR[0] + (330 - DOLLAR[0]) / 2) / W) and box[2] == 330 / W
    pages = [_page("0", 300) for _ in range(5)]
    mask = _learn(pages, [[box]] * 5)
    assert _share_masked(mask, _page("", 0), DOLLAR) > 0.9
    joined = _learn(pages, [[dollar_zero.box]] * 5)  # the whole word kept from voting: no "$" learned
    assert _share_masked(joined, _page("", 0), DOLLAR) < 0.1


def test_too_few_pages_learn_no_print() -> None:
    assert dropout.learn({"F": FIELD}, {1: [dropout.TrainingPage(_page("", 0), None, {})] * 2}, H / W) == {}


def test_the_print_is_painted_out_of_a_page_that_lies_a_little_off() -> None:
    pages = [_page(v, at) for v, at in [("4120", 250), ("77", 300), ("", 0), ("305", 220), ("9", 320)]]
    record = dropout.learn({"F": FIELD}, {1: [dropout.TrainingPage(p, None, {}) for p in pages]}, H / W)["F"]
    json.dumps(record)  # kept in the model file as it is
    page = _page("52", 280, shift=(3, -2))
    crop = (170, 300, 380, 375)
    out = dropout.drop_print(page, crop, None, record)
    before = page[crop[1]:crop[3], crop[0]:crop[2]] < 128
    after = out < 128
    dollar = (slice(DOLLAR[1] - 2 - crop[1], DOLLAR[3] - 2 - crop[1]),
              slice(DOLLAR[0] + 3 - crop[0], DOLLAR[2] + 3 - crop[0]))
    assert before[dollar].sum() > 100 and after[dollar].sum() == 0
    value = (slice(320 - crop[1], 355 - crop[1]), slice(283 - crop[0], 340 - crop[0]))
    assert after[value].sum() > 0.8 * before[value].sum()


def test_a_line_drawn_through_an_empty_place_is_not_read() -> None:
    """A stroke down through empty fields ("none") runs past the place's top and bottom; a character
    stays inside it, even when a dropped rule cut the stroke in pieces."""
    img = Image.new("L", (200, 60), 255)
    draw = ImageDraw.Draw(img)
    draw.line((100, 0, 96, 26), fill=0, width=3)
    draw.line((95, 30, 92, 59), fill=0, width=3)  # a gap where a rule was dropped
    draw.text((140, 10), "7", fill=0, font=FONT)
    dropped = np.zeros((60, 200), bool)
    dropped[26:31, :] = True  # the rule drop_print painted out
    out = dropout.erase_strokes_through(np.asarray(img), dropped)
    assert (out[:, 85:105] < 128).sum() == 0
    assert (out[:, 135:180] < 128).sum() > 30
    # a hand-written "8" filling a tight place from edge to edge, in two strokes, crossing no rule, stays
    tight = Image.new("L", (60, 40), 255)
    ImageDraw.Draw(tight).ellipse((20, 0, 36, 19), outline=0, width=3)
    ImageDraw.Draw(tight).ellipse((18, 21, 38, 39), outline=0, width=3)
    kept = dropout.erase_strokes_through(np.asarray(tight), np.zeros((40, 60), bool))
    assert (kept < 128).sum() == (np.asarray(tight) < 128).sum()


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    outcome = run_training(DirSource(PO), "", False, True, lambda _b: pytest.fail("OCR given"),
                           image_fn=lambda data, n: page_image(data, None, n))
    assert outcome.status == "ready", outcome.train_result
    return outcome.params


def _total_painted_out() -> tuple[Image.Image, dict[str, Any], str]:
    """Form_5's page with its Total painted white, its cloud reading, and the Total's labeled text."""
    labels = json.loads((PO / "Form_5.jpg.labels.json").read_text())["labels"]
    total = next(lab for lab in labels if lab["label"] == "Total")
    img = Image.open(PO / "Form_5.jpg").convert("RGB")
    draw = ImageDraw.Draw(img)
    for b in total["value"][0]["boundingBoxes"]:
        xs, ys = b[0::2], b[1::2]
        draw.rectangle((min(xs) * img.width - 2, min(ys) * img.height - 2, max(xs) * img.width + 2,
                        max(ys) * img.height + 2), fill="white")
    return img, json.loads((PO / "Form_5.jpg.ocr.json").read_text())["analyzeResult"], \
        total["value"][0]["text"]


def test_an_emptied_amount_box_reads_nothing_once_its_print_is_dropped(model: dict[str, Any]) -> None:
    """Real scans: Form_5 with its Total painted out of the image and out of the reading. With the print
    of the box dropped the field is empty; read with the print, the box's rule came back as "1"."""
    img, layout, value = _total_painted_out()
    texts = set(value.split())
    for page in layout["readResults"]:
        for line in page["lines"]:
            line["words"] = [w for w in line["words"] if w["text"] not in texts]
    images = functools.cache(lambda n: (img, 1.0))
    assert "Total" in model["dropout"]
    without = {k: v for k, v in model.items() if k != "dropout"}
    after, before = (build_result("m", {}, m, copy.deepcopy(layout), False, images)["documentResults"][0]
                     ["fields"] for m in (model, without))
    assert after["Total"] is None
    assert before["Total"] is not None and before["Total"]["text"] == "1"


def test_a_model_trained_without_page_images_has_no_print_masks() -> None:
    outcome = run_training(DirSource(PO), "", False, True, lambda _b: pytest.fail("OCR given"))
    assert "dropout" not in outcome.params


def test_an_unsure_value_is_read_from_its_whole_place(model: dict[str, Any]) -> None:
    """Real scan: Tesseract found only "Jackrabbit" of Form_5's "Jackrabbit Printing", unsurely. With the
    print of the field's place known, the whole place is read (the words' own box alone gave "Jackrabbit");
    a sure reading is left as Tesseract made it."""
    data = (PO / "Form_5.jpg").read_bytes()
    layout = json.loads((PO / "Form_5.jpg.ocr.json").read_text())["analyzeResult"]
    for page in layout["readResults"]:
        for line in page["lines"]:
            line["words"] = [w for w in line["words"] if w["text"] != "Printing"]
            for w in line["words"]:
                if w["text"] == "Jackrabbit":
                    w["confidence"] = 0.5
    images = functools.cache(lambda n: page_image(data, "image/jpeg", n))
    without = {k: v for k, v in model.items() if k != "dropout"}
    after, before = (build_result("m", {}, m, copy.deepcopy(layout), True, images)["documentResults"][0]
                     ["fields"] for m in (model, without))
    assert before["CompanyName"]["text"] == "Jackrabbit"
    assert after["CompanyName"]["text"] == "Jackrabbit Printing"
    assert after["CompanyName"]["elements"], "the pick keeps the words it was found by"
    assert after["VendorName"]["text"] == before["VendorName"]["text"] == "Jack Sprat"


def test_a_typed_value_read_from_its_place_keeps_what_tesseract_read_surely(model: dict[str, Any]) -> None:
    """Real typed scan, the engine's own reading: Form_1's address has words Tesseract was unsure of, so
    its place is read; the place reading only replaces those words ("Road" and "Khamisi" were lost when it
    replaced the whole value, issue 19 item 7)."""
    from engine.layout.analyze import analyze_layout

    data = (PO / "Form_1.jpg").read_bytes()
    layout = analyze_layout(data, "image/jpeg")
    images = functools.cache(lambda n: page_image(data, "image/jpeg", n))
    fields = build_result("m", {}, model, layout, False, images)["documentResults"][0]["fields"]
    assert fields["CompanyAddress"]["text"] == "938 NE Burner Road Boulder City, CO 92848"
    assert fields["VendorName"]["text"] == "Balozi Khamisi"


def test_a_training_document_that_cannot_be_drawn_only_has_no_say(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Its `.ocr.json` trains as before; its page is left out of the print masks, with a warning, and the
    masks are learned from the others."""
    for p in PO.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "Form_2.jpg").write_bytes(b"not an image any more")
    outcome = run_training(DirSource(tmp_path), "", False, True, lambda _b: pytest.fail("OCR given"),
                           image_fn=lambda data, n: page_image(data, None, n))
    assert outcome.status == "ready", outcome.train_result
    assert all(d["status"] == "succeeded" for d in outcome.train_result["trainingDocuments"])
    assert "Total" in outcome.params["dropout"]
    assert any("Form_2.jpg cannot be drawn" in r.getMessage() for r in caplog.records)


def test_a_stroke_written_over_a_dropped_rule_is_joined_again() -> None:
    """A hand-drawn 0 over its box's bottom rule: dropping the rule cuts the 0 in two; where a stroke
    crosses the rule its pixels are ink again, and the rest of the rule stays dropped."""
    img = Image.new("L", (200, 80), 255)
    draw = ImageDraw.Draw(img)
    draw.line((0, 50, 199, 50), fill=0, width=3)  # the rule
    draw.ellipse((80, 20, 110, 70), outline=0, width=3)  # the 0, its lower part below the rule
    gray = np.asarray(img)
    dropped = np.zeros(gray.shape, bool)
    dropped[48:53, :] = True
    kept = gray.copy()
    kept[dropped] = 255
    assert ndimage.label(dropout.ink(kept), structure=np.ones((3, 3), bool))[1] == 2
    joined = dropout.bridge_strokes(kept, dropped)
    assert ndimage.label(dropout.ink(joined), structure=np.ones((3, 3), bool))[1] == 1
    assert dropout.ink(joined)[48:53, :70].sum() == 0 and dropout.ink(joined)[48:53, 120:].sum() == 0


def test_a_lone_sign_picked_where_the_place_holds_nothing_is_no_value(model: dict[str, Any]) -> None:
    """Real scan: Form_5's Total painted out of the image, its word left in the reading as an unsure "$"
    (Tesseract's reading of a printed "$" beside an empty amount box). The field's place, its print
    dropped, holds nothing: no value. Re-reading the sign's own crop made "1" of it, at 0.89."""
    img, layout, value = _total_painted_out()
    for page in layout["readResults"]:
        for line in page["lines"]:
            for w in line["words"]:
                if w["text"] == value:
                    w["text"], w["confidence"] = "$", 0.3
    amounts = copy.deepcopy(model)  # a field whose values never hold the sign, as a Monthly Report's cells
    amounts["regions"]["Total"]["chars"] = amounts["regions"]["Total"]["chars"].replace("$", "")
    amounts["fields"]["Total"]["values"] = [v.replace("$", "") for v in amounts["fields"]["Total"]["values"]]
    fields = build_result("m", {}, amounts, layout, False, functools.cache(lambda n: (img, 1.0)))
    assert fields["documentResults"][0]["fields"]["Total"] is None
