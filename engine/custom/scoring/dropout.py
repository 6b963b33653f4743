"""Drop the form's print out of a field's place before the place is read (issue 19 item 8).

Why: where a value is written there is print too: the "$" of an amount box, the caption above a name
line, box rules. The region reader reads it: the "$" beside a loosely drawn 0 as "6", an empty name box
as its caption "Spouse Name". Scanning forms are printed in drop-out ink for this reason; a scan of an
ordinary form needs its print learned instead. The print is what is ink at the same place on most
training pages, not counting where a page's own value stood (a typed "0" on most of them is a value, not
print). Pages are compared in the reference frame (registration's homography, `register.py`), and a
small shift search takes up what the homography leaves: a few pixels on a scan, a photo's curl locally.
The masks are kept in the model (about a kilobyte per field, base64).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage, signal

from engine.custom.matching import MatchedField
from engine.custom.ocr_file import OcrDocument, Word
from engine.custom.scoring.register import apply

GRID = 800  # mask samples per page width (~95 dpi on a letter page: a printed stroke is 1-2 samples)
SHIFT = 4  # samples a page may lie off the mask (0.005 of the width: about registration's tolerance)
PAD = (0.02, 0.012)  # the mask covers the field's mean box grown by this much (x, y; normalised)
SHARE = 0.6  # print: ink on this share of the training pages that had no value there ...
MIN_PAGES = 3  # ... and at least this many of them
MAX_PAGES = 12  # training pages sampled per field (training time)
BRIDGE = 5  # pixels of a stroke a dropped rule may have cut out
INK = 40  # ink: this much darker than the crop's paper, and a quarter of the way to its darkest

Box = tuple[float, float, float, float]
_SIGNS = "$€£¥%#*|/\\()[]{}:;,.-_'\"`~!?<>=+ "  # what may stand around a value's letters in one OCR word
GrayOf = Callable[[int], "np.ndarray | None"]  # page number -> the page's gray pixels


@dataclass(frozen=True)
class TrainingPage:
    """One training page as the masks need it: its gray pixels, the homography from the reference frame
    onto the page (normalised; None when the page is the frame), and per labeled field where its value
    stood (reference frame: `value_boxes`)."""

    gray: np.ndarray
    to_page: np.ndarray | None
    value_boxes: dict[str, list[Box]]


def mask_box(stats: dict[str, Any]) -> Box:
    """Where a field's mask lies: its mean box (as far right as its longest value), grown by PAD."""
    x0, y0, x1, y1 = stats["abs_box"]
    return (max(0.0, x0 - PAD[0]), max(0.0, y0 - PAD[1]), min(1.0, x1 + stats.get("wider", 0.0) + PAD[0]),
            min(1.0, y1 + PAD[1]))


def _shape(box: Box, aspect: float) -> tuple[int, int]:
    return max(4, round((box[3] - box[1]) * GRID * aspect)), max(4, round((box[2] - box[0]) * GRID))


def _grid(box: Box, shape: tuple[int, int]) -> np.ndarray:
    """The reference-frame points (x, y) of a mask's samples, row by row."""
    rows, cols = shape
    xs = box[0] + (np.arange(cols) + 0.5) / cols * (box[2] - box[0])
    ys = box[1] + (np.arange(rows) + 0.5) / rows * (box[3] - box[1])
    gx, gy = np.meshgrid(xs, ys)
    return np.c_[gx.ravel(), gy.ravel()]


def sample(gray: np.ndarray, to_page: np.ndarray | None, box: Box, shape: tuple[int, int]) -> np.ndarray:
    """The page's gray values at the mask's points (bilinear; paper beyond the page's edge)."""
    pts = _grid(box, shape)
    if to_page is not None:
        pts = apply(to_page, pts)
    h, w = gray.shape
    vals = ndimage.map_coordinates(gray, [pts[:, 1] * h - 0.5, pts[:, 0] * w - 0.5], order=1, cval=255)
    return vals.reshape(shape)


def ink(gray: np.ndarray) -> np.ndarray:
    """Dark enough to be ink against this crop's own paper (photos are lit unevenly, page to page)."""
    paper, dark = float(np.median(gray)), float(np.percentile(gray, 1))
    return gray < paper - max(INK, 0.25 * (paper - dark))


