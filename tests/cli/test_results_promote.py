"""`formloop results`, `formloop promote` and the predictions in `formloop status`, on a folder that
really trained and predicted (session Azurite and engine; the CLI runs in-process on private names)."""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from formloop.stack import AzuriteInfo, EngineInfo
from shared.clients.records import Records
from shared.clients.storage import ensure_resources, queue_service
from shared.predictions.field_values import labeled_values, norm
from shared.predictions.predict import predict_form
from shared.settings import load_settings
from shared.training.manual import MANUAL_REASON, promote
from tests.helpers.cli import Cli, in_process_cli
from tests.helpers.pipeline import Stack, fast_client, pipeline_env
from tests.helpers.training import train_to_end

FOLDER = "orders"
NEW_FORMS = {"New_1.jpg": 2, "New_2.jpg": 3}  # predicted form → the sample it is a copy of
FIXED = ["document", "modelId", "lowestConfidence", "reviewStatus"]


def _labels(data_dir: Path, src: int, document: str, drop: str = "") -> bytes:
    labels = json.loads((data_dir / "purchase-orders" / f"Form_{src}.jpg.labels.json").read_text())
    labels["document"] = document
    labels["labels"] = [item for item in labels["labels"] if item.get("label") != drop]
    return json.dumps(labels).encode()


def _train_to_end(stack: Stack) -> dict[str, Any]:
    model = train_to_end(stack, FOLDER)[1]
    assert model["status"] == "ready"
    return model


@dataclass
class Trained:
    stack: Stack
    first: dict[str, Any]
    data_dir: Path


@pytest.fixture(scope="module")
def trained(azurite: AzuriteInfo, engine: EngineInfo, data_dir: Path) -> Trained:
    """Five labeled forms → a first model (current) → two unlabeled forms predicted by it."""
    env = pipeline_env(azurite, engine.endpoint, engine.api_key)
    settings = load_settings(env)
    ensure_resources(settings)
    stack = Stack(settings, Records(settings), fast_client(settings), env)
    po = data_dir / "purchase-orders"
    for i in range(1, 6):
        stack.upload(f"{FOLDER}/Form_{i:02d}.jpg", (po / f"Form_{i}.jpg").read_bytes())
        stack.upload(f"{FOLDER}/Form_{i:02d}.jpg.ocr.json", (po / f"Form_{i}.jpg.ocr.json").read_bytes())
        stack.upload(f"{FOLDER}/Form_{i:02d}.jpg.labels.json", _labels(data_dir, i, f"Form_{i:02d}.jpg"))
    stack.upload(f"{FOLDER}/fields.json", (po / "fields.json").read_bytes())
    first = _train_to_end(stack)
    assert first["isCurrent"] is True and first["promotion"] == "first"
    for name, src in NEW_FORMS.items():
        stack.upload(f"{FOLDER}/{name}", (po / f"Form_{src}.jpg").read_bytes())
        outcome = predict_form(settings, f"{FOLDER}/{name}", stack.client, stack.records)
        assert outcome.status == "predicted", outcome
    return Trained(stack, first, data_dir)


