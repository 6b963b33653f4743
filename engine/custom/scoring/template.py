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
from dataclasses import replace
from typing import Any

from engine.custom.ocr_file import Page, Word
from engine.custom.scoring.spans import PageIndex, Span, norm_text

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


PRINTED_SHARE = 0.6  # a word at the same place on this share of the training pages is print
PRINTED_DX, PRINTED_DY = 0.02, 0.006  # same place: centres this close (normalised, registered pages)


def printed_words(pages: list[Page]) -> list[list[Any]]:
    """[text, x, y] of the words that stand at the same place on most training pages of one page number:
    the form's print (captions, headings), whatever the values were."""
    need = max(2, math.ceil(PRINTED_SHARE * len(pages)))
    if len(pages) < need:
        return []
    by_text: dict[str, list[list[tuple[float, float]]]] = {}
    for p in pages:
        mine: dict[str, list[tuple[float, float]]] = {}
        for w in p.words:
            t = norm_text(w.text)
            if t:
                mine.setdefault(t, []).append(((w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2))
        for t, centres in mine.items():
            by_text.setdefault(t, []).append(centres)
    out: list[list[Any]] = []
    for t, per_page in by_text.items():
        if len(per_page) < need:
            continue
        for x, y in per_page[0] if len(per_page) else []:
            near = [c for cs in per_page[1:] for c in cs
                    if abs(c[0] - x) <= PRINTED_DX and abs(c[1] - y) <= PRINTED_DY]
            if len(near) + 1 >= need:
                out.append([t, round(statistics.median([x, *(c[0] for c in near)]), 4),
                            round(statistics.median([y, *(c[1] for c in near)]), 4)])
    return out


def printed_lookup(model: dict[str, Any]) -> dict[int, dict[str, list[tuple[float, float]]]]:
    """The model's print per page number, as text -> centres."""
    out: dict[int, dict[str, list[tuple[float, float]]]] = {}
    for number, words in (model.get("printed") or {}).items():
        for text, x, y in words:
            out.setdefault(int(number), {}).setdefault(text, []).append((x, y))
    return out


def is_printed(printed: dict[str, list[tuple[float, float]]], word: Word) -> bool:
    x, y = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
    return any(abs(x - px) <= PRINTED_DX and abs(y - py) <= PRINTED_DY
               for px, py in printed.get(norm_text(word.text), ()))


def printed_near(span: Span, pi: PageIndex, printed: dict[str, list[tuple[float, float]]]) -> list[Word]:
    """The print within half a line of the span's words: what a re-read of the value's region must not
    read as part of it (a caption Layout ran into the value's first line)."""
    if not span.words or not printed:
        return []
    pad = 0.5 * pi.h
    left, top = min(w.box[0] for w in span.words) - pad, min(w.box[1] for w in span.words) - pad
    right, bottom = max(w.box[2] for w in span.words) + pad, max(w.box[3] for w in span.words) + pad
    mine = {id(w) for w in span.words}
    return [w for w in pi.page.words if id(w) not in mine and w.box[0] < right and w.box[2] > left
            and w.box[1] < bottom and w.box[3] > top and is_printed(printed, w)]


def trim_template_ends(fs: dict[str, Any], span: Span, pi: PageIndex, pred: Any,
                       printed: dict[str, list[tuple[float, float]]]) -> Span | None:
    """The span without the words at either end that are the form's print: where a word of that text stood
    on most training pages, or where a template word of the field stood (issue 19 items 4, 6). On scans
    Layout often runs a caption and the value written just below or beside it into one line ("Applicant
    Telephone 234-567-8890 NEXT CHEQUE"). A word a training value starts or ends with is kept; None when
    nothing but print is left."""
    words = span.words
    if not words or span.mark is not None:
        return span
    near_template = template_hits(fs, words, pred, pi.h)
    hits = [h or is_printed(printed, w) for h, w in zip(near_template, words, strict=True)]
    if not any(hits):
        return span
    values = [v.split() for v in fs.get("values", []) if v.strip()]
    starts, ends = {v[0] for v in values}, {v[-1] for v in values}
    i, j = 0, len(words)
    while i < j and hits[i] and norm_text(words[i].text) not in starts:
        i += 1
    while j > i and hits[j - 1] and norm_text(words[j - 1].text) not in ends:
        j -= 1
    if i == j:
        return None
    if (i, j) == (0, len(words)):
        return span
    kept = words[i:j]
    return replace(span, words=kept, text=" ".join(w.text for w in kept))
