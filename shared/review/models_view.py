"""A folder's models for the Models page: status, training documents, per-field accuracy, promotion
decision and reason, accuracy in production; and "make current" (the same as `formloop promote`)."""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.clients.records import Records
from shared.names import encode_key
from shared.review.web import ApiError
from shared.settings import Settings
from shared.training.manual import promote

__all__ = ["PAGE_REASON", "folder_models", "make_current"]

PAGE_REASON = "promoted by hand (review page)"
MODEL_KEYS = ("modelId", "status", "isCurrent", "createdDateTime", "trainingDocumentCount", "labeledCount",
              "averageModelAccuracy", "promotion", "promotionReason", "candidateAccuracy", "currentAccuracy",
              "holdoutDocuments", "comparedWith", "reviewedDocuments", "reviewedAccuracy",
              "reviewedConfidentAccuracy", "apiVersion", "errors", "comparison", "newTrainingForms")


def folder_models(records: Records, folder: str) -> list[dict[str, Any]]:
    try:
        rows = records.folder_models(folder)
    except ResourceNotFoundError:
        return []
    out = []
    for row in sorted(rows, key=lambda r: str(r.get("createdDateTime") or ""), reverse=True):
        model = {k: row.get(k) for k in MODEL_KEYS}
        model["modelId"] = model["modelId"] or row.get("RowKey")
        try:
            fields = records.fields.query_entities("PartitionKey eq @pk",
                                                   parameters={"pk": encode_key(str(model["modelId"]))})
            model["fields"] = sorted(({"name": f.get("fieldName"), "accuracy": f.get("accuracy")}
                                      for f in fields), key=lambda f: str(f["name"]))
        except ResourceNotFoundError:
            model["fields"] = []
        out.append(model)
    return out


def make_current(settings: Settings, records: Records, folder: str, body: Any, by: str) -> dict[str, Any]:
    model_id = str(body.get("modelId") or "") if isinstance(body, dict) else ""
    if not model_id:
        raise ApiError(400, "MissingModel", "the body names the model: {\"modelId\": ...}")
    try:
        done = promote(settings, records, folder, model_id, reason=f"{PAGE_REASON} by {by}")
    except ValueError as exc:
        raise ApiError(409, "CannotPromote", str(exc)) from exc
    return {"modelId": model_id, "previous": done.previous, "changed": done.changed}
