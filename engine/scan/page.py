"""One page image -> PageText: orientation, Tesseract, lines, selection marks, skew angle.

Orientation detection (Tesseract OSD) costs a second pass, so it runs only when the first, plain
pass looks like it read a turned page (few confident words). Everything is computed in the upright
frame; PageText.rotation lets the renderer map boxes back to the page's own coordinates.
"""

from __future__ import annotations

import math
from statistics import median

import numpy as np
from PIL import Image

from engine.ocr import OcrEngine, OcrWord
from engine.page.lines import reading_order, split_at_gaps
from engine.page.model import Line, PageText, Word
from engine.scan.marks import detect_marks
from engine.scan.pixels import flatten_light
from engine.scan.rules import BoxSide, erase_rules_and_sides

GOOD_CONFIDENCE = 0.6
MIN_GOOD_SHARE = 0.5
MIN_WORDS = 4

_TRANSPOSE = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


def _looks_upright(words: list[OcrWord]) -> bool:
    real = [w for w in words if any(c.isalnum() for c in w.text)]
    if len(real) < MIN_WORDS:
        return False
    good = sum(1 for w in real if w.confidence >= GOOD_CONFIDENCE and len(w.text) >= 2)
    # Tesseract reads lines turned by 90 degrees too, but then its word boxes stand upright.
    long_words = [w for w in real if len(w.text) >= 3]
    standing = sum(1 for w in long_words if w.height > w.width)
    if long_words and standing / len(long_words) > 0.5:
        return False
    return good / len(real) >= MIN_GOOD_SHARE


def _lines_from_ocr(words: list[OcrWord]) -> list[Line]:
    groups: dict[tuple[int, ...], list[Word]] = {}
    for w in words:
        groups.setdefault(w.line_key, []).append(
            Word(w.text, w.left, w.top, w.left + w.width, w.top + w.height, round(w.confidence, 3)))
    lines: list[Line] = []
    for ws in groups.values():
        lines.extend(split_at_gaps(ws))
    return lines


def _skew_degrees(lines: list[Line]) -> float:
    """Median slope of word centres along lines with 3+ words; positive = turned clockwise."""
    slopes = []
    for ln in lines:
        if len(ln.words) < 3:
            continue
        xs = [(w.x0 + w.x1) / 2 for w in ln.words]
        ys = [(w.y0 + w.y1) / 2 for w in ln.words]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        den = sum((x - mx) ** 2 for x in xs)
        if den > 0:
            slopes.append(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den)
    if len(slopes) < 2:
        return 0.0
    return round(math.degrees(math.atan(median(slopes))), 2)


def ocr_page(image: Image.Image, number: int, ocr: OcrEngine, language: str | None,
             unit_scale: float = 1.0, unit: str = "pixel") -> PageText:
    """OCR one page. unit_scale converts pixels to the output unit (1/dpi for rendered PDF pages)."""
    width, height = image.size
    rotation = 0
    image = flatten_light(image)
    upright = image
    erased, sides = erase_rules_and_sides(image)
    words = ocr.recognize(erased, language)
    if not _looks_upright(words):
        rotation = ocr.detect_rotation(image)
        if rotation:
            # Text turned r degrees clockwise: turn the image r degrees counter-clockwise to read it.
            upright = image.transpose(_TRANSPOSE[rotation])
            erased, sides = erase_rules_and_sides(upright)
            words = ocr.recognize(erased, language)
    ink = np.asarray(erased.convert("L")) < 128  # what the splits below measure, computed once
    words = split_spaced_characters(split_at_box_sides(words, sides, ink), ink)
    lines = _lines_from_ocr(words)
    heights = [w.height for ln in lines for w in ln.words]
    text_height = median(heights) if heights else 20.0
    marks = detect_marks(upright, text_height)
    lines = _drop_words_inside_marks(lines, marks)
    skew = _skew_degrees(lines)
    angle = rotation + skew
    if angle > 180:
        angle -= 360
    page = PageText(number=number, width=width, height=height, unit=unit, angle=round(angle, 2),
                    lines=reading_order(lines), marks=marks, rotation=rotation,
                    upright_size=upright.size, style_confidence=0.5)
    if unit_scale != 1.0:
        page = _scaled(page, unit_scale)
    return page


