"""The in-between model of one analyzed page, independent of where the text came from (PDF or OCR)."""

from __future__ import annotations

from dataclasses import dataclass, field

Quad = list[float]  # 8 numbers, clockwise from the text's top-left corner


def rect_quad(x0: float, y0: float, x1: float, y1: float) -> Quad:
    return [x0, y0, x1, y0, x1, y1, x0, y1]


@dataclass
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    confidence: float = 1.0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


class Line:
    """Words of one line; the box is computed once (lines are sorted and compared many times)."""

    __slots__ = ("words", "x0", "x1", "y0", "y1")

    def __init__(self, words: list[Word]) -> None:
        self.words = words
        self.x0 = min(w.x0 for w in words)
        self.y0 = min(w.y0 for w in words)
        self.x1 = max(w.x1 for w in words)
        self.y1 = max(w.y1 for w in words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def refresh(self) -> None:
        """Recompute the box after the words' coordinates changed (unit scaling)."""
        self.__init__(self.words)  # type: ignore[misc]


@dataclass
class SelectionMark:
    x0: float
    y0: float
    x1: float
    y1: float
    selected: bool
    confidence: float


@dataclass
class PageText:
    """Boxes are axis-aligned in the frame where the text is upright; `to_page` maps them to the page."""

    number: int
    width: float
    height: float
    unit: str  # "inch" | "pixel"
    angle: float = 0.0
    lines: list[Line] = field(default_factory=list)
    marks: list[SelectionMark] = field(default_factory=list)
    rotation: int = 0  # clockwise quarter-turn of the text on the page (0/90/180/270)
    upright_size: tuple[float, float] = (0.0, 0.0)
    style_confidence: float = 1.0
