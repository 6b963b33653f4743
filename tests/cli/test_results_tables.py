"""Table fields through the pipeline (issue 18) on the session Azurite and engine, in-process through the
triggers' own functions: five labeled line-item invoices train the folder's first model, which predicts two
unlabeled ones; their Predictions rows hold the table cell by cell (`Items/0/Description`), `formloop results
--tables` writes a row per line item, the JSON nests the table, and labels put on a predicted form review it
cell by cell."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest

from formgen import GeneratedForm, generate
from formloop.stack import AzuriteInfo, EngineInfo
from shared.clients.records import Records
from shared.clients.storage import ensure_resources, queue_service
from shared.predictions.field_values import norm, stored_fields
from shared.settings import load_settings
from shared.triggers.blob import on_blob
from shared.triggers.prediction_request import on_prediction_request
from tests.helpers.cli import Cli, in_process_cli
from tests.helpers.pipeline import Stack, fast_client, pipeline_env
from tests.helpers.training import train_to_end

FOLDER = "line-items"
COLUMNS = ("Description", "Quantity", "UnitPrice", "Amount")
LABELED = 5


def collapse(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Predicted:
    stack: Stack
    model: dict[str, Any]
    labeled: list[GeneratedForm]
    new: list[GeneratedForm]  # predicted by the model: one in its training folder, unlabeled; one not

    def truth(self, document: str) -> list[dict[str, str]]:
        return next(f for f in self.new if f.path.name == document).tables["Items"]

    def fields(self, document: str) -> dict[str, dict[str, Any]]:
        row = self.stack.records.prediction(FOLDER, document)
        assert row and row["status"] == "succeeded", row
        return json.loads(row["fields"])


def _deliver(stack: Stack, name: str, data: bytes) -> str:
    """Upload a blob and run the blob trigger's function on it, as the host would."""
    stack.upload(name, data)
    result = on_blob(stack.settings, name, stack.client, stack.records)
    return f"{result.status} {result.detail}".strip()


@pytest.fixture(scope="module")
def predicted(azurite: AzuriteInfo, engine: EngineInfo,
              tmp_path_factory: pytest.TempPathFactory) -> Predicted:
    """Five labeled forms and an unlabeled one (in the folder when it trains) -> the first model, which
    predicts the unlabeled one when the promotion asks for it; then a new form, predicted as it arrives."""
    env = pipeline_env(azurite, engine.endpoint, engine.api_key, RETRAIN_MIN_NEW_LABELS="100")
    settings = load_settings(env)
    ensure_resources(settings)
    stack = Stack(settings, Records(settings), fast_client(settings), env)
    out = tmp_path_factory.mktemp("invoice_items")
    forms = generate("invoice_items", LABELED + 2, out, seed=5, kind="pdf")
    labeled, waiting, arriving = forms[:LABELED], forms[LABELED], forms[LABELED + 1]
    for form in [*labeled, waiting]:
        assert _deliver(stack, f"{FOLDER}/{form.path.name}", form.path.read_bytes()) == "succeeded"
    stack.upload(f"{FOLDER}/fields.json", (out / "fields.json").read_bytes())
    for form in labeled:
        status = _deliver(stack, f"{FOLDER}/{form.labels_path.name}", form.labels_path.read_bytes())
        assert status.startswith("valid"), status
    model = train_to_end(stack, FOLDER)[1]
    assert model["status"] == "ready" and model["isCurrent"] is True and model["promotion"] == "first"
    # the promotion asked for the folder's unreviewed forms to be predicted: the queue trigger's work
    queue = queue_service(settings).get_queue_client(settings.prediction_queue)
    (message,) = queue.receive_messages(max_messages=32)
    report = on_prediction_request(settings, message.content, stack.client, stack.records)
    assert report is not None and not report.failed and report.predicted == [waiting.path.name]
    # a form that arrives once the folder has a current model is predicted by the blob trigger itself
    status = _deliver(stack, f"{FOLDER}/{arriving.path.name}", arriving.path.read_bytes())
    assert status.startswith(f"succeeded prediction predicted by {model['modelId']}"), status
    return Predicted(stack, model, labeled, [waiting, arriving])


