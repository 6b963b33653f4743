"""Field-region reader for hand-printed values: PP-OCRv4 recognition (ONNX) from `rapidocr-onnxruntime`.

bench/bench_handprint.py (results in bench/RESULTS.md, "Hand-printed values") measured it against
Tesseract on field-region crops: on generated hand-printed names, dates, amounts, ZIP codes and e-mail
addresses it halves the character error rate, and it equals Tesseract on the typed values of the
travel-insurance forms. It is for *regions that hold one value* (a labeled field's box), not for pages:
it reads one text line, without detection or layout, so the page pass stays Tesseract.

Only the recognition model is loaded (10.9 MB, from the wheel's own `models/` directory; nothing is
downloaded), one ONNX session per thread would not be needed: onnxruntime sessions are thread-safe for
`run`, so one reader per process is shared. It runs on one intra-op thread, like Tesseract in the engine.

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

WORD_GAP = 0.45  # an ink-free column run at least this fraction of the text height separates two words
_lock = threading.Lock()
_recognizer: Any = None


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _load() -> Any:
    """The PP-OCRv4 text recognizer alone (no detector, no angle classifier), loaded once per process."""
    global _recognizer
    with _lock:
        if _recognizer is None:
            from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
            from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
            from rapidocr_onnxruntime.utils import read_yaml, update_model_path

            config = update_model_path(read_yaml(DEFAULT_CFG_PATH))["Rec"]
            config["intra_op_num_threads"] = 1
            config["inter_op_num_threads"] = 1
            _recognizer = TextRecognizer(config)
    return _recognizer


def read_region(image: Image.Image) -> tuple[str, float]:
    """Text of a field region holding one line of (hand-printed or typed) text, and a 0..1 confidence."""
    gray = image.convert("L")
    if gray.width < 2 or gray.height < 2:
        return "", 0.0
    bgr = np.repeat(np.asarray(gray)[:, :, None], 3, axis=2)
    (res,), _ = _load()(bgr, True)
    text, conf, info = res
    if not text:
        return "", 0.0
    steps, words, cols = info[0], info[1], info[2]
    chars = [c for w in words for c in w]
    xs = [(c + 0.5) / steps * gray.width for w in cols for c in w]
    if len(chars) == len(xs) == len(text):
        text = _restore_spaces(text, xs, np.asarray(gray))
    return " ".join(unicodedata.normalize("NFKC", text).split()), float(conf)


def _ink(gray: np.ndarray) -> np.ndarray:
    """Binarised ink (Otsu) without the field box's ruled lines."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total, levels = hist.sum(), np.arange(256)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    w1 = total - w0
    between = np.zeros(256)
    ok = (w0 > 0) & (w1 > 0)
    between[ok] = (m0[ok] / w0[ok] - (m0[-1] - m0[ok]) / w1[ok]) ** 2 * w0[ok] * w1[ok]
    ink = gray <= int(np.argmax(between))
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
        if a != " " and b != " " and a.isalnum() and b.isalnum():
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
