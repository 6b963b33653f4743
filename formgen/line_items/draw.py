"""Drawing the line-item invoices: a header, the item table (ruled or unruled), the Total line.

Every cell is a labeled value (`Items/<row>/<column>`); a long description wraps onto further lines of
its cell and its label holds every line's words. Rows that do not fit a page go to the next one, under
the column header row printed again. Numbers are right-aligned in their columns, descriptions left.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.pdfbase import pdfmetrics

from formgen.canvas import HAND_SCALE, FormCanvas
from formgen.fillable import FillableCanvas
from formgen.layouts import LEFT, RIGHT, FormData
from formgen.line_items.layout import ITEMS, cell_label

FONT, SIZE = "mono", 9.5  # cell text, as the plain invoice's line items
TOTAL_SIZE = 10.5  # canvas.value's default size: the Total like the other scalar values
CAPTION_FONT, CAPTION_SIZE = "sans-bold", 9.0
PAD_X, PAD_Y, GAP = 6.0, 4.5, 1.5  # cell padding; GAP between a wrapped cell's lines
HEADER_HEIGHT = 20.0
TOTAL_ROOM = 32.0  # below the last row: the Total line
TABLE_TOP = 245.0
PAGE_BOTTOM = 720.0
MULTIPAGE_FIRST_BOTTOM = 515.0  # page 1 of the multipage form: 13 one-line rows at most, then page 2
CONTINUED_TOP = 100.0
# (column key, caption, left, right): the column's rules are at left and right.
COLUMNS: tuple[tuple[str, str, float, float], ...] = (
    ("Description", "Description", LEFT, 318.0),
    ("Quantity", "Qty", 318.0, 380.0),
    ("UnitPrice", "Unit price", 380.0, 468.0),
    ("Amount", "Amount", 468.0, RIGHT),
)


@dataclass(frozen=True)
class Style:
    """How one form's table is drawn: grid lines (`ruled`) or aligned text only."""

    ruled: bool
    thickness: float = 0.8
    shade: bool = False  # header row filled light grey (ruled only)


def _style(c: FormCanvas, d: FormData) -> Style:
    if d.extras.get("style", "ruled") == "unruled":
        return Style(ruled=False)
    rng = c.style_rng or random.Random(0)
    return Style(ruled=True, thickness=rng.choice((0.5, 0.8, 1.0)), shade=rng.random() < 0.5)


def pen(c: FormCanvas, size: float = SIZE) -> tuple[str, float]:
    """The font and size `c.value` really writes in (hand-printed values are larger), for measuring."""
    return ("hand", size * HAND_SCALE) if c.hand else (FONT, size)


def wrap(text: str, room: float, font: str, size: float) -> list[str]:
    """Greedy word wrap into lines at most `room` wide (a single word wider than that stays whole)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and pdfmetrics.stringWidth(trial, font, size) > room:
            lines.append(current)
            current = word
        else:
            current = trial
    return [*lines, current] if current else lines


def _line_height(c: FormCanvas) -> float:
    ascent, descent = pdfmetrics.getAscentDescent(*pen(c))
    return ascent - descent


def row_height(c: FormCanvas, lines: int) -> float:
    return 2 * PAD_Y + lines * _line_height(c) + (lines - 1) * GAP


def _cell(c: FormCanvas, name: str, lines: list[str], left: float, right: float, baseline: float,
          align_left: bool) -> None:
    """One labeled cell; a fillable form gets one field per cell (multi-line for a wrapped one)."""
    if isinstance(c, FillableCanvas):
        if len(lines) > 1:
            c.multiline(name, left, baseline, "\n".join(lines), width=right - left)
        else:
            c.value(name, left, baseline, lines[0], width=right - left)
        return
    font, size = pen(c)
    step = _line_height(c) + GAP
    for k, line in enumerate(lines):
        x = left if align_left else right - pdfmetrics.stringWidth(line, font, size)
        c.value(name, x, baseline + k * step, line, SIZE, FONT, width=right - left)


def _header_row(c: FormCanvas, top: float, style: Style) -> float:
    """Column captions (not labeled); returns the top of the first row under them."""
    if style.shade:
        pdf = c.canvas
        pdf.setFillGray(0.88)
        pdf.rect(LEFT, c._y(top + HEADER_HEIGHT), RIGHT - LEFT, HEADER_HEIGHT, stroke=0, fill=1)
        pdf.setFillGray(0)
    for key, caption, left, right in COLUMNS:
        width = pdfmetrics.stringWidth(caption, CAPTION_FONT, CAPTION_SIZE)
        x = left + PAD_X if key == "Description" else right - PAD_X - width
        c.text(x, top + 14, caption, CAPTION_SIZE, CAPTION_FONT)
    return top + HEADER_HEIGHT


def _rules(c: FormCanvas, top: float, bottom: float, row_bottoms: list[float], style: Style) -> None:
    """The grid of one page's part of the table (nothing when unruled)."""
    if not style.ruled:
        return
    c.box(LEFT, top, RIGHT - LEFT, bottom - top, style.thickness)
    for _, _, left, _ in COLUMNS[1:]:
        c.line(left, top, left, bottom, style.thickness)
    for y in [top + HEADER_HEIGHT, *row_bottoms[:-1]]:
        c.line(LEFT, y, RIGHT, y, style.thickness)


