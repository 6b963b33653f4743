"""Read a field's place on the page when OCR found no word for it, or only words it was unsure of
(issue 19 item 8).

Why: on scanned fills, hand-written digits in narrow boxes and loosely written names are often no word at
all to Tesseract, so the scorer had nothing to pick and the value came back empty (or as the printed "$"
beside it). The model knows where the value is written (`engine.custom.scoring.regions`); the region reader
(PP-OCR, `engine.ocr.rapid_region`) reads that place. Characters no training value ever had are trimmed
from the ends (the printed "$" of an amount box, a box line read as "|"). The answer's confidence stays
below the review threshold: the place is known, the reading of handwriting is not sure. Where the model
knows the print in the place (`dropout.py`), it is dropped first, and a value Tesseract was unsure of is read
from the whole place too (Tesseract may have found only part of it). A check box the page's mark detection
missed, or found empty, is looked for at its place too (`read_marks`: answers circled on phone photos).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from engine.custom.ocr_file import OcrDocument, Page, Word
from engine.custom.reread import REREAD_BELOW, PageImage, blank_words, merge_reading, misfit
from engine.custom.scoring.dropout import bridge_strokes, drop_print, erase_strokes_through
from engine.custom.scoring.features import fix_text, predict_box
from engine.custom.scoring.model import Pick
from engine.custom.scoring.regions import Box, predicted_box
from engine.custom.scoring.register import move_box
from engine.custom.scoring.spans import PageIndex
from engine.custom.scoring.template import is_printed
from engine.custom.scoring.values import field_chars
from engine.ocr import rapid_region
from engine.scan.marks import mark_at

log = logging.getLogger("engine.custom.scoring.region_read")

MIN_READ_CONFIDENCE = 0.5  # the region reader's own line score below which a reading is dropped
MOSTLY_SURE = 0.5  # share of a value's words Tesseract must be sure of for them to outrank a place reading
CONFIDENCE_SCALE = 0.5  # a region read's confidence: its line score times this (always sent to review)


def trim(text: str, chars: str) -> str:
    """`text` without leading/trailing signs (not letters or digits) that no training value of the field
    contains: the printed "$" an amount box starts with, a box line read as "|"."""
    allowed = set(chars)

    def foreign(c: str) -> bool:
        return c.isspace() or (not c.isalnum() and c not in allowed)

    start, end = 0, len(text)
    while start < end and foreign(text[start]):
        start += 1
    while end > start and foreign(text[end - 1]):
        end -= 1
    return text[start:end]


def _trimmed(pick: Pick | None, chars: str) -> bool:
    """Trim the pick's text; True when nothing of it is left (or there was no pick)."""
    if pick is None or (pick.span is None and not pick.text):
        return True
    if pick.span is not None and pick.span.mark is not None:
        return False
    pick.text = trim(pick.text or (pick.span.text if pick.span else ""), chars)
    return not pick.text


def _merged(fs: dict[str, Any], words: list[tuple[str, float]], span_text: str, reading: str) -> str:
    """A place's reading merged with Tesseract's words of the value: when the reading holds those words as
    they are and more (Tesseract found "Jennifer" of "Jennifer Lee"), the more is added around them; when
    Tesseract was sure of most of its words (typed text), per word, as a re-read (`reread.merge_reading`);
    else the reading whole (hand-writing, where Tesseract is sure of words it misread: "Wor king rar")."""
    core, flat = span_text.replace(" ", ""), reading.replace(" ", "")
    at = flat.find(core) if core else -1
    if at < 0 or len(flat) == len(core):
        if sum(c >= REREAD_BELOW for _, c in words) < MOSTLY_SURE * len(words):
            return fix_text(fs, reading) if fs else reading  # hand-writing: Tesseract's "sure" words are not
        return merge_reading(fs, words, span_text, reading)
    chars = [i for i, c in enumerate(reading) if c != " "]
    start, end = chars[at], chars[at + len(core) - 1] + 1
    return " ".join(f"{reading[:start]} {span_text} {reading[end:]}".split())


def _unsure(pick: Pick | None, allowed: str | None) -> bool:
    """A value picked from words Tesseract read any of with low confidence, or misread for sure."""
    span = None if pick is None else pick.span
    return span is not None and span.mark is None and bool(span.words) and \
        min(0.0 if misfit(w.text, allowed) else w.confidence for w in span.words) < REREAD_BELOW


def _pixels(page: Page, back: np.ndarray | None, box: tuple[float, float, float, float],
            scale: float) -> tuple[int, int, int, int]:
    if back is not None:  # the box is in the reference frame: back into this page's own
        box = move_box(back, box)
    sx, sy = page.width * scale, page.height * scale
    return int(box[0] * sx), int(box[1] * sy), int(box[2] * sx + 1), int(box[3] * sy + 1)