def split_at_box_sides(words: list[OcrWord], sides: list[BoxSide], ink: np.ndarray) -> list[OcrWord]:
    """A word read across an erased box side is one word per box (a comb field: one digit per cell).

    Characters are placed evenly over the word's box, as a comb field draws them; each piece's box is
    then narrowed to the ink inside it (`ink`: the page the words were read from, True where dark).
    """
    if not sides:
        return words
    out: list[OcrWord] = []
    for w in words:
        n = len(w.text)
        x0, x1 = w.left, w.left + w.width
        cuts = sorted(s.x for s in sides if x0 + 1 < s.x < x1 - 1 and n > 1
                      and min(s.bottom, w.top + w.height) - max(s.top, w.top) >= 0.5 * w.height)
        if not cuts:
            out.append(w)
            continue
        step = w.width / n
        pieces: list[list[int]] = [[] for _ in range(len(cuts) + 1)]
        for i in range(n):
            centre = x0 + (i + 0.5) * step
            pieces[sum(centre > c for c in cuts)].append(i)
        for piece in pieces:
            text = "".join(w.text[i] for i in piece).strip()
            if not text:
                continue
            left, right = _ink_span(ink, x0 + piece[0] * step, x0 + (piece[-1] + 1) * step, w.top,
                                    w.top + w.height)
            out.append(OcrWord(text, left, w.top, right - left, w.height, w.confidence, w.line_key))
    return out


SPACED_GAP = 0.35  # an ink-free gap this many word heights wide separates two characters that are words


def split_spaced_characters(words: list[OcrWord], ink: np.ndarray) -> list[OcrWord]:
    """A word whose characters stand apart (a comb field's digits, letter-spaced capitals) is one word
    per character, as the cloud reads a comb field: Tesseract joins "1 1 2 3 4" into "11234" when the
    cells are gone. Split only when the ink falls into exactly as many columns as the word has
    characters, every gap at least SPACED_GAP of the height: letters of a word are never that far apart.
    """
    out: list[OcrWord] = []
    for w in words:
        n = len(w.text)
        # Comb values are letters and digits; a monospaced "P." or "i." is not spaced out.
        if n < 3 or not w.text.isalnum() or w.width < 2 * SPACED_GAP * w.height:
            out.append(w)
            continue
        x0, y0 = max(0, int(w.left)), max(0, int(w.top))
        crop = ink[y0: int(w.top + w.height) + 1, x0: int(w.left + w.width) + 1]
        segments = _column_runs(crop.any(axis=0), SPACED_GAP * w.height)
        if len(segments) != n:
            out.append(w)
            continue
        out.extend(OcrWord(ch, x0 + a, w.top, b - a, w.height, w.confidence, w.line_key)
                   for ch, (a, b) in zip(w.text, segments, strict=True))
    return out


def _column_runs(cols: np.ndarray, min_gap: float) -> list[tuple[int, int]]:
    """[start, stop) of the inked column runs, runs closer than `min_gap` joined into one."""
    idx = np.flatnonzero(cols)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    stops = np.concatenate((idx[breaks] + 1, [idx[-1] + 1]))
    runs: list[tuple[int, int]] = []
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        if runs and a - runs[-1][1] < min_gap:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    return runs


def _ink_span(ink: np.ndarray, left: float, right: float, top: float,
              bottom: float) -> tuple[float, float]:
    """The columns between left and right that hold ink, or the whole span when none do."""
    x0, y0 = max(0, int(left)), max(0, int(top))
    crop = ink[y0: max(y0 + 1, int(bottom)), x0: max(x0 + 1, int(right))]
    cols = np.flatnonzero(crop.any(axis=0))
    if cols.size == 0:
        return left, right
    return x0 + float(cols[0]), x0 + float(cols[-1] + 1)


def _drop_words_inside_marks(lines: list[Line], marks: list) -> list[Line]:
    """OCR often reads a box outline as 'O', '0' or '[]': such a word is the mark, not text."""
    if not marks:
        return lines
    out = []
    for ln in lines:
        kept = [w for w in ln.words if not any(
            w.x0 >= m.x0 - 3 and w.x1 <= m.x1 + 3 and w.y0 >= m.y0 - 3 and w.y1 <= m.y1 + 3 for m in marks)]
        if kept:
            out.append(Line(kept))
    return out


def _scaled(page: PageText, s: float) -> PageText:
    for ln in page.lines:
        for w in ln.words:
            w.x0, w.y0, w.x1, w.y1 = w.x0 * s, w.y0 * s, w.x1 * s, w.y1 * s
        ln.refresh()
    for m in page.marks:
        m.x0, m.y0, m.x1, m.y1 = m.x0 * s, m.y0 * s, m.x1 * s, m.y1 * s
    page.width, page.height = page.width * s, page.height * s
    page.upright_size = (page.upright_size[0] * s, page.upright_size[1] * s)
    return page
