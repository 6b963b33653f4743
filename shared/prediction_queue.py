"""The `prediction-requests` queue: when a model becomes current, its folder's unreviewed forms are
predicted again by it, through a queue so the timer that promoted it is not held up.

One message per promotion (rare and deliberate, so no coalescing is needed); handling it is
idempotent (a form already predicted by that model for its current version is skipped), bounded by
REPREDICT_LIMIT forms, and a message for a model that is no longer current does nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from shared.formrecognizer import FormRecognizerClient, FormRecognizerError
from shared.names import join
from shared.prediction_step import predict_form
from shared.records import Records
from shared.settings import Settings
from shared.storage import queue_service
from shared.training_policy import inventory
from shared.training_queue import BadMessage, parse_message, send_to_poison

log = logging.getLogger(__name__)


def request_repredict(settings: Settings, folder: str, model_id: str) -> None:
    queue = queue_service(settings).get_queue_client(settings.prediction_queue)
    queue.send_message(json.dumps({"folder": folder, "modelId": model_id}))


def parse_request(body: str) -> tuple[str, str]:
    folder = parse_message(body)  # the same checks as a training request's folder
    model_id = json.loads(body).get("modelId")
    if not isinstance(model_id, str) or not model_id or len(model_id) > 1024:
        raise BadMessage(f"message must name a 'modelId': {body[:200]!r}")
    return folder, model_id


@dataclass
class RepredictReport:
    predicted: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    left_for_later: int = 0


def repredict_folder(settings: Settings, folder: str, model_id: str, client: FormRecognizerClient,
                     records: Records) -> RepredictReport:
    """Predict the folder's unlabeled, OCR'd forms with `model_id` (still current), newest rows last."""
    report = RepredictReport()
    if records.current_model_id(folder) != model_id:
        log.info("repredict of %r by %s skipped: no longer its current model", folder, model_id)
        return report
    inv = inventory(settings, folder)
    rows = records.folder_predictions(folder)
    todo = [doc for doc in sorted(inv.sources & inv.ocr) if doc not in inv.labels
            and (rows.get(doc) or {}).get("modelId") != model_id]
    report.left_for_later = max(0, len(todo) - settings.repredict_limit)
    transient: list[FormRecognizerError] = []
    for doc in todo[:settings.repredict_limit]:
        try:
            outcome = predict_form(settings, join(folder, doc), client, records, model_id=model_id)
        except FormRecognizerError as exc:
            transient.append(exc)
            report.failed.append(doc)
            continue
        if outcome.status == "predicted":
            report.predicted.append(doc)
        elif outcome.status == "failed":
            report.failed.append(doc)
        else:
            report.skipped += 1
    if transient:
        raise transient[0]  # the host retries the message; forms done already are skipped then
    return report


def handle_prediction_message(settings: Settings, body: str, client: FormRecognizerClient,
                              records: Records) -> RepredictReport | None:
    try:
        folder, model_id = parse_request(body)
    except (BadMessage, ValueError) as exc:  # never processable: straight to the poison queue
        send_to_poison(settings, body, settings.prediction_poison_queue)
        log.error("prediction request poisoned: %s", exc)
        return None
    return repredict_folder(settings, folder, model_id, client, records)
