"""Issue 21 item 2: switching FORM_RECOGNIZER_API on a folder with a current model (real Azurite, real
engine): the model of the other version is not asked (earlier predictions stay as they were), the
unchanged labeled set is trained for the new version at once and its model replaces the old one; the
same on the way back. `formloop status` says what the folder waits for."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from formloop.cli import main
from shared.clients.records import FOLDER_STATE_KEY
from shared.training.start import start_training_if_due
from shared.triggers.blob import on_blob
from shared.triggers.prediction_request import on_prediction_request
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import Stack
from tests.helpers.training import train_to_end

PO = "purchase-orders"
FOLDER = "switch"
V4 = "2024-11-30"
PREDICTION = ("status", "modelId", "sourceEtag", "predictedAt", "fields", "reviewStatus")


def _status(stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "400")
    capsys.readouterr()
    assert main(["status", "--folder", FOLDER, "--connection-string", stack.settings.connection_string]) == 0
    return " ".join(capsys.readouterr().out.split())


def _labeled_folder(stack: Stack, data_dir: Path) -> None:
    """Five forms read by the pipeline (the fifth came with its own `.ocr.json`, which is kept), labeled."""
    po = data_dir / PO
    stack.upload(f"{FOLDER}/fields.json", (po / "fields.json").read_bytes())
    for i in range(1, 6):
        name = f"{FOLDER}/Form_{i}.jpg"
        stack.upload(name, (po / f"Form_{i}.jpg").read_bytes())
        if i == 5:
            stack.upload(name + ".ocr.json", (po / f"Form_{i}.jpg.ocr.json").read_bytes())
        assert on_blob(stack.settings, name, stack.client, stack.records).status == "succeeded"
        stack.upload(name + ".labels.json", (po / f"Form_{i}.jpg.labels.json").read_bytes())
        assert on_blob(stack.settings, name + ".labels.json", stack.client, stack.records).status == "valid"


def test_switching_the_api_trains_the_same_labels_for_it_at_once_and_keeps_earlier_predictions(
    stack: Stack, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _labeled_folder(stack, data_dir)
    _, first = train_to_end(stack, FOLDER)
    assert first["apiVersion"] == "v2.1" and first["promotion"] == "first"
    new = f"{FOLDER}/New.jpg"
    image = (data_dir / PO / "Form_3.jpg").read_bytes()
    stack.upload(new, image)
    assert on_blob(stack.settings, new, stack.client, stack.records).detail.startswith(
        f"prediction predicted by {first['modelId']}")
    before = stack.records.prediction(FOLDER, "New.jpg")
    assert before and before["status"] == "succeeded"
    # state written before the folder state kept the API version: the Models row says it
    stack.records.merge(stack.records.runs, FOLDER, FOLDER_STATE_KEY, lastApiVersion="", currentModelApi="")
    for i in range(1, 6):  # read long before the switch (a reading of the last minute is still being written)
        stack.records.merge_document(FOLDER, f"Form_{i}.jpg", ocrAt="2026-01-01T00:00:00Z")

    v4 = stack.with_settings(FORM_RECOGNIZER_API=V4)
    stack.upload(new, image)  # the same form again (a new version): read with v4, not asked of the v2.1 model
    result = on_blob(v4.settings, new, v4.client, v4.records)
    assert result.status == "succeeded"
    assert result.detail.startswith(f"not predicted: the current model {first['modelId']} was trained for "
                                    f"API v2.1; FORM_RECOGNIZER_API={V4} cannot use it"), result.detail
    kept = v4.records.prediction(FOLDER, "New.jpg")
    assert {k: kept[k] for k in PREDICTION} == {k: before[k] for k in PREDICTION}  # a record of what it said
    decision = start_training_if_due(v4.settings, FOLDER, v4.client, v4.records)
    assert not decision.train and decision.reason.startswith(
        f"4 labeled document(s) were read by another API version than FORM_RECOGNIZER_API={V4}")
    out = _status(v4, monkeypatch, capsys)
    assert f"current model: {first['modelId']} (API v2.1)" in out
    assert (f"its current model {first['modelId']} was trained for API v2.1, which the app "
            f"(FORM_RECOGNIZER_API={V4}) cannot use: new forms are not predicted") in out

    # the sweep reads the forms again with v4 (not the user's own `.ocr.json`) and the folder is due:
    # the labeled set is unchanged, the API is not
    time.sleep(v4.settings.sweep_grace_seconds + 0.1)
    report = sweep(v4.settings, v4.client, v4.records)
    assert sorted(report.ocr_started) == [f"{FOLDER}/Form_{i}.jpg" for i in range(1, 5)], report
    assert report.folders_requested == [FOLDER] and report.predicted == [] and not report.errors
    run, second = train_to_end(v4, FOLDER)
    assert "last trained for API v2.1: training a model for FORM_RECOGNIZER_API=2024-11-30" in str(
        v4.records.get(v4.records.runs, FOLDER, FOLDER_STATE_KEY)["lastDecision"])
    assert second["apiVersion"] == V4 and second["promotion"] == "switched" and second["isCurrent"] is True
    assert f"the current model {first['modelId']} was trained for API v2.1" in second["promotionReason"]
    assert json.loads(str(run.get("holdout") or "[]")) == [] and second["trainingDocumentCount"] == 5
    old = v4.records.model(FOLDER, str(first["modelId"]))
    assert old and old["status"] == "ready" and old["isCurrent"] is False  # kept, as every model is
    assert v4.records.prediction(FOLDER, "New.jpg")["modelId"] == first["modelId"]
    body = json.dumps({"folder": FOLDER, "modelId": second["modelId"]})
    assert on_prediction_request(v4.settings, body, v4.client, v4.records).predicted == ["New.jpg"]
    assert v4.records.prediction(FOLDER, "New.jpg")["modelId"] == second["modelId"]
    assert not start_training_if_due(v4.settings, FOLDER, v4.client, v4.records).train  # trained for v4 now
    out = _status(v4, monkeypatch, capsys)
    assert f"current model: {second['modelId']} (API {V4})" in out
    assert "cannot use" not in out.split("Models (")[0]  # the folder's line says nothing more

    # and back: the v4 model cannot serve v2.1, so the set is trained for v2.1 again
    for i in range(1, 6):
        stack.records.merge_document(FOLDER, f"Form_{i}.jpg", ocrAt="2026-01-01T00:00:00Z")
    stack.upload(new, image)
    assert on_blob(stack.settings, new, stack.client, stack.records).detail.startswith("not predicted:")
    assert stack.records.prediction(FOLDER, "New.jpg")["modelId"] == second["modelId"]
    time.sleep(stack.settings.sweep_grace_seconds + 0.1)
    report = sweep(stack.settings, stack.client, stack.records)
    assert report.folders_requested == [FOLDER] and not report.errors, report
    _, third = train_to_end(stack, FOLDER)
    assert third["apiVersion"] == "v2.1" and third["promotion"] == "switched" and third["isCurrent"] is True
