"""Visual rows of a page and the columns their words fall in.

Layout's lines do not follow a table's rows: a reader may give a row's cells as separate lines, or join
two cells into one. So a table is read from *visual* rows (words whose vertical centres line up), and a
word belongs to the column whose learned span its centre falls in, the gaps between neighbouring columns
split halfway.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from engine.custom.ocr_file import Page, Word

TOKEN_CHARS = str.maketrans("", "", ".,:;()#*")


@dataclass
class VisualRow:
    words: list[Word]  # left to right

    @property
    def top(self) -> float:
        return min(w.box[1] for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.box[3] for w in self.words)

    def tokens(self) -> set[str]:
        return {t for w in self.words if (t := token(w.text))}


def token(text: str) -> str:
    """A caption word as compared across forms: case, punctuation and digits do not matter."""
    t = text.lower().translate(TOKEN_CHARS)
    return "" if not t or any(c.isdigit() for c in t) else t


def word_height(words: list[Word]) -> float:
    return median(w.box[3] - w.box[1] for w in words) if words else 0.01


def visual_rows(page: Page) -> list[VisualRow]:
    """Words grouped by vertical centre (within half a typical word height), top to bottom."""
    words = sorted(page.words, key=lambda w: (w.box[1] + w.box[3]) / 2)
    if not words:
        return []
    tol = 0.5 * word_height(words)
    rows: list[list[Word]] = []
    centre = -1.0
    for w in words:
        c = (w.box[1] + w.box[3]) / 2
        if rows and abs(c - centre) <= tol:
            rows[-1].append(w)
            centre = sum((x.box[1] + x.box[3]) / 2 for x in rows[-1]) / len(rows[-1])
        else:
            rows.append([w])
            centre = c
    return [VisualRow(sorted(r, key=lambda w: w.box[0])) for r in rows]


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
