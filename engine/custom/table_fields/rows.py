"""Visual rows of a page and the columns their words fall in.

Layout's lines do not follow a table's rows: a reader may give a row's cells as separate lines, or join
two cells into one. So a table is read from *visual* rows (words whose vertical centres line up), and a
word belongs to the column whose learned span its centre falls in, the gaps between neighbouring columns
split halfway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median

from engine.custom.ocr_file import Page, Word

TOKEN_CHARS = str.maketrans("", "", ".,:;()#*")


def slope(page: Page) -> float:
    """How much a text line's normalised y grows per unit of normalised x on this page (a skewed scan's
    rows climb or fall across the page; Layout reports the angle and keeps the scan's coordinates)."""
    return math.tan(math.radians(page.angle)) * page.width / page.height


def level_y(y: float, x: float, k: float) -> float:
    """y as it would be on the straightened page (rotated about the left edge)."""
    return y - k * x


@dataclass
class VisualRow:
    words: list[Word]  # left to right
    k: float = 0.0  # the page's slope

    def _y(self, w: Word, edge: int) -> float:
        return level_y(w.box[edge], (w.box[0] + w.box[2]) / 2, self.k)

    @property
    def top(self) -> float:
        return min(self._y(w, 1) for w in self.words)

    @property
    def bottom(self) -> float:
        return max(self._y(w, 3) for w in self.words)

    def tokens(self) -> set[str]:
        return {t for w in self.words if (t := token(w.text))}


def token(text: str) -> str:
    """A caption word as compared across forms: case, punctuation and digits do not matter."""
    t = text.lower().translate(TOKEN_CHARS)
    return "" if not t or any(c.isdigit() for c in t) else t


def word_height(words: list[Word]) -> float:
    return median(w.box[3] - w.box[1] for w in words) if words else 0.01


def visual_rows(page: Page) -> list[VisualRow]:
    """Words grouped by vertical centre on the straightened page (within half a typical word height),
    top to bottom."""
    k = slope(page)

    def centre(w: Word) -> float:
        return level_y((w.box[1] + w.box[3]) / 2, (w.box[0] + w.box[2]) / 2, k)

    words = sorted(page.words, key=centre)
    if not words:
        return []
    tol = 0.5 * word_height(words)
    rows: list[list[Word]] = []
    mean = -1.0
    for w in words:
        c = centre(w)
        if rows and abs(c - mean) <= tol:
            rows[-1].append(w)
            mean = sum(centre(x) for x in rows[-1]) / len(rows[-1])
        else:
            rows.append([w])
            mean = c
    return [VisualRow(sorted(r, key=lambda w: w.box[0]), k) for r in rows]


@dataclass
class ColumnSpans:
    """Learned column spans (normalised x) in table order; `shift` moves them to where this form's table
    is (measured on its header)."""

    names: list[str]
    spans: list[tuple[float, float]]
    shift: float = 0.0

    def column_of(self, word: Word, margin: float = 0.04) -> str | None:
        x = (word.box[0] + word.box[2]) / 2 - self.shift
        order = sorted(range(len(self.names)), key=lambda i: sum(self.spans[i]))
        lefts = [self.spans[i][0] for i in order]
        rights = [self.spans[i][1] for i in order]
        if x < lefts[0] - margin or x > rights[-1] + margin:
            return None
        for k, i in enumerate(order):
            # split the gap (or overlap) between this column and the next halfway
            edge = (rights[k] + lefts[k + 1]) / 2 if k + 1 < len(order) else rights[-1] + margin
            if x <= edge:
                return self.names[i]
        return None
