"""Issue 14: `FORM_RECOGNIZER_API=2024-11-30` runs the whole loop on Document Intelligence v4.0 routes
(real Azurite, real engine): v4 `.ocr.json`, `documentModels:build` with a derived model id, polling
`operations/{id}`, predictions by `:analyze`, reviews."""

from __future__ import annotations

import json
import time
from pathlib import Path

from shared.clients.formrecognizer import v4_model_id
from shared.clients.storage import blob_service
from shared.training.poll import poll_training_runs
from shared.training.start import start_training_if_due
from shared.triggers.blob import on_blob
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import Stack

PO = "purchase-orders"


def test_the_loop_runs_on_document_intelligence_v4(stack: Stack, data_dir: Path) -> None:
    stack = stack.with_settings(FORM_RECOGNIZER_API="2024-11-30")
    po = data_dir / PO
    container = blob_service(stack.settings).get_container_client(stack.settings.forms_container)
    container.get_blob_client("v4/fields.json").upload_blob((po / "fields.json").read_bytes())
    for i in range(1, 6):
        name = f"v4/Form_{i}.jpg"
        stack.upload(name, (po / f"Form_{i}.jpg").read_bytes())
        assert on_blob(stack.settings, name, stack.client, stack.records).status == "succeeded"
        stack.upload(name + ".labels.json", (po / f"Form_{i}.jpg.labels.json").read_bytes())
        labeled = on_blob(stack.settings, name + ".labels.json", stack.client, stack.records)
        assert labeled.status == "valid"
    ocr = container.get_blob_client("v4/Form_1.jpg.ocr.json")
    body = json.loads(ocr.download_blob().readall())
    assert body["status"] == "succeeded" and body["analyzeResult"]["apiVersion"] == "2024-11-30"
    assert body["analyzeResult"]["pages"][0]["words"] and "readResults" not in body["analyzeResult"]
    assert ocr.get_blob_properties().metadata["api_version"] == "2024-11-30"
    row = stack.records.document("v4", "Form_1.jpg")
    assert row and row["pages"] == 1 and row["ocrApiVersion"] == "2024-11-30"

    decision = start_training_if_due(stack.settings, "v4", stack.client, stack.records)
    assert decision.train, decision.reason
    run = stack.records.run("v4", decision.run_id)
    assert run and "/documentintelligence/operations/" in run["operationUrl"]
    deadline = time.monotonic() + 240
    while (run := stack.records.run("v4", decision.run_id)) and run["status"] in ("submitted", "running"):
        assert time.monotonic() < deadline, "training did not finish"
        poll_training_runs(stack.settings, stack.client, stack.records)
        time.sleep(0.5)
    assert run and run["status"] == "succeeded", run
    model_id = str(run["modelId"])
    assert model_id == v4_model_id(f"v4-{decision.run_id}")
    model = stack.records.model("v4", model_id)
    assert model and model["isCurrent"] and model["fieldCount"] == 15 and model["trainingDocumentCount"] == 5
    assert model["apiVersion"] == "2024-11-30"

    new = "v4/New.jpg"
    stack.upload(new, (po / "Form_3.jpg").read_bytes())
    result = on_blob(stack.settings, new, stack.client, stack.records)
    assert result.detail.startswith(f"prediction predicted by {model_id}"), result
    prediction = stack.records.prediction("v4", "New.jpg")
    fields = json.loads(prediction["fields"])
    assert prediction["fieldCount"] >= 10 and fields["Total"]["page"] == 1
    assert len(fields["Total"]["boundingBox"]) == 8
    analyzed = json.loads(container.get_blob_client(new + ".prediction.json").download_blob().readall())
    assert analyzed["analyzeResult"]["documents"][0]["fields"]

    labels = json.loads((po / "Form_3.jpg.labels.json").read_text())
    labels["document"] = "New.jpg"
    stack.upload(new + ".labels.json", json.dumps(labels).encode())
    assert on_blob(stack.settings, new + ".labels.json", stack.client, stack.records).detail == (
        f"reviewed {model_id}")
    review = stack.records.get(stack.records.reviews, model_id, "New.jpg")
    assert review and review["agreed"] >= 10


def test_after_a_switch_to_v4_the_sweep_reads_forms_of_the_old_api_again_before_they_train(
    stack: Stack, data_dir: Path
) -> None:
    po = data_dir / PO
    name = "switch/Form_2.jpg"
    stack.upload(name, (po / "Form_2.jpg").read_bytes())
    assert on_blob(stack.settings, name, stack.client, stack.records).status == "succeeded"
    stack.upload(name + ".labels.json", (po / "Form_2.jpg.labels.json").read_bytes())
    stack.records.merge_document("switch", "Form_2.jpg", ocrAt="2026-01-01T00:00:00Z")  # read long before
    v4 = stack.with_settings(FORM_RECOGNIZER_API="2024-11-30", TRAINING_THRESHOLD="1")
    decision = start_training_if_due(v4.settings, "switch", v4.client, v4.records)
    assert not decision.train and decision.labeled_count == 0  # a v2.1 reading does not count for v4
    time.sleep(v4.settings.sweep_grace_seconds + 0.1)
    assert sweep(v4.settings, v4.client, v4.records).ocr_started == [name]
    ocr = blob_service(v4.settings).get_blob_client(v4.settings.forms_container, name + ".ocr.json")
    assert ocr.get_blob_properties().metadata["api_version"] == "2024-11-30"
    assert "pages" in json.loads(ocr.download_blob().readall())["analyzeResult"]
    assert sweep(v4.settings, v4.client, v4.records).ocr_started == []  # read once