def _overlaps(polygon: list[float], box: tuple[float, float, float, float]) -> bool:
    xs, ys = polygon[0::2], polygon[1::2]
    return min(xs) < box[2] and max(xs) > box[0] and min(ys) < box[3] and max(ys) > box[1]


def placed_fields(params: dict[str, Any]) -> set[str]:
    """The fields whose unsure values are read from their whole place (the print dropped from it), when
    the region reader is there to read them."""
    if not rapid_region.available():
        return set()
    return set(params.get("dropout") or {}) & set(params.get("regions") or {})


class _PageCuts:
    """Cuts a field's place out of a page image (back through the page's registration), with the form's
    print dropped from it; what a page needs for that is worked out once per page."""

    def __init__(self, params: dict[str, Any], printed: dict[int, dict[str, list[tuple[float, float]]]]):
        self.masks: dict[str, dict[str, Any]] = params.get("dropout") or {}  # the print in each place
        self.printed = printed
        self._back: dict[int, np.ndarray | None] = {}  # per page: the inverse of its registration
        self._gray: dict[int, np.ndarray] = {}
        self._print_words: dict[int, list[Word]] = {}

    def cut(self, name: str, page: Page, image: Image.Image, scale: float, box: Box,
            ) -> tuple[Image.Image, tuple[int, int, int, int]] | None:
        """The place `box` (reference frame) of field `name` as a crop, and its pixels on the page."""
        n = page.number
        if n not in self._back:
            self._back[n] = None if page.transform is None else np.linalg.inv(np.array(page.transform))
            self._print_words[n] = [w for w in page.words if is_printed(self.printed.get(n, {}), w)]
        x0, y0, x1, y1 = _pixels(page, self._back[n], box, scale)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(image.width, x1), min(image.height, y1)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        mask = self.masks.get(name)
        if mask is not None:
            if n not in self._gray:
                self._gray[n] = np.asarray(image.convert("L"))
            gray = self._gray[n]
            kept = drop_print(gray, (x0, y0, x1, y1), self._back[n], mask)
            dropped = kept != gray[y0:y1, x0:x1]
            cut = Image.fromarray(bridge_strokes(erase_strokes_through(kept, dropped), dropped))
        else:
            cut = image.crop((x0, y0, x1, y1))
        inside = [w for w in self._print_words[n]
                  if _overlaps(w.polygon, (x0 / scale, y0 / scale, x1 / scale, y1 / scale))]
        return blank_words(cut, (x0, y0), inside, scale), (x0, y0, x1, y1)


def read_from_places(picks: dict[str, Pick], params: dict[str, Any], ocr: OcrDocument,
                        pages: dict[int, PageIndex], page_image: PageImage | None,
                        printed: dict[int, dict[str, list[tuple[float, float]]]],
                        fallback: Callable[[str, Pick], object] = lambda _name, _pick: None) -> int:
    """Trim every text value of signs foreign to the field; fill the text fields left with no value from
    their place on the page, and read the unsure values of `placed_fields` from theirs (`fallback(name,
    pick)` re-reads such a pick's own words when its place gave no reading). Returns how many were
    filled."""
    regions: dict[str, dict[str, Any]] = params.get("regions") or {}
    if not regions:
        return 0
    fields = params.get("fields", {})
    filled = 0
    reader = page_image is not None and rapid_region.available()
    cuts = _PageCuts(params, printed)
    for name, stats in regions.items():
        pick = picks.get(name)
        fs = fields.get(name, {})
        if fs.get("is_mark"):
            continue
        allowed = field_chars(fs, stats)
        # a value Tesseract was unsure of is read again from its whole place, once the print is dropped from
        # it: the words it found may be part of the value ("Kevin" of "Kevin Patel", half a SIN)
        unsure = pick if reader and name in cuts.masks and _unsure(pick, allowed) else None
        if unsure is None:
            if not _trimmed(pick, stats["chars"]):
                continue
            picks[name] = Pick(name, None, 0.0)  # nothing but foreign signs is no value
            if not reader:
                continue
        pi, page = pages.get(stats["page"]), ocr.page(stats["page"])
        got = page_image(stats["page"]) if page_image is not None and pi is not None and page is not None \
            else None
        if got is None or page is None or pi is None:
            continue
        box = predicted_box(stats, pi)
        if unsure is not None and unsure.span is not None:
            s = unsure.span.box
            box = (min(box[0], s[0]), min(box[1], s[1]), max(box[2], s[2]), max(box[3], s[3]))
        cut = cuts.cut(name, page, got[0], got[1], box)
        if cut is None:
            continue
        text, confidence = rapid_region.read_region(cut[0], allowed, cell=bool(stats.get("drawn"))
                                                    and name in cuts.masks)
        text = trim(" ".join(text.split()), stats["chars"])
        if unsure is not None and unsure.span is not None:
            if text and confidence >= MIN_READ_CONFIDENCE:  # per word where Tesseract was mostly sure
                words = [(w.text, 0.0 if misfit(w.text, allowed) else w.confidence)
                         for w in unsure.span.words]
                unsure.text = trim(_merged(fs, words, unsure.span.text, text), stats["chars"])
                continue
            if any(c.isalnum() for c in unsure.span.text):  # a lone sign is print the place has not
                fallback(name, unsure)                          # (the "$" read as "1" by its own crop)
            if _trimmed(unsure, stats["chars"]):
                picks[name] = Pick(name, None, 0.0)
            continue
        if not text or confidence < MIN_READ_CONFIDENCE:
            continue
        x0, y0, x1, y1 = cut[1]
        poly = [v / got[1] for v in (x0, y0, x1, y0, x1, y1, x0, y1)]
        picks[name] = Pick(name, None, 0.0, confidence=round(confidence * CONFIDENCE_SCALE, 3),
                           text=fix_text(fs, text) if fs else text, region=(stats["page"], poly))
        filled += 1
    if filled:
        log.debug("read %d field(s) from their place on the page", filled)
    return filled


