"""A custom model's v2.1 `documentResults` -> v4 `documents[]`, spanned into the layout's `content`.

v2 field: {type, valueString|valueNumber|..., text, page, boundingBox, confidence, elements}; v4 field:
{type, value*, content, boundingRegions, confidence, spans}. `content` is the document text the value
covers (lines kept apart by "\\n", as the service writes a two-line address) and `value*` the cleaned value
the model extracted. A field the model did not find is `{"type": ...}` with no value, as the service
answers a field absent from the form.
"""

from __future__ import annotations

from typing import Any

from engine.custom.table_fields.paths import DYNAMIC, join_path
from engine.v4.convert.content import Span, merge_spans
from engine.v4.convert.layout_result import LayoutV4

_VALUE_KEYS = ("valueString", "valueNumber", "valueInteger", "valueDate", "valueTime", "valueSelectionMark",
               "valuePhoneNumber", "valueCountryRegion")


def doc_type(model_id: str) -> str:
    """A template model's only document type is named after the model: `{modelId}:{modelId}`."""
    return f"{model_id}:{model_id}"


def _field(v2: dict[str, Any], layout: LayoutV4, types: dict[str, str], path: str) -> dict[str, Any]:
    """One field; `path` is its label path (`Items/*/Amount` for a dynamic table's column) to type a cell
    the model did not find."""
    if v2.get("type") == "array":
        items = [_field(item, layout, types, f"{path}/{DYNAMIC}") for item in v2.get("valueArray") or []]
        return {"type": "array", "valueArray": items}
    if v2.get("type") == "object":
        # a cell the model did not find is typed and valueless, as the service answers an absent field
        cells = {}
        for key, cell in (v2.get("valueObject") or {}).items():
            sub = f"{path}/{join_path(key)}"
            cells[key] = _field(cell, layout, types, sub) if cell is not None else \
                {"type": types.get(sub, "string")}
        return {"type": "object", "valueObject": cells}
    index, offsets = layout.index, layout.offsets
    found = [index.resolve(r, by_page_number=True) for r in v2.get("elements") or []]
    spans = merge_spans(s for s in found if s is not None)
    out: dict[str, Any] = {"type": v2.get("type", "string")}
    out.update({k: v2[k] for k in _VALUE_KEYS if k in v2})
    content = " ".join(index.content[s.offset:s.end] for s in spans) if spans else ""
    # the covered text in document order; where that order is not the value's (a wrapped cell whose first
    # line a reader split), the value's own text
    text = str(v2.get("text", ""))
    words, own = content.split(), text.split()
    out["content"] = text if own and words != own and sorted(words) == sorted(own) else content or text
    if isinstance(v2.get("boundingBox"), list):
        out["boundingRegions"] = [{"pageNumber": int(v2.get("page", 1)), "polygon": v2["boundingBox"]}]
    if "confidence" in v2:
        out["confidence"] = v2["confidence"]
    out["spans"] = [offsets.span(s.offset, s.length) for s in spans]
    return out


def _page_regions(layout: LayoutV4) -> list[dict[str, Any]]:
    regions = []
    for page in layout.index.pages:
        w, h = page.raw.get("width", 0), page.raw.get("height", 0)
        regions.append({"pageNumber": page.number, "polygon": [0, 0, w, 0, w, h, 0, h]})
    return regions


def documents(v2_result: dict[str, Any], layout: LayoutV4, model_id: str,
              field_types: dict[str, str]) -> list[dict[str, Any]]:
    """`documents[]` for the v2 result of engine.custom.results.build_result (run with include_text=True so
    fields carry `elements`); `field_types` types the fields that were not found."""
    out = []
    whole = Span(0, len(layout.index.content))
    for doc in v2_result.get("documentResults") or []:
        fields = {}
        for name, f in sorted((doc.get("fields") or {}).items()):
            key = join_path(name)
            fields[name] = _field(f, layout, field_types, key) if f is not None else \
                {"type": field_types.get(key, "string")}
        out.append({"docType": doc_type(model_id), "boundingRegions": _page_regions(layout), "fields": fields,
                    "confidence": doc.get("docTypeConfidence", 0.0),
                    "spans": [layout.offsets.span(whole.offset, whole.length)]})
    return out
