"""Issue 13: new forms are predicted by the current model, labels on them are reviews, and a retrained
model is promoted only when it is not worse on held-back forms (real Azurite, real engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from formloop.stack import free_port
from shared.clients.delivered import DeliveredBlob
from shared.clients.formrecognizer import FormRecognizerError
from shared.clients.storage import blob_service, queue_service
from shared.predictions.predict import predict_form
from shared.triggers.blob import on_blob
from shared.triggers.prediction_request import on_prediction_request
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import Stack, fast_client, prepare_labeled_folder
from tests.helpers.training import train_to_end

PO = "purchase-orders"


def _labels(data_dir: Path, src: int, document: str, corrupt: bool = False) -> bytes:
    labels = json.loads((data_dir / PO / f"Form_{src}.jpg.labels.json").read_text())
    labels["document"] = document
    if corrupt:  # every field points at the next field's words: a model trained on this learns nonsense
        values = [item["value"] for item in labels["labels"]]
        for item, value in zip(labels["labels"], values[1:] + values[:1], strict=True):
            item["value"] = value
    return json.dumps(labels).encode()


def _train_to_end(stack: Stack, folder: str, timeout: float = 240) -> dict[str, Any]:
    return train_to_end(stack, folder, timeout)[1]


def _deliver(stack: Stack, name: str, data: bytes) -> str:
    stack.upload(name, data)
    blob = blob_service(stack.settings).get_blob_client(stack.settings.forms_container, name)
    etag = str(blob.get_blob_properties().etag).strip('"')
    result = on_blob(stack.settings, name, stack.client, stack.records,
                         DeliveredBlob(etag=etag, md5="", reader=lambda: data))
    return f"{result.status} {result.detail}"


@pytest.fixture
def trained(stack: Stack, data_dir: Path) -> tuple[Stack, dict[str, Any]]:
    prepare_labeled_folder(stack, data_dir, "loop", 5)
    first = _train_to_end(stack, "loop")
    return stack, first


def test_a_new_form_is_predicted_once_and_its_labels_review_the_model(
    trained: tuple[Stack, dict[str, Any]], data_dir: Path
) -> None:
    stack, first = trained
    assert first["isCurrent"] is True and first["promotion"] == "first"
    model_id = str(first["modelId"])
    # the promotion asked for the folder's unreviewed forms to be predicted (there are none yet)
    queue = queue_service(stack.settings).get_queue_client(stack.settings.prediction_queue)
    messages = [json.loads(m.content) for m in queue.receive_messages()]
    assert messages == [{"folder": "loop", "modelId": model_id}]

    image = (data_dir / PO / "Form_2.jpg").read_bytes()
    detail = _deliver(stack, "loop/New_1.jpg", image)
    assert detail.startswith("succeeded prediction predicted by " + model_id)
    row = stack.records.prediction("loop", "New_1.jpg")
    assert row and row["status"] == "succeeded" and row["modelId"] == model_id
    fields = json.loads(row["fields"])
    assert len(fields) == 15 and row["fieldCount"] >= 10
    assert row["reviewStatus"] in ("confident", "needsReview")
    assert row["reviewStatus"] == ("needsReview" if row["lowConfidenceFields"] else "confident")
    blob = blob_service(stack.settings).get_blob_client(stack.settings.forms_container,
                                                         "loop/New_1.jpg.prediction.json")
    props = blob.get_blob_properties()
    assert props.metadata["model_id"] == model_id and props.metadata["source_etag"] == row["sourceEtag"]
    assert json.loads(blob.download_blob().readall())["status"] == "succeeded"
    # the same version, the same model: no second analysis
    predicted_at = row["predictedAt"]
    assert _deliver(stack, "loop/New_1.jpg.prediction.json", b"{}") == "ignored "
    on_blob(stack.settings, "loop/New_1.jpg", stack.client, stack.records)
    assert stack.records.prediction("loop", "New_1.jpg")["predictedAt"] == predicted_at

    # the person's labels: a review of the model
    assert _deliver(stack, "loop/New_1.jpg.labels.json", _labels(data_dir, 2, "New_1.jpg")).startswith(
        "valid reviewed")
    review = stack.records.get(stack.records.reviews, model_id, "New_1.jpg")
    assert review and review["folder"] == "loop" and review["fields"] >= 14
    assert review["agreed"] + review["corrected"] + review["missed"] + review["spurious"] == review["fields"]
    assert review["agreed"] >= 10 and len(json.loads(review["corrections"])) == review["corrected"]
    model = stack.records.model("loop", model_id)
    assert model and model["reviewedDocuments"] == 1
    assert model["reviewedAccuracy"] == round(review["agreed"] / review["fields"], 4)
    assert stack.records.prediction("loop", "New_1.jpg")["reviewStatus"] == "reviewed"
    # labels on a form the model trained on are no evidence about it
    assert _deliver(stack, "loop/Form_01.jpg.labels.json", _labels(data_dir, 1, "Form_01.jpg")) == "valid "


def test_a_retrain_must_not_be_worse_on_held_back_forms(
    trained: tuple[Stack, dict[str, Any]], data_dir: Path
) -> None:
    stack, first = trained
    first_id = str(first["modelId"])
    po = data_dir / PO
    # Good new labels: the retrain holds back the newest and is compared with the first model.
    for i in range(6, 12):
        src = (i - 1) % 5 + 1
        stack.upload(f"loop/Form_{i:02d}.jpg", (po / f"Form_{src}.jpg").read_bytes())
        stack.upload(f"loop/Form_{i:02d}.jpg.ocr.json", (po / f"Form_{src}.jpg.ocr.json").read_bytes())
        stack.upload(f"loop/Form_{i:02d}.jpg.labels.json", _labels(data_dir, src, f"Form_{i:02d}.jpg"))
    second = _train_to_end(stack, "loop")
    run = stack.records.run("loop", str(second["runId"]))
    assert run and len(json.loads(run["holdout"])) == 2 and run["baselineModelId"] == first_id
    assert run["trainingCount"] == 9 and second["trainingDocumentCount"] == 9
    assert second["promotion"] == "promoted", second["promotionReason"]
    assert second["holdoutDocuments"] == 2 and second["candidateAccuracy"] >= second["currentAccuracy"]
    assert "held-back forms" in second["promotionReason"] and second["isCurrent"] is True
    assert stack.records.current_model_id("loop") == second["modelId"]
    snapshots = blob_service(stack.settings).get_container_client(stack.settings.snapshot_container)
    assert list(snapshots.list_blobs()) == []  # the snapshot is gone once the run ended

    # Deliberately wrong labels on the trained forms, right ones on new forms: the candidate is held.
    for i in range(1, 12):
        src = (i - 1) % 5 + 1
        stack.upload(f"loop/Form_{i:02d}.jpg.labels.json", _labels(data_dir, src, f"Form_{i:02d}.jpg", True))
    for i in range(12, 15):
        src = (i - 1) % 5 + 1
        stack.upload(f"loop/Form_{i:02d}.jpg", (po / f"Form_{src}.jpg").read_bytes())
        stack.upload(f"loop/Form_{i:02d}.jpg.ocr.json", (po / f"Form_{src}.jpg.ocr.json").read_bytes())
        stack.upload(f"loop/Form_{i:02d}.jpg.labels.json", _labels(data_dir, src, f"Form_{i:02d}.jpg"))
    worse = _train_to_end(stack, "loop")
    assert worse["promotion"] == "held", worse["promotionReason"]
    assert worse["candidateAccuracy"] < worse["currentAccuracy"] and worse["isCurrent"] is False
    assert stack.records.current_model_id("loop") == second["modelId"]


def test_a_new_current_model_predicts_the_folders_unreviewed_forms_again(
    trained: tuple[Stack, dict[str, Any]], data_dir: Path
) -> None:
    stack, first = trained
    image = (data_dir / PO / "Form_3.jpg").read_bytes()
    stack.upload("loop/Unlabeled.jpg", image)
    stack.upload("loop/Unlabeled.jpg.ocr.json", (data_dir / PO / "Form_3.jpg.ocr.json").read_bytes())
    body = json.dumps({"folder": "loop", "modelId": first["modelId"]})
    report = on_prediction_request(stack.settings, body, stack.client, stack.records)
    assert report and report.predicted == ["Unlabeled.jpg"] and not report.failed
    again = on_prediction_request(stack.settings, body, stack.client, stack.records)
    assert again and again.predicted == [] and again.skipped == 0  # already predicted by that model
    stale = json.dumps({"folder": "loop", "modelId": "not-current"})
    assert on_prediction_request(stack.settings, stale, stack.client, stack.records).predicted == []


def test_a_prediction_the_engine_missed_is_made_by_the_sweep_and_a_gone_model_is_recorded(
    trained: tuple[Stack, dict[str, Any]], data_dir: Path
) -> None:
    stack, first = trained
    stack.upload("loop/Missed.jpg", (data_dir / PO / "Form_4.jpg").read_bytes())
    stack.upload("loop/Missed.jpg.ocr.json", (data_dir / PO / "Form_4.jpg.ocr.json").read_bytes())
    down = fast_client(stack.settings, endpoint=f"http://127.0.0.1:{free_port()}", retry_budget=0.3)
    with pytest.raises(FormRecognizerError) as caught:
        predict_form(stack.settings, "loop/Missed.jpg", down, stack.records)
    assert caught.value.transient
    assert stack.records.prediction("loop", "Missed.jpg")["status"] == "retrying"
    report = sweep(stack.settings, stack.client, stack.records)
    assert report.predicted == ["loop/Missed.jpg"] and not report.errors
    assert stack.records.prediction("loop", "Missed.jpg")["modelId"] == first["modelId"]
    assert sweep(stack.settings, stack.client, stack.records).predicted == []  # done: not again

    outcome = predict_form(stack.settings, "loop/Missed.jpg", stack.client, stack.records,
                           model_id="gone-model")
    assert outcome.status == "failed"
    row = stack.records.prediction("loop", "Missed.jpg")
    assert row["status"] == "failed" and row["errorMessage"].startswith("the model is gone")


def test_a_malformed_prediction_request_goes_to_its_poison_queue(stack: Stack) -> None:
    for body in ("not json", json.dumps({"folder": "loop"}), json.dumps({"folder": "x", "modelId": 7})):
        assert on_prediction_request(stack.settings, body, stack.client, stack.records) is None
    poison = queue_service(stack.settings).get_queue_client(stack.settings.prediction_poison_queue)
    assert len(list(poison.receive_messages(max_messages=10))) == 3
