"""Build the analyzeResult of a custom model in the cloud's v2.x shape."""

from __future__ import annotations

from typing import Any

from engine.custom.ocr_file import OcrDocument, Word, parse_ocr
from engine.custom.reread import PageImage, reread_unsure_fields
from engine.custom.scoring.model import Pick, analyze_pages
from engine.custom.scoring.region_read import placed_fields, read_from_places, read_marks
from engine.custom.scoring.register import register_document
from engine.custom.scoring.spans import Span, index_document
from engine.custom.scoring.template import printed_lookup, printed_near
from engine.custom.scoring.values import typed_value
from engine.custom.table_fields.model import table_fields
from engine.custom.table_fields.paths import nest
from engine.custom.unlabeled import analyze_unlabeled


def _span_polygon(span: Span) -> list[float]:
    if span.mark is not None:
        return span.mark.polygon
    xs = [v for w in span.words for v in w.polygon[0::2]]
    ys = [v for w in span.words for v in w.polygon[1::2]]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return [round(v, 4) for v in (x0, y0, x1, y0, x1, y1, x0, y1)]


def field_value(pick: Pick, field_type: str, include_text: bool) -> dict[str, Any] | None:
    span = pick.span
    if span is None:
        if pick.region is None or not pick.text:
            return None
        if field_type == "selectionMark" and pick.text in ("selected", "unselected"):  # read from the image
            out = {"type": "selectionMark", "valueSelectionMark": pick.text, "text": pick.text}
        else:
            ftype = field_type if field_type != "selectionMark" else "string"
            out = {"type": ftype, **typed_value(ftype, pick.text), "text": pick.text}
        out.update({"page": pick.region[0], "boundingBox": [round(v, 4) for v in pick.region[1]],
                    "confidence": pick.confidence})
        if include_text:
            out["elements"] = []
        return out
    if span.mark is not None:
        text = span.mark.state
        out: dict[str, Any] = {"type": "selectionMark", "valueSelectionMark": text, "text": text}
    else:
        text = pick.text or span.text
        ftype = field_type if field_type != "selectionMark" else "string"
        out = {"type": ftype, **typed_value(ftype, text), "text": text}
    out.update({"page": span.page, "boundingBox": _span_polygon(span), "confidence": pick.confidence})
    if include_text:
        out["elements"] = [span.mark.ref] if span.mark is not None else [w.ref for w in span.words]
    return out


def _read_results(layout: dict[str, Any], include_text: bool) -> list[dict[str, Any]]:
    if include_text:
        return layout["readResults"]
    keep = ("page", "angle", "width", "height", "unit", "language")
    return [{k: rr[k] for k in keep if k in rr} for rr in layout["readResults"]]


def build_result(model_id: str, info: dict[str, Any], params: dict[str, Any], layout: dict[str, Any],
                 include_text: bool, page_image: PageImage | None = None) -> dict[str, Any]:
    """analyzeResult for a document already run through Layout (`layout` is its analyzeResult);
    `page_image` lets values Tesseract was unsure of be re-read from the page (engine.custom.reread)."""
    ocr: OcrDocument = parse_ocr(layout)
    v20 = str(layout.get("version", "2.1.0")).startswith("2.0")
    out: dict[str, Any] = {"version": layout.get("version", "2.1.0"),
                           "readResults": _read_results(layout, include_text)}
    if params.get("kind") == "unlabeled":
        page_results = analyze_unlabeled(params, ocr, include_text)
        out.update({"pageResults": page_results, "documentResults": [], "errors": []})
        return out
    register_document(ocr, params.get("registration") or {})  # into the training pages' frame
    pages = index_document(ocr)
    printed = printed_lookup(params)
    picks = analyze_pages(params, pages, printed)
    regions = params.get("regions")

    def near(span: Span) -> list[Word]:
        return printed_near(span, pages[span.page], printed.get(span.page, {}))

    def reread_one(name: str, pick: Pick) -> None:
        if page_image is not None:
            reread_unsure_fields({name: pick}, params.get("fields", {}), page_image, near, regions)

    if page_image is not None:  # the unsure values of fields with a place are read from it, below
        reread_unsure_fields(picks, params.get("fields", {}), page_image, near, regions,
                             frozenset(placed_fields(params)))
    read_from_places(picks, params, ocr, pages, page_image, printed, reread_one)
    read_marks(picks, params, ocr, pages, page_image)
    types = params.get("field_types", {})
    scalars = {name: field_value(pick, types.get(name, "string"), include_text) for name, pick in
               sorted(picks.items())}
    found = [f["confidence"] for f in scalars.values() if f is not None]
    fields = nest({**scalars, **table_fields(params.get("tables") or {}, ocr, include_text)})
    page_numbers = [p.number for p in ocr.pages] or [1]
    name = info.get("modelInfo", {}).get("modelName") or model_id
    doc: dict[str, Any] = {"docType": "custom:form" if v20 else f"custom:{name}",
                           "pageRange": [min(page_numbers), max(page_numbers)], "fields": fields}
    if not v20:
        doc["modelId"] = model_id
        doc["docTypeConfidence"] = round(sum(found) / len(found), 3) if found else 0.0
    page_results = [pr for pr in layout.get("pageResults", [])]
    if not include_text:
        for pr in page_results:
            for t in pr.get("tables", []):
                for c in t.get("cells", []):
                    c.pop("elements", None)
    out.update({"pageResults": page_results, "documentResults": [doc], "errors": []})
    return out
