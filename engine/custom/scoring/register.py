"""Register every page to one reference page before fields are located (issue 19 item 9).

Forms of one layout captured differently (a fillable PDF, a flat scan, a phone photo with perspective)
put the same printed words at places related by a projective transform. Offsets learned on one capture
do not carry to another, so each page's words are moved into the reference page's frame first: the printed
words that occur once on both pages are matched by text, a homography is fitted to their centres with
RANSAC (values that happen to match are outliers), and every word box and mark is transformed. Boxes in
the page's own unit (`polygon`, what answers carry) are not touched; `box` (normalised, what the model
measures) is. A page that already lines up (two PDFs of one template), or too few shared words, is left
as it is.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np

from engine.custom.ocr_file import OcrDocument, Page

MIN_PAIRS = 8  # shared printed words needed to trust a fit
MIN_INLIER_SHARE = 0.3
INLIER_TOL = 0.006  # of the page (normalised units): a word centre this close is on the fit
ALREADY_ALIGNED = 0.003  # median offset below which a page is left alone
ITERATIONS = 300
_TOKEN = re.compile(r"[^a-z0-9]+")

Points = dict[str, tuple[float, float]]  # word text -> its centre (normalised)


def _key(text: str) -> str:
    t = _TOKEN.sub("", text.lower())
    return t if len(t) >= 3 and any(c.isalpha() for c in t) else ""


def key_points(page: Page) -> Points:
    """Centres of the words whose text occurs once on the page (printed captions, mostly)."""
    counts = Counter(_key(w.text) for w in page.words)
    return {k: ((w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2)
            for w in page.words if (k := _key(w.text)) and counts[k] == 1}


def reference(docs: list[OcrDocument]) -> dict[str, Any]:
    """Per page number, the key points of the training page that shares the most of them with the others
    (the most typical capture), as plain data for the model file."""
    out: dict[str, Any] = {}
    numbers = sorted({p.number for d in docs for p in d.pages})
    for number in numbers:
        pages = [key_points(p) for d in docs if (p := d.page(number)) is not None]
        if len(pages) < 2:
            continue
        best = max(pages, key=lambda pts: sum(len(pts.keys() & other.keys()) for other in pages))
        out[str(number)] = {k: [round(x, 5), round(y, 5)] for k, (x, y) in best.items()}
    return out


def _fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    """Homography mapping src to dst (least squares over all given points, DLT)."""
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows, dtype=float))
    h = vt[-1].reshape(3, 3)
    return None if abs(h[2, 2]) < 1e-12 else h / h[2, 2]


def apply(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    q = np.c_[pts, np.ones(len(pts))] @ h.T
    w = q[:, 2:3]
    return q[:, :2] / np.where(np.abs(w) < 1e-12, 1e-12, w)  # a degenerate sample's points at infinity


def _ransac(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    rng = np.random.default_rng(0)  # deterministic: the same page always registers the same way
    best: tuple[np.ndarray | None, np.ndarray] = (None, np.zeros(len(src), dtype=bool))
    for _ in range(ITERATIONS):
        pick = rng.choice(len(src), 4, replace=False)
        h = _fit(src[pick], dst[pick])
        if h is None:
            continue
        inliers = np.linalg.norm(apply(h, src) - dst, axis=1) < INLIER_TOL
        if inliers.sum() > best[1].sum():
            best = (h, inliers)
    if best[0] is None or best[1].sum() < MIN_PAIRS:
        return None, best[1]
    return _fit(src[best[1]], dst[best[1]]), best[1]  # refit on every inlier


def move_box(h: np.ndarray, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    q = apply(h, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    return (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))


def register_page(page: Page, ref: Points) -> bool:
    """Move the page's words and marks into the reference frame; True when it was moved."""
    mine = key_points(page)
    shared = sorted(mine.keys() & ref.keys())
    if len(shared) < MIN_PAIRS:
        return False
    src = np.array([mine[k] for k in shared])
    dst = np.array([ref[k] for k in shared], dtype=float)
    h, inliers = _ransac(src, dst)
    if h is None or inliers.mean() < MIN_INLIER_SHARE:
        return False
    before = float(np.median(np.linalg.norm(src[inliers] - dst[inliers], axis=1)))
    after = float(np.median(np.linalg.norm(apply(h, src[inliers]) - dst[inliers], axis=1)))
    if before < ALREADY_ALIGNED or after > 0.5 * before:
        return False
    for w in page.words:
        w.box = move_box(h, w.box)
    for m in page.marks:
        m.box = move_box(h, m.box)
    page.angle = 0.0  # the transform straightened the page too
    page.transform = h.tolist()
    return True


def register_document(ocr: OcrDocument, ref: dict[str, Any]) -> int:
    """Register every page that has a reference; the number of pages moved."""
    moved = 0
    for page in ocr.pages:
        points = ref.get(str(page.number))
        if points:
            moved += register_page(page, {k: (float(v[0]), float(v[1])) for k, v in points.items()})
    return moved
