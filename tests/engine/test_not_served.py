"""Routes of the service the engine does not implement answer 501 `NotImplemented` in the error shape of
their API, through the official SDKs where they have a call for them; paths that are no route at all
answer 404/405 in that shape too. Before, `compose`, `copyAuthorization`, `:copyTo` and `:analyzeBatch`
met the GET route of a model and answered 405, the others the v2 gateway's 404."""

from __future__ import annotations

import uuid

import pytest
import requests
from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient, DocumentIntelligenceClient
from azure.ai.formrecognizer import (
    DocumentModelAdministrationClient,
    FormRecognizerClient,
    FormTrainingClient,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from formloop.stack import EngineInfo
from tests.helpers.engine import make_pdf

V4 = "?api-version=2024-11-30"
V3 = "?api-version=2023-07-31"


def _request(engine: EngineInfo, method: str, path: str) -> requests.Response:
    return requests.request(method, engine.endpoint + path, json={}, timeout=30,
                            headers={"Ocp-Apim-Subscription-Key": engine.api_key})


def _assert_501(err: HttpResponseError, what: str) -> None:
    assert err.status_code == 501, err
    assert err.error is not None and err.error.code == "NotImplemented", err
    message = err.error.innererror["message"] if err.error.innererror else err.error.message
    assert what in message and "not supported by this engine" in message


def test_the_sdks_calls_for_what_the_engine_lacks(engine: EngineInfo) -> None:
    key = AzureKeyCredential(engine.api_key)
    v4 = DocumentIntelligenceAdministrationClient(engine.endpoint, key)
    v3 = DocumentModelAdministrationClient(engine.endpoint, key)
    v21 = FormTrainingClient(engine.endpoint, key)
    calls = (
        (lambda: v4.begin_compose_model({"modelId": "c1", "classifierId": "k", "docTypes": {}}), "composing"),
        (lambda: v4.authorize_model_copy({"modelId": "c2"}), "copying models"),
        (lambda: v4.list_classifiers().next(), "document classifiers"),
        (lambda: DocumentIntelligenceClient(engine.endpoint, key).begin_analyze_batch_documents(
            "prebuilt-layout", {"resultContainerUrl": "http://127.0.0.1/x"}), "batch analysis"),
        (lambda: v3.begin_compose_document_model(["m1", "m2"]), "composing"),
        (lambda: v3.get_copy_authorization(), "copying models"),
        (lambda: v3.get_document_classifier("k"), "document classifiers"),
        (lambda: v21.begin_create_composed_model([str(uuid.uuid4())] * 2), "composing"),  # was 405
        (lambda: v21.get_copy_authorization("rid", "westus"), "copying models"),  # was 405
        (lambda: FormRecognizerClient(engine.endpoint, key).begin_recognize_receipts(make_pdf([["x"]])),
         "prebuilt models"),
    )
    for call, what in calls:
        with pytest.raises(HttpResponseError) as err:
            call()
        _assert_501(err.value, what)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", f"/documentintelligence/documentModels/m1:copyTo{V4}"),
    ("POST", f"/documentintelligence/documentModels/m1:analyzeBatch{V4}"),
    ("GET", f"/documentintelligence/documentModels/m1/analyzeBatchResults/{uuid.uuid4()}{V4}"),
    ("DELETE", f"/documentintelligence/documentModels/m1/analyzeResults/{uuid.uuid4()}{V4}"),
    ("GET", f"/documentintelligence/documentModels/m1/analyzeResults/{uuid.uuid4()}/pdf{V4}"),
    ("GET", f"/documentintelligence/documentModels/m1/analyzeResults/{uuid.uuid4()}/figures/1.1{V4}"),
    ("POST", f"/documentintelligence/documentClassifiers:build{V4}"),
    ("POST", f"/formrecognizer/documentModels/m1:copyTo{V3}"),
    ("POST", f"/formrecognizer/documentClassifiers/k:analyze{V3}"),
])
def test_v4_and_3x_routes_the_engine_lacks(engine: EngineInfo, method: str, path: str) -> None:
    r = _request(engine, method, path)
    assert r.status_code == 501, r.text
    error = r.json()["error"]
    assert error["code"] == "NotImplemented" and error["innererror"]["code"] == "OperationNotSupported"
    assert "not supported by this engine" in error["innererror"]["message"]


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/formrecognizer/v2.1/custom/models/compose"),
    ("POST", "/formrecognizer/v2.1/custom/models/copyAuthorization"),
    ("POST", "/formrecognizer/v2.1/custom/models/m1/copy"),
    ("GET", f"/formrecognizer/v2.1/custom/models/m1/copyResults/{uuid.uuid4()}"),
    ("GET", f"/formrecognizer/v2.1/prebuilt/invoice/analyzeResults/{uuid.uuid4()}"),
])
def test_v2_routes_the_engine_lacks(engine: EngineInfo, method: str, path: str) -> None:
    r = _request(engine, method, path)
    assert r.status_code == 501, r.text
    assert r.json()["error"]["code"] == "NotImplemented" and "not supported" in r.json()["error"]["message"]
    r = _request(engine, method, path.replace("/v2.1/", "/v9.9/"))
    assert r.status_code == 404 and r.json() == {"error": {"code": "404", "message": "Resource not found."}}


def test_no_route_answers_in_the_apis_own_shape(engine: EngineInfo) -> None:
    r = _request(engine, "GET", f"/documentintelligence/nothingHere{V4}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
    assert "/documentintelligence/nothinghere is not a route" in r.json()["error"]["message"]
    r = _request(engine, "PUT", f"/formrecognizer/documentModels/m1{V3}")
    assert r.status_code == 405 and r.json()["error"]["code"] == "MethodNotAllowed"
    r = _request(engine, "PATCH", f"/documentintelligence/info{V4}")
    assert r.status_code == 405 and r.json()["error"]["code"] == "MethodNotAllowed"
    r = _request(engine, "GET", "/formrecognizer/v2.1/nothing")
    assert r.status_code == 404 and r.json() == {"error": {"code": "404", "message": "Resource not found."}}
