"""The prediction-request queue trigger: a model became current, so its folder's unreviewed forms are
predicted again by it. A malformed message goes straight to the poison queue."""

from __future__ import annotations

import logging

from shared.clients.formrecognizer import FormRecognizerClient
from shared.clients.queues import BadMessage, parse_request, send_to_poison
from shared.clients.records import Records
from shared.predictions.repredict import RepredictReport, repredict_folder
from shared.settings import Settings

__all__ = ["on_prediction_request"]

log = logging.getLogger(__name__)


def on_prediction_request(settings: Settings, body: str, client: FormRecognizerClient,
                          records: Records) -> RepredictReport | None:
    try:
        folder, model_id = parse_request(body)
    except (BadMessage, ValueError) as exc:  # never processable: straight to the poison queue
        send_to_poison(settings, body, settings.prediction_poison_queue)
        log.error("prediction request poisoned: %s", exc)
        return None
    return repredict_folder(settings, folder, model_id, client, records)
