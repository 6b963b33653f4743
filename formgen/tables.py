"""Ruled tables for the `ruled_tables` layout: random grids with a header row, merged cells and blank
rows, drawn the three ways writers draw rules, and the truth (cell grid and texts) of each.

Content (columns, rows, spans, texts) comes from the form's value stream, so form `i` has the same
tables in every kind; how the rules are drawn comes from the style stream: `lines` (one stroked line
per run of rule, as reportlab or LaTeX write), `bars` (a thin filled rectangle per cell side, as Word
writes) or `cells` (a stroked rectangle per cell, shared sides drawn twice). Merged cells are cells
whose inner rules are not drawn. The truth is in the cloud's v2.1 terms: rowIndex, columnIndex,
rowSpan, columnSpan, text (a cell's lines joined by spaces), isHeader (the first row); every cell of
the grid is listed, empty ones with text "".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from reportlab.pdfbase import pdfmetrics

from formgen import values as gen
from formgen.canvas import FormCanvas

FONT, BOLD, SIZE, LEAD, PAD = "sans", "sans-bold", 9.0, 11.0, 4.0
STYLES = ("lines", "bars", "cells")
KINDS = ("item", "qty", "price", "date", "code", "person", "status")
HEADERS = {
    "item": ("Description", "Item", "Part description"),
    "qty": ("Qty", "Quantity", "Units"),
    "price": ("Unit price", "Amount", "Cost (USD)"),
    "date": ("Date", "Service date", "Date of service"),
    "code": ("Reference", "Code", "Order no."),
    "person": ("Technician", "Contact person", "Name"),
    "status": ("Status", "State"),
    "category": ("Category", "Group"),
}
NUMERIC = {"qty", "price"}
CATEGORIES = ("Parts", "Labour", "Freight", "Services", "Tools")
STATUSES = ("Open", "Closed", "Pending", "Shipped", "On hold")
NOTES = ("no charge", "see attached sheet", "covered by warranty", "to be confirmed", "waived")
GROUP_TITLES = ("Costs", "Details", "Amounts")


@dataclass
class TruthCell:
    row: int
    column: int
    row_span: int
    column_span: int
    text: str
    header: bool = False
    lines: list[str] = field(default_factory=list)  # as drawn (set when drawing)


@dataclass
class TableContent:
    kinds: list[str]
    rows: int
    cells: list[TruthCell]

    def cell_at(self) -> dict[tuple[int, int], TruthCell]:
        """Every grid position -> the (maybe merged) cell covering it."""
        out = {}
        for c in self.cells:
            for i in range(c.row, c.row + c.row_span):
                for j in range(c.column, c.column + c.column_span):
                    out[(i, j)] = c
        return out


def _value(rng: random.Random, kind: str) -> str:
    if kind == "item":
        return rng.choice(gen.PRODUCTS)
    if kind == "qty":
        return str(rng.randint(1, 480))
    if kind == "price":
        return gen.amount(round(rng.uniform(0.5, 2400), 2))
    if kind == "date":
        return gen.date(rng).strftime("%m/%d/%Y")
    if kind == "code":
        return gen.reference(rng, rng.choice(("", "R-", "WO-")))
    if kind == "person":
        first, last = rng.choice(gen.FIRST_NAMES), rng.choice(gen.LAST_NAMES)
        return f"{first} {last}"
    return rng.choice(STATUSES)


def make_table(rng: random.Random, max_body: int = 8) -> TableContent:
    """Columns, rows (2..max_body filled, maybe blank ones after), merged cells and texts of one table
    (no geometry: that is drawing)."""
    columns = rng.randint(2, 5)
    row_spans = rng.random() < 0.5
    kinds = ["category"] if row_spans else [rng.choice(("item", "date", "code"))]
    kinds += rng.sample([k for k in KINDS if k not in kinds], columns - 1)
    body = rng.randint(2, max_body)
    blank = rng.choice((0, 0, 1, 2)) if body <= max_body - 2 else 0
    rows = 1 + body + blank
    cells: list[TruthCell] = []
    title_span = columns >= 3 and rng.random() < 0.25
    for j, kind in enumerate(kinds):
        if title_span and j == columns - 2:
            cells.append(TruthCell(0, j, 1, 2, rng.choice(GROUP_TITLES), header=True))
        elif not (title_span and j == columns - 1):
            cells.append(TruthCell(0, j, 1, 1, rng.choice(HEADERS[kind]), header=True))
    taken: set[tuple[int, int]] = set()
    if row_spans:  # column 0: categories, some over two or three rows
        i = 1
        while i <= body:
            span = min(rng.choice((1, 2, 2, 3)), body - i + 1)
            cells.append(TruthCell(i, 0, span, 1, rng.choice(CATEGORIES)))
            taken.update((k, 0) for k in range(i, i + span))
            i += span
    if columns >= 3 and rng.random() < 0.5:  # one note across two columns
        i, j = rng.randint(1, body), rng.randint(1, columns - 2)
        cells.append(TruthCell(i, j, 1, 2, rng.choice(NOTES)))
        taken.update({(i, j), (i, j + 1)})
    for i in range(1, rows):
        for j, kind in enumerate(kinds):
            if (i, j) not in taken:
                cells.append(TruthCell(i, j, 1, 1, _value(rng, kind) if i <= body else ""))
    cells.sort(key=lambda c: (c.row, c.column))
    return TableContent(kinds, rows, cells)


def _width(text: str, font: str = FONT) -> float:
    return pdfmetrics.stringWidth(text, font, SIZE)


def _wrap(text: str, room: float, font: str) -> list[str]:
    """One line, or two split at the word boundary that makes the wider line narrowest."""
    words = text.split()
    if _width(text, font) <= room or len(words) < 2:
        return [text]
    splits = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    return list(min(splits, key=lambda s: max(_width(s[0], font), _width(s[1], font))))


def _column_widths(content: TableContent, width: float, rng: random.Random) -> list[float]:
    n = len(content.kinds)
    need = [40.0] * n
    for c in content.cells:
        font = BOLD if c.header else FONT
        if c.column_span == 1:
            text_need = max(_width(w, font) for w in c.text.split()) if c.header else _width(c.text, font)
            need[c.column] = max(need[c.column], text_need + 2 * PAD + 2)
    for c in content.cells:  # a merged cell's text must fit its columns together
        if c.column_span > 1 and c.text:
            have = sum(need[c.column: c.column + c.column_span])
            if have < _width(c.text, BOLD) + 2 * PAD:
                need[c.column] += _width(c.text, BOLD) + 2 * PAD - have
    total = rng.uniform(sum(need), max(sum(need), width))
    return [w * total / sum(need) for w in need]


def draw_table(canvas: FormCanvas, content: TableContent, x: float, top: float, width: float) -> float:
    """Draw one table at (x, top), at most `width` wide, and record its truth on the canvas; returns the
    table's bottom."""
    rng = canvas.style_rng or random.Random(0)
    style = rng.choice(STYLES)
    shade = rng.random() < 0.5
    thickness = rng.choice((0.5, 0.75, 1.0))
    widths = _column_widths(content, width, rng)
    xs = [x]
    for w in widths:
        xs.append(xs[-1] + w)
    for c in content.cells:
        room = sum(widths[c.column: c.column + c.column_span]) - 2 * PAD
        c.lines = _wrap(c.text, room, BOLD if c.header else FONT) if c.text else []
    heights = []
    for i in range(content.rows):
        lines = max([len(c.lines) for c in content.cells if c.row == i and c.row_span == 1] or [1])
        heights.append(max(1, lines) * LEAD + 2 * PAD + 2 + rng.choice((0.0, 0.0, 2.0, 5.0)))
    ys = [top]
    for h in heights:
        ys.append(ys[-1] + h)
    if shade:
        header = [c for c in content.cells if c.header]
        pdf = canvas.canvas
        pdf.setFillGray(0.85)
        for c in header:
            x0, x1 = xs[c.column], xs[c.column + c.column_span]
            pdf.rect(x0, canvas._y(ys[c.row + 1]), x1 - x0, ys[c.row + 1] - ys[c.row], stroke=0, fill=1)
        pdf.setFillGray(0)
    _draw_rules(canvas, content, xs, ys, style, thickness)
    for c in content.cells:
        _draw_text(canvas, c, content.kinds[c.column], xs, ys)
    canvas.tables.append(_truth(canvas.page, content, xs, ys))
    return ys[-1]


