"""The blob function's body: route one blob by what it is; our own outputs and others are ignored.

A form is OCR'd, then (when its folder has a current model) predicted in the same invocation, so a
form's extracted values follow its upload without a queue hop. A valid labels file is recorded, then
compared with the form's prediction (a review)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.clients.delivered import DeliveredBlob
from shared.clients.formrecognizer import FormRecognizerClient
from shared.clients.records import Records
from shared.forms.labels import process_labels
from shared.forms.ocr import process_source
from shared.names import BlobKind, classify, source_of_labels
from shared.predictions.predict import predict_form
from shared.predictions.review import review_form
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class BlobResult:
    kind: BlobKind
    status: str
    detail: str = ""


def name_in_container(settings: Settings, trigger_name: str) -> str:
    """The host passes `<container>/<path>`; the pipeline works with `<path>`."""
    prefix = settings.forms_container + "/"
    return trigger_name[len(prefix):] if trigger_name.startswith(prefix) else trigger_name


def on_blob(settings: Settings, blob_name: str, client: FormRecognizerClient,
                records: Records, delivered: DeliveredBlob | None = None) -> BlobResult:
    """`delivered`: what the trigger already read (see shared/clients/delivered.py); None reads storage."""
    kind = classify(blob_name)
    if kind is BlobKind.SOURCE:
        outcome = process_source(settings, blob_name, client, records, delivered)
        detail = f"{outcome.error_code}: {outcome.error_message}" if outcome.error_code else ""
        if outcome.status in ("succeeded", "skipped"):
            content = delivered.content if delivered is not None else None
            predicted = predict_form(settings, blob_name, client, records, content=content,
                                     etag=delivered.etag if delivered is not None else "")
            if predicted.status == "other-api":
                detail = f"not predicted: {predicted.detail}"
            elif predicted.status not in ("no-model", "skipped"):
                detail = f"prediction {predicted.status} by {predicted.model_id} {predicted.detail}".strip()
        return BlobResult(kind, outcome.status, detail)
    if kind is BlobKind.LABELS:
        check = process_labels(settings, blob_name, records, delivered=delivered)
        if check is None:
            return BlobResult(kind, "gone")
        if check.ok:
            review = review_form(settings, records, source_of_labels(blob_name),
                                 delivered.content if delivered is not None else None)
            if review.status == "reviewed":
                return BlobResult(kind, "valid", f"reviewed {review.model_id}")
        return BlobResult(kind, "valid" if check.ok else "invalid", check.message)
    log.debug("ignoring %s (%s)", blob_name, kind.value)
    return BlobResult(kind, "ignored")
