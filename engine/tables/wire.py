"""Tables in the v2.x wire shape (`pageResults[].tables`), as the cloud's Layout writes them.

Each cell carries `rowIndex`, `columnIndex`, `rowSpan`/`columnSpan` only when above 1 (the service
omits them at 1 and the SDK reads a missing one as 1), `text`, `boundingBox`, `confidence` (required
by the v2.1 schema; 1), `elements` (its words, `#/readResults/{i}/lines/{l}/words/{w}`: Layout always
returns lines) and `isHeader`; `isFooter` is left out, as the service does, since no footer is ever
detected. Every cell of the grid is listed, empty ones with text "" and no elements. v2.0 tables have no
`boundingBox` of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.tables.model import Corners, Point, Table


def _box(corners: Corners, to_page: Callable[[float, float], Point] | None, unit: str) -> list[float]:
    pts = corners if to_page is None else [to_page(x, y) for x, y in corners]
    if unit == "pixel":
        return [round(v) for p in pts for v in p]
    return [round(v, 4) for p in pts for v in p]


def render_tables(tables: list[Table], read_index: int, to_page: Callable[[float, float], Point] | None,
                  unit: str, v21: bool = True) -> list[dict[str, Any]]:
    """`read_index`: the page's position in readResults (what element references count from);
    `to_page` maps a point of the upright frame onto the page as displayed (None: the same)."""
    out = []
    for table in tables:
        cells = []
        for c in table.cells:
            cell: dict[str, Any] = {"rowIndex": c.row, "columnIndex": c.column}
            if c.row_span > 1:
                cell["rowSpan"] = c.row_span
            if c.column_span > 1:
                cell["columnSpan"] = c.column_span
            cell.update({
                "text": c.text,
                "boundingBox": _box(c.corners, to_page, unit),
                "confidence": 1.0,
                "elements": [f"#/readResults/{read_index}/lines/{li}/words/{wi}" for li, wi in
                             (w.ref for w in c.words)],
                "isHeader": c.header,
            })
            cells.append(cell)
        entry: dict[str, Any] = {"rows": table.rows, "columns": table.columns, "cells": cells}
        if v21:
            entry["boundingBox"] = _box(table.corners, to_page, unit)
        out.append(entry)
    return out
