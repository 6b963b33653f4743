"""Which words may carry an accent the English model dropped: a cheap look at the ink above the letters.

Re-reading every word with the accent-aware model would cost more than the page's whole first pass, and
`eng` reads `García` and `Müller` as `Garcia`/`Miller` with 99 % confidence, so confidence cannot pick
the candidates. The ink can: an accent is a separate mark above the letter bodies. Of the characters
`eng` reads, only i, j and quote-like characters have such marks, and theirs are dot- or tick-sized.
A word is a candidate when it has more detached upper marks than its reading explains (an umlaut read as
`i`), or a mark too tall or too hollow for a dot (an acute read as the dot of `i`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# Characters whose glyph has detached marks above the x-height, and how many.
_MARKS_IN_TEXT = {"i": 1, "j": 1, "'": 1, "`": 1, "’": 1, "‘": 1, '"': 2, "“": 2, "”": 2, "^": 1, "*": 1,
                  "°": 1, "!": 0, "?": 0}
BODY_SHARE = 0.35   # a component at least this share of the word's height is a letter body, not a mark
TALL_MARK = 0.4     # a mark this share of the x-height or taller is no dot (i-dots measure 0.2-0.33)
HOLLOW_MARK = 0.6   # slanted strokes (acute, grave) fill less of their box than a dot does


def expected_marks(text: str) -> int:
    return sum(_MARKS_IN_TEXT.get(c, 0) for c in text)


def upper_marks(ink: np.ndarray) -> tuple[list[tuple[int, int, float]], float]:
    """Detached components above the x-height of a word crop (True = ink): (height, width, fill), x-height."""
    labels, n = ndimage.label(ink)
    if n == 0:
        return [], 0.0
    boxes = ndimage.find_objects(labels)
    height = ink.shape[0]
    bodies = [b for b in boxes if b[0].stop - b[0].start >= BODY_SHARE * height]
    if not bodies:
        return [], 0.0
    x_top = float(np.percentile([b[0].start for b in bodies], 75))  # most bodies are x-height letters
    baseline = float(np.median([b[0].stop for b in bodies]))
    marks = []
    for i, b in enumerate(boxes, start=1):
        h, w = b[0].stop - b[0].start, b[1].stop - b[1].start
        if b[0].stop <= x_top + 1 and h * w >= 2:
            marks.append((h, w, float((labels[b] == i).sum()) / (h * w)))
    return marks, max(1.0, baseline - x_top)


def may_have_lost_accent(text: str, ink: np.ndarray) -> bool:
    """True when the word's upper marks are more, or other, than `text` accounts for."""
    if not any(c.isalpha() for c in text):
        return False
    marks, x_height = upper_marks(ink)
    if len(marks) > expected_marks(text):
        return True
    return any(h >= TALL_MARK * x_height or (fill < HOLLOW_MARK and h * w >= 6) for h, w, fill in marks)