def draw_items(c: FormCanvas, d: FormData, top: float, bottom: Callable[[int], float],
               continued: Callable[[FormCanvas], float]) -> float:
    """The table from `top`; a row that does not fit above `bottom(page)` (with room for the Total line
    after the last row) starts a new page (`continued` draws its head, returns where the table goes).
    Returns the bottom of the last row."""
    style = _style(c, d)
    font, size = pen(c)
    room = COLUMNS[0][3] - COLUMNS[0][2] - 2 * PAD_X
    part_top, row_bottoms = top, []
    y = _header_row(c, top, style)
    rows = d.extras["items"]
    for index, row in enumerate(rows):
        lines = wrap(row["Description"], room, font, size)
        height = row_height(c, len(lines))
        need = height + (TOTAL_ROOM if index == len(rows) - 1 else 0)
        if row_bottoms and y + need > bottom(c.page):
            _rules(c, part_top, y, row_bottoms, style)
            c.new_page()
            part_top, row_bottoms = continued(c), []
            y = _header_row(c, part_top, style)
        baseline = y + PAD_Y + pdfmetrics.getAscentDescent(font, size)[0]
        for key, _, left, right in COLUMNS:
            cell_lines = lines if key == "Description" else [row[key]]
            _cell(c, cell_label(ITEMS, index, key), cell_lines, left + PAD_X, right - PAD_X, baseline,
                  key == "Description")
        y += height
        row_bottoms.append(y)
    _rules(c, part_top, y, row_bottoms, style)
    _total(c, d.values["Total"], y, style)
    return y


def _total(c: FormCanvas, total: str, y: float, style: Style) -> None:
    """The Total line under the table: caption under Unit price, value right-aligned under Amount."""
    baseline = y + 20
    c.text(COLUMNS[2][2] + PAD_X, baseline, "Total", 10, "sans-bold")
    right = COLUMNS[3][3] - PAD_X
    if isinstance(c, FillableCanvas):
        c.value("Total", COLUMNS[3][2] + PAD_X, baseline, total, width=right - COLUMNS[3][2] - PAD_X)
    else:
        font, size = pen(c, TOTAL_SIZE)
        c.value("Total", right - pdfmetrics.stringWidth(total, font, size), baseline, total, width=80)
    if style.ruled:
        c.box(COLUMNS[3][2], y + 6, COLUMNS[3][3] - COLUMNS[3][2], 20, style.thickness)


def _letterhead(c: FormCanvas, v: dict[str, str]) -> None:
    c.text(LEFT, 70, "Formloop Sample Supplies", 15, "sans-bold")
    c.text(LEFT, 86, "100 Example Road, Springfield, OR 97477")
    c.text(LEFT, 98, "billing@formloop.example  |  541-555-0100")
    c.text(430, 72, "INVOICE", 22, "sans-bold")
    c.text(360, 130, "Invoice No:")
    c.value("InvoiceNumber", 440, 130, v["InvoiceNumber"], width=120)
    c.text(360, 148, "Invoice Date:")
    c.value("InvoiceDate", 440, 148, v["InvoiceDate"], width=120)
    c.line(LEFT, 175, RIGHT, 175)
    c.text(LEFT, 195, "BILL TO", 10, "sans-bold")
    c.text(LEFT, 215, "Name:")
    c.value("CustomerName", 110, 215, v["CustomerName"], width=450)


def _continued(c: FormCanvas) -> float:
    """The head of a continuation page (no repeated values: they are labeled once, on page 1)."""
    c.text(LEFT, 70, "Formloop Sample Supplies", 12, "sans-bold")
    c.text(400, 70, f"INVOICE (continued)  page {c.page}", 10, "sans-bold")
    c.line(LEFT, 80, RIGHT, 80)
    return CONTINUED_TOP


def draw_one_page(c: FormCanvas, d: FormData) -> None:
    _letterhead(c, d.values)
    draw_items(c, d, TABLE_TOP, lambda page: PAGE_BOTTOM, _continued)
    c.text(LEFT, 750, "Thank you for your business. Please quote the invoice number with your payment.", 8)


def draw_multipage(c: FormCanvas, d: FormData) -> None:
    """Page 1 ends with a remittance slip, so its table has room for 13 one-line rows: 14-30 rows always
    continue on page 2."""
    _letterhead(c, d.values)
    c.box(LEFT, 560, RIGHT - LEFT, 110)
    c.text(LEFT + 8, 578, "REMITTANCE ADVICE", 10, "sans-bold")
    for k, line in enumerate((
        "Please detach this slip and return it with your payment.",
        "Pay to: Formloop Sample Supplies, 100 Example Road, Springfield, OR 97477",
        "Quote the invoice number on the transfer. Payment is due within 30 days.",
    )):
        c.text(LEFT + 8, 598 + k * 16, line, 9)
    c.text(LEFT, 750, "Continued on the next page", 8)
    draw_items(c, d, TABLE_TOP, lambda page: MULTIPAGE_FIRST_BOTTOM if page == 1 else PAGE_BOTTOM,
               _continued)
    c.text(LEFT, 750, "Thank you for your business. Please quote the invoice number with your payment.", 8)
