"""Fillable (AcroForm) versions of the layouts: the printed page is the same, the values live in form fields.

Many real PDFs are filled-in AcroForms: the page content holds only the captions and lines, each value is a
widget annotation whose appearance stream draws the text. A reader that only looks at page content sees an
empty form. Here every value becomes a field through reportlab's `canvas.acroForm`: text fields (multi-line
for addresses), comb fields (one character per cell, flag `comb` + `/MaxLen`), check boxes, a radio group
and a combo box.

Label boxes are computed, not read back: the word positions follow the placement reportlab writes into the
text appearance stream (`AcroForm.txAP`: text starts `4 * borderWidth` from the left edge, the first baseline
sits `fontSize + 2 * borderWidth` below the top edge, further lines `1.2 * fontSize` apart) with Helvetica's
metrics (`stringWidth`, ascent/descent). reportlab draws a comb value like any other text (left aligned, no
cells), so comb fields get their own appearance stream (`_AcroForm.txAP`), written from the same function
(`comb_positions`) the labels come from: each character centred in its cell, as Acrobat and the cloud show it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.acroform import AcroForm, PDFFromString, escPDF

from formgen.canvas import FormCanvas, WordBox

FIELD_FONT = "Helvetica"  # reportlab's form fields accept only the standard 14 fonts
FIELD_SIZE = 10.0
COMB_SIZE = 12.0
BORDER = 1.0
PAD_X = 4 * BORDER  # txAP: `1 0 0 1 _4bw y Tm`
PAD_TOP = 2 * BORDER  # txAP: first baseline at `height - fontSize - _2bw`
LEADING = 1.2  # txAP: `leading = 1.2 * fontSize`
FIELD_FILL = Color(0.93, 0.95, 1.0)
FIELD_BORDER = Color(0.55, 0.55, 0.55)
INK = Color(0, 0, 0)


def fitted_size(lines: Sequence[str], room: float, size: float = FIELD_SIZE) -> float:
    """The font size a value is drawn at: `size`, shrunk (0.1 pt steps) until the widest line fits `room`.

    Acrobat's auto-size does the same; without it a long address would be clipped by the field's edge and
    its label would cover words that are not visible.
    """
    widest = max((pdfmetrics.stringWidth(line, FIELD_FONT, size) for line in lines), default=0.0)
    if widest <= room:
        return size
    return math.floor(size * room / widest * 10) / 10


def text_word_boxes(page: int, text: str, left: float, top: float, size: float) -> list[WordBox]:
    """Word boxes of a text/choice field value whose widget's top-left corner is (left, top), top-down points.

    Mirrors reportlab's `txAP` (see the module docstring); one box per space-separated word, line by line.
    """
    ascent, descent = pdfmetrics.getAscentDescent(FIELD_FONT, size)
    boxes = []
    for number, line in enumerate(text.split("\n")):
        baseline = top + PAD_TOP + size + number * LEADING * size
        position = 0
        for word in line.split(" "):
            if word:
                start = left + PAD_X + pdfmetrics.stringWidth(line[:position], FIELD_FONT, size)
                end = start + pdfmetrics.stringWidth(word, FIELD_FONT, size)
                boxes.append(WordBox(page, word, start, baseline - ascent, end, baseline - descent))
            position += len(word) + 1
    return boxes


def comb_positions(
    text: str, width: float, height: float, cells: int, size: float
) -> list[tuple[str, float, float]]:
    """(character, pen x, baseline y) in the widget's own space (origin bottom-left): each character centred
    horizontally in its cell, the ascent..descent band centred vertically. Used for both stream and labels."""
    cell = width / cells
    ascent, descent = pdfmetrics.getAscentDescent(FIELD_FONT, size)
    baseline = height / 2 - (ascent + descent) / 2
    placed = []
    for i, char in enumerate(text[:cells]):
        advance = pdfmetrics.stringWidth(char, FIELD_FONT, size)
        placed.append((char, i * cell + (cell - advance) / 2, baseline))
    return placed


class _AcroForm(AcroForm):
    """reportlab's AcroForm, except that comb fields get an Acrobat-like appearance (a character per cell)."""

    comb_cells = 0  # set around the `textfield` call that makes a comb field

    def txAP(self, key, value, iFontName, rFontName, fontSize, **kwds):
        if not self.comb_cells:
            return super().txAP(key, value, iFontName, rFontName, fontSize, **kwds)
        width, height = kwds["width"], kwds["height"]
        ops = ["/Tx BMC", "q", "BT", f"/{iFontName} {fp_str(fontSize)} Tf", "0 g"]
        for char, x, y in comb_positions(value, width, height, self.comb_cells, fontSize):
            ops.append(f"1 0 0 1 {fp_str(x)} {fp_str(y)} Tm ({escPDF(char)}) Tj")
        ops += ["ET", "Q", "EMC"]
        resources = PDFFromString(f"<< /ProcSet [/PDF /Text] /Font {rFontName} >>")
        return self.makeStream(width, height, "\n".join(ops), Resources=resources)


