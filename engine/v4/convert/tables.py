"""v2.1 `pageResults[].tables` -> v4 `tables[]`.

v2: {rows, columns, boundingBox?, cells: [{rowIndex, columnIndex, rowSpan?, columnSpan?, text, boundingBox,
isHeader?, elements?}]}. v4: {rowCount, columnCount, cells: [{kind?, rowIndex, columnIndex, rowSpan,
columnSpan, content, boundingRegions, spans}], boundingRegions, spans}. A cell's spans come from its
`elements` references when present, otherwise from the words and marks whose centre lies in its box.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from engine.page.polygons import Rect, center, contains, quad_of, rect_of, union
from engine.v4.convert.content import ContentIndex, LineText, PageText, Span, mark_text, merge_spans
from engine.v4.convert.paragraphs import CellOf
from engine.v4.convert.text_index import OffsetMap


def _cell_rect(cell: dict[str, Any]) -> Rect | None:
    box = cell.get("boundingBox")
    return rect_of(box) if isinstance(box, list) and len(box) >= 4 else None


def _cell_spans(cell: dict[str, Any], page: PageText, index: ContentIndex) -> list[Span]:
    refs = cell.get("elements")
    if refs:
        found = [index.resolve(r) for r in refs]
        return [s for s in found if s is not None]
    rect = _cell_rect(cell)
    if rect is None:
        return []
    inside = [w.span for w in page.words if contains(rect, center(rect_of(w.polygon)))]
    inside += [m.span for m in page.marks if contains(rect, center(rect_of(m.polygon)))]
    return inside


def _cell_content(cell: dict[str, Any], spans: list[Span], index: ContentIndex) -> str:
    """The v2 text, plus the mark tokens inside the cell (the service writes "2 :unselected:")."""
    text = cell.get("text")
    if text is None:
        return " ".join(index.content[s.offset:s.end] for s in sorted(spans, key=lambda s: s.offset))
    marks = [index.content[s.offset:s.end] for s in sorted(spans, key=lambda s: s.offset)
             if index.content[s.offset:s.end] in (mark_text("selected"), mark_text("unselected"))]
    return " ".join([str(text), *marks]) if text else " ".join(marks)


def _region(page: PageText, rect: Rect | None) -> list[dict[str, Any]]:
    if rect is None:
        return []
    pixel = page.raw.get("unit") == "pixel"
    return [{"pageNumber": page.number, "polygon": quad_of(rect, pixel)}]


def convert_table(table: dict[str, Any], page: PageText, index: ContentIndex,
                  offsets: OffsetMap) -> dict[str, Any]:
    cells_out: list[dict[str, Any]] = []
    all_spans: list[Span] = []
    rects: list[Rect] = []
    for cell in table.get("cells") or []:
        spans = _cell_spans(cell, page, index)
        all_spans += spans
        rect = _cell_rect(cell)
        if rect is not None:
            rects.append(rect)
        out: dict[str, Any] = {}
        if cell.get("isHeader"):
            out["kind"] = "columnHeader"
        out.update({"rowIndex": int(cell.get("rowIndex", 0)), "columnIndex": int(cell.get("columnIndex", 0)),
                    "rowSpan": int(cell.get("rowSpan") or 1), "columnSpan": int(cell.get("columnSpan") or 1),
                    "content": _cell_content(cell, spans, index), "boundingRegions": _region(page, rect),
                    "spans": [offsets.span(s.offset, s.length) for s in merge_spans(spans)]})
        cells_out.append(out)
    box = table.get("boundingBox")
    rect = rect_of(box) if isinstance(box, list) and len(box) >= 4 else union(rects)
    return {"rowCount": int(table.get("rows", 0)), "columnCount": int(table.get("columns", 0)),
            "cells": cells_out, "boundingRegions": _region(page, rect),
            "spans": [offsets.span(s.offset, s.length) for s in merge_spans(all_spans)]}


def page_tables(page_results: list[dict[str, Any]], page: PageText) -> list[dict[str, Any]]:
    """The v2 tables of one page: pageResults are aligned with readResults, the page number decides."""
    if page.index < len(page_results) and page_results[page.index].get("page", page.number) == page.number:
        return list(page_results[page.index].get("tables") or [])
    for pr in page_results:
        if pr.get("page") == page.number:
            return list(pr.get("tables") or [])
    return []


def cell_locator(tables: list[dict[str, Any]]) -> CellOf:
    """line -> (table, cell) it lies in, or None; keeps paragraphs from running across cells."""
    boxes = [((t, c), r) for t, table in enumerate(tables) for c, cell in enumerate(table.get("cells") or [])
             if (r := _cell_rect(cell)) is not None]

    def cell_of(line: LineText) -> Hashable:
        point = center(rect_of(line.polygon))
        return next((key for key, r in boxes if contains(r, point)), None)

    return cell_of
