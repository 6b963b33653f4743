"""A reportlab canvas that remembers where every labeled word lands.

Layouts draw in points with y measured from the TOP of the page (the way forms are designed and the way
label boxes are stored); this class converts to reportlab's bottom-up coordinates. Word boxes are computed
from the font's own metrics (`stringWidth`, ascent/descent), so they match the rendered glyphs exactly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif.ttf",
    "mono": "DejaVuSansMono.ttf",
}


def register_fonts() -> None:
    """Register the DejaVu TTFs once: an embedded TTF renders the same everywhere (base-14 fonts do not)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, file in FONTS.items():
        if name not in registered:
            path = FONT_DIR / file
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing: install the Debian package fonts-dejavu-core")
            pdfmetrics.registerFont(TTFont(name, str(path)))


@dataclass
class WordBox:
    """One labeled word: page (1-based) and its rectangle in points, top-down (x0, top, x1, bottom)."""

    page: int
    text: str
    x0: float
    top: float
    x1: float
    bottom: float

    def quad(self) -> list[tuple[float, float]]:
        """Corners clockwise from top-left, as the label format stores them."""
        return [(self.x0, self.top), (self.x1, self.top), (self.x1, self.bottom), (self.x0, self.bottom)]


@dataclass
class FormCanvas:
    """Draws one form and collects the word boxes of every field, keyed by field name."""

    width: float = LETTER[0]
    height: float = LETTER[1]
    page: int = 1
    boxes: dict[str, list[WordBox]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        register_fonts()
        self.buffer = io.BytesIO()
        # invariant=1: no timestamps or random document ids, so the same seed gives the same bytes.
        self.canvas = Canvas(self.buffer, pagesize=(self.width, self.height), invariant=1)

    def _y(self, top: float) -> float:
        return self.height - top

    def text(self, x: float, baseline: float, text: str, size: float = 9, font: str = "sans") -> float:
        """Printed (pre-filled) form text; returns its width."""
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, self._y(baseline), text)
        return pdfmetrics.stringWidth(text, font, size)

    def value(
        self, name: str, x: float, baseline: float, text: str, size: float = 10.5, font: str = "mono"
    ) -> None:
        """A filled-in value: drawn, and every word's box recorded under `name` (empty text draws nothing)."""
        if not text:
            return
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, self._y(baseline), text)
        ascent, descent = pdfmetrics.getAscentDescent(font, size)
        position = 0
        for word in text.split(" "):
            if word:
                start = x + pdfmetrics.stringWidth(text[:position], font, size)
                end = start + pdfmetrics.stringWidth(word, font, size)
                box = WordBox(self.page, word, start, baseline - ascent, end, baseline - descent)
                self.boxes.setdefault(name, []).append(box)
            position += len(word) + 1

    def checkbox(self, name: str, x: float, top: float, checked: bool, size: float = 10) -> None:
        """A square check box, crossed when checked; its label text is `selected`/`unselected`."""
        c = self.canvas
        c.setLineWidth(1)
        c.rect(x, self._y(top + size), size, size)
        if checked:
            c.setLineWidth(1.6)
            inset = 2
            c.line(x + inset, self._y(top + inset), x + size - inset, self._y(top + size - inset))
            c.line(x + inset, self._y(top + size - inset), x + size - inset, self._y(top + inset))
        state = "selected" if checked else "unselected"
        self.boxes.setdefault(name, []).append(WordBox(self.page, state, x, top, x + size, top + size))

    def line(self, x0: float, top0: float, x1: float, top1: float, width: float = 0.8) -> None:
        self.canvas.setLineWidth(width)
        self.canvas.line(x0, self._y(top0), x1, self._y(top1))

    def box(self, x: float, top: float, w: float, h: float, width: float = 0.8) -> None:
        self.canvas.setLineWidth(width)
        self.canvas.rect(x, self._y(top + h), w, h)

    def new_page(self) -> None:
        self.canvas.showPage()
        self.page += 1

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()
