"""What the table finders hand over: ruling lines in, tables of cells out, in the page's upright frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

Point = tuple[float, float]
Corners = tuple[Point, Point, Point, Point]  # clockwise from top-left


class Rule(NamedTuple):
    """A straight ruling line, y down: a horizontal rule lies at y = `pos` from x `start` to `end`.
    (Named tuples: a dense page has hundreds of rules and thousands of words, made in a few ms.)"""

    horizontal: bool
    pos: float
    start: float
    end: float


class TextWord(NamedTuple):
    """A word as the grid sees it: its centre, and where it sits in the page's lines (line, word)."""

    text: str
    x: float
    y: float
    ref: tuple[int, int]
    height: float = 0.0
    width: float = 0.0


@dataclass
class Cell:
    row: int
    column: int
    row_span: int
    column_span: int
    corners: Corners
    words: list[TextWord] = field(default_factory=list)
    header: bool = False

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class Table:
    rows: int
    columns: int
    cells: list[Cell]
    corners: Corners


def rect_corners(x0: float, y0: float, x1: float, y1: float) -> Corners:
    return (x0, y0), (x1, y0), (x1, y1), (x0, y1)
