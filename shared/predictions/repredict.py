"""The `prediction-requests` queue: when a model becomes current, its folder's unreviewed forms are
predicted again by it, through a queue so the timer that promoted it is not held up.

One message per promotion (rare and deliberate, so no coalescing is needed); handling it is
idempotent (a form already predicted by that model for its current version is skipped), bounded by
REPREDICT_LIMIT forms, and a message for a model that is no longer current does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shared.clients.formrecognizer import FormRecognizerClient, FormRecognizerError
from shared.clients.records import Records
from shared.forms.inventory import inventory
from shared.names import join
from shared.predictions.predict import predict_form, usable_model
from shared.settings import Settings

log = logging.getLogger(__name__)


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
    current, why = usable_model(settings, records, folder)
    if current != model_id:
        log.info("repredict of %r by %s skipped: %s", folder, model_id, why or "no longer its current model")
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
