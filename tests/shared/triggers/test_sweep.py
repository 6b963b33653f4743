"""Issue 21 item 8: an idle sweep does not read again what failed for good (real Azurite behind a
byte-counting relay, real engine)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from formloop.stack import AzuriteInfo, EngineInfo
from shared.clients.records import Records
from shared.clients.storage import ensure_resources
from shared.settings import load_settings
from shared.training.start import start_training_if_due
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import Stack, fast_client, pipeline_env
from tests.helpers.traffic import counted

PO = "purchase-orders"
MB = 1024 * 1024


def _oversized_labels(document: str) -> bytes:
    """A labels file of 9 MB: over the 8 MiB limit, so its verdict is `failed` and it has no hash."""
    return json.dumps({"document": document, "labels": [], "padding": "x" * (9 * MB)}).encode()


def test_an_idle_sweep_does_not_read_again_what_failed_for_good(
    azurite: AzuriteInfo, engine: EngineInfo, data_dir: Path
) -> None:
    with counted(azurite) as traffic:
        env = pipeline_env(traffic.azurite, engine.endpoint, engine.api_key)
        settings = load_settings(env)
        ensure_resources(settings)
        stack = Stack(settings, Records(settings), fast_client(settings), env)
        stack.upload("idle/Random.pdf", b"%PDF-1.7\n" + os.urandom(25 * MB))  # no PDF inside
        stack.upload("idle/Form_1.jpg", (data_dir / PO / "Form_1.jpg").read_bytes())
        stack.upload("idle/Form_1.jpg.ocr.json", (data_dir / PO / "Form_1.jpg.ocr.json").read_bytes())
        stack.upload("idle/Form_1.jpg.labels.json", _oversized_labels("Form_1.jpg"))
        time.sleep(settings.sweep_grace_seconds + 0.1)

        first = sweep(settings, stack.client, stack.records)  # the verdicts: both unusable
        assert not first.errors and first.ocr_started == []
        form, form_etag = stack.records.get_with_etag(stack.records.documents, "idle", "Random.pdf")
        assert form and form["status"] == "failed", form
        labels, labels_etag = stack.records.get_with_etag(stack.records.documents, "idle", "Form_1.jpg")
        assert labels and labels["labelsStatus"] == "failed" and "larger than" in labels["labelsErrorMessage"]

        traffic.reset()
        idle = sweep(settings, stack.client, stack.records)
        assert not idle.errors and idle.ocr_started == [] and idle.folders_requested == []
        assert traffic.total < 1 * MB, f"an idle sweep moved {traffic.total} bytes"
        traffic.reset()
        decision = start_training_if_due(settings, "idle", stack.client, stack.records)
        assert not decision.train and traffic.total < 1 * MB, f"a decision moved {traffic.total} bytes"
        # the verdicts stand as they were written: neither row was rewritten
        assert stack.records.get_with_etag(stack.records.documents, "idle", "Random.pdf")[1] == form_etag
        assert stack.records.get_with_etag(stack.records.documents, "idle", "Form_1.jpg")[1] == labels_etag

        # a new version of either is read again: the verdict belongs to a version, not to a name
        labels_ok = json.loads((data_dir / PO / "Form_1.jpg.labels.json").read_text())
        stack.upload("idle/Form_1.jpg.labels.json", json.dumps(labels_ok).encode())
        stack.upload("idle/Random.pdf", b"%PDF-1.7\n" + os.urandom(1000))
        time.sleep(settings.sweep_grace_seconds + 0.1)
        sweep(settings, stack.client, stack.records)
        again = stack.records.document("idle", "Random.pdf")
        assert again["status"] == "failed" and again["sourceEtag"] != form["sourceEtag"]
        assert stack.records.document("idle", "Form_1.jpg")["labelsStatus"] == "valid"
