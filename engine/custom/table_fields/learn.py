"""Learn a dynamic table from its labeled rows: where its columns are, the caption row above it, the text
that follows it, and which columns start a row (the others may wrap onto further lines).

Everything is plain data (it is saved in the model file) and needs only a few training forms: the column
spans are the union of the labeled cells, the header and end captions are the words that recur above the
first row and below the last row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median
from typing import Any

from engine.custom.matching import MatchedField
from engine.custom.ocr_file import OcrDocument
from engine.custom.table_fields.rows import VisualRow, slope, token, visual_rows, word_height

Rows = dict[int, dict[str, MatchedField]]  # row index -> column -> the cell's matched words


@dataclass
class TableExample:
    ocr: OcrDocument
    rows: Rows


@dataclass
class _Acc:
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    header: dict[str, Counter] = field(default_factory=dict)
    header_x: dict[str, list[float]] = field(default_factory=dict)
    end: Counter = field(default_factory=Counter)
    filled: Counter = field(default_factory=Counter)
    multiline: Counter = field(default_factory=Counter)
    gaps: list[float] = field(default_factory=list)
    heights: list[float] = field(default_factory=list)
    first_top: list[float] = field(default_factory=list)
    rows: int = 0
    docs: int = 0


def _row_box(cells: dict[str, MatchedField], ocr: OcrDocument) -> tuple[int, float, float]:
    """(page, top, bottom) of a labeled row on the straightened page."""
    words = [w for mf in cells.values() for w in mf.words]
    page = ocr.page(words[0].page)
    row = VisualRow(words, slope(page) if page else 0.0)
    return words[0].page, row.top, row.bottom


def _row_above(vrows: list[VisualRow], top: float) -> VisualRow | None:
    above = [r for r in vrows if r.bottom <= top + 0.002]
    return above[-1] if above else None


def _row_below(vrows: list[VisualRow], bottom: float) -> VisualRow | None:
    below = [r for r in vrows if r.top >= bottom - 0.002]
    return below[0] if below else None


def learn_table(columns: list[str], examples: list[TableExample]) -> dict[str, Any] | None:
    """The table's model, or None when no example has a labeled row."""
    acc = _Acc()
    for ex in examples:
        rows = {i: {c: mf for c, mf in cells.items() if mf.words} for i, cells in ex.rows.items()}
        rows = {i: cells for i, cells in sorted(rows.items()) if cells}
        if not rows:
            continue
        acc.docs += 1
        boxes = [_row_box(cells, ex.ocr) for cells in rows.values()]
        for cells in rows.values():
            acc.rows += 1
            for col, mf in cells.items():
                acc.spans.setdefault(col, []).append((min(w.box[0] for w in mf.words),
                                                       max(w.box[2] for w in mf.words)))
                acc.filled[col] += 1
                acc.multiline[col] += len({(w.page, w.line) for w in mf.words}) > 1 and \
                    max(w.box[1] for w in mf.words) > min(w.box[3] for w in mf.words)
                acc.heights.append(word_height(mf.words))
        for (p0, _t0, b0), (p1, t1, _b1) in pairwise(boxes):
            if p0 == p1:
                acc.gaps.append(t1 - b0)
        first_page, first_top, _ = boxes[0]
        acc.first_top.append(first_top)
        page = ex.ocr.page(first_page)
        header = _row_above(visual_rows(page), first_top) if page else None
        if header is not None:
            spans = {c: s[-1] for c, s in acc.spans.items()}
            for w in header.words:
                t = token(w.text)
                if not t:
                    continue
                x = (w.box[0] + w.box[2]) / 2
                col = min(spans, key=lambda c, x=x: abs((spans[c][0] + spans[c][1]) / 2 - x))
                acc.header.setdefault(col, Counter())[t] += 1
                acc.header_x.setdefault(col, []).append(x)
        last_page, _, last_bottom = boxes[-1]
        page = ex.ocr.page(last_page)
        end = _row_below(visual_rows(page), last_bottom) if page else None
        if end is not None:
            acc.end.update(end.tokens())
    if not acc.docs:
        return None
    need = max(1, (acc.docs + 1) // 2)  # a caption word must recur on half the forms
    header = {c: sorted(t for t, n in cnt.items() if n >= need) for c, cnt in acc.header.items()}
    header = {c: ts for c, ts in header.items() if ts}
    known = [c for c in columns if c in acc.spans] + [c for c in acc.spans if c not in columns]
    height = median(acc.heights) if acc.heights else 0.01
    return {
        "columns": known,
        "spans": {c: [min(a for a, _ in acc.spans[c]), max(b for _, b in acc.spans[c])] for c in known},
        "header": header,
        "header_x": {c: median(acc.header_x[c]) for c in header},
        "end": sorted(t for t, n in acc.end.items() if n >= need),
        # a column filled on (nearly) every row and never wrapped tells where a row starts
        "starters": [c for c in known if acc.filled[c] >= 0.9 * acc.rows and acc.multiline[c] == 0],
        "row_height": height,
        "max_gap": max(acc.gaps) if acc.gaps else 2 * height,
        "first_top": median(acc.first_top),
        "docs": acc.docs,
    }
