"""The page's words as the grid builder takes them (centres, reading-order references, text height), and
the two word- and mark-based checks on rules: a check box's outline and a stroke through words are none."""

from __future__ import annotations

import re
from collections.abc import Callable
from statistics import median

import numpy as np

from engine.page.model import Line, SelectionMark
from engine.tables.model import Point, Rule, TextWord

RULE_LIKE = re.compile(r"^[|\[\]_\-—–~!:;.,'\"`]+$")  # what OCR makes of a piece of a rule


def text_height(lines: list[Line]) -> float:
    """Median word height (0 without words): the yardstick of every distance in the grid builder."""
    heights = [w.y1 - w.y0 for line in lines for w in line.words]
    return median(heights) if heights else 0.0


def text_words(lines: list[Line], move: Callable[[float, float], Point] | None = None,
               scale: float = 1.0) -> list[TextWord]:
    """Every word with its (line, word) index in `lines` (the order readResults lists them in), its
    centre passed through `move` (e.g. into a deskewed frame) and its size times `scale`."""
    words: list[TextWord] = []
    for li, line in enumerate(lines):
        for wi, w in enumerate(line.words):
            x, y = (w.x0 + w.x1) / 2, (w.y0 + w.y1) / 2
            if move is not None:
                x, y = move(x, y)
            words.append(TextWord(w.text, x, y, (li, wi), (w.y1 - w.y0) * scale, (w.x1 - w.x0) * scale))
    return words


def not_marks(rules: list[Rule], marks: list[SelectionMark]) -> list[Rule]:
    """The rules that are not a check box's outline: a box whose sides touch a row's rules would
    otherwise split that row into cells."""
    if not marks or not rules:
        return rules
    m = np.array([(k.x0, k.y0, k.x1, k.y1) for k in marks])
    grow = 0.25 * np.maximum(m[:, 2] - m[:, 0], m[:, 3] - m[:, 1])
    m += np.stack((-grow, -grow, grow, grow), axis=1)
    r = np.array(rules, dtype=np.float64)  # horizontal, pos, start, end
    flat = r[:, 0] > 0
    x0, x1 = np.where(flat, r[:, 2], r[:, 1]), np.where(flat, r[:, 3], r[:, 1])
    y0, y1 = np.where(flat, r[:, 1], r[:, 2]), np.where(flat, r[:, 1], r[:, 3])
    inside = ((m[None, :, 0] <= x0[:, None]) & (x1[:, None] <= m[None, :, 2])
              & (m[None, :, 1] <= y0[:, None]) & (y1[:, None] <= m[None, :, 3])).any(axis=1)
    return [rule for rule, drop in zip(rules, inside.tolist(), strict=True) if not drop]


def not_through_words(rules: list[Rule], words: list[TextWord], share: float = 0.5) -> list[Rule]:
    """The rules that do not run through words: on a scan, strokes of letters stacked in a tight cell
    ("Vehicle" over "Mileage") join into a vertical run as long as a cell side, but lie inside the
    words OCR read there; a printed rule never does for more than `share` of its length. A rule that
    OCR read as a word of its own ("|", "l") is no evidence against it."""
    words = [w for w in words if w.width >= 0.5 * w.height and not RULE_LIKE.match(w.text)]  # not "|", "l"
    if not words or not rules:
        return rules
    b = np.array([(w.x - w.width / 2, w.y - w.height / 2, w.x + w.width / 2, w.y + w.height / 2)
                  for w in words])
    r = np.array(rules, dtype=np.float64)  # horizontal, pos, start, end
    flat = r[:, 0:1] > 0
    lo = np.where(flat, b[None, :, 1], b[None, :, 0])  # the word's extent across the rule
    hi = np.where(flat, b[None, :, 3], b[None, :, 2])
    a0 = np.where(flat, b[None, :, 0], b[None, :, 1])  # ... and along it
    a1 = np.where(flat, b[None, :, 2], b[None, :, 3])
    hit = (lo < r[:, 1:2]) & (r[:, 1:2] < hi)
    along = np.clip(np.minimum(r[:, 3:4], a1) - np.maximum(r[:, 2:3], a0), 0, None)
    keep = (along * hit).sum(axis=1) <= share * (r[:, 3] - r[:, 2])
    return [x for x, k in zip(rules, keep.tolist(), strict=True) if k]
