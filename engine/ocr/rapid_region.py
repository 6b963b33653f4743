"""Field-region reader for hand-printed values: PP-OCR (v4 detection, v6 recognition; engine/ocr/ppocr.py).

bench/bench_handprint.py (results in bench/RESULTS.md, "Hand-printed values") measured it against
Tesseract on field-region crops: on generated hand-printed names, dates, amounts, ZIP codes and e-mail
addresses its character error rate is 7 % against Tesseract's 29 % (exact values 64 % against 27 %);
on the typed values of the travel-insurance forms it is slightly behind (93 % exact against 96 %, with
Tesseract's spacing via `with_spacing_of`). It is for *regions that hold one value* (a labeled field's
box), not for pages: it finds the value's text line(s) inside the region and reads them; the page pass
stays Tesseract.

The two model files are taken out of the rapidocr-onnxruntime and rapidocr wheels by scripts/ocr_models.py;
the packages' code is not used: ppocr.py runs them with onnxruntime, numpy and scipy, so OpenCV, pyclipper
and shapely need not be installed. One reader per process, one onnxruntime thread, ~90 MB resident, ~0.25 s
to load.

PP-OCR's recognizer is trained on Chinese and English and may emit full-width punctuation (NFKC fixes it)
and drops some spaces between hand-printed words; a space is put back where the crop has a clear
column gap of ink between two letters/digits that the recognizer placed on either side of it.
"""

from __future__ import annotations

import unicodedata

import numpy as np
from PIL import Image
from scipy import ndimage

from engine.ocr import ppocr

WORD_GAP = 0.4  # an ink-free column run at least this fraction of the text height separates two words
MIN_LINE_SCORE = 0.5  # RapidOCR's own text_score: lines read with less are dropped
MIN_INK_PIXELS, MIN_INK_HEIGHT = 12, 8  # the least ink read without a detected line: no specks, no dashes


def available() -> bool:
    """The PP-OCR model files are installed and onnxruntime imports."""
    return ppocr.available()


def read_region(image: Image.Image, allowed: str | None = None, cell: bool = False) -> tuple[str, float]:
    """Text of a field region (hand-printed or typed value, usually one line) and a 0..1 confidence;
    `allowed`: the only characters it may read (a number field's), if given; `cell`: the crop is a cell
    that holds the value alone, the form's print dropped from it, so its ink (but what reaches in over its
    edges) is read as one line, without the detector, whose boxes cut loose hand-writing apart."""
    gray = image.convert("L")
    if gray.width < 4 or gray.height < 4:
        return "", 0.0
    texts, scores = [], []
    # a cell with no ink of its own is empty: neither the detector nor a second look will find a value in it
    lines = _ink_line(gray, allowed) if cell else ppocr.read_lines(gray, allowed) or _ink_line(gray, allowed)
    for line in lines:
        if not line.text or line.score < MIN_LINE_SCORE:
            continue
        text = line.text
        if len(line.cols) == len(text) and line.steps > 0:
            width = line.image.shape[1]
            text = _restore_spaces(text, [(c + 0.5) / line.steps * width for c in line.cols], line.image)
        texts.append(text)
        scores.append(line.score)
    if not texts:
        return "", 0.0
    return " ".join(unicodedata.normalize("NFKC", " ".join(texts)).split()), float(min(scores))


def _ink_line(image: Image.Image, allowed: str | None) -> list[ppocr.Line]:
    """The crop's ink read as one line: when the detector found no text in it (a lone hand-written "0" in
    a wide box, once the box's printed "$" is dropped, is too small a thing for the detector), or in a
    cell (`read_region`)."""
    gray = np.asarray(image)
    ink = _ink(gray)
    labels, n = ndimage.label(ink, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    sizes = ndimage.sum(ink, labels, range(1, n + 1))
    edge = np.unique(np.r_[labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    # a component touching the crop's edge is a box rule left over, or a neighbour's ink reaching in
    keep = np.isin(labels, np.setdiff1d(1 + np.flatnonzero(sizes >= MIN_INK_PIXELS), edge))
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    if rows.size == 0 or rows[-1] - rows[0] < MIN_INK_HEIGHT:
        return []
    pad = max(2, (rows[-1] - rows[0]) // 4)
    line = np.pad(gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], pad, constant_values=int(np.median(gray)))
    text, score, steps, cols_ = ppocr.recognize([line], allowed)[0]
    return [ppocr.Line(text, score, steps, cols_, line)]


def _ink(gray: np.ndarray) -> np.ndarray:
    """Ink (a quarter of the way from the paper to the darkest strokes, so thin anti-aliased strokes count)
    without ruled box lines. Not Otsu: on a white field box over a grey form it splits grey from white.
    A vertical box line crosses the line crop from edge to edge; a letter's stem (the l's of "Hello") may
    fill most of a tight crop's height but stays inside the detector's margin."""
    dark, paper = np.percentile(gray, 1), np.median(gray)
    ink = gray < paper - 0.25 * (paper - dark)
    ink[ink.mean(axis=1) > 0.6, :] = False  # horizontal box lines
    ink[:, (ink.mean(axis=0) > 0.6) & ink[0] & ink[-1]] = False  # vertical box lines
    return ink


def _restore_spaces(text: str, xs: list[float], gray: np.ndarray) -> str:
    ink = _ink(gray)
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return text
    height = rows[-1] - rows[0] + 1
    empty = ~ink.any(axis=0)
    out = [text[0]]
    for i in range(1, len(text)):
        a, b = text[i - 1], text[i]
        if (a.isalnum() or a in ",;") and (b.isalpha() or (b.isdigit() and a.isalnum())):
            lo, hi = int(xs[i - 1]), int(np.ceil(xs[i]))
            if hi > lo and _longest_run(empty[lo:hi]) >= WORD_GAP * height:
                out.append(" ")
        out.append(b)
    return "".join(out)


def _longest_run(mask: np.ndarray) -> int:
    best = run = 0
    for v in mask:
        run = run + 1 if v else 0
        best = max(best, run)
    return best


def with_spacing_of(text: str, other: str) -> str:
    """`other`'s spacing when it reads the same characters as `text` (e.g. Tesseract's reading of the same
    region: on typed values its word gaps are reliable, PP-OCR's are not); else `text` unchanged."""
    return other if other.replace(" ", "") == text.replace(" ", "") and other.strip() else text
