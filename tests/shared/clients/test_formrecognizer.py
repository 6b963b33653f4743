"""The Form Recognizer client against a real local HTTP server that answers like the service,
including its faults: 429/503 with and without Retry-After, error bodies, an unreachable endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from formloop.stack import free_port
from shared.clients.formrecognizer import (
    FormRecognizerClient,
    FormRecognizerError,
    content_type_for,
    parse_training_body,
)
from tests.helpers.pipeline import FaultServer, Reply, error_reply

LAYOUT_DONE = {
    "status": "succeeded",
    "createdDateTime": "2021-01-01T00:00:00Z",
    "lastUpdatedDateTime": "2021-01-01T00:00:01Z",
    "analyzeResult": {"version": "2.1.0", "readResults": [{"page": 1, "lines": []}]},
}


def service(base: str, ops: list[dict]) -> Callable[[str, str, bytes], Reply]:
    """Answers layout POSTs with 202 + Operation-Location, GETs with the scripted poll bodies in turn."""

    def answer(method: str, path: str, body: bytes) -> Reply:
        if method == "POST":
            return 202, {"Operation-Location": f"{base}/formrecognizer/v2.1/layout/analyzeResults/op1"}, b""
        current = ops.pop(0) if len(ops) > 1 else ops[0]
        return 200, {"Content-Type": "application/json"}, json.dumps(current).encode()

    return answer


def client(url: str, **kw: float) -> FormRecognizerClient:
    options = {
        "retry_budget": 10.0,
        "backoff": 0.02,
        "max_backoff": 0.1,
        "poll_interval": 0.02,
        "timeout": 5.0,
    }
    options.update(kw)
    return FormRecognizerClient(url, "key", "v2.1", **options)


def start_service(fault_server: Callable[..., FaultServer], ops: list[dict]) -> FaultServer:
    box: dict[str, str] = {}
    server = fault_server(fallback=lambda m, p, b: service(box["url"], ops)(m, p, b))
    box["url"] = server.url
    return server


def test_transient_answers_are_retried_honouring_retry_after(
    fault_server: Callable[..., FaultServer],
) -> None:
    server = start_service(fault_server, [{"status": "running"}, {"status": "running"}, LAYOUT_DONE])
    server.add_faults(
        error_reply(429, "429", "Rate limit", **{"Retry-After": "0"}),
        error_reply(503, "ServiceUnavailable", "busy"),
        error_reply(502, "BadGateway", "proxy"),
    )
    body, raw = client(server.url).analyze_layout(b"%PDF-1.4", "application/pdf", 10)
    assert body["status"] == "succeeded" and json.loads(raw) == body
    statuses = [s for _, _, s in server.seen]
    assert statuses[:3] == [429, 503, 502] and statuses.count(202) == 1 and statuses[-1] == 200


def test_errors_carry_the_service_code_and_message_without_retrying(
    fault_server: Callable[..., FaultServer],
) -> None:
    server = start_service(fault_server, [LAYOUT_DONE])
    server.add_faults(
        error_reply(400, "InvalidImage", "The input data is not a valid image or password protected.")
    )
    with pytest.raises(FormRecognizerError) as info:
        client(server.url).analyze_layout(b"junk", "application/pdf", 10)
    assert info.value.code == "InvalidImage" and "not a valid image" in info.value.message
    assert info.value.status == 400 and not info.value.transient
    assert len(server.seen) == 1


def test_a_failed_operation_reports_its_first_error(fault_server: Callable[..., FaultServer]) -> None:
    failed = {
        "status": "failed",
        "analyzeResult": {"errors": [{"code": "InvalidImageSize", "message": "too big"}]},
    }
    server = start_service(fault_server, [failed])
    with pytest.raises(FormRecognizerError) as info:
        client(server.url).analyze_layout(b"%PDF", "application/pdf", 10)
    assert (info.value.code, info.value.message, info.value.transient) == (
        "InvalidImageSize",
        "too big",
        False,
    )


def test_polling_is_bounded_by_a_deadline(fault_server: Callable[..., FaultServer]) -> None:
    server = start_service(fault_server, [{"status": "running"}])
    with pytest.raises(FormRecognizerError) as info:
        client(server.url).analyze_layout(b"%PDF", "application/pdf", deadline_seconds=0.3)
    assert info.value.code == "Timeout" and info.value.transient


def test_persistent_throttling_gives_up_after_the_budget(fault_server: Callable[..., FaultServer]) -> None:
    server = start_service(fault_server, [LAYOUT_DONE])
    server.add_faults(*[error_reply(429, "429", "Rate limit", **{"Retry-After": "0.05"})] * 100)
    with pytest.raises(FormRecognizerError) as info:
        client(server.url, retry_budget=0.4).begin_layout(b"%PDF", "application/pdf")
    assert info.value.code == "429" and info.value.transient and info.value.status == 429
    assert 2 <= len(server.seen) < 100


def test_unreachable_endpoint_is_a_transient_error() -> None:
    with pytest.raises(FormRecognizerError) as info:
        client(f"http://127.0.0.1:{free_port()}", retry_budget=0.3).begin_layout(b"%PDF", "application/pdf")
    assert info.value.code == "ServiceUnreachable" and info.value.transient


def test_non_json_error_bodies_still_become_errors(fault_server: Callable[..., FaultServer]) -> None:
    server = fault_server(fallback=lambda m, p, b: (404, {"Content-Type": "text/html"}, b"<h1>nope</h1>"))
    with pytest.raises(FormRecognizerError) as info:
        client(server.url).get_training(server.url + "/formrecognizer/v2.1/custom/models/x")
    assert info.value.code == "HTTP404" and "nope" in info.value.message


def test_preview_dialect_routes_and_capitalised_status(fault_server: Callable[..., FaultServer]) -> None:
    paths: list[str] = []

    def answer(method: str, path: str, body: bytes) -> Reply:
        paths.append(f"{method} {path}")
        if path.endswith("/readLayout/asyncAnalyze"):
            return 202, {"Location": "/formrecognizer/v2.0-preview/readLayout/asyncAnalyzeOperations/7"}, b""
        if path.endswith("/custom/asyncTrain"):
            assert json.loads(body)["useLabelFile"] is True and "modelName" not in json.loads(body)
            return 201, {"Location": "/formrecognizer/v2.0-preview/asyncTrainOperations/9"}, b""
        if "asyncAnalyzeOperations" in path:
            return 200, {}, json.dumps({"status": "Succeeded", "analyzeResult": {"readResults": []}}).encode()
        return 200, {}, json.dumps({"status": "Succeeded", "trainResult": {"modelId": "m9"}}).encode()

    server = fault_server(fallback=answer)
    preview = FormRecognizerClient(server.url, "key", "2.0-preview", poll_interval=0.01)
    body, raw = preview.analyze_layout(b"%PDF", "application/pdf", 5)
    assert body["status"] == "succeeded" and json.loads(raw)["status"] == "succeeded"
    url = preview.begin_training("http://sas", "folder/")
    assert url == server.url + "/formrecognizer/v2.0-preview/asyncTrainOperations/9"
    assert preview.get_training(url).model_id == "m9"
    assert paths[0] == "POST /formrecognizer/v2.0-preview/readLayout/asyncAnalyze"


def test_train_request_body(fault_server: Callable[..., FaultServer]) -> None:
    sent: list[dict] = []

    def answer(method: str, path: str, body: bytes) -> Reply:
        sent.append(json.loads(body))
        return 201, {"Location": "http://x/formrecognizer/v2.1/custom/models/abc"}, b""

    server = fault_server(fallback=answer)
    assert (
        client(server.url).begin_training("http://sas?sig=1", "po/", "po-run")
        == "http://x/formrecognizer/v2.1/custom/models/abc"
    )
    assert sent == [
        {
            "source": "http://sas?sig=1",
            "sourceFilter": {"prefix": "po/", "includeSubFolders": False},
            "useLabelFile": True,
            "modelName": "po-run",
        }
    ]


# -- pure parts: content types and training bodies ------------------------------------------------
def test_content_type_comes_from_magic_bytes_then_extension() -> None:
    assert content_type_for(b"%PDF-1.7", "x.jpg") == "application/pdf"
    assert content_type_for(b"\x89PNG\r\n", "x") == "image/png"
    assert content_type_for(b"II*\x00", "x") == "image/tiff"
    assert content_type_for(b"", "scan.TIF") == "image/tiff"
    assert content_type_for(b"garbage", "x.pdf") == "application/pdf"


def test_training_bodies_of_both_dialects_are_read_alike() -> None:
    v21 = parse_training_body(
        {
            "modelInfo": {
                "modelId": "m1",
                "status": "ready",
                "createdDateTime": "2021-01-01T00:00:00Z",
                "lastUpdatedDateTime": "2021-01-01T00:00:09Z",
                "modelName": "po",
            },
            "trainResult": {
                "averageModelAccuracy": 0.96,
                "fields": [{"fieldName": "Total", "accuracy": 0.99}],
                "trainingDocuments": [
                    {"documentName": "a.pdf", "pages": 1, "status": "succeeded", "errors": []}
                ],
                "errors": [],
            },
        }
    )
    legacy = parse_training_body(
        {
            "status": "Succeeded",
            "createdDateTime": "2019",
            "lastUpdatedDateTime": "2019",
            "trainResult": {
                "modelId": "m1",
                "trainingDocuments": [{"documentName": "a.pdf", "pages": 1, "status": "Success"}],
                "trainingFields": {
                    "fields": [{"fieldName": "Total", "accuracy": 0.99}],
                    "averageModelAccuracy": 0.96,
                },
                "errors": [],
            },
        }
    )
    for outcome in (v21, legacy):
        assert outcome.state == "ready" and outcome.finished and outcome.model_id == "m1"
        assert outcome.average_accuracy == 0.96 and outcome.fields == [("Total", 0.99)]
        assert outcome.documents[0]["status"] == "succeeded"
    invalid = parse_training_body(
        {
            "modelInfo": {"modelId": "m2", "status": "invalid"},
            "trainResult": {"errors": [{"code": "2014", "message": "too few"}]},
        }
    )
    assert invalid.state == "invalid" and invalid.errors == [{"code": "2014", "message": "too few"}]
    assert not parse_training_body({"modelInfo": {"modelId": "m3", "status": "creating"}}).finished
