"""The periodic sweep that catches what events missed: forms with no `.ocr.json`, label files never
recorded, trainable folders whose queue message was lost, and forms deleted (no trigger reports a
deletion: see shared/forms/deletions.py). Events may arrive twice, late or never; this is the "never" part.
It lists the whole container, so it runs on the timer only and at most every SWEEP_INTERVAL_SECONDS,
never on the per-blob path. Each form and each folder is handled on its own: one that fails is logged
in one line and reported, and the sweep goes on (a bad item used to stop every later sweep there).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from shared.clients.formrecognizer import FormRecognizerClient
from shared.clients.queues import request_training
from shared.clients.records import Records
from shared.clients.storage import blob_service
from shared.errors import one_line
from shared.forms.deletions import reflect_deletions
from shared.forms.inventory import FolderInventory
from shared.forms.ocr import process_source
from shared.names import BlobKind, basename, classify, folder_of, join, source_of_labels, source_of_ocr
from shared.predictions.predict import predict_form, usable_model
from shared.predictions.review import review_form
from shared.settings import Settings
from shared.training.policy import labeled_set, run_in_flight
from shared.training.start import due

log = logging.getLogger(__name__)
OCR_BUDGET_SECONDS = 240.0  # stop starting new OCRs after this long; the next sweep continues


@dataclass
class SweepReport:
    ocr_started: list[str] = field(default_factory=list)
    folders_requested: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # forms whose deletion was reflected
    predicted: list[str] = field(default_factory=list)  # forms whose missed prediction was made
    errors: list[str] = field(default_factory=list)


def _listing(settings: Settings) -> tuple[dict[str, FolderInventory], dict[str, float]]:
    """The container by folder, and when each form and `.ocr.json` was last modified (epoch seconds)."""
    container = blob_service(settings).get_container_client(settings.forms_container)
    folders: dict[str, FolderInventory] = {}
    modified: dict[str, float] = {}
    for blob in container.list_blobs(include=["metadata"]):  # the metadata comes in the same pages
        kind = classify(blob.name)
        if kind in (BlobKind.FIELDS, BlobKind.OTHER, BlobKind.PREDICTION):
            continue
        folder = folder_of(blob.name)
        inv = folders.setdefault(folder, FolderInventory(folder))
        if kind is BlobKind.SOURCE:
            inv.sources.add(basename(blob.name))
            modified[blob.name] = blob.last_modified.timestamp()
        elif kind is BlobKind.OCR:
            inv.ocr.add(basename(source_of_ocr(blob.name)))
            modified[blob.name] = blob.last_modified.timestamp()
            if (blob.metadata or {}).get("api_version") not in (None, "", settings.fr_api):
                inv.stale_ocr.add(basename(source_of_ocr(blob.name)))
        else:
            inv.labels[basename(source_of_labels(blob.name))] = str(blob.etag).strip('"')
    return folders, modified


def _ocr_missing(settings: Settings, client: FormRecognizerClient, records: Records, inv: FolderInventory,
                 modified: dict[str, float], report: SweepReport, deadline: float, now: float) -> None:
    """OCR the folder's forms that have no `.ocr.json`, or one another API version wrote (after
    FORM_RECOGNIZER_API changed), one at a time; a form that fails is skipped."""
    for doc in sorted((inv.sources - inv.ocr) | (inv.sources & inv.stale_ocr)):
        name = join(inv.folder, doc)
        if now - modified.get(name, now) < settings.sweep_grace_seconds:
            continue  # young: its own event is probably being handled right now
        if time.monotonic() > deadline:
            return
        try:
            if process_source(settings, name, client, records).status == "succeeded":
                report.ocr_started.append(name)
                inv.ocr.add(doc)
        except Exception as exc:  # anything: a storage refusal (an archived form), a bug, a service error
            log.warning("sweep: %s skipped: %s", name, one_line(exc))
            report.errors.append(f"{name}: {one_line(exc)}")


def _predict_missing(settings: Settings, client: FormRecognizerClient, records: Records,
                     inv: FolderInventory, model_id: str, report: SweepReport, deadline: float) -> None:
    """Predict the unlabeled, OCR'd forms of a folder with a current model that its prediction missed
    (an invocation that died, an engine that was down until the host gave up)."""
    rows = records.folder_predictions(inv.folder)
    for doc in sorted((inv.sources & inv.ocr) - set(inv.labels)):
        row = rows.get(doc) or {}
        if row.get("modelId") == model_id and row.get("status") in ("succeeded", "failed", "deleted"):
            continue
        if time.monotonic() > deadline:
            return
        name = join(inv.folder, doc)
        try:
            if predict_form(settings, name, client, records, model_id=model_id).status == "predicted":
                report.predicted.append(name)
        except Exception as exc:  # as for OCR: one form never stops the sweep
            log.warning("sweep: prediction of %s skipped: %s", name, one_line(exc))
            report.errors.append(f"{name}: {one_line(exc)}")


def sweep(settings: Settings, client: FormRecognizerClient, records: Records) -> SweepReport:
    report = SweepReport()
    folders, modified = _listing(settings)
    deadline = time.monotonic() + OCR_BUDGET_SECONDS
    now = time.time()
    deletions = reflect_deletions(settings, records, folders, modified, now)
    report.deleted, report.errors = deletions.deleted, list(deletions.errors)
    for folder, inv in sorted(folders.items()):
        _ocr_missing(settings, client, records, inv, modified, report, deadline, now)
        try:  # one read of the folder's state serves its predictions and its training decision
            state, _ = records.get_folder_state(folder)
            model_id, _why = usable_model(settings, records, folder, state or {})
            if model_id:
                _predict_missing(settings, client, records, inv, model_id, report, deadline)
        except Exception as exc:
            log.warning("sweep: predictions of folder %r skipped: %s", folder, one_line(exc))
            report.errors.append(f"{folder}: {one_line(exc)}")
            continue
        if not inv.labels:
            continue
        try:
            labeled = labeled_set(settings, records, inv)
            for doc in labeled.rechecked:  # labels whose event was missed may review a prediction too
                if doc in labeled.docs:
                    review_form(settings, records, join(folder, doc))
            busy = run_in_flight(records, folder, state, settings.training_deadline_seconds, now)
            if due(settings, records, folder, labeled, state, busy)[0].train:
                request_training(settings, folder, coalesce=False)
                report.folders_requested.append(folder)
        except Exception as exc:  # one bad folder must not stop the sweep of the others
            log.exception("sweep of folder %r failed", folder)
            report.errors.append(f"{folder}: {exc}")
    return report
