"""The v2.1 Layout analyzeResult -> the v4.0 (2024-11-30) analyzeResult: a pure conversion.

Input is what `engine.layout.analyze.analyze_layout(..., api_version="2.1")` returns (`readResults`,
`pageResults`);
output has `apiVersion`, `modelId`, `stringIndexType`, `content`, `pages` (words, lines, selectionMarks,
spans), `tables`, `paragraphs`, `styles`, `contentFormat`. `convert_layout` also hands back the content
index, so custom-model results can give their fields spans into the same `content`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.page.polygons import quad_of, rect_of, union
from engine.v4.convert.content import ContentIndex, PageText, Span, build_content, merge_spans
from engine.v4.convert.paragraphs import group_lines
from engine.v4.convert.tables import cell_locator, convert_table, page_tables
from engine.v4.convert.text_index import OffsetMap
from engine.v4.protocol import API_VERSION


@dataclass
class LayoutV4:
    result: dict[str, Any]  # the v4 analyzeResult
    index: ContentIndex  # content + the code-point span of every word, line and mark
    offsets: OffsetMap  # code points -> the requested stringIndexType


def _page(page: PageText, offsets: OffsetMap, marks: bool) -> dict[str, Any]:
    rr = page.raw
    out: dict[str, Any] = {"pageNumber": page.number, "angle": rr.get("angle", 0), "width": rr.get("width"),
                           "height": rr.get("height"), "unit": rr.get("unit", "pixel")}
    out["words"] = [{"content": w.content, "polygon": w.polygon, "confidence": w.confidence,
                     "span": offsets.span(w.span.offset, w.span.length)} for w in page.words]
    if marks:
        out["selectionMarks"] = [{"state": m.state, "polygon": m.polygon, "confidence": m.confidence,
                                  "span": offsets.span(m.span.offset, m.span.length)} for m in page.marks]
    out["lines"] = [{"content": ln.content, "polygon": ln.polygon,
                     "spans": [offsets.span(ln.span.offset, ln.span.length)]} for ln in page.lines]
    out["spans"] = [offsets.span(page.span.offset, page.span.length)]
    return out


def _paragraphs(page: PageText, tables: list[dict[str, Any]], index: ContentIndex,
                offsets: OffsetMap) -> list[dict[str, Any]]:
    pixel = page.raw.get("unit") == "pixel"
    out = []
    for group in group_lines(page, cell_locator(tables) if tables else None):
        start, end = group[0].span.offset, group[-1].span.end
        rect = union(rect_of(ln.polygon) for ln in group)
        out.append({"spans": [offsets.span(start, end - start)],
                    "boundingRegions": [{"pageNumber": page.number, "polygon": quad_of(rect, pixel)}]
                    if rect else [],
                    "content": index.content[start:end].replace("\n", " ")})
    return out


def _styles(index: ContentIndex, offsets: OffsetMap) -> list[dict[str, Any]]:
    """Handwriting, when the v2 lines say so (`appearance.style.name == "handwriting"`); one style per
    confidence value, as the service groups them."""
    by_conf: dict[float, list[Span]] = {}
    for page in index.pages:
        for ln in page.lines:
            if ln.handwritten is not None:
                by_conf.setdefault(round(ln.handwritten, 3), []).append(ln.span)
    return [{"confidence": conf, "spans": [offsets.span(s.offset, s.length) for s in merge_spans(spans)],
             "isHandwritten": True} for conf, spans in sorted(by_conf.items(), reverse=True)]


def convert_layout(v2: dict[str, Any], *, model_id: str = "prebuilt-layout", api_version: str = API_VERSION,
                   string_index_type: str = "textElements") -> LayoutV4:
    """v2.1 analyzeResult -> LayoutV4. `prebuilt-read` has no tables and no selection marks, like the
    service's Read model. Never modifies `v2` (it may be the shared layout cache's object)."""
    read_model = model_id == "prebuilt-read"
    read_results = v2.get("readResults") or []
    page_results = v2.get("pageResults") or []
    index = build_content(read_results, marks=not read_model)
    offsets = OffsetMap(index.content, string_index_type)
    pages, tables, paragraphs = [], [], []
    for page in index.pages:
        pages.append(_page(page, offsets, marks=not read_model))
        v2_tables = [] if read_model else page_tables(page_results, page)
        tables += [convert_table(t, page, index, offsets) for t in v2_tables]
        paragraphs += _paragraphs(page, v2_tables, index, offsets)
    result: dict[str, Any] = {"apiVersion": api_version, "modelId": model_id,
                              "stringIndexType": string_index_type, "content": index.content, "pages": pages}
    if not read_model:
        result["tables"] = tables
    result["paragraphs"] = paragraphs
    result["styles"] = _styles(index, offsets)
    result["contentFormat"] = "text"
    return LayoutV4(result, index, offsets)


def layout_result(v2: dict[str, Any], *, model_id: str = "prebuilt-layout", api_version: str = API_VERSION,
                  string_index_type: str = "textElements") -> dict[str, Any]:
    """The v4 analyzeResult of a v2.1 Layout result (see convert_layout)."""
    return convert_layout(v2, model_id=model_id, api_version=api_version,
                          string_index_type=string_index_type).result
