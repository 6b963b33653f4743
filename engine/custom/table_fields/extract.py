"""Read a dynamic table's rows on a new form with a learned table model (engine/custom/table_fields/learn).

The table starts below its caption row (found by its recurring words, which also say how far the columns
moved), or where the first row stood on the training forms when no caption recurs. Rows follow line by
line until the text that ended the table on the training forms, a gap larger than any row gap seen, or a
line whose words fit no column; a table that runs to the end of a page goes on at the top of the next one
(below a repeated caption row when there is one). A line with nothing in a column that always starts a
row continues the row above (a wrapped description).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

from engine.custom.ocr_file import OcrDocument, Word
from engine.custom.table_fields.rows import ColumnSpans, VisualRow, token, visual_rows

HEADER_MATCH = 0.5  # share of the caption words a row must hold to be the caption row
MIN_FIT = 0.6  # share of a line's words that must fall in a column for the line to be part of the table


@dataclass
class Row:
    cells: dict[str, list[Word]] = field(default_factory=dict)
    fit: float = 1.0

    def add(self, col: str, word: Word) -> None:
        self.cells.setdefault(col, []).append(word)


def _header_score(row: VisualRow, header: dict[str, list[str]]) -> float:
    wanted = {t for ts in header.values() for t in ts}
    return len(row.tokens() & wanted) / len(wanted) if wanted else 0.0


def _find_header(vrows: list[VisualRow], model: dict[str, Any]) -> int | None:
    scores = [_header_score(r, model["header"]) for r in vrows]
    if not scores:
        return None
    best = max(range(len(scores)), key=lambda i: scores[i])
    return best if scores[best] >= HEADER_MATCH else None


def _shift(row: VisualRow, model: dict[str, Any]) -> float:
    """How far this form's columns sit from the learned ones, measured on the caption words."""
    moves = []
    for col, tokens in model["header"].items():
        xs = [(w.box[0] + w.box[2]) / 2 for w in row.words if token(w.text) in tokens]
        if xs:
            moves.append(median(xs) - model["header_x"][col])
    return median(moves) if moves else 0.0


def _is_end(row: VisualRow, end: list[str]) -> bool:
    return bool(end) and bool(row.tokens() & set(end))


def read_table(model: dict[str, Any], ocr: OcrDocument) -> list[Row]:
    spans = ColumnSpans(model["columns"], [tuple(model["spans"][c]) for c in model["columns"]])
    starters = set(model["starters"])
    limit = max(3 * model["row_height"], 1.5 * model["max_gap"])
    rows: list[Row] = []
    state = "searching"  # -> "running" (rows up to the page's end), "paused" (stopped above page furniture)
    for page in ocr.pages:
        vrows = visual_rows(page)
        head = _find_header(vrows, model)
        if head is not None:
            spans.shift = _shift(vrows[head], model)
            start = head + 1
        elif state == "running":
            start = 0  # the table goes on at the top of this page
        elif state == "searching" and not model["header"]:
            top = model["first_top"] - model["row_height"]
            start = next((i for i, r in enumerate(vrows) if r.bottom >= top), len(vrows))
        else:
            continue  # no caption row here: not (or no longer) the table's page
        state, page_rows = _read_page(vrows[start:], spans, starters, limit, model["end"])
        rows.extend(page_rows)
        if state == "done":
            break
    return rows


def _read_page(vrows: list[VisualRow], spans: ColumnSpans, starters: set[str], limit: float,
               end: list[str]) -> tuple[str, list[Row]]:
    """The rows from the top of `vrows` down, and why reading stopped: "done" (the text that ends the
    table), "paused" (a gap or a line that fits no column: the table may go on below a caption row on
    the next page) or "running" (the page ended)."""
    rows: list[Row] = []
    prev_bottom: float | None = None
    for vrow in vrows:
        if _is_end(vrow, end):
            return "done", rows
        if prev_bottom is not None and vrow.top - prev_bottom > limit:
            return "paused", rows
        placed = [(spans.column_of(w), w) for w in vrow.words]
        inside = [(c, w) for c, w in placed if c is not None]
        fit = len(inside) / len(placed)
        if fit < MIN_FIT:
            if rows:
                return "paused", rows
            continue  # page furniture above the first row (a running head on a continued page)
        cols = {c for c, _ in inside}
        if not rows or not starters or cols & starters:
            rows.append(Row(fit=fit))
        for c, w in inside:
            rows[-1].add(c, w)
        rows[-1].fit = min(rows[-1].fit, fit)
        prev_bottom = vrow.bottom
    return "running", rows