@dataclass
class FillableCanvas(FormCanvas):
    """A `FormCanvas` whose values are AcroForm fields instead of page text (captions and lines unchanged).

    `style_rng` picks, once per form, whether check boxes show a check mark or a cross.
    """

    def __post_init__(self) -> None:
        if self.mark_style != "vector":
            raise ValueError(
                "a fillable form draws its check boxes as AcroForm widgets: mark_style must be 'vector'"
            )
        super().__post_init__()
        self.form = _AcroForm(self.canvas)
        self.canvas._doc._catalog.AcroForm = self.canvas.AcroForm = self.form
        self.check_style = self.style_rng.choice(("check", "cross")) if self.style_rng else "check"

    def _text_field(
        self, name: str, x: float, baseline: float, text: str, width: float, lines: int, **kwds: object
    ) -> None:
        """A text-like field whose first line's baseline is at `baseline` and whose text starts at `x`."""
        left, top = x - PAD_X, baseline - FIELD_SIZE - PAD_TOP
        height = PAD_TOP + FIELD_SIZE * (1 + LEADING * (lines - 1)) + 0.3 * FIELD_SIZE + 2 * BORDER
        size = fitted_size(text.split("\n"), width - 2 * BORDER)
        maker = self.form.choice if "options" in kwds else self.form.textfield
        maker(
            name=name,
            value=text,
            x=left,
            y=self._y(top + height),
            width=width + PAD_X,
            height=height,
            fontName=FIELD_FONT,
            fontSize=size,
            borderWidth=BORDER,
            borderColor=FIELD_BORDER,
            fillColor=FIELD_FILL,
            textColor=INK,
            maxlen=None,
            **kwds,
        )
        if text:
            self.boxes.setdefault(name, []).extend(text_word_boxes(self.page, text, left, top, size))

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
        """A single-line text field (left empty, but still there, when the value is empty)."""
        self._text_field(name, x, baseline, text, width, 1)

    def multiline(
        self, name: str, x: float, baseline: float, text: str, step: float = 14, width: float = 200
    ) -> None:
        """One multi-line text field holding all lines (the field's own leading replaces `step`)."""
        self._text_field(name, x, baseline, text, width, text.count("\n") + 1, fieldFlags="multiline")

    def choice(
        self, name: str, x: float, baseline: float, text: str, options: tuple[str, ...], width: float
    ) -> None:
        """A combo box whose appearance shows the chosen option."""
        self._text_field(name, x, baseline, text, width, 1, options=list(options))

    def comb(
        self, name: str, x: float, top: float, text: str, cells: int, cell_width: float, height: float
    ) -> None:
        """The printed cells plus a borderless comb field exactly over them (`/MaxLen` = number of cells)."""
        self.comb_grid(x, top, cells, cell_width, height)
        width = cells * cell_width
        self.form.comb_cells = cells
        try:
            self.form.textfield(
                name=name,
                value=text,
                x=x,
                y=self._y(top + height),
                width=width,
                height=height,
                fontName=FIELD_FONT,
                fontSize=COMB_SIZE,
                borderWidth=0,
                borderColor=None,
                fillColor=None,
                textColor=INK,
                fieldFlags="comb",
                maxlen=cells,
            )
        finally:
            self.form.comb_cells = 0
        ascent, descent = pdfmetrics.getAscentDescent(FIELD_FONT, COMB_SIZE)
        for char, pen_x, baseline_up in comb_positions(text, width, height, cells, COMB_SIZE):
            baseline = top + height - baseline_up
            end = x + pen_x + pdfmetrics.stringWidth(char, FIELD_FONT, COMB_SIZE)
            box = WordBox(self.page, char, x + pen_x, baseline - ascent, end, baseline - descent)
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
        """An AcroForm check box, or one button of radio group `group` with export value `export`."""
        common = {
            "size": size,
            "x": x,
            "y": self._y(top + size),
            "borderWidth": BORDER,
            "borderColor": INK,
            "fillColor": None,
            "textColor": INK,
        }
        if group:
            # shape "square": reportlab draws circle-shaped buttons for a 20 pt widget only (smaller ones
            # come out shrunk into the lower-left corner), so the radio buttons are squares with a dot.
            self.form.radio(
                name=group,
                value=export or name,
                selected=checked,
                shape="square",
                buttonStyle="circle",
                **common,
            )
        else:
            self.form.checkbox(
                name=name,
                checked=checked,
                buttonStyle=self.check_style,
                shape="square",
                fieldFlags="",
                **common,
            )
        state = "selected" if checked else "unselected"
        self.boxes.setdefault(name, []).append(WordBox(self.page, state, x, top, x + size, top + size))
