"""The Layout's tables of a form (`.ocr.json`) as the page takes them: per page, each table's box and its
cells with their words as the page's word ids, so one action fills a table field's rows.

v2.1 tables are in `pageResults[].tables`, a cell's words as references into `readResults`
(`#/readResults/0/lines/3/words/1`); v3/v4 tables are in `tables[]`, a cell's words as spans of the
document's text, which each word's `span` points into. Both come out the same.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any, Protocol

__all__ = ["WordPage", "layout_tables"]

_REF = re.compile(r"^#/readResults/(\d+)/lines/(\d+)/words/(\d+)$")


class WordPage(Protocol):
    """What a page of the form view has that tables need (shared/review/form_view.py `Page`)."""

    number: int
    width: float
    height: float
    refs: dict[Any, str]  # v2: (line, word) -> word id; v3/v4: the word's span offset -> word id


def _norm_box(points: Any, page: WordPage) -> list[float] | None:
    if not isinstance(points, list) or len(points) < 8 or not page.width or not page.height:
        return None
    xs, ys = [float(v) / page.width for v in points[0::2]], [float(v) / page.height for v in points[1::2]]
    return [round(min(xs), 5), round(min(ys), 5), round(max(xs), 5), round(max(ys), 5)]


def _cell(raw: dict[str, Any], words: list[str], header: bool) -> dict[str, Any]:
    return {"row": int(raw.get("rowIndex") or 0), "column": int(raw.get("columnIndex") or 0),
            "rowSpan": int(raw.get("rowSpan") or 1), "columnSpan": int(raw.get("columnSpan") or 1),
            "header": header, "text": str(raw.get("text", raw.get("content")) or ""), "words": words}


def _table(cells: list[dict[str, Any]], raw: dict[str, Any], box: list[float] | None) -> dict[str, Any]:
    if box is None:  # v2.0: no box of its own
        boxes = [c.pop("box") for c in cells if c.get("box")]
        box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
               max(b[3] for b in boxes)] if boxes else None
    for c in cells:
        c.pop("box", None)
    rows = int(raw.get("rows") or raw.get("rowCount")  # v2 / v3+; or as far as the cells go
               or max((c["row"] + c["rowSpan"] for c in cells), default=0))
    columns = int(raw.get("columns") or raw.get("columnCount")
                  or max((c["column"] + c["columnSpan"] for c in cells), default=0))
    return {"rows": rows, "columns": columns, "box": box, "cells": cells}


def _v2_tables(result: dict[str, Any], pages: list[WordPage]) -> dict[int, list[dict[str, Any]]]:
    by_number = {p.number: p for p in pages}
    out: dict[int, list[dict[str, Any]]] = {}
    for n, page_result in enumerate(result.get("pageResults") or [], start=1):
        page = by_number.get(int(page_result.get("page") or n))
        if page is None:
            continue
        for raw in page_result.get("tables") or []:
            cells = []
            for c in raw.get("cells") or []:
                words = []
                for ref in c.get("elements") or []:
                    m = _REF.match(str(ref))
                    owner = pages[int(m[1])] if m and int(m[1]) < len(pages) else None
                    word = owner.refs.get((int(m[2]), int(m[3]))) if owner and m else None
                    if word:
                        words.append(word)
                cell = _cell(c, words, bool(c.get("isHeader")))
                cell["box"] = _norm_box(c.get("boundingBox"), page)
                cells.append(cell)
            box = _norm_box(raw.get("boundingBox"), page)
            out.setdefault(page.number, []).append(_table(cells, raw, box))
    return out


def _v4_tables(result: dict[str, Any], pages: list[WordPage]) -> dict[int, list[dict[str, Any]]]:
    by_number = {p.number: p for p in pages}
    offsets = sorted((k, word) for p in pages for k, word in p.refs.items() if isinstance(k, int))
    starts = [k for k, _word in offsets]
    out: dict[int, list[dict[str, Any]]] = {}
    for raw in result.get("tables") or []:
        region = (raw.get("boundingRegions") or [{}])[0]
        page = by_number.get(region.get("pageNumber"))
        if page is None:
            continue
        cells = []
        for c in raw.get("cells") or []:
            words = []
            for span in c.get("spans") or []:
                start = int(span.get("offset", 0))
                end = start + int(span.get("length", 0))
                words += [word for _k, word in offsets[bisect_left(starts, start):bisect_left(starts, end)]]
            cell = _cell(c, words, c.get("kind") == "columnHeader")
            cell_region = (c.get("boundingRegions") or [{}])[0]
            cell_page = by_number.get(cell_region.get("pageNumber"), page)
            cell["box"] = _norm_box(cell_region.get("polygon"), cell_page)
            cells.append(cell)
        out.setdefault(page.number, []).append(_table(cells, raw, _norm_box(region.get("polygon"), page)))
    return out


def layout_tables(ocr: dict[str, Any], pages: list[WordPage]) -> dict[int, list[dict[str, Any]]]:
    """{page number: [{rows, columns, box, cells: [{row, column, rowSpan, columnSpan, header, text,
    words}]}]} of a Layout result in either API version's shape; a page without tables is left out."""
    result = ocr.get("analyzeResult") or ocr
    if result.get("readResults"):
        return _v2_tables(result, pages)
    return _v4_tables(result, pages)
