"""Document Intelligence v4.0 custom models through a real engine process, a real Azurite and the official
SDK (azure-ai-documentintelligence 1.0.x): build from a container SAS, get/list/delete, analyze."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient, DocumentIntelligenceClient
from azure.ai.documentintelligence.models import AnalyzeResult, DocumentModelDetails
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from engine.v4.routes import neural_builds
from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.custom_models import PURCHASE_ORDERS as PO
from tests.helpers.custom_models import studio_files as _studio_files
from tests.helpers.engine import sas_container

API = "api-version=2024-11-30"


# -- helpers ----------------------------------------------------------------------------------------
def _container(azurite: AzuriteInfo, files: dict[str, bytes]) -> str:
    return sas_container(azurite, files, "v4")


def _admin(engine: EngineInfo) -> DocumentIntelligenceAdministrationClient:
    return DocumentIntelligenceAdministrationClient(engine.endpoint, AzureKeyCredential(engine.api_key))


def _client(engine: EngineInfo) -> DocumentIntelligenceClient:
    return DocumentIntelligenceClient(engine.endpoint, AzureKeyCredential(engine.api_key))


def _build(engine: EngineInfo, body: dict[str, Any]) -> DocumentModelDetails:
    return _admin(engine).begin_build_document_model(body, polling_interval=0.3).result()


def _analyze(engine: EngineInfo, model_id: str, name: str) -> AnalyzeResult:
    return _client(engine).begin_analyze_document(model_id, (PO / name).read_bytes(),
                                                  polling_interval=0.3).result()


@pytest.fixture(scope="module")
def studio_model(engine: EngineInfo, azurite: AzuriteInfo) -> DocumentModelDetails:
    url = _container(azurite, _studio_files("studio/"))
    return _build(engine, {"modelId": "PO-Studio", "buildMode": "template", "description": "purchase orders",
                           "tags": {"team": "forms"},
                           "azureBlobSource": {"containerUrl": url, "prefix": "studio/"}})


# -- build, get, list --------------------------------------------------------------------------------
def test_build_from_studio_files_gives_model_details(studio_model: DocumentModelDetails) -> None:
    m = studio_model
    assert (m.model_id, m.build_mode, m.api_version, m.description) == (
        "PO-Studio", "template", "2024-11-30", "purchase orders")
    assert m.tags == {"team": "forms"} and m.created_date_time is not None
    assert m.azure_blob_source.prefix == "studio/" and "sig=" not in m.azure_blob_source.container_url
    (name, doc_type), = m.doc_types.items()
    assert name == "PO-Studio" and doc_type.build_mode == "template"
    assert len(doc_type.field_schema) == 15 and doc_type.field_schema["Quantity"].type == "number"
    assert doc_type.field_schema["Total"].type == "string"
    confidence = doc_type.field_confidence
    assert set(confidence) == set(doc_type.field_schema) and all(0 <= c <= 1 for c in confidence.values())
    assert sum(confidence.values()) / len(confidence) >= 0.9
    assert not m.warnings  # every v4 .ocr.json was read, every label matched


def test_get_list_info_and_operations(engine: EngineInfo, studio_model: DocumentModelDetails) -> None:
    admin = _admin(engine)
    assert admin.get_model("po-studio").model_id == "PO-Studio"  # ids compare case-insensitively
    assert admin.get_model("PO-Studio").doc_types == studio_model.doc_types
    assert "PO-Studio" in {m.model_id for m in admin.list_models()}
    assert admin.get_resource_details().custom_document_models.count >= 1
    info = requests.get(f"{engine.endpoint}/documentintelligence/info?{API}", timeout=30,
                        headers={"Ocp-Apim-Subscription-Key": engine.api_key}).json()
    neural = info["customNeuralDocumentModelBuilds"]  # sample_get_raw_response / sample_send_request read it
    assert neural["quota"] == 5000 and neural["used"] >= 0
    assert neural["quotaResetDateTime"].endswith("-01T00:00:00Z")
    builds = [op for op in admin.list_operations()
              if op.resource_location.split("?")[0].endswith("/PO-Studio")]
    assert builds and builds[0].kind == "documentModelBuild"
    op = admin.get_operation(builds[0].operation_id)
    assert (op.status, op.percent_completed, op.api_version) == ("succeeded", 100, "2024-11-30")
    assert op.result.model_id == "PO-Studio" and op.resource_location.endswith("?" + API)
    assert op.tags == {"team": "forms"}
    with pytest.raises(ResourceNotFoundError) as missing:
        admin.get_operation(str(uuid.uuid4()))
    assert missing.value.error.innererror["code"] == "OperationNotFound"


def test_neural_builds_count_this_months_neural_models() -> None:
    models = [{"buildMode": "neural", "createdDateTime": "2026-12-03T10:00:00Z"},
              {"buildMode": "neural", "createdDateTime": "2026-11-30T23:59:59Z"},
              {"buildMode": "template", "createdDateTime": "2026-12-04T10:00:00Z"}]
    assert neural_builds(models, datetime(2026, 12, 7, tzinfo=UTC)) == {
        "used": 1, "quota": 5000, "quotaResetDateTime": "2027-01-01T00:00:00Z"}
    november = neural_builds(models, datetime(2026, 11, 7, tzinfo=UTC))
    assert november["used"] == 1 and november["quotaResetDateTime"] == "2026-12-01T00:00:00Z"


# -- analyze -----------------------------------------------------------------------------------------
def test_analyze_with_the_built_model(engine: EngineInfo, studio_model: DocumentModelDetails) -> None:
    result = _analyze(engine, "PO-Studio", "Form_5.jpg")
    assert result.model_id == "PO-Studio" and result.pages[0].unit == "pixel"
    (doc,) = result.documents
    assert doc.doc_type == "PO-Studio:PO-Studio" and 0 < doc.confidence <= 1
    assert doc.spans[0].offset == 0 and doc.spans[0].length == len(result.content)
    assert doc.bounding_regions[0].polygon == [0, 0, 1700, 0, 1700, 2200, 0, 2200]
    f = doc.fields
    assert set(f) == set(studio_model.doc_types["PO-Studio"].field_schema)
    assert f["PurchaseOrderNumber"].type == "string" and f["PurchaseOrderNumber"].value_string == "2992848"
    assert f["Quantity"].type == "number" and f["Quantity"].value_number == 20
    assert f["Total"].value_string == "$1000.00" and f["VendorName"].value_string == "Jack Sprat"
    assert f["CompanyAddress"].content.count("\n") == 1  # a two-line value keeps its line break in content
    for name, field in f.items():
        if field.value_string is None and field.value_number is None:
            continue
        (region,) = field.bounding_regions
        assert region.page_number == 1 and len(region.polygon) == 8 and 0 <= field.confidence <= 1
        texts = [result.content[s.offset:s.offset + s.length] for s in field.spans]
        assert " ".join(texts) == field.content, name


def test_build_without_ocr_files_from_a_file_list(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    """No `.ocr.json`: the engine reads the documents itself; azureBlobFileListSource picks them."""
    files = _studio_files("forms/", ocr=False)
    files["forms/Form_9.jpg"] = files["forms/Form_1.jpg"]  # not listed, so not trained on
    files["lists/train.jsonl"] = "\n".join(json.dumps({"file": f"forms/Form_{i}.jpg"})
                                           for i in range(1, 6)).encode()
    url = _container(azurite, files)
    source = {"containerUrl": url, "fileList": "lists/train.jsonl"}
    model = _build(engine, {"modelId": "po-listed", "buildMode": "neural", "azureBlobFileListSource": source})
    assert model.build_mode == "neural" and model.azure_blob_file_list_source.file_list == "lists/train.jsonl"
    assert model.doc_types["po-listed"].field_schema["Quantity"].type == "number"
    fields = _analyze(engine, "po-listed", "Form_3.jpg").documents[0].fields
    assert fields["PurchaseOrderNumber"].value_string == "9328424" and fields["Quantity"].value_number == 20
    admin = _admin(engine)
    admin.delete_model("po-listed")
    for call in (lambda: admin.get_model("po-listed"), lambda: admin.delete_model("po-listed"),
                 lambda: _analyze(engine, "po-listed", "Form_3.jpg")):
        with pytest.raises(ResourceNotFoundError) as gone:
            call()
        assert gone.value.error.innererror["code"] == "ModelNotFound"
    assert "po-listed" not in {m.model_id for m in admin.list_models()}


def test_an_existing_id_needs_allow_overwrite(engine: EngineInfo, azurite: AzuriteInfo,
                                              studio_model: DocumentModelDetails) -> None:
    url = _container(azurite, _studio_files())
    body: dict[str, Any] = {"modelId": "po-studio", "buildMode": "template",
                            "azureBlobSource": {"containerUrl": url}}
    with pytest.raises(ResourceExistsError) as exists:
        _admin(engine).begin_build_document_model(body)
    assert exists.value.error.innererror["code"] == "ModelExists"
    body.update(modelId="po-twice", allowOverwrite=True)
    first = _build(engine, body)
    second = _build(engine, body)
    assert first.model_id == second.model_id == "po-twice"
    assert second.created_date_time >= first.created_date_time
    _admin(engine).delete_model("po-twice")


def test_a_failed_build_says_why(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    url = _container(azurite, _studio_files(only=(1, 2, 3)))
    with pytest.raises(HttpResponseError) as failed:
        _build(engine, {"modelId": "too-few", "buildMode": "template",
                        "azureBlobSource": {"containerUrl": url}})
    assert failed.value.error.code == "InvalidRequest"
    assert failed.value.error.innererror["code"] == "ModelBuildError"
    assert "at least 5" in failed.value.error.innererror["message"]
    with pytest.raises(ResourceNotFoundError):
        _admin(engine).get_model("too-few")
    empty = _container(azurite, {"notes.txt": b"nothing to train on"})
    with pytest.raises(HttpResponseError) as missing:
        _build(engine, {"modelId": "empty", "buildMode": "template",
                        "azureBlobSource": {"containerUrl": empty}})
    assert missing.value.error.innererror["code"] == "TrainingContentMissing"


def test_build_requests_are_checked_at_the_post(engine: EngineInfo) -> None:
    url = f"{engine.endpoint}/documentintelligence/documentModels:build?{API}"
    headers = {"Ocp-Apim-Subscription-Key": engine.api_key}
    off_list = {"modelId": "x1", "buildMode": "template",
                "azureBlobSource": {"containerUrl": "https://evil.example.org/c?sig=1"}}
    r = requests.post(url, json=off_list, headers=headers, timeout=30)
    assert r.status_code == 403 and r.json()["error"]["innererror"]["code"] == "OutboundAccessForbidden"
    r = requests.post(url, json={"buildMode": "template"}, headers=headers, timeout=30)
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "InvalidArgument", "message": "Invalid argument.",
        "innererror": {"code": "ParameterMissing", "message": "The parameter modelId is required."}}
    r = requests.delete(f"{engine.endpoint}/documentintelligence/documentModels/prebuilt-layout?{API}",
                        headers=headers, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["innererror"]["code"] == "ModelReadOnly"
