"""A form with its OCR in a folder with a current model → `<form>.prediction.json` and a Predictions row.

Exactly once per (form version, model): the row holds the source ETag and the model id, and an
analysis of the same pair is not started again while one is fresh or done. Errors are handled as
for OCR: a bad document or a model that is gone (404) is recorded `failed` and not retried; a fault
on the service's side is `retrying` (the caller re-raises; the host and the sweep retry) until
OCR_MAX_ATTEMPTS, then `failed`. The engine is the service itself: nothing loops.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import ContentSettings

from shared.clients.formrecognizer import FormRecognizerClient, FormRecognizerError, content_type_for
from shared.clients.records import Records, lost_race, now_iso, parse_iso
from shared.clients.storage import blob_service
from shared.names import basename, folder_of, labels_name, prediction_name
from shared.predictions.field_values import predicted_fields
from shared.predictions.review import review_form
from shared.settings import Settings

log = logging.getLogger(__name__)
MODEL_GONE_CODES = frozenset({"1022", "ModelNotFound", "NotFound"})
MAX_FIELDS_CHARS = 7900  # under records.MAX_TEXT, which would cut the JSON mid-way


@dataclass
class PredictionOutcome:
    status: str  # predicted | skipped | busy | no-model | other-api | failed | gone
    model_id: str = ""
    field_count: int = 0
    low_confidence: int = 0
    detail: str = ""


def _claim(records: Records, folder: str, doc: str, model_id: str, etag: str, stale_after: float) -> int:
    """The attempt number of analysing this version with this model, or 0 when it is not ours to do
    (done, failed for good, or fresh in someone else's hands)."""
    row, row_etag = records.get_with_etag(records.predictions, folder, doc)
    row = row or {}
    same = row.get("modelId") == model_id and row.get("sourceEtag") == etag
    if same and row.get("status") in ("succeeded", "failed"):
        return 0
    if same and row.get("status") == "processing" and (
            time.time() - parse_iso(str(row.get("claimedAt", ""))) < stale_after):
        return 0
    attempts = int(row.get("attempts") or 0) + 1 if same else 1
    props = {"folder": folder, "document": doc, "modelId": model_id, "sourceEtag": etag,
             "status": "processing", "claimedAt": now_iso(), "attempts": attempts, "errorCode": "",
             "errorMessage": ""}
    try:
        records.conditional_write(records.predictions, folder, doc, row_etag, props)
    except HttpResponseError as exc:
        if lost_race(exc):
            return 0
        raise
    return attempts


def usable_model(settings: Settings, records: Records, folder: str,
                 state: dict[str, Any] | None = None) -> tuple[str, str]:
    """(the folder's current model, '') when this API version can analyze with it; else ('', why not).
    After FORM_RECOGNIZER_API changed, the current model belongs to the other version until a model
    for this one is trained: asking with it would only fail ("the model is gone") and replace
    predictions that succeeded with failures, so nothing is asked."""
    model_id, api = records.current_model(folder, state)
    if model_id and api and api != settings.fr_api:
        return "", (f"the current model {model_id} was trained for API {api}; FORM_RECOGNIZER_API="
                    f"{settings.fr_api} cannot use it, so forms wait for a model trained for it")
    return model_id, ""


def predict_form(settings: Settings, blob_name: str, client: FormRecognizerClient, records: Records,
                 model_id: str = "", content: bytes | None = None, etag: str = "") -> PredictionOutcome:
    """Analyze one form with `model_id` (default: its folder's current model, if this API version can
    use it). `content` and `etag` are the form's bytes and version when the caller already has them
    (the blob trigger)."""
    folder, doc = folder_of(blob_name), basename(blob_name)
    if not model_id:
        model_id, why = usable_model(settings, records, folder)
        if why:
            return PredictionOutcome("other-api", detail=why)
    if not model_id:
        return PredictionOutcome("no-model")
    container = blob_service(settings).get_container_client(settings.forms_container)
    source = container.get_blob_client(blob_name)
    try:
        if not etag:
            etag = str(source.get_blob_properties().etag).strip('"')
        attempts = _claim(records, folder, doc, model_id, etag, settings.ocr_claim_seconds)
        if not attempts:
            return PredictionOutcome("skipped", model_id)
        if content is None:
            content = source.download_blob(etag=etag, match_condition=MatchConditions.IfNotModified).readall()
    except ResourceNotFoundError:
        return PredictionOutcome("gone", model_id)
    except HttpResponseError as exc:
        if getattr(exc, "status_code", None) != 412:
            raise
        return PredictionOutcome("gone", model_id, detail="replaced while read (its own event predicts it)")
    started = time.monotonic()
    try:
        body, raw = client.analyze_custom(model_id, content, content_type_for(content[:8], blob_name),
                                          settings.ocr_deadline_seconds)
    except FormRecognizerError as exc:
        retry = exc.transient and attempts < settings.ocr_max_attempts
        gone = exc.status == 404 or exc.code in MODEL_GONE_CODES
        records.merge_prediction(folder, doc, status="retrying" if retry else "failed", errorCode=exc.code,
                                 errorMessage=("the model is gone: " if gone else "") + exc.message,
                                 failedAt=now_iso())
        if retry:
            raise
        log.warning("prediction of %s by %s failed: %s %s", blob_name, model_id, exc.code, exc.message)
        return PredictionOutcome("failed", model_id, detail=f"{exc.code}: {exc.message}")
    fields = predicted_fields(body)
    found = {k: v for k, v in fields.items() if v["text"]}
    low = sorted(k for k, v in found.items() if not isinstance(v["confidence"], int | float)
                 or v["confidence"] < settings.review_confidence)
    confidences = [v["confidence"] for v in found.values() if isinstance(v["confidence"], int | float)]
    labeled = container.get_blob_client(labels_name(blob_name)).exists()
    container.get_blob_client(prediction_name(blob_name)).upload_blob(
        raw, overwrite=True, content_settings=ContentSettings(content_type="application/json"),
        metadata={"model_id": model_id, "source_etag": etag})
    records.merge_prediction(
        folder, doc, blobName=blob_name, status="succeeded", modelId=model_id, sourceEtag=etag,
        predictedAt=now_iso(), durationSeconds=round(time.monotonic() - started, 3), fieldCount=len(found),
        lowConfidenceFields=len(low), lowConfidenceNames=low,
        lowestConfidence=min(confidences) if confidences else None,
        reviewStatus="needsReview" if low else "confident", fields=fields_property(fields))
    if labeled:  # labels came first: the prediction is reviewed at once (or marked trainedOn)
        review_form(settings, records, blob_name)
    return PredictionOutcome("predicted", model_id, len(found), len(low))


def fields_property(fields: dict[str, dict[str, Any]]) -> str:
    """The fields as one JSON table property, made to fit (a property holds 32K characters; rows keep
    well under): boxes go first, then values (texts cut at 80 characters), then whole fields from the
    end. What lacks its `value` is a slimmed copy: `stored_fields` reads the prediction file instead,
    which always has everything."""
    def dumped(value: dict[str, dict[str, Any]]) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    text = dumped(fields)
    if len(text) <= MAX_FIELDS_CHARS:
        return text
    slim = {k: {x: y for x, y in v.items() if x != "boundingBox"} for k, v in fields.items()}
    text = dumped(slim)
    if len(text) <= MAX_FIELDS_CHARS:
        return text
    slim = {k: {"text": str(v.get("text") or "")[:80], "confidence": v.get("confidence")}
            for k, v in fields.items()}
    while len(text := dumped(slim)) > MAX_FIELDS_CHARS:  # never JSON cut mid-way
        slim.pop(next(reversed(slim)))
    return text