def _text_layer(page: Page) -> bool:
    """The page's words come from a text layer (a digital PDF: every word sure), not from OCR of pixels."""
    return bool(page.words) and all(w.confidence >= 1.0 for w in page.words)


def read_marks(picks: dict[str, Pick], params: dict[str, Any], ocr: OcrDocument, pages: dict[int, PageIndex],
               page_image: PageImage | None) -> int:
    """Check boxes read from their place on the page where the page's mark detection found none, or found
    one unselected: answers circled rather than ticked (phone photos) join the box to the ring and the
    ring to its neighbours, so the box is no mark of its own, or its tick-free inside reads unselected.
    Returns how many were changed; such answers have the region reader's confidence (sent to review)."""
    if page_image is None:
        return 0
    changed = 0
    for name, fs in params.get("fields", {}).items():
        pick = picks.get(name)
        span = None if pick is None else pick.span
        if not fs.get("is_mark") or (span is not None and (span.mark is None
                                                            or span.mark.state == "selected")):
            continue
        pi, page = pages.get(fs["page"]), ocr.page(fs["page"])
        # a page read from its text layer has no hand-drawn rings, and its boxes are exact: not drawn
        if pi is None or page is None or _text_layer(page):
            continue
        got = page_image(fs["page"])
        if got is None:
            continue
        if span is not None:  # the mark found is in the page's own frame already: its pixels
            xs, ys = span.mark.polygon[0::2], span.mark.polygon[1::2]  # type: ignore[union-attr]
            x0, y0, x1, y1 = (int(v * got[1]) for v in (min(xs), min(ys), max(xs), max(ys)))
        else:
            left, right, top, bottom = (float(v) for v in predict_box(fs, pi)[0])
            back = None if page.transform is None else np.linalg.inv(np.array(page.transform))
            x0, y0, x1, y1 = _pixels(page, back, (left, top, right, bottom), got[1])
        side = max(x1 - x0, y1 - y0)
        # the ring round the box, and what registration leaves (a ring round a long caption as well runs out
        # of this: a wider look let the rings round neighbouring boxes close in more empty ones, on photos)
        reach = 2 * side
        cx0, cy0 = max(0, x0 - reach), max(0, y0 - reach)
        cx1, cy1 = min(got[0].width, x1 + reach), min(got[0].height, y1 + reach)
        if cx1 - cx0 < side or cy1 - cy0 < side:
            continue
        mark = mark_at(np.asarray(got[0].crop((cx0, cy0, cx1, cy1)).convert("L")), side, (x0 - cx0, y0 - cy0))
        if mark is None or (span is not None and not mark.selected):
            continue
        bx0, by0, bx1, by1 = cx0 + mark.x0, cy0 + mark.y0, cx0 + mark.x1, cy0 + mark.y1
        poly = [v / got[1] for v in (bx0, by0, bx1, by0, bx1, by1, bx0, by1)]
        state = "selected" if mark.selected else "unselected"
        picks[name] = Pick(name, None, 0.0, confidence=CONFIDENCE_SCALE, text=state,
                           region=(fs["page"], poly))
        changed += 1
    return changed
