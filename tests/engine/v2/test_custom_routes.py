"""Custom models through the REST protocol: a real engine process, a real Azurite, the official SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from azure.ai.formrecognizer import FormRecognizerClient, FormTrainingClient
from azure.core.credentials import AzureKeyCredential

from formloop.stack import AzuriteInfo, EngineInfo, start_engine, stop
from tests.helpers.custom_models import (
    analyze_with_model,
    key_headers,
    train_model,
    training_container,
    wait_model,
)
from tests.helpers.paths import DATA_DIR

PO = DATA_DIR / "purchase-orders"
V21 = "/formrecognizer/v2.1"


# -- helpers ----------------------------------------------------------------------------------------
def _po_files(prefix: str = "", skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    return {prefix + f.name: f.read_bytes() for f in sorted(PO.iterdir())
            if f.name != "LICENSE" and f.name not in skip}


@pytest.fixture(scope="module")
def po_model(engine: EngineInfo, azurite: AzuriteInfo) -> tuple[str, dict]:
    url = training_container(azurite, _po_files("orders/"))
    loc = train_model(engine, {"source": url,
                               "sourceFilter": {"prefix": "orders/", "includeSubFolders": False},
                               "useLabelFile": True, "modelName": "purchase-orders"})
    return loc, wait_model(engine, loc)


# -- training and analysis --------------------------------------------------------------------------
def test_train_on_purchase_orders_gives_a_ready_model_with_measured_accuracy(po_model) -> None:
    _loc, model = po_model
    mi = model["modelInfo"]
    assert mi["status"] == "ready" and mi["modelName"] == "purchase-orders"
    assert mi["attributes"] == {"isComposed": False}
    assert "keys" not in model  # labeled models never carry keys, even with includeKeys=true
    tr = model["trainResult"]
    assert tr["modelId"] == mi["modelId"] and tr["errors"] == []
    assert [d["documentName"] for d in tr["trainingDocuments"]] == [f"Form_{i}.jpg" for i in range(1, 6)]
    assert all(d["status"] == "succeeded" and d["pages"] == 1 for d in tr["trainingDocuments"])
    fields = {f["fieldName"]: f["accuracy"] for f in tr["fields"]}
    assert len(fields) == 15 and all(0 <= a <= 1 for a in fields.values())
    assert tr["averageModelAccuracy"] >= 0.95
    assert tr["averageModelAccuracy"] == pytest.approx(sum(fields.values()) / 15, abs=0.002)


def test_a_trained_model_keeps_the_print_of_each_fields_place(engine: EngineInfo, po_model) -> None:
    """Training draws the forms' pages and keeps the print in each field's place (dropped before the
    place is read: engine/custom/scoring/dropout.py) in the model file."""
    _loc, model = po_model
    stored = engine.data_dir / "models" / model["modelInfo"]["modelId"] / "params.json"
    params = json.loads(stored.read_text())
    assert {"Total", "Subtotal", "CompanyName"} <= set(params["dropout"])
    assert all(len(m["shape"]) == 2 and m["bits"] for m in params["dropout"].values())


def test_analyze_a_purchase_order_returns_typed_fields(engine: EngineInfo, po_model) -> None:
    loc, model = po_model
    body = analyze_with_model(engine, loc, (PO / "Form_5.jpg").read_bytes(), query="?includeTextDetails=true")
    assert body["status"] == "succeeded", body
    ar = body["analyzeResult"]
    assert ar["version"] == "2.1.0" and ar["errors"] == []
    assert len(ar["readResults"]) == len(ar["pageResults"]) == 1 and ar["readResults"][0]["lines"]
    doc = ar["documentResults"][0]
    assert doc["docType"] == "custom:purchase-orders" and doc["modelId"] == model["modelInfo"]["modelId"]
    assert doc["pageRange"] == [1, 1] and 0 < doc["docTypeConfidence"] <= 1
    f = doc["fields"]
    assert set(f) == {x["fieldName"] for x in model["trainResult"]["fields"]}
    assert f["PurchaseOrderNumber"]["valueString"] == "2992848"
    assert f["Total"]["text"] == "$1000.00"
    assert f["Quantity"]["type"] == "number" and f["Quantity"]["valueNumber"] == 20
    assert f["Quantity"]["text"] == "20"
    assert f["VendorName"]["text"] == "Jack Sprat"
    for v in f.values():
        if v is not None:
            assert len(v["boundingBox"]) == 8 and v["page"] == 1 and 0 <= v["confidence"] <= 1
            assert v["elements"] and v["elements"][0].startswith("#/readResults/0/lines/")
    plain = analyze_with_model(engine, loc, (PO / "Form_5.jpg").read_bytes())["analyzeResult"]
    assert "lines" not in plain["readResults"][0]
    assert "elements" not in plain["documentResults"][0]["fields"]["Total"]


def test_both_label_formats_train_the_same_way(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    files = _po_files()
    for i in range(1, 6):  # rewrite every label file in the 2019 "v1.0" format (Form_2 is the real one)
        tool = json.loads(files[f"Form_{i}.jpg.labels.json"])
        v1 = {"version": "v1.0", "docName": tool["document"], "labels": [
            {"fieldKey": lab["label"], "fieldValue": " ".join(v["text"] for v in lab["value"]),
             "fieldValues": [v["text"] for v in lab["value"]],
             "regions": [{"pageNumber": v["page"], "polygon": v["boundingBoxes"][0]} for v in lab["value"]]}
            for lab in tool["labels"]]}
        files[f"Form_{i}.jpg.labels.json"] = json.dumps(v1).encode()
    real_v1 = DATA_DIR / "label-format-examples" / "Form_2.jpg.v1.labels.json"
    files["Form_2.jpg.labels.json"] = real_v1.read_bytes()
    url = training_container(azurite, files)
    model = wait_model(engine, train_model(engine, {"source": url, "useLabelFile": True}))
    assert model["modelInfo"]["status"] == "ready"
    assert all(d["status"] == "succeeded" for d in model["trainResult"]["trainingDocuments"])
    assert model["trainResult"]["averageModelAccuracy"] >= 0.95


def test_every_document_problem_is_reported_and_training_goes_on(engine: EngineInfo,
                                                                 azurite: AzuriteInfo) -> None:
    files = _po_files()
    labels = json.loads(files["Form_1.jpg.labels.json"])
    no_words = json.loads(json.dumps(labels))
    corner = [0.9, 0.97, 0.99, 0.97, 0.99, 0.99, 0.9, 0.99]
    no_words["labels"][0]["value"] = [{"page": 1, "text": "Hero Limited", "boundingBoxes": [corner]}]
    files["NoWords.jpg"], files["NoWords.jpg.ocr.json"] = files["Form_1.jpg"], files["Form_1.jpg.ocr.json"]
    files["NoWords.jpg.labels.json"] = json.dumps(no_words).encode()
    page3 = json.loads(json.dumps(labels))
    for value in page3["labels"][0]["value"]:
        value["page"] = 3
    files["Page3.jpg"], files["Page3.jpg.ocr.json"] = files["Form_1.jpg"], files["Form_1.jpg.ocr.json"]
    files["Page3.jpg.labels.json"] = json.dumps(page3).encode()
    files["Missing.jpg.labels.json"] = files["Form_1.jpg.labels.json"]
    files["BadJson.jpg"], files["BadJson.jpg.ocr.json"] = files["Form_1.jpg"], files["Form_1.jpg.ocr.json"]
    files["BadJson.jpg.labels.json"] = b'{"labels": [ oops'
    files["BadOcr.jpg"] = files["Form_2.jpg"]
    files["BadOcr.jpg.labels.json"] = files["Form_2.jpg.labels.json"]
    files["BadOcr.jpg.ocr.json"] = b"<html>not json</html>"
    files["notes.txt"] = b"not a document"
    files["sub/Deep.jpg"] = files["Form_3.jpg"]
    url = training_container(azurite, files)
    model = wait_model(engine, train_model(engine, {"source": url, "useLabelFile": True}))
    assert model["modelInfo"]["status"] == "ready"
    docs = {d["documentName"]: d for d in model["trainResult"]["trainingDocuments"]}
    assert "notes.txt" not in docs and "sub/Deep.jpg" not in docs
    assert docs["NoWords.jpg"]["status"] == "partiallySucceeded"
    assert "matches no OCR words" in docs["NoWords.jpg"]["errors"][0]["message"]
    assert docs["Page3.jpg"]["status"] == "partiallySucceeded"
    assert "page 3" in docs["Page3.jpg"]["errors"][0]["message"]
    assert docs["Missing.jpg"]["status"] == "failed"
    assert docs["Missing.jpg"]["errors"][0]["code"] == "MissingDocument"
    assert docs["BadJson.jpg"]["status"] == "failed"
    assert "not valid JSON" in docs["BadJson.jpg"]["errors"][0]["message"]
    assert docs["BadOcr.jpg"]["status"] == "partiallySucceeded"  # its own OCR was used instead
    assert docs["BadOcr.jpg"]["errors"][0]["code"] == "InvalidOcrFile"
    assert all(docs[f"Form_{i}.jpg"]["status"] == "succeeded" for i in range(1, 6))


def test_fewer_than_five_labeled_documents_make_an_invalid_model(engine: EngineInfo,
                                                                 azurite: AzuriteInfo) -> None:
    files = {k: v for k, v in _po_files().items() if not k.startswith(("Form_4", "Form_5"))}
    loc = train_model(engine, {"source": training_container(azurite, files), "useLabelFile": "true"})
    model = wait_model(engine, loc)
    assert model["modelInfo"]["status"] == "invalid"
    assert "at least 5" in model["trainResult"]["errors"][0]["message"]
    r = requests.post(loc + "/analyze", data=(PO / "Form_1.jpg").read_bytes(),
                      headers=key_headers(engine, **{"Content-Type": "image/jpeg"}), timeout=30)
    assert r.status_code == 400 and r.json()["error"]["code"] == "1001"


def test_sources_off_the_allow_list_are_refused(engine: EngineInfo) -> None:
    for source in ("https://example.org/container?sig=x", "file:///etc", "not a url"):
        r = requests.post(f"{engine.endpoint}{V21}/custom/models", json={"source": source},
                          headers=key_headers(engine), timeout=30)
        assert r.status_code == 400 and r.json()["error"]["code"] == "2001", r.text


def test_list_summary_delete_and_unknown_models(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    loc = train_model(engine, {"source": training_container(azurite, _po_files()), "useLabelFile": True})
    model_id = wait_model(engine, loc)["modelInfo"]["modelId"]
    h = key_headers(engine)
    full = requests.get(f"{engine.endpoint}{V21}/custom/models?op=full", headers=h, timeout=30).json()
    assert full["nextLink"] == "" and model_id in [m["modelId"] for m in full["modelList"]]
    summary = requests.get(f"{engine.endpoint}{V21}/custom/models?op=summary", headers=h, timeout=30).json()
    assert summary["summary"]["count"] == len(full["modelList"]) and summary["summary"]["limit"] >= 1
    assert "modelList" not in summary
    model_dir = engine.data_dir / "models" / model_id
    assert (model_dir / "params.json").exists()
    assert requests.delete(loc, headers=h, timeout=30).status_code == 204
    assert not model_dir.exists()
    for r in (requests.get(loc, headers=h, timeout=30), requests.delete(loc, headers=h, timeout=30),
              requests.post(loc + "/analyze", data=b"%PDF", headers=h, timeout=30)):
        assert r.status_code == 404 and r.json()["error"]["code"] == "1022"
    after = requests.get(f"{engine.endpoint}{V21}/custom/models", headers=h, timeout=30).json()
    assert model_id not in [m["modelId"] for m in after["modelList"]]


def test_unlabeled_training_clusters_and_key_value_pairs(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    loc = train_model(engine, {"source": training_container(azurite, _po_files()), "useLabelFile": False})
    model = wait_model(engine, loc)
    assert model["modelInfo"]["status"] == "ready"
    clusters = model["keys"]["clusters"]
    assert len(clusters) == 1 and "Vendor Name:" in clusters["0"]
    assert "fields" not in model["trainResult"]
    ar = analyze_with_model(engine, loc, (PO / "Form_2.jpg").read_bytes())["analyzeResult"]
    assert ar["documentResults"] == []
    page = ar["pageResults"][0]
    assert page["clusterId"] == 0
    pairs = {p["key"]["text"]: p["value"]["text"] for p in page["keyValuePairs"]}
    assert any("Vendor Name" in k for k in pairs)


def test_2019_preview_routes(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    url = training_container(azurite, _po_files())
    r = requests.post(f"{engine.endpoint}/formrecognizer/v2.0-preview/custom/asyncTrain",
                      headers=key_headers(engine),
                      json={"source": url, "sourceFilter": {"prefix": "", "includeSubFolders": "false"},
                            "useLabelFile": "true"}, timeout=30)
    assert r.status_code == 201, r.text
    status_url = r.headers["Operation-Location"]
    deadline = time.monotonic() + 120
    while True:
        body = requests.get(status_url, headers=key_headers(engine), timeout=30).json()
        if body["status"] != "Running" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert body["status"] == "Succeeded" and body["modelInfo"]["status"] == "ready"
    assert body["trainResult"]["trainingDocuments"][0]["status"] == "Success"
    assert len(body["trainResult"]["trainingFields"]["fields"]) == 15
    model_id = body["modelInfo"]["modelId"]
    r = requests.post(f"{engine.endpoint}/formrecognizer/v2.0-preview/models/{model_id}/asyncAnalyze/"
                      "?includeTextDetails=false", headers=key_headers(engine),
                      files={"analyzeFile": ("Form_1.jpg", (PO / "Form_1.jpg").read_bytes(), "image/jpeg")},
                      timeout=30)
    assert r.status_code == 202, r.text
    op = r.headers["Operation-Location"]
    assert "/models/asyncAnalyzeOperations/" in op
    deadline = time.monotonic() + 120
    while True:
        body = requests.get(op, headers=key_headers(engine), timeout=30).json()
        if body["status"] in ("Succeeded", "Failed") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert body["status"] == "Succeeded"
    doc = body["analyzeResult"]["documentResults"][0]
    assert doc["fields"]["PurchaseOrderNumber"]["text"] == "948284"
    assert doc["fields"]["PurchaseOrderNumber"]["pageNumber"] == 1


# -- restart and the official SDK -------------------------------------------------------------------
@pytest.fixture()
def own_engine(tmp_path: Path) -> Iterator[EngineInfo]:
    info = start_engine(tmp_path / "data", log_path=tmp_path / "engine.log")
    yield info
    stop(info.process)


def test_models_survive_an_engine_restart(own_engine: EngineInfo, azurite: AzuriteInfo,
                                          tmp_path: Path) -> None:
    loc = train_model(own_engine, {"source": training_container(azurite, _po_files()), "useLabelFile": True})
    before = wait_model(own_engine, loc)
    assert before["modelInfo"]["status"] == "ready"
    stop(own_engine.process)
    second = start_engine(own_engine.data_dir, api_key=own_engine.api_key, log_path=tmp_path / "engine2.log")
    try:
        loc2 = loc.replace(own_engine.endpoint, second.endpoint)
        after = requests.get(loc2, headers=key_headers(second), timeout=30).json()
        assert after == before
        body = analyze_with_model(second, loc2, (PO / "Form_4.jpg").read_bytes())
        fields = body["analyzeResult"]["documentResults"][0]["fields"]
        assert fields["PurchaseOrderNumber"]["text"] == "3929423"
    finally:
        stop(second.process)


def test_official_sdk_trains_and_recognizes(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    url = training_container(azurite, _po_files("sdk/"))
    trainer = FormTrainingClient(engine.endpoint, AzureKeyCredential(engine.api_key), api_version="2.1")
    model = trainer.begin_training(url, use_training_labels=True, prefix="sdk/", model_name="sdk-po",
                                   polling_interval=0.3).result()
    assert model.status == "ready" and model.model_name == "sdk-po"
    sub = model.submodels[0]
    assert sub.form_type == "custom:sdk-po" and sub.accuracy is not None and sub.accuracy >= 0.9
    assert set(sub.fields) >= {"Total", "PurchaseOrderNumber"}
    assert all(f.accuracy is not None for f in sub.fields.values())
    assert [d.name for d in model.training_documents] == [f"Form_{i}.jpg" for i in range(1, 6)]
    client = FormRecognizerClient(engine.endpoint, AzureKeyCredential(engine.api_key), api_version="2.1")
    with (PO / "Form_3.jpg").open("rb") as fh:
        forms = client.begin_recognize_custom_forms(model.model_id, fh, polling_interval=0.3).result()
    form = forms[0]
    assert form.form_type == "custom:sdk-po"
    assert form.fields["PurchaseOrderNumber"].value == "9328424"
    assert form.fields["Quantity"].value == 20
    assert form.fields["Total"].value_data.text == "$414.00"
    assert trainer.get_account_properties().custom_model_count >= 1
    assert model.model_id in [m.model_id for m in trainer.list_custom_models()]
    trainer.delete_model(model.model_id)


def test_the_engine_log_is_one_line_per_operation_without_storage_request_headers(
        engine: EngineInfo, po_model) -> None:
    """Training reads from storage through the Azure SDK, whose HTTP logging wrote every request's headers."""
    log = (engine.data_dir.parent / "engine.log").read_text()
    assert "Request URL" not in log and "Request headers" not in log and "x-ms-version" not in log
    model_id = po_model[1]["modelInfo"]["modelId"]
    finished = [line for line in log.splitlines() if '"operation finished"' in line and model_id in line]
    assert len(finished) == 1, finished
