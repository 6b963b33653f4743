"""A v3/v4 Layout result (what Document Intelligence Studio writes as `<doc>.ocr.json`) -> the v2.1 Layout
shape engine.custom's training reads (`readResults[].lines[].words[]` with 8-number `boundingBox`).

Words are put back into their lines through their spans (a word belongs to the line whose span holds
its offset); a word in no line, or a result without lines, gets a line of its own. Polygons of more than
four points become their bounding rectangle. Units (inch, pixel) are kept, as v2 uses the same ones.
"""

from __future__ import annotations

import bisect
from typing import Any

from engine.page.polygons import quad_of, rect_of


def is_v4_layout(payload: Any) -> bool:
    """True for a v3/v4 analyze result (envelope or bare analyzeResult): `pages`, no `readResults`."""
    if not isinstance(payload, dict):
        return False
    result = payload.get("analyzeResult", payload)
    return isinstance(result, dict) and isinstance(result.get("pages"), list) and "readResults" not in result


def _box(polygon: Any, unit: str) -> list[float] | None:
    if not isinstance(polygon, list) or len(polygon) < 8 or len(polygon) % 2:
        return None
    try:
        pts = [float(v) for v in polygon]
    except (TypeError, ValueError):
        return None
    return pts if len(pts) == 8 else quad_of(rect_of(pts), unit == "pixel")


def _offset(item: dict[str, Any]) -> int | None:
    span = item.get("span") or next(iter(item.get("spans") or []), None)
    return int(span["offset"]) if isinstance(span, dict) and "offset" in span else None


def _polygon(item: dict[str, Any]) -> Any:
    """`polygon` (v3 GA, v4), or `boundingBox` (the 2021-09-30-preview format Studio wrote first)."""
    return item.get("polygon") or item.get("boundingBox")


def _word(w: dict[str, Any], unit: str) -> dict[str, Any] | None:
    box = _box(_polygon(w), unit)
    if box is None:
        return None
    return {"boundingBox": box, "text": str(w.get("content", "")),
            "confidence": float(w.get("confidence", 1.0))}


def _page(p: dict[str, Any], index: int) -> dict[str, Any]:
    unit = str(p.get("unit", "pixel"))
    lines_in = [ln for ln in p.get("lines") or [] if isinstance(ln, dict)]
    starts: list[tuple[int, int, int]] = []  # (offset, end, line index) sorted by offset
    for i, ln in enumerate(lines_in):
        for s in ln.get("spans") or []:
            starts.append((int(s.get("offset", 0)), int(s.get("offset", 0)) + int(s.get("length", 0)), i))
    starts.sort()
    keys = [s[0] for s in starts]
    members: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(lines_in))}
    loose: list[tuple[int, dict[str, Any]]] = []
    for order, w in enumerate(p.get("words") or []):
        word = _word(w, unit)
        if word is None:
            continue
        off = _offset(w)
        k = bisect.bisect_right(keys, off) - 1 if off is not None else -1
        if k >= 0 and off is not None and off < starts[k][1]:
            members[starts[k][2]].append(word)
        else:
            loose.append((order, word))
    lines: list[dict[str, Any]] = []
    for i, ln in enumerate(lines_in):
        box = _box(_polygon(ln), unit)
        if members[i] and box is not None:
            lines.append({"boundingBox": box, "text": str(ln.get("content", "")), "words": members[i]})
        else:
            loose += [(0, w) for w in members[i]]
    lines += [{"boundingBox": w["boundingBox"], "text": w["text"], "words": [w]} for _, w in loose]
    marks = []
    for m in p.get("selectionMarks") or []:
        box = _box(_polygon(m), unit)
        if box is not None:
            marks.append({"boundingBox": box, "confidence": float(m.get("confidence", 1.0)),
                          "state": "selected" if m.get("state") == "selected" else "unselected"})
    return {"page": int(p.get("pageNumber", index + 1)), "angle": p.get("angle") or 0,
            "width": p.get("width"), "height": p.get("height"), "unit": unit, "lines": lines,
            "selectionMarks": marks}


def to_v2_layout(payload: dict[str, Any]) -> dict[str, Any]:
    """The v2.1 analyzeResult (`version`, `readResults`, `pageResults`) of a v3/v4 analyze result."""
    result = payload.get("analyzeResult", payload)
    read_results = [_page(p, i) for i, p in enumerate(result.get("pages") or []) if isinstance(p, dict)]
    return {"version": "2.1.0", "readResults": read_results,
            "pageResults": [{"page": rr["page"], "tables": []} for rr in read_results], "errors": []}