@pytest.fixture
def cli(predicted: Predicted, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return in_process_cli(predicted.stack, monkeypatch, capsys)


def test_a_predictions_row_holds_the_table_cell_by_cell(predicted: Predicted) -> None:
    for form in predicted.new:
        fields = predicted.fields(form.path.name)
        truth = form.tables["Items"]
        cells = {name for name in fields if name.startswith("Items/")}
        assert cells == {f"Items/{r}/{c}" for r in range(len(truth)) for c in COLUMNS}
        assert "Items" not in fields  # the table itself is no field of the row, its cells are
        for r, row in enumerate(truth):
            for column, text in row.items():
                cell = fields[f"Items/{r}/{column}"]
                assert collapse(cell["text"]) == text and 0 < cell["confidence"] <= 1
                if column != "Description":
                    assert cell["value"] == pytest.approx(float(text.replace(",", "")))
        assert norm(fields["InvoiceNumber"]["text"]) == norm(form.values["InvoiceNumber"])
        row = predicted.stack.records.prediction(FOLDER, form.path.name)
        assert row["fieldCount"] == len([f for f in fields.values() if f["text"]])
        assert stored_fields(row) == fields  # the row is whole: no need for the prediction file


def test_results_tables_writes_one_row_per_line_item(predicted: Predicted, cli: Cli) -> None:
    code, out, err = cli("results", "--folder", FOLDER, "--tables")
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    rows = list(reader)
    assert reader.fieldnames == ["document", "modelId", "table", "row", *COLUMNS]
    expected = [
        {"document": form.path.name, "modelId": predicted.model["modelId"], "table": "Items", "row": str(i),
         **cells}
        for form in sorted(predicted.new, key=lambda f: f.path.name)
        for i, cells in enumerate(form.tables["Items"])
    ]
    assert [{k: collapse(v) for k, v in row.items()} for row in rows] == expected


def test_results_json_nests_the_table_and_plain_csv_leaves_it_out(predicted: Predicted, cli: Cli) -> None:
    code, out, err = cli("results", "--folder", FOLDER, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [d["document"] for d in data] == sorted(f.path.name for f in predicted.new)
    for form in data:
        assert not any("/" in key for key in form)
        items = [{c: collapse(v) for c, v in item.items()} for item in form["Items"]]
        assert items == predicted.truth(form["document"])
    code, out, err = cli("results", "--folder", FOLDER)
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    rows = list(reader)
    assert reader.fieldnames == ["document", "modelId", "lowestConfidence", "reviewStatus",
                                 "CustomerName", "InvoiceDate", "InvoiceNumber", "Total"]
    assert len(rows) == len(predicted.new)


def test_labels_on_a_predicted_form_review_it_cell_by_cell(predicted: Predicted, cli: Cli) -> None:
    stack, form = predicted.stack, predicted.new[1]  # the form that arrived after the training
    doc = form.path.name
    truth = form.tables["Items"]
    labels = json.loads(form.labels_path.read_text())
    corrected = "Items/0/Description"
    left_out = "Items/1/Quantity" if len(truth) > 1 else "Items/0/Quantity"
    kept = []
    for item in labels["labels"]:
        if item["label"] == left_out:
            continue
        if item["label"] == corrected:  # the person reads it otherwise: one word, typed over
            item["value"] = [{**item["value"][0], "text": "Corrected"}, *item["value"][1:]]
        kept.append(item)
    labels["labels"] = kept
    status = _deliver(stack, f"{FOLDER}/{form.labels_path.name}", json.dumps(labels).encode())
    assert status.startswith("valid reviewed"), status

    model_id = str(predicted.model["modelId"])
    review = stack.records.get(stack.records.reviews, model_id, doc)
    assert review and review["folder"] == FOLDER
    cells = len(truth) * len(COLUMNS)
    scalars = 4
    assert review["fields"] == cells + scalars
    assert (review["corrected"], review["spurious"], review["missed"]) == (1, 1, 0)
    assert review["agreed"] == review["fields"] - 2
    (correction,) = json.loads(review["corrections"])
    assert correction["field"] == corrected
    assert collapse(correction["predicted"]) == truth[0]["Description"]
    assert correction["labeled"].split()[0] == "Corrected"
    assert json.loads(review["spuriousFields"]) == [left_out] and json.loads(review["missedFields"]) == []
    assert stack.records.prediction(FOLDER, doc)["reviewStatus"] == "reviewed"
    model = stack.records.model(FOLDER, model_id)
    assert model and model["reviewedDocuments"] == 1
    assert model["reviewedAccuracy"] == round(review["agreed"] / review["fields"], 4)
    code, out, err = cli("status", "--folder", FOLDER)
    assert code == 0, err
    assert f"{model['reviewedAccuracy']:.3f} on 1 form" in out.replace("\n", " ")
