"""One form as the page shows it: its pages' words and marks, the model's prediction and the person's
labels, all in the page's normalised frame (0..1) and bound to word ids.

Word ids are `<page>.<n>`, n counting the words of the page in the OCR's reading order, so sorting
ids by (page, n) is reading order. Both `.ocr.json` shapes are read (v2.1 `readResults`, v4 `pages`),
and predictions of both APIs: a field is bound to the words whose centres lie in its box. A table
field's cells come as fields named like their labels (`Items/0/Description`), and the Layout's tables of
each page with their cells' word ids (shared/review/tables/).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.clients.records import Records
from shared.clients.storage import blob_service
from shared.names import FIELDS_FILE, join, labels_name, ocr_name, prediction_name
from shared.predictions.field_values import predicted_fields
from shared.review.page_images import page_count
from shared.review.tables.fields import page_fields
from shared.review.tables.layout import layout_tables
from shared.review.web import ApiError
from shared.settings import Settings

__all__ = ["Page", "Word", "bind", "form_view", "read_pages", "read_schema"]

Box = tuple[float, float, float, float]  # left, top, right, bottom, normalised
MARK_TEXTS = ("selected", "unselected")


@dataclass
class Word:
    id: str
    text: str
    box: Box
    confidence: float | None = None


@dataclass
class Page:
    number: int
    width: float
    height: float
    unit: str
    words: list[Word] = field(default_factory=list)
    marks: list[Word] = field(default_factory=list)  # text = state
    refs: dict[Any, str] = field(default_factory=dict)  # how the OCR names a word -> its id (tables use it)


def _box(points: Any, width: float, height: float) -> Box | None:
    if not isinstance(points, list) or len(points) < 8 or not width or not height:
        return None
    xs, ys = [float(v) / width for v in points[0::2]], [float(v) / height for v in points[1::2]]
    return (min(xs), min(ys), max(xs), max(ys))


def _read_page(raw: dict[str, Any], number: int, words: list[tuple[Any, dict[str, Any]]], poly: str,
               text: str) -> Page:
    """`words`: (the OCR's own name of the word, the word) in reading order."""
    page = Page(
        number, float(raw.get("width") or 0), float(raw.get("height") or 0), str(raw.get("unit") or "")
    )
    for ref, w in words:
        box = _box((w.get(poly) or w.get("boundingBox")), page.width, page.height)
        if box:
            page.words.append(
                Word(f"{number}.{len(page.words)}", str(w.get(text, "")), box, w.get("confidence"))
            )
            if ref is not None:
                page.refs[ref] = page.words[-1].id
    for m in raw.get("selectionMarks") or []:
        box = _box((m.get(poly) or m.get("boundingBox")), page.width, page.height)
        if box:
            page.marks.append(
                Word(f"{number}.m{len(page.marks)}", str(m.get("state", "")), box, m.get("confidence"))
            )
    return page


def read_pages(ocr: dict[str, Any]) -> list[Page]:
    """Pages of a Layout result in either API version's shape (v2.x words are inside their lines; a
    word is referred to as (line, word) there, by the offset of its span in v3/v4)."""
    result = ocr.get("analyzeResult") or ocr
    v2 = result.get("readResults") or []
    if v2:
        return [
            _read_page(
                raw,
                int(raw.get("page", n)),
                [((li, wi), w) for li, line in enumerate(raw.get("lines") or [])
                 for wi, w in enumerate(line.get("words") or [])],
                "boundingBox",
                "text",
            )
            for n, raw in enumerate(v2, start=1)
        ]
    return [
        _read_page(raw, int(raw.get("pageNumber", n)),
                   [((w.get("span") or {}).get("offset"), w) for w in raw.get("words") or []], "polygon",
                   "content")
        for n, raw in enumerate(result.get("pages") or [], start=1)
    ]


def _centre_in(word: Box, box: Box, slack: float = 0.002) -> bool:
    cx, cy = (word[0] + word[2]) / 2, (word[1] + word[3]) / 2
    return box[0] - slack <= cx <= box[2] + slack and box[1] - slack <= cy <= box[3] + slack


def bind(page: Page, box: Box) -> tuple[list[str], list[str]]:
    """Ids of the words, and of the marks, whose centres lie in `box`."""
    return (
        [w.id for w in page.words if _centre_in(w.box, box)],
        [m.id for m in page.marks if _centre_in(m.box, box)],
    )


def _page(pages: list[Page], number: Any) -> Page | None:
    return next((p for p in pages if p.number == number), None)


def _prediction(body: dict[str, Any], pages: list[Page]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, found in predicted_fields(body).items():
        item: dict[str, Any] = {
            "text": found.get("text") or "",
            "confidence": found.get("confidence"),
            "value": found.get("value"),
            "words": [],
            "marks": [],
        }
        page = _page(pages, found.get("page"))
        box = _box(found.get("boundingBox"), page.width, page.height) if page else None
        if page and box:
            item["words"], item["marks"] = bind(page, box)
            item["page"], item["box"] = page.number, box
            if item["marks"] and str(found.get("value") or found.get("text")) in MARK_TEXTS:
                item["words"] = []
        fields[name] = item
    return fields


def _labels(data: dict[str, Any], pages: list[Page]) -> dict[str, Any]:
    """The labels file as the page edits it: per field its words, or a region, or a mark."""
    out: dict[str, Any] = {}
    for label in data.get("labels") or []:
        name = str(label.get("label") or "")
        words: list[str] = []
        mark = ""
        region = None
        for value in label.get("value") or []:
            page = _page(pages, value.get("page"))
            for poly in value.get("boundingBoxes") or []:
                box = _box(poly, 1.0, 1.0)
                if box is None:
                    continue
                if page is None:
                    region = {"page": value.get("page"), "box": box, "text": value.get("text", "")}
                    continue
                hit_words, hit_marks = bind(page, box)
                if str(value.get("text", "")).lower() in MARK_TEXTS and hit_marks:
                    mark = hit_marks[0]
                elif label.get("labelType") == "region" or not hit_words:
                    region = {"page": page.number, "box": box, "text": value.get("text", "")}
                else:
                    words.extend(w for w in hit_words if w not in words)
        if name:
            if mark:
                out[name] = {"mark": mark}
            else:
                out[name] = {"region": region} if region and not words else {"words": words}
    return out


def read_schema(settings: Settings, folder: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The folder's `fields.json` as [{name, type}] (tables with their `columns`, fixed ones their `rows`:
    shared/review/tables/fields.py) and its ETag; (None, None) when it has none."""
    container = blob_service(settings).get_container_client(settings.forms_container)
    try:
        download = container.get_blob_client(join(folder, FIELDS_FILE)).download_blob()
        data = json.loads(download.readall())
    except ResourceNotFoundError:
        return None, None
    except ValueError as exc:
        raise ApiError(422, "BadSchema", f"{join(folder, FIELDS_FILE)} is not JSON: {exc}") from exc
    return page_fields(data), str(download.properties.etag)


def form_view(settings: Settings, records: Records, folder: str, doc: str) -> dict[str, Any]:
    container = blob_service(settings).get_container_client(settings.forms_container)
    source = join(folder, doc)

    def read(name: str) -> tuple[bytes, Any] | None:
        try:
            download = container.get_blob_client(name).download_blob()
            return download.readall(), download.properties
        except ResourceNotFoundError:
            return None

    if not container.get_blob_client(source).exists():
        raise ApiError(404, "NoSuchForm", f"there is no form {doc!r} in folder {folder!r}")
    ocr = read(ocr_name(source))
    ocr_json = json.loads(ocr[0]) if ocr else {}
    pages = read_pages(ocr_json) if ocr else []
    tables = layout_tables(ocr_json, pages) if ocr else {}
    schema, schema_etag = read_schema(settings, folder)
    count = len(pages)
    if not pages:  # no OCR yet: the page images still show, and a region can be drawn
        data = read(source)
        count = page_count(data[0]) if data else 0
    view: dict[str, Any] = {
        "folder": folder,
        "document": doc,
        "reviewConfidence": settings.review_confidence,
        "ocr": {
            "ready": ocr is not None,
            "byUser": bool(ocr and (ocr[1].metadata or {}).get("source_etag") is None),
        },
        "pages": [
            {
                "number": p.number,
                "width": p.width,
                "height": p.height,
                "unit": p.unit,
                "words": [
                    {"id": w.id, "text": w.text, "box": w.box, "confidence": w.confidence} for w in p.words
                ],
                "marks": [{"id": m.id, "state": m.text, "box": m.box} for m in p.marks],
                "tables": tables.get(p.number, []),
            }
            for p in pages
        ],
        "pageCount": count,
        "schema": schema,
        "schemaEtag": schema_etag,
        "prediction": None,
        "labels": None,
        "labelsEtag": None,
        "review": None,
    }
    row = None
    with contextlib.suppress(ResourceNotFoundError):
        row = records.prediction(folder, doc)
    predicted = read(prediction_name(source)) if row and row.get("status") == "succeeded" else None
    if predicted and row:
        view["prediction"] = {
            "modelId": row.get("modelId"),
            "predictedAt": row.get("predictedAt"),
            "fields": _prediction(json.loads(predicted[0]), pages),
        }
    labels = read(labels_name(source))
    if labels:
        view["labelsEtag"] = str(labels[1].etag)
        view["labelsSavedBy"] = (labels[1].metadata or {}).get("saved_by", "")
        try:
            view["labels"] = _labels(json.loads(labels[0]), pages)
        except (ValueError, AttributeError, TypeError):
            view["labels"] = {}
            view["labelsProblem"] = "the labels file is not valid JSON of the labeling tool's format"
    if row and row.get("modelId"):
        try:
            review = records.get(records.reviews, str(row["modelId"]), doc)
        except ResourceNotFoundError:
            review = None
        if review:
            keys = ("agreed", "corrected", "missed", "spurious", "fields", "reviewedAt")
            view["review"] = {k: review.get(k) for k in keys}
    return view
