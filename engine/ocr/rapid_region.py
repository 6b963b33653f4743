"""Field-region reader for hand-printed values: PP-OCRv4 recognition (ONNX) from `rapidocr-onnxruntime`.

bench/bench_handprint.py (results in bench/RESULTS.md, "Hand-printed values") measured it against
Tesseract on field-region crops: on generated hand-printed names, dates, amounts, ZIP codes and e-mail
addresses its character error rate is 7 % against Tesseract's 29 % (exact values 64 % against 27 %);
on the typed values of the travel-insurance forms it is slightly behind (93 % exact against 96 %, with
Tesseract's spacing via `with_spacing_of`). It is for *regions that hold one value* (a labeled field's
box), not for pages: it finds the value's text line(s) inside the region and reads them; the page pass
stays Tesseract.

Models: PP-OCRv4 detection (4.7 MB) and recognition (10.9 MB) from the wheel's own `models/` directory;
nothing is downloaded. One reader per process (onnxruntime sessions may be run from several threads),
one intra-op thread, like Tesseract in the engine; ~105 MB resident, ~0.5 s to load.

PP-OCR's recognizer is trained on Chinese and English and may emit full-width punctuation (NFKC fixes it)
and drops some spaces between hand-printed words; a space is put back where the crop has a clear
column gap of ink between two letters/digits that the recognizer placed on either side of it.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Any

import numpy as np
from PIL import Image

WORD_GAP = 0.4  # an ink-free column run at least this fraction of the text height separates two words
MIN_LINE_SCORE = 0.5  # RapidOCR's own text_score: lines read with less are dropped
_lock = threading.Lock()
_ocr: Any = None


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _load() -> Any:
    """PP-OCRv4 detection + recognition (no angle classifier), loaded once per process, one thread each.
    Detection is sized for a field crop: RapidOCR's default (shorter side scaled *up* to 736 px) turns a
    60-px-high crop into a 736-px-high one, ~4 s per crop, and cuts words apart."""
    global _ocr
    with _lock:
        if _ocr is None:
            from rapidocr_onnxruntime import RapidOCR

            _ocr = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, use_cls=False,
                            det_limit_type="max", det_limit_side_len=960)
    return _ocr


def read_region(image: Image.Image) -> tuple[str, float]:
    """Text of a field region (hand-printed or typed value, usually one line) and a 0..1 confidence."""
    gray = image.convert("L")
    if gray.width < 4 or gray.height < 4:
        return "", 0.0
    ocr = _load()
    img = np.repeat(np.asarray(gray)[:, :, None], 3, axis=2)
    img, _, _ = ocr.preprocess(img)
    img, _ = ocr.maybe_add_letterbox(img, {})
    boxes, _ = ocr.auto_text_det(img)
    if not boxes:
        return "", 0.0
    lines = ocr.get_crop_img_list(img, boxes)
    texts, scores = [], []
    for line, (text, score, info) in zip(lines, ocr.text_rec(lines, True)[0], strict=True):
        if not text or score < MIN_LINE_SCORE:
            continue
        steps, cols = info[0], [c for w in info[2] for c in w]
        if len(cols) == len(text) and steps > 0:
            width = line.shape[1]
            text = _restore_spaces(text, [(c + 0.5) / steps * width for c in cols], line[:, :, 0])
        texts.append(text)
        scores.append(score)
    if not texts:
        return "", 0.0
    return " ".join(unicodedata.normalize("NFKC", " ".join(texts)).split()), float(min(scores))


def _ink(gray: np.ndarray) -> np.ndarray:
    """Ink (a quarter of the way from the paper to the darkest strokes, so thin anti-aliased strokes count)
    without ruled box lines. Not Otsu: on a white field box over a grey form it splits grey from white."""
    dark, paper = np.percentile(gray, 1), np.median(gray)
    ink = gray < paper - 0.25 * (paper - dark)
    ink[ink.mean(axis=1) > 0.6, :] = False  # horizontal box lines
    ink[:, ink.mean(axis=0) > 0.6] = False  # vertical box lines
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