def _draw_rules(canvas: FormCanvas, content: TableContent, xs: list[float], ys: list[float], style: str,
                thickness: float) -> None:
    at = content.cell_at()
    rows, cols = content.rows, len(content.kinds)
    pdf = canvas.canvas
    pdf.setLineWidth(thickness)
    if style == "cells":
        for c in content.cells:
            x0, x1 = xs[c.column], xs[c.column + c.column_span]
            y0, y1 = ys[c.row], ys[c.row + c.row_span]
            pdf.rect(x0, canvas._y(y1), x1 - x0, y1 - y0, stroke=1, fill=0)
        return
    # Elementary sides: drawn on the outline and between two different cells.
    h_sides = [[i in (0, rows) or at[(i - 1, j)] is not at[(i, j)] for j in range(cols)]
               for i in range(rows + 1)]
    v_sides = [[j in (0, cols) or at[(i, j - 1)] is not at[(i, j)] for i in range(rows)]
               for j in range(cols + 1)]
    if style == "bars":  # one thin filled rectangle per cell side, as Word writes
        half = thickness / 2
        for i, drawn in enumerate(h_sides):
            for j, on in enumerate(drawn):
                if on:
                    pdf.rect(xs[j] - half, canvas._y(ys[i] + half), xs[j + 1] - xs[j] + thickness, thickness,
                             stroke=0, fill=1)
        for j, drawn in enumerate(v_sides):
            for i, on in enumerate(drawn):
                if on:
                    height = ys[i + 1] - ys[i] + thickness
                    pdf.rect(xs[j] - half, canvas._y(ys[i + 1] + half), thickness, height, stroke=0, fill=1)
        return
    for i, drawn in enumerate(h_sides):  # "lines": one stroke per run of drawn sides
        for a, b in _runs(drawn):
            canvas.line(xs[a], ys[i], xs[b], ys[i], thickness)
    for j, drawn in enumerate(v_sides):
        for a, b in _runs(drawn):
            canvas.line(xs[j], ys[a], xs[j], ys[b], thickness)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    out, start = [], None
    for k, on in enumerate([*flags, False]):
        if on and start is None:
            start = k
        elif not on and start is not None:
            out.append((start, k))
            start = None
    return out


