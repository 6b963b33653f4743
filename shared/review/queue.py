"""A folder's forms in the order a reviewer should take them, with counts per state.

Order: `needsReview` (a field below REVIEW_CONFIDENCE) by ascending lowest confidence, then predicted
forms nobody reviewed, then forms with neither labels nor a prediction, then labeled ones (reviewed,
trained on, or labeled before any model). Built from one listing and two partition queries.
"""

from __future__ import annotations

import json
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.clients.listing import list_versions
from shared.clients.records import Records
from shared.clients.storage import blob_service
from shared.forms.inventory import FolderInventory, inventory
from shared.names import BlobKind, classify, folder_of
from shared.review.web import ApiError
from shared.settings import Settings

__all__ = ["STATES", "folder_inventory", "folders", "form_queue", "model_summary"]

STATES = ("needsReview", "predicted", "unlabeled", "labeled")


def folders(settings: Settings) -> list[dict[str, Any]]:
    """Every folder holding forms, with how many (nested folders are folders of their own)."""
    container = blob_service(settings).get_container_client(settings.forms_container)
    counts: dict[str, int] = {}
    schema: set[str] = set()
    for name, _etag, _type in list_versions(container):
        kind = classify(name)
        if kind is BlobKind.SOURCE:
            counts[folder_of(name)] = counts.get(folder_of(name), 0) + 1
        elif kind is BlobKind.FIELDS:
            schema.add(folder_of(name))
            counts.setdefault(folder_of(name), 0)
    return [{"folder": f, "forms": n, "hasSchema": f in schema} for f, n in sorted(counts.items())]


def folder_inventory(settings: Settings, folder: str) -> FolderInventory:
    """The folder's inventory; a folder with no blob at all is refused (names come from the client)."""
    inv = inventory(settings, folder)
    if not inv.sources and not inv.labels and not inv.ocr:
        container = blob_service(settings).get_container_client(settings.forms_container)
        prefix = f"{folder}/" if folder else ""
        first = next(iter(container.list_blobs(name_starts_with=prefix or None, results_per_page=1)), None)
        if first is None:
            raise ApiError(404, "NoSuchFolder", f"there is no folder {folder!r} in the container")
    return inv


def _rows(query: Any) -> dict[str, dict[str, Any]]:
    try:
        return query()
    except ResourceNotFoundError:  # the table does not exist yet: nothing recorded
        return {}


def _names(value: Any) -> list[str]:
    """A list property as the records store it (JSON text; a list when written by hand)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _state(labeled: bool, prediction: dict[str, Any] | None) -> str:
    if labeled:
        return "labeled"
    if prediction and prediction.get("status") == "succeeded":
        return "needsReview" if prediction.get("reviewStatus") == "needsReview" else "predicted"
    return "unlabeled"


def form_queue(settings: Settings, records: Records, folder: str, state: str = "",
               field: str = "") -> dict[str, Any]:
    if state and state not in STATES:
        raise ApiError(400, "BadState", f"state must be one of {', '.join(STATES)}")
    inv = folder_inventory(settings, folder)
    predictions = _rows(lambda: records.folder_predictions(folder))
    documents = _rows(lambda: records.folder_documents(folder, ["status", "labelsStatus", "errorMessage"]))
    items = []
    for doc in inv.sources:
        p = predictions.get(doc)
        succeeded = bool(p and p.get("status") == "succeeded")
        row = documents.get(doc) or {}
        items.append({
            "document": doc,
            "state": _state(doc in inv.labels, p),
            "hasOcr": doc in inv.ocr,
            "ocrStatus": row.get("status"),
            "labelsStatus": row.get("labelsStatus"),
            "modelId": p.get("modelId") if succeeded and p else None,
            "lowestConfidence": p.get("lowestConfidence") if succeeded and p else None,
            "lowConfidenceNames": _names((p or {}).get("lowConfidenceNames")) if succeeded else [],
            "reviewStatus": (p or {}).get("reviewStatus"),
        })
    counts = {s: sum(1 for i in items if i["state"] == s) for s in STATES}
    order = {s: n for n, s in enumerate(STATES)}
    items.sort(key=lambda i: (order[i["state"]], i["lowestConfidence"] if i["lowestConfidence"] is not None
                              else 2.0, i["document"]))
    if state:
        items = [i for i in items if i["state"] == state]
    if field:
        items = [i for i in items if field in i["lowConfidenceNames"]]
    return {"folder": folder, "counts": counts, "total": len(inv.sources), "forms": items,
            "model": model_summary(records, folder)}


def model_summary(records: Records, folder: str) -> dict[str, Any] | None:
    """The folder's current model with its promotion decision and production accuracy."""
    try:
        current = records.current_model_id(folder)
        row = records.model(folder, current) if current else None
    except ResourceNotFoundError:
        return None
    if not row:
        return None
    keys = ("modelId", "status", "promotion", "promotionReason", "reviewedAccuracy", "reviewedDocuments",
            "reviewedConfidentAccuracy", "averageModelAccuracy", "trainingDocumentCount", "apiVersion",
            "createdDateTime")
    return {k: row.get(k) for k in keys} | {"modelId": current}
