"""Save what a person labeled on the page as `<form>.labels.json` in the labeling tool's format.

The file is built on the server from word ids (the words' own boxes and texts, in reading order), so
a browser or a script cannot write boxes that match no word by mistake; it then passes the same check
the pipeline applies to any labels file before it is written, and is written only if the labels are
still the version the page loaded (ETag): a concurrent save gets 409 with who saved and when. A table
cell is saved under its path (`Items/0/Description`), checked against the table's declaration and
written as the labeling tool writes it (shared/review/tables/fields.py `label_names`).
"""

from __future__ import annotations

import json
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContentSettings

from shared.clients.records import Records
from shared.clients.storage import blob_service
from shared.forms.label_format import check_document_name
from shared.forms.labels import check_content
from shared.names import join, labels_name, ocr_name
from shared.predictions.review import compare_with_prediction
from shared.review.form_view import MARK_TEXTS, Page, read_pages, read_schema
from shared.review.tables.fields import label_names
from shared.review.web import ApiError
from shared.settings import Settings

__all__ = ["LABELS_SCHEMA", "build_labels", "save_labels"]

LABELS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/labels.json"


def _poly(box: Any) -> list[float]:
    if not isinstance(box, list | tuple) or len(box) != 4:
        raise ApiError(400, "BadBox", "a region's box is [left, top, right, bottom], normalised 0..1")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ApiError(400, "BadBox", "a region's box must lie on the page (0..1) and have a size")
    return [round(v, 6) for v in (x0, y0, x1, y0, x1, y1, x0, y1)]


def _index(pages: list[Page]) -> tuple[dict[str, tuple[int, int, Any]], dict[str, tuple[int, Any]]]:
    words = {w.id: (p.number, n, w) for p in pages for n, w in enumerate(p.words)}
    marks = {m.id: (p.number, m) for p in pages for m in p.marks}
    return words, marks


def build_labels(doc: str, pages: list[Page], edits: dict[str, Any],
                 schema: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The labels file for `edits` ({field or cell: {words: [ids]} | {region: {page, box, text}} |
    {mark: id, state?}}); a field with nothing is left out (absence is how a file says empty), and so is
    a table row with nothing (the rows are numbered again from 0)."""
    if not isinstance(edits, dict):
        raise ApiError(400, "BadLabels", "'fields' must be an object of field name to value")
    label_names(schema, list(edits))  # every name declared, before anything is built
    words, marks = _index(pages)
    labels = []
    for name, edit in edits.items():
        if not isinstance(edit, dict):
            raise ApiError(400, "BadLabels", f"field {name!r}: expected an object")
        if edit.get("words"):
            ids = [str(i) for i in edit["words"]]
            unknown = [i for i in ids if i not in words]
            if unknown:
                raise ApiError(400, "UnknownWord", f"field {name!r}: no word {unknown[0]!r} on this form")
            ordered = sorted(dict.fromkeys(ids), key=lambda i: words[i][:2])
            value = [{"page": words[i][0], "text": words[i][2].text,
                      "boundingBoxes": [_poly(list(words[i][2].box))]} for i in ordered]
            labels.append({"label": name, "key": None, "value": value})
        elif edit.get("mark"):
            found = marks.get(str(edit["mark"]))
            if found is None:
                raise ApiError(400, "UnknownMark", f"field {name!r}: no selection mark {edit['mark']!r}")
            state = str(edit.get("state") or found[1].text)
            if state not in MARK_TEXTS:
                raise ApiError(400, "BadState", f"field {name!r}: a mark is 'selected' or 'unselected'")
            labels.append({"label": name, "key": None,
                           "value": [{"page": found[0], "text": state,
                                      "boundingBoxes": [_poly(list(found[1].box))]}]})
        elif edit.get("region"):
            region = edit["region"]
            page = region.get("page") if isinstance(region, dict) else None
            if not isinstance(page, int) or not 1 <= page <= max(len(pages), 1):
                raise ApiError(400, "BadRegion", f"field {name!r}: a region needs the page it is on")
            labels.append({"label": name, "key": None, "labelType": "region",
                           "value": [{"page": page, "text": str(region.get("text") or ""),
                                      "boundingBoxes": [_poly(region.get("box"))]}]})
    if not labels:
        raise ApiError(400, "NothingLabeled", "label at least one field before saving")
    written = label_names(schema, [label["label"] for label in labels])
    for label in labels:
        label["label"] = written[label["label"]]
    return {"$schema": LABELS_SCHEMA, "document": doc, "labels": labels}


def _conflict(blob: Any) -> ApiError:
    try:
        props = blob.get_blob_properties()
        who = (props.metadata or {}).get("saved_by") or "someone (not the review page: a tool or an upload)"
        when = props.last_modified.isoformat(timespec="seconds") if props.last_modified else "just now"
        what = f"{who} saved labels for this form at {when}"
    except ResourceNotFoundError:
        what = "someone deleted this form's labels"
    return ApiError(409, "Conflict", f"{what}, after you opened it. Nothing of yours was written: reload "
                                     "the form to see their labels, then make your change again.")


def save_labels(settings: Settings, records: Records, folder: str, doc: str, body: Any,
                saved_by: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BadLabels", "the body is {\"etag\": ..., \"fields\": {...}}")
    container = blob_service(settings).get_container_client(settings.forms_container)
    source = join(folder, doc)
    try:
        ocr = json.loads(container.get_blob_client(ocr_name(source)).download_blob().readall())
    except ResourceNotFoundError as exc:
        raise ApiError(409, "NoOcr", f"{doc} has no OCR yet: wait until its words show") from exc
    pages = read_pages(ocr)
    schema, _etag = read_schema(settings, folder)
    labels = build_labels(doc, pages, body.get("fields"), schema or None)
    raw = json.dumps(labels, ensure_ascii=False, indent=1).encode("utf-8")
    check = check_document_name(check_content(raw), doc)
    if not check.ok:
        raise ApiError(422, "InvalidLabels", check.message)
    blob = container.get_blob_client(labels_name(source))
    etag = body.get("etag")
    options: dict[str, Any] = {"content_settings": ContentSettings(content_type="application/json"),
                               "metadata": {"saved_by": saved_by[:200].encode("ascii", "replace").decode()}}
    try:
        if etag:
            result = blob.upload_blob(raw, overwrite=True, etag=str(etag),
                                      match_condition=MatchConditions.IfNotModified, **options)
        else:
            result = blob.upload_blob(raw, overwrite=False, **options)
    except (ResourceModifiedError, ResourceExistsError) as exc:
        raise _conflict(blob) from exc
    return {"etag": str(result.get("etag")), "labels": len(labels["labels"]),
            "review": preview_review(settings, records, folder, doc, raw)}


def preview_review(settings: Settings, records: Records, folder: str, doc: str,
                   raw: bytes) -> dict[str, Any] | None:
    """What the review of these labels says (the pipeline records the same in Reviews)."""
    try:
        outcome, _row = compare_with_prediction(settings, records, join(folder, doc), raw)
    except ResourceNotFoundError:  # no Predictions table yet
        return None
    if outcome.status == "trained-on":
        return {"modelId": outcome.model_id, "trainedOn": True}
    result = outcome.comparison
    if outcome.status != "reviewed" or result is None:
        return None
    return {"modelId": outcome.model_id, "trainedOn": False, "fields": result.fields,
            "agreed": len(result.agreed), "corrected": len(result.corrected), "missed": len(result.missed),
            "spurious": len(result.spurious), "corrections": result.corrected}
