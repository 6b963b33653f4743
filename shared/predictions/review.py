"""Labels landed on a form a model predicted: that is a person's review of the model's output.

The comparison goes to `Reviews` (PartitionKey = model id, RowKey = document), and the model's row
gets its accuracy in production: agreed / fields over all its reviews, and the same for the fields
it was confident about (≥ REVIEW_CONFIDENCE). A form the model trained on is not evidence about it
(it would only measure memory), so it gets no review. A changed labels file replaces the review.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.clients.records import Records, now_iso
from shared.clients.storage import blob_service
from shared.names import basename, folder_of, labels_name
from shared.predictions.field_values import Comparison, compare, labeled_values, stored_fields
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ReviewOutcome:
    status: str  # reviewed | trained-on | no-prediction | gone
    model_id: str = ""
    comparison: Comparison | None = None


def compare_with_prediction(settings: Settings, records: Records, source_name: str,
                            labels_raw: bytes | None = None) -> tuple[ReviewOutcome, dict[str, Any] | None]:
    """What a review of these labels finds (nothing is written), and the form's Predictions row. The
    review page shows it right after a save; `review_form` records it."""
    folder, doc = folder_of(source_name), basename(source_name)
    prediction = records.prediction(folder, doc)
    if not prediction or prediction.get("status") != "succeeded":
        return ReviewOutcome("no-prediction"), prediction
    model_id = str(prediction["modelId"])
    if records.trained_on(model_id, doc):
        return ReviewOutcome("trained-on", model_id), prediction
    container = blob_service(settings).get_container_client(settings.forms_container)

    def read_blob(name: str) -> bytes:
        return bytes(container.get_blob_client(name).download_blob().readall())

    if labels_raw is None:
        try:
            labels_raw = read_blob(labels_name(source_name))
        except ResourceNotFoundError:
            return ReviewOutcome("gone", model_id), prediction
    predicted = stored_fields(prediction, read_blob)  # whole fields even where the row has a slim copy
    result = compare(predicted, labeled_values(labels_raw), settings.review_confidence)
    return ReviewOutcome("reviewed", model_id, result), prediction


def review_form(settings: Settings, records: Records, source_name: str,
                labels_raw: bytes | None = None) -> ReviewOutcome:
    """Compare a form's valid labels with its prediction and record the review."""
    folder, doc = folder_of(source_name), basename(source_name)
    outcome, prediction = compare_with_prediction(settings, records, source_name, labels_raw)
    if outcome.status == "trained-on":
        records.merge_prediction(folder, doc, reviewStatus="trainedOn")
    if outcome.status != "reviewed" or outcome.comparison is None or prediction is None:
        return outcome
    model_id, result = outcome.model_id, outcome.comparison
    records.merge(records.reviews, model_id, doc, modelId=model_id, folder=folder, document=doc,
                  fields=result.fields, agreed=len(result.agreed), corrected=len(result.corrected),
                  missed=len(result.missed), spurious=len(result.spurious), corrections=result.corrected,
                  missedFields=result.missed, spuriousFields=result.spurious,
                  confidentFields=result.confident_fields, confidentAgreed=result.confident_agreed,
                  tableRows=result.tables, sourceEtag=prediction.get("sourceEtag"), reviewedAt=now_iso())
    records.merge_prediction(folder, doc, reviewStatus="reviewed", reviewedAt=now_iso())
    refresh_model_accuracy(records, folder, model_id)
    log.info("review of %s by %s: %d of %d fields agreed", source_name, model_id, len(result.agreed),
             result.fields)
    return outcome


def refresh_model_accuracy(records: Records, folder: str, model_id: str) -> dict[str, Any]:
    """Recompute the model's production figures from all its reviews (idempotent: a changed review
    replaces its row, so sums are never double-counted)."""
    reviews = records.model_reviews(model_id)
    fields = sum(int(r.get("fields") or 0) for r in reviews)
    agreed = sum(int(r.get("agreed") or 0) for r in reviews)
    confident = sum(int(r.get("confidentFields") or 0) for r in reviews)
    confident_agreed = sum(int(r.get("confidentAgreed") or 0) for r in reviews)
    figures = {"reviewedDocuments": len(reviews), "reviewedFields": fields, "reviewedAgreed": agreed,
               "reviewedAccuracy": round(agreed / fields, 4) if fields else None,
               "reviewedConfidentFields": confident,
               "reviewedConfidentAccuracy": round(confident_agreed / confident, 4) if confident else None}
    records.merge_model(folder, model_id, **figures)
    return figures