def _draw_text(canvas: FormCanvas, c: TruthCell, kind: str, xs: list[float], ys: list[float]) -> None:
    if not c.lines:
        return
    font = BOLD if c.header else FONT
    x0, x1 = xs[c.column], xs[c.column + c.column_span]
    y0, y1 = ys[c.row], ys[c.row + c.row_span]
    first = (y0 + y1) / 2 - (len(c.lines) - 1) * LEAD / 2 + SIZE * 0.35  # the block centred in the cell
    for k, line in enumerate(c.lines):
        w = _width(line, font)
        if c.header or c.column_span > 1:
            left = (x0 + x1 - w) / 2
        elif kind in NUMERIC:
            left = x1 - PAD - w
        else:
            left = x0 + PAD
        canvas.text(left, first + k * LEAD, line, SIZE, font)


def _truth(page: int, content: TableContent, xs: list[float], ys: list[float]) -> dict:
    """The table in points, y down from the top of the page (generate.py normalises the boxes)."""
    return {
        "page": page,
        "rows": content.rows,
        "columns": len(content.kinds),
        "box": (xs[0], ys[0], xs[-1], ys[-1]),
        "cells": [
            {"rowIndex": c.row, "columnIndex": c.column, "rowSpan": c.row_span, "columnSpan": c.column_span,
             "text": c.text, "isHeader": c.header,
             "box": (xs[c.column], ys[c.row], xs[c.column + c.column_span], ys[c.row + c.row_span])}
            for c in content.cells
        ],
    }