def _shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """`a` moved by (dy, dx), False where nothing moved in."""
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)] = \
        a[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
    return out


def best_shift(fixed: np.ndarray, moving: np.ndarray) -> tuple[int, int]:
    """The (dy, dx) within SHIFT that lays `moving`'s ink most on `fixed`'s (no shift on a tie): the
    peak of their cross-correlation near its centre."""
    h, w = fixed.shape
    corr = signal.fftconvolve(fixed.astype(np.float32), moving[::-1, ::-1].astype(np.float32), mode="full")
    window = np.rint(corr[h - 1 - SHIFT:h + SHIFT, w - 1 - SHIFT:w + SHIFT])  # shifts -SHIFT..SHIFT
    dy, dx = np.unravel_index(np.argmax(window), window.shape)
    if window[dy, dx] <= window[SHIFT, SHIFT]:
        return 0, 0
    return int(dy) - SHIFT, int(dx) - SHIFT


def _no_vote(boxes: list[Box], box: Box, shape: tuple[int, int]) -> np.ndarray:
    """Samples under a page's own value words (grown by a sample): they say nothing about the print."""
    out = np.zeros(shape, dtype=bool)
    rows, cols = shape
    for b in boxes:
        c0 = int(np.floor((b[0] - box[0]) / (box[2] - box[0]) * cols)) - 1
        c1 = int(np.ceil((b[2] - box[0]) / (box[2] - box[0]) * cols)) + 1
        r0 = int(np.floor((b[1] - box[1]) / (box[3] - box[1]) * rows)) - 1
        r1 = int(np.ceil((b[3] - box[1]) / (box[3] - box[1]) * rows)) + 1
        out[max(0, r0):max(0, r1), max(0, c0):max(0, c1)] = True
    return out


def learn(regions: dict[str, dict[str, Any]], pages: dict[int, list[TrainingPage]],
          aspect: float) -> dict[str, dict[str, Any]]:
    """Per text field, the print in its place as a packed bit mask (fields with no print have none)."""
    out: dict[str, dict[str, Any]] = {}
    for name, stats in regions.items():
        group = pages.get(stats["page"], [])[:MAX_PAGES]
        if len(group) < MIN_PAGES:
            continue
        box = mask_box(stats)
        shape = _shape(box, aspect)
        inks = [ink(sample(p.gray, p.to_page, box, shape)) for p in group]
        mean = np.mean(inks, axis=0) >= 0.5
        shifts = [best_shift(mean, k) for k in inks]
        inks = [_shifted(k, *s) for k, s in zip(inks, shifts, strict=True)]
        voting = [~_shifted(_no_vote(p.value_boxes.get(name, []), box, shape), *s)
                  for p, s in zip(group, shifts, strict=True)]
        votes = np.sum(voting, axis=0)
        hits = np.sum([k & v for k, v in zip(inks, voting, strict=True)], axis=0)
        mask = (votes >= MIN_PAGES) & (hits >= SHARE * np.maximum(votes, 1))
        if mask.any():
            out[name] = {"box": [round(v, 5) for v in box], "shape": list(shape),
                         "bits": base64.b64encode(np.packbits(mask).tobytes()).decode("ascii")}
    return out


def _fold(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _letters_box(word: Word) -> Box:
    """The part of a word's box its letters and digits take, by character count: OCR often joins the
    printed "$" to the value written beside it ("$0"), and the "$" is print."""
    text = word.text
    lead = len(text) - len(text.lstrip(_SIGNS))
    trail = len(text) - len(text.rstrip(_SIGNS))
    x0, y0, x1, y1 = word.box
    if lead + trail >= len(text):
        return word.box
    step = (x1 - x0) / len(text)
    return x0 + lead * step, y0, x1 - trail * step, y1


def value_boxes(fields: dict[str, MatchedField]) -> dict[str, list[Box]]:
    """Per labeled field, where its value stood on this page: a word label's own boxes and words (however
    OCR read them); of a drawn region, only the words that read as part of the value, without the signs
    at their ends, since the region takes in print with it (a "$", a caption) and hand-writing differs
    from page to page anyway."""
    out: dict[str, list[Box]] = {}
    for name, mf in fields.items():
        if mf.region is not None:
            value = _fold(mf.text)
            out[name] = [_letters_box(w) for w in mf.words if _fold(w.text) and _fold(w.text) in value]
        else:
            out[name] = [w.box for w in mf.words] + [b for _, b in mf.boxes]
    return out


def learn_from_documents(regions: dict[str, dict[str, Any]],
                         docs: list[tuple[OcrDocument, dict[str, MatchedField], GrayOf]],
                         ) -> dict[str, dict[str, Any]]:
    """`learn` over registered training documents: (reading, matched labels, page number -> the page's
    gray pixels or None). Only the pages some field is on are drawn, of the first MAX_PAGES documents."""
    wanted = {stats["page"] for stats in regions.values()}
    pages: dict[int, list[TrainingPage]] = {}
    aspect = 0.0
    for ocr, fields, gray_of in docs[:MAX_PAGES]:
        boxes = value_boxes(fields)
        for page in ocr.pages:
            if page.number not in wanted:
                continue
            gray = gray_of(page.number)
            if gray is None:
                continue
            aspect = aspect or page.height / page.width
            to_page = None if page.transform is None else np.linalg.inv(np.array(page.transform))
            pages.setdefault(page.number, []).append(TrainingPage(gray, to_page, boxes))
    return learn(regions, pages, aspect) if pages else {}


def unpack(record: dict[str, Any]) -> np.ndarray:
    rows, cols = record["shape"]
    bits = np.frombuffer(base64.b64decode(record["bits"]), dtype=np.uint8)
    return np.unpackbits(bits)[:rows * cols].reshape(rows, cols).astype(bool)


def drop_print(gray: np.ndarray, crop: tuple[int, int, int, int], to_page: np.ndarray | None,
               record: dict[str, Any]) -> np.ndarray:
    """The page's pixels in `crop` (x0, y0, x1, y1) with the field's print painted paper-white. `to_page`
    maps the reference frame onto this page (None: the page is in the frame)."""
    box, shape = tuple(record["box"]), tuple(record["shape"])
    mask = unpack(record)
    dy, dx = best_shift(ink(sample(gray, to_page, box, shape)), mask)  # this page's offset from the mask
    mask = ndimage.binary_dilation(_shifted(mask, dy, dx))  # a stroke's anti-aliased edge goes with it
    x0, y0, x1, y1 = crop
    out = gray[y0:y1, x0:x1].copy()
    h, w = gray.shape
    px, py = np.meshgrid((np.arange(x0, x1) + 0.5) / w, (np.arange(y0, y1) + 0.5) / h)
    pts = np.c_[px.ravel(), py.ravel()]
    if to_page is not None:
        pts = apply(np.linalg.inv(to_page), pts)
    rows, cols = shape
    c = np.floor((pts[:, 0] - box[0]) / (box[2] - box[0]) * cols).astype(int)
    r = np.floor((pts[:, 1] - box[1]) / (box[3] - box[1]) * rows).astype(int)
    inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    hit = np.zeros(len(pts), dtype=bool)
    hit[inside] = mask[r[inside], c[inside]]
    flat = out.reshape(-1)
    flat[hit] = np.uint8(np.median(out))
    return out


def erase_strokes_through(gray: np.ndarray, dropped: np.ndarray) -> np.ndarray:
    """`gray` with every ink stroke painted paper that runs from its top edge to its bottom edge across
    the rules `drop_print` dropped (`dropped`: the pixels it painted): a line drawn down through a column
    of empty fields ("none"), which the region reader reads as "1". A character that fills a tight place
    from edge to edge stays: it crosses no dropped rule."""
    marks = ink(gray)
    closed = ndimage.binary_closing(marks, structure=np.ones((2 * BRIDGE + 1, 1), bool), border_value=1)
    labels, _ = ndimage.label(marks | (closed & dropped), structure=np.ones((3, 3), bool))
    through = [k + 1 for k, sl in enumerate(ndimage.find_objects(labels))
               if sl[0].start == 0 and sl[0].stop == gray.shape[0]
               and (dropped[sl] & (labels[sl] == k + 1)).any()]
    if not through:
        return gray
    out = gray.copy()
    out[ndimage.binary_dilation(np.isin(labels, through) & marks)] = np.uint8(np.median(gray))
    return out


def bridge_strokes(gray: np.ndarray, dropped: np.ndarray) -> np.ndarray:
    """`gray` with the pixels of a dropped rule inked again where a stroke crosses it: ink within BRIDGE
    pixels on both sides, across the rule. A hand-drawn 0 written over its box's bottom rule is otherwise
    cut in two, and each half reads as something else (or as nothing: a half that reaches out of the
    place is a neighbour's to the region reader)."""
    marks = ink(gray)
    if not marks.any() or not dropped.any():
        return gray
    span = 2 * BRIDGE + 1
    across = ndimage.binary_closing(marks, structure=np.ones((span, 1), bool)) | \
        ndimage.binary_closing(marks, structure=np.ones((1, span), bool))
    fill = across & dropped & ~marks
    if not fill.any():
        return gray
    out = gray.copy()
    out[fill] = np.uint8(np.median(gray[marks]))
    return out
