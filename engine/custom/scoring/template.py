"""The printed template around a field: words that stand at the same place near the value on (almost) every
training form, such as the caption "Country" in the corner of the Country box.

Why: on a form whose field was left empty, the caption is the only text where the value would be, and a
scorer that knows only position and shape takes it as the value ("Country", "Date (MM-DD-YYYY)"); next to a
value, a caption word ("See" of "See instructions") gets taken into it. A value's own words are never
its context, so a value printed the same on every form stays a value.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from engine.custom.ocr_file import Word
from engine.custom.scoring.spans import PageIndex, norm_text

CONTEXT_V = 6.0  # words this many line heights above/below the value's top are its context...
CONTEXT_H = 18.0  # ...and this many left of its left edge or right of its right edge
TOL_V = 1.5  # a template word is found again within this many line heights of where it stood...
TOL_H = 2.5  # ...horizontally, measured from the value's left or from its right edge
SHARE = 0.8  # ...on at least this share of the training forms that have the field


def context_of(pi: PageIndex, box: tuple[float, float, float, float], value: list[Word]) -> list[list[Any]]:
    """[text, dx from left, dx from right, dy from top] (line heights) of the words around a value box,
    the value's own words left out."""
    left, top, right, _bottom = box
    h = pi.h
    own = {(w.page, w.line, w.index) for w in value}
    out: list[list[Any]] = []
    for line in pi.lines:
        for w in line:
            if (w.page, w.line, w.index) in own:
                continue
            cx, cy = (w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2
            dy = (cy - top) / h
            if abs(dy) > CONTEXT_V or not left - CONTEXT_H * h <= cx <= right + CONTEXT_H * h:
                continue
            out.append([norm_text(w.text), round((cx - left) / h, 2), round((cx - right) / h, 2),
                        round(dy, 2)])
    return out


def _near(a: list[float], b: list[float]) -> bool:
    return abs(a[2] - b[2]) <= TOL_V and (abs(a[0] - b[0]) <= TOL_H or abs(a[1] - b[1]) <= TOL_H)


def template_words(contexts: list[list[list[Any]]]) -> list[list[Any]]:
    """[text, dx left, dx right, dy] of the words found near the value at a consistent offset on at least
    SHARE of the forms (and at least two)."""
    n = len(contexts)
    need = max(2, math.ceil(SHARE * n))
    if n < need:
        return []
    by_text: dict[str, list[tuple[int, list[float]]]] = {}
    for i, ctx in enumerate(contexts):
        for text, *off in ctx:
            if text:
                by_text.setdefault(text, []).append((i, off))
    out: list[list[Any]] = []
    for text, seen in by_text.items():
        if len({i for i, _ in seen}) < need:
            continue
        taken: list[list[float]] = []  # clusters of one offset, each kept once
        for _, off in seen:
            if abs(off[2]) < 0.6 and off[0] > -0.5 and off[1] < 0.5:
                continue  # where the value itself stands: a second copy of it (overlaid fields), not print
            if any(_near(off, t) for t in taken):
                continue
            taken.append(off)
            near = [(i, o) for i, o in seen if _near(off, o)]
            if len({i for i, _ in near}) >= need:
                out.append([text, *(round(statistics.median(o[k] for _, o in near), 2) for k in range(3))])
    return out


def template_hits(fs: dict[str, Any], words: list[Word], pred: Any, h: float) -> list[bool]:
    """Whether each word stands where a template word of the field stood (relative to the predicted box)."""
    tmpl = fs.get("template") or []
    if not tmpl:
        return [False] * len(words)
    left, right, top = pred[0], pred[1], pred[2]
    # A word that was a whole training value is a value here: a grid of fields that are "0" on every form
    # puts a neighbour's "0" one row off, within the tolerance of a prediction that is itself a row off.
    own = set(fs.get("values", []))
    out = []
    for w in words:
        text = norm_text(w.text)
        if text in own:
            out.append(False)
            continue
        cx, cy = (w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2
        off = [(cx - left) / h, (cx - right) / h, (cy - top) / h]
        out.append(any(t[0] == text and _near(off, t[1:]) for t in tmpl))
    return out
