"""The client's Document Intelligence v4.0 (`2024-11-30`) parts that need no service: model ids derived
from folder and run, routes carrying the api-version, build operations and model bodies."""

from __future__ import annotations

import re

import pytest

from shared.clients.formrecognizer import FormRecognizerClient, parse_v4_training_body, v4_model_id
from shared.clients.records import new_run_id

MODEL_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}$")  # the service's rule for a chosen model id


@pytest.mark.parametrize("folder", ["po", "a/b c/é", "", "x" * 300, "...", "2024/q1/invoices"])
def test_model_ids_are_valid_unique_per_run_and_derived_from_folder_and_run(folder: str) -> None:
    run_a, run_b = new_run_id(), new_run_id()
    a, b = v4_model_id(f"{folder}-{run_a}"), v4_model_id(f"{folder}-{run_b}")
    assert MODEL_ID.match(a) and MODEL_ID.match(b) and a != b
    assert a.endswith(run_a) and a == v4_model_id(f"{folder}-{run_a}")


def test_v4_routes_carry_the_api_version() -> None:
    client = FormRecognizerClient("http://127.0.0.1:1", "k", "2024-11-30")
    assert client._url(client._layout_path) == (
        "http://127.0.0.1:1/documentintelligence/documentModels/prebuilt-layout:analyze?api-version=2024-11-30")
    build = client._url(client._train_path)
    assert build.endswith("/documentintelligence/documentModels:build?api-version=2024-11-30")


def test_a_build_operation_and_a_model_body_read_alike() -> None:
    model = {"modelId": "po-1", "description": "po-run", "createdDateTime": "2026-12-02T00:00:00Z",
             "docTypes": {"po-1": {"fieldSchema": {"Total": {"type": "string"}, "Date": {"type": "date"}},
                                   "fieldConfidence": {"Total": 0.9, "Date": 0.7}}}}
    running = parse_v4_training_body({"status": "running", "resourceLocation": "http://x/documentModels/po-1"})
    assert running.state == "creating" and running.model_id == "po-1" and not running.finished
    done = parse_v4_training_body({"status": "succeeded", "result": model})
    assert done.state == "ready" and done.model_id == "po-1" and done.average_accuracy == 0.8
    assert sorted(done.fields) == [("Date", 0.7), ("Total", 0.9)]
    assert parse_v4_training_body(model).state == "ready"
    failed = parse_v4_training_body({"status": "failed", "error": {
        "code": "InvalidRequest", "message": "Invalid request.",
        "innererror": {"code": "TrainingContentMissing", "message": "no labeled documents"}}})
    assert failed.state == "invalid" and failed.errors == [
        {"code": "TrainingContentMissing", "message": "no labeled documents"}]
