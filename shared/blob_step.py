"""The blob function's body: route one blob by what it is; our own outputs and others are ignored."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.delivered import DeliveredBlob
from shared.formrecognizer import FormRecognizerClient
from shared.labels_step import process_labels
from shared.names import BlobKind, classify
from shared.ocr_step import process_source
from shared.records import Records
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


def handle_blob(settings: Settings, blob_name: str, client: FormRecognizerClient,
                records: Records, delivered: DeliveredBlob | None = None) -> BlobResult:
    """`delivered`: what the trigger already read (see shared/delivered.py); None reads storage."""
    kind = classify(blob_name)
    if kind is BlobKind.SOURCE:
        outcome = process_source(settings, blob_name, client, records, delivered)
        detail = f"{outcome.error_code}: {outcome.error_message}" if outcome.error_code else ""
        return BlobResult(kind, outcome.status, detail)
    if kind is BlobKind.LABELS:
        check = process_labels(settings, blob_name, records, delivered=delivered)
        if check is None:
            return BlobResult(kind, "gone")
        return BlobResult(kind, "valid" if check.ok else "invalid", check.message)
    log.debug("ignoring %s (%s)", blob_name, kind.value)
    return BlobResult(kind, "ignored")
