"""A reportlab canvas that remembers where every labeled word lands.

Layouts draw in points with y measured from the TOP of the page (the way forms are designed and the way
label boxes are stored); this class converts to reportlab's bottom-up coordinates. Word boxes are computed
from the font's own metrics (`stringWidth`, ascent/descent), so they match the rendered glyphs exactly.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from formgen.glyphs import GlyphBox, ttf_box, zapf_box

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif.ttf",
    "mono": "DejaVuSansMono.ttf",
}


MarkStyle = Literal["vector", "image", "glyph"]
MARK_STYLES: tuple[str, ...] = ("vector", "image", "glyph")
# Glyph check boxes: (font, empty box, ticked box, crossed box); ZapfDingbats has no ticked box, so its
# ticked/crossed boxes are the empty box with the check mark `4` or the cross `8` drawn inside it.
# ZapfDingbats is a standard-14 font and is not embedded (as in real documents); PDFium draws it with its
# own Dingbats font, so scans use every set too.
GLYPH_SETS: dict[str, tuple[str, str, str, str]] = {
    "zapf-o": ("ZapfDingbats", "o", "4", "8"),
    "zapf-q": ("ZapfDingbats", "q", "4", "8"),
    "dejavu": ("sans", "\u2610", "\u2611", "\u2612"),
}
# reportlab encodes text for ZapfDingbats from Unicode: the character whose code is `o` must be given as
# ❏ (U+274F), else it writes code `n` (■) for all of them.
ZAPF_UNICODE = {"o": "\u274f", "q": "\u2751", "4": "\u2714", "8": "\u2718"}
PRINTABLE_GLYPH_SETS: tuple[str, ...] = tuple(GLYPH_SETS)
MARK_IMAGE_PX = 40  # a 10 pt box at 288 dpi


HAND_FONT = Path(__file__).parent / "fonts" / "ShadowsIntoLight.ttf"  # hand-printed capitals (OFL, beside it)
HAND_SCALE = 1.3  # the hand font's letters are small for their size: drawn larger to fill the same room


def register_fonts() -> None:
    """Register the DejaVu TTFs once: an embedded TTF renders the same everywhere (base-14 fonts do not)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    if "hand" not in registered:
        pdfmetrics.registerFont(TTFont("hand", str(HAND_FONT)))
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
    mark_style: MarkStyle = "vector"
    # Draws only style choices (glyph set, tick or cross), never values: values stay the same in every style.
    style_rng: random.Random | None = None
    glyph_sets: tuple[str, ...] = tuple(sorted(GLYPH_SETS))  # the sets mark_style "glyph" picks one from
    hand: bool = False  # values written in a hand-printing font instead of the layout's typed font
    tables: list[dict] = field(default_factory=list)  # truth of the ruled tables drawn (formgen/tables.py)

    def __post_init__(self) -> None:
        register_fonts()
        self.buffer = io.BytesIO()
        # invariant=1: no timestamps or random document ids, so the same seed gives the same bytes.
        self.canvas = Canvas(self.buffer, pagesize=(self.width, self.height), invariant=1)
        if self.mark_style not in MARK_STYLES:
            raise ValueError(f"mark_style must be one of {', '.join(MARK_STYLES)}, not {self.mark_style!r}")
        rng = self.style_rng or random.Random(0)
        if self.mark_style == "glyph":
            self.glyph_set = rng.choice(self.glyph_sets)
        elif self.mark_style == "image":
            self.image_mark = rng.choice(("tick", "cross"))

    def _y(self, top: float) -> float:
        return self.height - top

    def text(self, x: float, baseline: float, text: str, size: float = 9, font: str = "sans") -> float:
        """Printed (pre-filled) form text; returns its width."""
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, self._y(baseline), text)
        return pdfmetrics.stringWidth(text, font, size)

    def value(
        self,
        name: str,
        x: float,
        baseline: float,
        text: str,
        size: float = 10.5,
        font: str = "mono",
        width: float = 200,
    ) -> None:
        """A filled-in value: drawn, and every word's box recorded under `name` (empty text draws nothing).

        `width` is the room the layout leaves for the value: the field's width when the form is fillable.
        """
        if not text:
            return
        if self.hand:
            font, size = "hand", size * HAND_SCALE
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

    def multiline(
        self, name: str, x: float, baseline: float, text: str, step: float = 14, width: float = 200
    ) -> None:
        """A value of several lines ("\n"), one under the other; `width` is the room a fillable field gets."""
        for i, line in enumerate(text.split("\n")):
            self.value(name, x, baseline + i * step, line, width=width)

    def choice(
        self, name: str, x: float, baseline: float, text: str, options: tuple[str, ...], width: float
    ) -> None:
        """A value picked from a list; on paper it is just the printed value (a combo box when fillable)."""
        self.value(name, x, baseline, text, width=width)

    def comb_grid(self, x: float, top: float, cells: int, cell_width: float, height: float) -> None:
        """The printed row of boxes a comb value is written into (one character per box)."""
        self.box(x, top, cells * cell_width, height)
        for i in range(1, cells):
            self.line(x + i * cell_width, top, x + i * cell_width, top + height, 0.5)

    def comb(
        self, name: str, x: float, top: float, text: str, cells: int, cell_width: float, height: float
    ) -> None:
        """Digits written one per printed cell, each centred in its cell: one labeled word per character."""
        self.comb_grid(x, top, cells, cell_width, height)
        font, size = "mono", 12.0
        ascent, descent = pdfmetrics.getAscentDescent(font, size)
        baseline = top + (height + ascent + descent) / 2  # centre the ascent..descent band in the cell
        self.canvas.setFont(font, size)
        for i, char in enumerate(text[:cells]):
            width = pdfmetrics.stringWidth(char, font, size)
            start = x + i * cell_width + (cell_width - width) / 2
            self.canvas.drawString(start, self._y(baseline), char)
            box = WordBox(self.page, char, start, baseline - ascent, start + width, baseline - descent)
            self.boxes.setdefault(name, []).append(box)

    def checkbox(
        self,
        name: str,
        x: float,
        top: float,
        checked: bool,
        size: float = 10,
        group: str | None = None,
        export: str | None = None,
    ) -> None:
        """A square check box; its label text is `selected`/`unselected`, its box the drawn square.

        `group`/`export` name the radio group and its option when the form is fillable (ignored on paper).
        """
        if self.mark_style == "image":
            rect = self._image_mark(x, top, checked, size)
        elif self.mark_style == "glyph":
            rect = self._glyph_mark(x, top, checked, size)
        else:
            c = self.canvas
            c.setLineWidth(1)
            c.rect(x, self._y(top + size), size, size)
            if checked:
                c.setLineWidth(1.6)
                inset = 2
                c.line(x + inset, self._y(top + inset), x + size - inset, self._y(top + size - inset))
                c.line(x + inset, self._y(top + size - inset), x + size - inset, self._y(top + inset))
            rect = (x, top, x + size, top + size)
        state = "selected" if checked else "unselected"
        self.boxes.setdefault(name, []).append(WordBox(self.page, state, *rect))

    def _image_mark(
        self, x: float, top: float, checked: bool, size: float
    ) -> tuple[float, float, float, float]:
        """A scanned-in box picture: the raster fills the square exactly, so the square is the label box."""
        image = _mark_image(self.image_mark if checked else "empty")
        self.canvas.drawImage(ImageReader(image), x, self._y(top + size), size, size)
        return x, top, x + size, top + size

    def _glyph_mark(
        self, x: float, top: float, checked: bool, size: float
    ) -> tuple[float, float, float, float]:
        """A box character scaled so its square is `size` wide at (x, top); returns that square's ink box."""
        font, empty, ticked, crossed = GLYPH_SETS[self.glyph_set]
        box = _glyph_box(font, empty)
        font_size = size / (box[2] - box[0])
        left = x - box[0] * font_size  # the pen position that puts the square's left edge at x
        baseline = top + box[3] * font_size  # ... and its top edge at `top`
        c = self.canvas
        if font == "ZapfDingbats":
            c.setFont(font, font_size)
            c.drawString(left, self._y(baseline), ZAPF_UNICODE[empty])
            if checked:  # the mark alone, scaled to 80 % of the square and centred in it
                mark = ticked if self.style_rng is None or self.style_rng.random() < 0.5 else crossed
                mbox = _glyph_box(font, mark)
                mark_size = 0.8 * size / max(mbox[2] - mbox[0], mbox[3] - mbox[1])
                mx = x + (size - (mbox[2] - mbox[0]) * mark_size) / 2 - mbox[0] * mark_size
                centre = top + (box[3] - box[1]) * font_size / 2
                my = centre + (mbox[3] + mbox[1]) / 2 * mark_size
                c.setFont(font, mark_size)
                c.drawString(mx, self._y(my), ZAPF_UNICODE[mark])
        else:
            char = empty
            if checked:
                char = ticked if self.style_rng is None or self.style_rng.random() < 0.5 else crossed
            c.setFont(font, font_size)
            c.drawString(left, self._y(baseline), char)
        return (
            left + box[0] * font_size,
            baseline - box[3] * font_size,
            left + box[2] * font_size,
            baseline - box[1] * font_size,
        )

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


def _glyph_box(font: str, char: str) -> GlyphBox:
    if font == "ZapfDingbats":
        return zapf_box(char)
    return ttf_box(FONT_DIR / FONTS[font], char)


@cache
def _mark_image(kind: str) -> Image.Image:
    """An empty, ticked or crossed box as a small greyscale raster (ink to the very edge of the picture)."""
    n = MARK_IMAGE_PX
    image = Image.new("RGB", (n, n), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, n - 1, n - 1), outline="black", width=3)
    if kind == "tick":
        draw.line([(0.2 * n, 0.55 * n), (0.42 * n, 0.78 * n), (0.82 * n, 0.2 * n)], fill="black", width=5)
    elif kind == "cross":
        draw.line([(0.2 * n, 0.2 * n), (0.8 * n, 0.8 * n)], fill="black", width=5)
        draw.line([(0.2 * n, 0.8 * n), (0.8 * n, 0.2 * n)], fill="black", width=5)
    return image
