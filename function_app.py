"""The Functions entry point (Python v2 model): triggers only; each calls one function of
`shared/triggers/`, in the module named after the trigger.

- `on_blob`: a form → Layout → `<form>.ocr.json`; a `.labels.json` → validated, folder queued.
- `on_training_request`: trains a folder when its labeled set is due (exactly one run per version).
- `on_prediction_request`: a model became current: its folder's unreviewed forms are predicted again.
- `poll_training_runs`: follows runs to their end, records outcomes (and promotion), sweeps for
  missed events.
- `review_page`: the review and labeling web page and its JSON API under `/api/review/`.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared import runtime
from shared.clients.delivered import delivered_blob
from shared.settings import timer_runs_on_startup, uses_event_grid_source
from shared.triggers import blob, prediction_request, review, timer, training_request

app = func.FunctionApp()

_blob_source = (func.BlobSource.EVENT_GRID if uses_event_grid_source()
                else func.BlobSource.LOGS_AND_CONTAINER_SCAN)


@app.blob_trigger(arg_name="stream", path="%FORMS_CONTAINER%/{name}", connection="FORMS_STORAGE",
                  source=_blob_source)
def on_blob(stream: func.InputStream) -> None:
    settings = runtime.settings()
    result = blob.on_blob(settings, blob.name_in_container(settings, stream.name or ""),
                          runtime.fr_client_for(settings), runtime.records_for(settings),
                          delivered_blob(stream))
    logging.info("blob %s: %s %s %s", stream.name, result.kind.value, result.status, result.detail)


@app.queue_trigger(arg_name="msg", queue_name="%TRAINING_QUEUE%", connection="FORMS_STORAGE")
def on_training_request(msg: func.QueueMessage) -> None:
    settings = runtime.settings()
    decision = training_request.on_training_request(
        settings, msg.get_body().decode("utf-8", "replace"), msg.dequeue_count or 1,
        runtime.fr_client_for(settings), runtime.records_for(settings))
    if decision is not None:
        logging.info("training request: train=%s (%s) run=%s", decision.train, decision.reason,
                     decision.run_id or "-")


@app.queue_trigger(arg_name="msg", queue_name="%PREDICTION_QUEUE%", connection="FORMS_STORAGE")
def on_prediction_request(msg: func.QueueMessage) -> None:
    settings = runtime.settings()
    report = prediction_request.on_prediction_request(
        settings, msg.get_body().decode("utf-8", "replace"), runtime.fr_client_for(settings),
        runtime.records_for(settings))
    if report is not None:
        logging.info("prediction request: %d predicted, %d skipped, %d failed, %d left for later",
                     len(report.predicted), report.skipped, len(report.failed), report.left_for_later)


@app.timer_trigger(arg_name="beat", schedule="%POLL_SCHEDULE%", run_on_startup=timer_runs_on_startup())
def poll_training_runs(beat: func.TimerRequest) -> None:
    settings = runtime.settings()
    timer.on_timer(settings, runtime.fr_client_for(settings), runtime.records_for(settings),
                   force_sweep=bool(beat.past_due))


@app.route(route="review/{*path}", methods=["GET", "POST", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
def review_page(req: func.HttpRequest) -> func.HttpResponse:
    # Anonymous at the platform: shared/review/access.py refuses every request without a verified
    # principal (the page's token locally, an Entra ID sign-in with the app role in Azure).
    return review.on_review(req)