@pytest.fixture
def cli(trained: Trained, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return in_process_cli(trained.stack, monkeypatch, capsys)


def test_results_csv_has_one_row_per_predicted_form_and_one_column_per_field(
    trained: Trained, cli: Cli
) -> None:
    code, out, err = cli("results", "--folder", FOLDER)
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    rows = list(reader)
    declared = json.loads((trained.data_dir / "purchase-orders" / "fields.json").read_text())["fields"]
    fields = sorted(f["fieldKey"] for f in declared)
    assert reader.fieldnames == FIXED + fields
    assert [r["document"] for r in rows] == sorted(NEW_FORMS)
    for row in rows:
        prediction = trained.stack.records.prediction(FOLDER, row["document"])
        assert prediction
        assert row["modelId"] == trained.first["modelId"] == prediction["modelId"]
        assert row["reviewStatus"] == prediction["reviewStatus"]
        assert float(row["lowestConfidence"]) == pytest.approx(prediction["lowestConfidence"])
        predicted = json.loads(prediction["fields"])
        assert {name: row[name] for name in fields} == {
            name: predicted[name]["text"] or "" for name in fields}
        truth = labeled_values(_labels(trained.data_dir, NEW_FORMS[row["document"]], row["document"]))
        assert sum(norm(row[name]) == norm(value) for name, value in truth.items()) >= 10


def test_results_json_to_a_file(trained: Trained, cli: Cli, tmp_path: Path) -> None:
    out_file = tmp_path / "orders.json"
    code, out, err = cli("results", "--folder", FOLDER, "--format", "json", "--out", str(out_file))
    assert code == 0, err
    assert out == "" and f"wrote 2 forms × 15 fields to {out_file}" in err.replace("\n", "")
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert [d["document"] for d in data] == sorted(NEW_FORMS)
    assert all(len(d) == len(FIXED) + 15 and isinstance(d["lowestConfidence"], float) for d in data)
    assert data[0]["PurchaseOrderNumber"] == json.loads(
        trained.stack.records.prediction(FOLDER, "New_1.jpg")["fields"])["PurchaseOrderNumber"]["text"]


def test_results_of_a_folder_without_predictions_is_an_error(trained: Trained, cli: Cli) -> None:
    trained.stack.upload("waiting/a.pdf", b"%PDF-1.7\n")
    code, out, err = cli("results", "--folder", "waiting")
    assert code == 1 and out == ""
    assert "no predictions in folder 'waiting'" in err


def test_results_of_a_folder_that_does_not_exist_says_so(cli: Cli) -> None:
    code, out, err = cli("results", "--folder", "ordres")
    assert code == 1 and out == ""
    assert "there is no folder 'ordres'" in err and f"its folders: {FOLDER}" in " ".join(err.split())


def test_status_shows_predictions_and_promotions(trained: Trained, cli: Cli) -> None:
    code, out, err = cli("status", "--folder", FOLDER)
    assert code == 0, err
    assert "Predictions (2)" in out
    section = out[out.index("Predictions (2)"):out.index("Models (")]
    for name in NEW_FORMS:
        row = trained.stack.records.prediction(FOLDER, name)
        assert row
        line = next(line for line in section.splitlines() if name in line)
        assert trained.first["modelId"] in line and "succeeded" in line
        assert f"{row['fieldCount']}/15" in line and f"{row['lowestConfidence']:.3f}" in line
        assert str(row["reviewStatus"]) in line
    models = out[out.index("Models ("):]
    assert "promotion" in models and "in production" in models and "│ first" in models
    assert f"model {trained.first['modelId']}: first: the folder's first model" in out


def test_promote_refuses_an_unknown_or_unready_model(trained: Trained, cli: Cli) -> None:
    first_id = str(trained.first["modelId"])
    code, out, _ = cli("promote", "--folder", FOLDER, "no-such-model")
    assert code == 1
    assert "no model 'no-such-model' in folder 'orders'" in out and first_id in out
    trained.stack.records.merge_model(FOLDER, "broken-model", status="invalid")
    code, out, _ = cli("promote", "--folder", FOLDER, "broken-model")
    assert code == 1 and "is invalid" in out and "only a ready model" in out
    code, out, _ = cli("promote", "--folder", "elsewhere", first_id)  # a model of another folder
    assert code == 1 and "it has no models yet" in out
    assert trained.stack.records.current_model_id(FOLDER) == first_id


def test_promote_puts_back_a_model_the_pipeline_replaced(trained: Trained, cli: Cli) -> None:
    stack, first_id = trained.stack, str(trained.first["modelId"])
    # Changed labels on a trained form: the retrain has nothing to hold back and is promoted.
    stack.upload(f"{FOLDER}/Form_01.jpg.labels.json",
                 _labels(trained.data_dir, 1, "Form_01.jpg", drop="Signature"))
    second = _train_to_end(stack)
    second_id = str(second["modelId"])
    assert second["promotion"] == "promoted" and stack.records.current_model_id(FOLDER) == second_id

    code, out, err = cli("promote", "--folder", FOLDER, first_id)
    assert code == 0, out + err
    assert f"{first_id} is the current model of 'orders' (instead of {second_id})" in out.replace("\n", "")
    assert stack.records.current_model_id(FOLDER) == first_id
    first = stack.records.model(FOLDER, first_id)
    assert first and first["isCurrent"] is True
    assert first["promotion"] == "manual" and first["promotionReason"] == MANUAL_REASON
    replaced = stack.records.model(FOLDER, second_id)
    assert replaced and replaced["isCurrent"] is False and replaced["promotion"] == "promoted"
    queue = queue_service(stack.settings).get_queue_client(stack.settings.prediction_queue)
    asked = [json.loads(m.content) for m in queue.peek_messages(max_messages=32)]
    assert asked[-1] == {"folder": FOLDER, "modelId": first_id}  # its forms are predicted again by it

    code, out, _ = cli("promote", "--folder", FOLDER, first_id)  # again: nothing to do
    assert code == 0 and "already" in out
    code, out, _ = cli("status", "--folder", FOLDER)
    assert code == 0 and f"model {first_id}: manual: {MANUAL_REASON}" in out.replace("\n", "")


def test_promote_creates_the_prediction_queue_when_the_app_has_not_yet(trained: Trained) -> None:
    """A CLI run before the function app ever started: the re-predict request still gets through."""
    stack = trained.stack.with_settings(PREDICTION_QUEUE=f"prediction-late-{secrets.token_hex(3)}")
    stack.records.merge_model("by-hand", "model-a", status="ready")
    done = promote(stack.settings, stack.records, "by-hand", "model-a")
    assert done.changed and done.previous == ""
    assert stack.records.current_model_id("by-hand") == "model-a"
    queue = queue_service(stack.settings).get_queue_client(stack.settings.prediction_queue)
    asked = [json.loads(m.content) for m in queue.peek_messages()]
    assert asked == [{"folder": "by-hand", "modelId": "model-a"}]


def test_status_lists_nested_folders_as_folders_of_their_own_and_full_shows_whole_errors(
    trained: Trained, cli: Cli
) -> None:
    long_error = "the engine said: " + "a very long reason " * 20 + "END"
    trained.stack.records.merge_document(f"{FOLDER}/test", "x.pdf", status="failed", errorCode="InvalidImage",
                                         errorMessage=long_error)
    code, out, err = cli("status", "--folder", FOLDER)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "Folders (2)" in flat and f"{FOLDER}/test (inside {FOLDER}: a folder of its own)" in flat
    code, out, err = cli("status", "--folder", f"{FOLDER}/test")
    assert code == 0 and "END" not in out  # cut to fit by default
    code, out, err = cli("status", "--folder", f"{FOLDER}/test", "--full")
    assert code == 0 and "END" in out
