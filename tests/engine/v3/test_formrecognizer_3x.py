"""Form Recognizer 3.x (2023-07-31, 2022-08-31) under `/formrecognizer` through a real engine process, with
azure-ai-formrecognizer 3.3's clients at their defaults (no `api_version` argument): Layout and Read,
building from a container with and without a file list, models, operations, resource details, custom
analysis; the 3.x bodies, and the errors."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient
from azure.ai.formrecognizer import (
    AnalysisFeature,
    DocumentAnalysisClient,
    DocumentModelAdministrationClient,
    DocumentModelDetails,
    ModelBuildMode,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.custom_models import PURCHASE_ORDERS, studio_files
from tests.helpers.engine import Client, make_pdf, sas_container

API = "api-version=2023-07-31"


def _analysis(engine: EngineInfo, **kw: str) -> DocumentAnalysisClient:
    return DocumentAnalysisClient(engine.endpoint, AzureKeyCredential(engine.api_key), **kw)


def _admin(engine: EngineInfo, **kw: str) -> DocumentModelAdministrationClient:
    return DocumentModelAdministrationClient(engine.endpoint, AzureKeyCredential(engine.api_key), **kw)


def _raw(engine: EngineInfo, method: str, path: str, data: bytes | None = None,
         content_type: str = "application/octet-stream") -> requests.Response:
    headers = {"Ocp-Apim-Subscription-Key": engine.api_key, "Content-Type": content_type}
    return requests.request(method, engine.endpoint + path, data=data, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def model(engine: EngineInfo, azurite: AzuriteInfo) -> DocumentModelDetails:
    url = sas_container(azurite, studio_files("po/"), "v3")
    poller = _admin(engine).begin_build_document_model(
        ModelBuildMode.TEMPLATE, blob_container_url=url, prefix="po/", model_id="po-3x",
        description="purchase orders", tags={"team": "forms"}, polling_interval=0.3)
    return poller.result()


def test_layout_and_read_at_the_sdk_defaults(engine: EngineInfo) -> None:
    pdf = make_pdf([["Purchase Order 948284", "Company Phone: 555-348-6512"]], boxes=[(300, 600, True)])
    poller = _analysis(engine).begin_analyze_document("prebuilt-layout", pdf, polling_interval=0.2)
    result = poller.result()
    assert (result.api_version, result.model_id) == ("2023-07-31", "prebuilt-layout")
    assert result.content.startswith("Purchase Order 948284\nCompany Phone: 555-348-6512")
    page = result.pages[0]
    assert [w.content for w in page.lines[0].get_words()] == ["Purchase", "Order", "948284"]
    assert [m.state for m in page.selection_marks] == ["selected"]
    assert result.tables == [] and result.paragraphs and result.styles == []
    read = _analysis(engine, api_version="2022-08-31").begin_analyze_document(
        "prebuilt-read", pdf, polling_interval=0.2).result()
    assert (read.api_version, read.model_id, read.content) == (
        "2022-08-31", "prebuilt-read", "Purchase Order 948284\nCompany Phone: 555-348-6512")


def test_the_wire_protocol_and_the_3x_body(engine: EngineInfo) -> None:
    """202 with an absolute Operation-Location under /formrecognizer carrying the request's version; the
    analyzeResult has no `contentFormat` (v4.0 added it)."""
    r = _raw(engine, "POST", f"/formrecognizer/documentModels/prebuilt-layout:analyze?{API}",
             make_pdf([["Wire"]]))
    assert r.status_code == 202 and r.content == b""
    op = r.headers["Operation-Location"]
    assert op.startswith(f"{engine.endpoint}/formrecognizer/documentModels/prebuilt-layout/analyzeResults/")
    assert op.endswith("?" + API)
    result = Client(engine.endpoint, engine.api_key).wait(op)["analyzeResult"]
    assert result["apiVersion"] == "2023-07-31" and result["content"] == "Wire"
    assert "contentFormat" not in result


def test_styles_and_high_resolution_are_accepted_other_add_ons_refused(engine: EngineInfo) -> None:
    pdf = make_pdf([["Fonts"]])
    result = _analysis(engine).begin_analyze_document(
        "prebuilt-read", pdf, features=[AnalysisFeature.STYLE_FONT, AnalysisFeature.OCR_HIGH_RESOLUTION],
        polling_interval=0.2).result()
    assert result.content == "Fonts" and result.styles == []  # the engine reports no font styles
    with pytest.raises(HttpResponseError) as refused:
        _analysis(engine).begin_analyze_document("prebuilt-layout", pdf, features=[AnalysisFeature.BARCODES])
    assert refused.value.status_code == 400 and refused.value.error.code == "InvalidArgument"
    assert "barcodes" in refused.value.error.innererror["message"]


def test_build_get_list_and_the_3x_details(engine: EngineInfo, model: DocumentModelDetails) -> None:
    assert (model.model_id, model.description, model.api_version, model.tags) == (
        "po-3x", "purchase orders", "2023-07-31", {"team": "forms"})
    doc_type = model.doc_types["po-3x"]
    assert doc_type.build_mode == "template" and doc_type.field_schema["Quantity"]["type"] == "number"
    assert set(doc_type.field_confidence) == set(doc_type.field_schema)
    admin = _admin(engine)
    assert admin.get_document_model("PO-3X").model_id == "po-3x"
    listed = {m.model_id: m for m in admin.list_document_models()}
    assert {"prebuilt-layout", "prebuilt-read", "po-3x"} <= set(listed)
    raw = _raw(engine, "GET", f"/formrecognizer/documentModels/po-3x?{API}").json()
    assert set(raw) == {"modelId", "description", "createdDateTime", "apiVersion", "tags", "docTypes"}
    entry = next(m for m in _raw(engine, "GET", f"/formrecognizer/documentModels?{API}").json()["value"]
                 if m["modelId"] == "po-3x")
    assert set(entry) == {"modelId", "description", "createdDateTime", "apiVersion", "tags"}
    # one store for every API version, as on one cloud resource: v4.0 sees the model (with its v4 keys)
    v4 = DocumentIntelligenceAdministrationClient(engine.endpoint, AzureKeyCredential(engine.api_key))
    assert v4.get_model("po-3x").api_version == "2023-07-31"
    assert v4.get_model("po-3x").azure_blob_source.prefix == "po/"


def test_operations_and_resource_details(engine: EngineInfo, model: DocumentModelDetails) -> None:
    admin = _admin(engine)
    builds = [op for op in admin.list_operations() if op.resource_location.split("?")[0].endswith("/po-3x")]
    assert builds and builds[0].kind == "documentModelBuild"
    assert builds[0].resource_location.startswith(f"{engine.endpoint}/formrecognizer/documentModels/")
    op = admin.get_operation(builds[0].operation_id)
    assert (op.status, op.percent_completed, op.api_version) == ("succeeded", 100, "2023-07-31")
    assert op.result.model_id == "po-3x" and op.tags == {"team": "forms"}
    details = admin.get_resource_details()
    assert details.custom_document_models.count >= 1 and details.custom_document_models.limit == 5000
    quota = details.neural_document_model_quota
    assert quota.quota == 5000 and quota.used >= 0 and quota.quota_resets_on is not None
    with pytest.raises(ResourceNotFoundError) as missing:
        admin.get_operation(str(uuid.uuid4()))
    assert missing.value.error.innererror["code"] == "OperationNotFound"


def test_custom_analysis(engine: EngineInfo, model: DocumentModelDetails) -> None:
    result = _analysis(engine).begin_analyze_document(
        "po-3x", (PURCHASE_ORDERS / "Form_5.jpg").read_bytes(), polling_interval=0.3).result()
    (doc,) = result.documents
    assert result.api_version == "2023-07-31" and doc.doc_type == "po-3x:po-3x"
    assert doc.fields["PurchaseOrderNumber"].value == "2992848"
    assert doc.fields["Quantity"].value == 20 and doc.fields["VendorName"].value == "Jack Sprat"


def test_build_from_a_file_list_then_delete(engine: EngineInfo, azurite: AzuriteInfo) -> None:
    files = studio_files("forms/")
    files["lists/train.jsonl"] = "\n".join(json.dumps({"file": f"forms/Form_{i}.jpg"})
                                           for i in range(1, 6)).encode()
    url = sas_container(azurite, files, "v3list")
    admin = _admin(engine)
    built = admin.begin_build_document_model(ModelBuildMode.TEMPLATE, blob_container_url=url,
                                             file_list="lists/train.jsonl", polling_interval=0.3).result()
    uuid.UUID(built.model_id)  # the SDK chose the id
    assert built.doc_types[built.model_id].field_schema["Quantity"]["type"] == "number"
    with pytest.raises(ResourceExistsError):
        admin.begin_build_document_model(ModelBuildMode.TEMPLATE, blob_container_url=url,
                                         file_list="lists/train.jsonl", model_id=built.model_id)
    admin.delete_document_model(built.model_id)
    with pytest.raises(ResourceNotFoundError) as gone:
        admin.get_document_model(built.model_id)
    assert gone.value.error.innererror["code"] == "ModelNotFound"


def test_errors(engine: EngineInfo) -> None:
    pdf = make_pdf([["x"]])
    with pytest.raises(ResourceNotFoundError) as document:
        _analysis(engine).begin_analyze_document("prebuilt-document", pdf)
    assert document.value.error.innererror["code"] == "ModelNotFound"
    assert "prebuilt-layout and prebuilt-read" in document.value.error.innererror["message"]
    path = "/formrecognizer/documentModels/prebuilt-layout:analyze"
    for query, inner, words in (("", "ParameterMissing", "api-version"),
                                ("?api-version=2024-11-30", "InvalidParameter", "/documentintelligence"),
                                ("?api-version=2.1", "InvalidParameter", "2023-07-31 or 2022-08-31")):
        r = _raw(engine, "POST", path + query, pdf, "application/pdf")
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidArgument", r.text
        assert r.json()["error"]["innererror"]["code"] == inner and words in r.text
    # a model named "layout" is a 3.x model, never v2's `/formrecognizer/{version}/layout/...` route
    r = _raw(engine, "GET", f"/formrecognizer/documentModels/layout/analyzeResults/{uuid.uuid4()}?{API}")
    assert r.status_code == 404 and r.json()["error"]["innererror"]["code"] == "ModelNotFound"
    with pytest.raises(HttpResponseError) as read_only:
        _admin(engine).delete_document_model("prebuilt-read")
    assert read_only.value.error.innererror["code"] == "ModelReadOnly"
