"""FORM_RECOGNIZER_API=2.0-preview: the 2019 preview dialect from OCR to a ready model, against the real
Azurite and engine."""

from __future__ import annotations

import json
import time
from pathlib import Path

from shared.clients.storage import blob_service
from shared.forms.ocr import process_source
from shared.training.poll import poll_training_runs
from shared.training.start import start_training_if_due
from tests.helpers.pipeline import Stack, prepare_labeled_folder, upload_form


def test_the_2019_preview_dialect_runs_the_loop_against_the_real_engine(
    stack: Stack, forms: list, data_dir: Path
) -> None:
    """FORM_RECOGNIZER_API=2.0-preview: readLayout/asyncAnalyze for OCR, custom/asyncTrain for training."""
    s = stack.with_settings(FORM_RECOGNIZER_API="2.0-preview", TRAINING_THRESHOLD="5")
    name = upload_form(s, "old", forms[0].path)
    assert process_source(s.settings, name, s.client, s.records).status == "succeeded"
    ocr = blob_service(s.settings).get_blob_client(s.settings.forms_container, name + ".ocr.json")
    body = json.loads(ocr.download_blob().readall())
    assert body["status"] == "succeeded" and body["analyzeResult"]["readResults"][0]["lines"]
    assert ocr.get_blob_properties().metadata["api_version"] == "2.0-preview"

    prepare_labeled_folder(s, data_dir, "po", 5)
    decision = start_training_if_due(s.settings, "po", s.client, s.records)
    assert decision.train
    run = s.records.folder_runs("po")[0]
    assert "/formrecognizer/v2.0-preview/" in run["operationUrl"]
    deadline = time.monotonic() + 120
    while not poll_training_runs(s.settings, s.client, s.records).finished:
        assert time.monotonic() < deadline, "the preview-dialect run did not finish"
        time.sleep(0.5)
    run = s.records.run("po", run["runId"])
    assert run and run["status"] == "succeeded" and run["modelId"]
    assert s.records.folder_models("po")[0]["isCurrent"] is True
