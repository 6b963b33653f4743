"""Issue 12: work cut short by a crash is retried, claims of dead workers expire, bursts train once.

Each test reproduces one report of the issue against the real Azurite and engine, with a scripted
HTTP server standing in for the engine where the fault needs exact timing (an operation the engine
failed after a restart, a training interrupted by a restart).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.clients.formrecognizer import FormRecognizerError
from shared.clients.records import FOLDER_STATE_KEY, now_iso
from shared.clients.sas import container_sas_url
from shared.clients.storage import blob_service
from shared.forms.ocr import claim_document, process_source
from shared.names import folder_prefix
from shared.training.poll import CLAIM_EXPIRED, poll_training_runs
from shared.training.start import start_training_if_due
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import (
    FaultServer,
    Reply,
    Stack,
    counting,
    fast_client,
    prepare_labeled_folder,
    queue_messages,
)

JSON = {"Content-Type": "application/json"}
RESTARTED = {"code": "InternalServerError",
             "message": "The engine restarted before this operation finished; submit it again."}


def _layout_server(fault_server: Callable[..., FaultServer], result: Callable[[int], dict]) -> FaultServer:
    """A stand-in Layout endpoint: POST → 202, the n-th GET of an operation → `result(n)`."""
    polls: dict[str, int] = {}

    def reply(method: str, path: str, body: bytes) -> Reply:
        if method == "POST":
            op = f"/formrecognizer/v2.1/layout/analyzeResults/op{len(polls)}"
            polls[op] = 0
            return 202, {"Operation-Location": op}, b""
        op = path.split("?")[0]
        polls[op] = polls.get(op, 0) + 1
        return 200, JSON, json.dumps(result(polls[op])).encode()

    return fault_server(fallback=reply)


def _failed_after_restart(n: int) -> dict:
    return {"status": "failed", "analyzeResult": {"version": "2.1.0", "errors": [RESTARTED]}}


def test_an_ocr_the_engine_lost_in_a_restart_is_retried_by_the_host_and_the_sweep(
    stack: Stack, data_dir: Path, fault_server: Callable[..., FaultServer]
) -> None:
    name = "restart/Form_1.jpg"
    stack.upload(name, (data_dir / "purchase-orders" / "Form_1.jpg").read_bytes())
    restarted = fast_client(stack.settings, endpoint=_layout_server(fault_server, _failed_after_restart).url)
    with pytest.raises(FormRecognizerError) as caught:  # transient: the host retries the invocation
        process_source(stack.settings, name, restarted, stack.records)
    assert caught.value.transient and caught.value.code == "InternalServerError"
    row = stack.records.document("restart", "Form_1.jpg")
    assert row and row["status"] == "retrying" and row["attempts"] == 1
    # The next attempt (here: the sweep, which found the form without its .ocr.json) reads it.
    time.sleep(stack.settings.sweep_grace_seconds + 0.1)
    report = sweep(stack.settings, stack.client, stack.records)
    assert report.ocr_started == [name] and not report.errors
    row = stack.records.document("restart", "Form_1.jpg")
    assert row and row["status"] == "succeeded" and row["attempts"] == 2
    assert name + ".ocr.json" in stack.blob_names()


def test_retries_of_a_form_the_engine_keeps_failing_are_bounded(
    stack: Stack, data_dir: Path, fault_server: Callable[..., FaultServer]
) -> None:
    stack = stack.with_settings(OCR_MAX_ATTEMPTS="2")
    name = "doomed/Form_2.jpg"
    stack.upload(name, (data_dir / "purchase-orders" / "Form_2.jpg").read_bytes())
    failing = fast_client(stack.settings, endpoint=_layout_server(fault_server, _failed_after_restart).url)
    with pytest.raises(FormRecognizerError):
        process_source(stack.settings, name, failing, stack.records)
    outcome = process_source(stack.settings, name, failing, stack.records)
    assert outcome.status == "failed" and outcome.error_code == "InternalServerError"
    row = stack.records.document("doomed", "Form_2.jpg")
    assert row and row["status"] == "failed" and "gave up after 2 attempts" in row["errorMessage"]
    # failed for good: neither the host nor the sweep reads it again (the row's verdict is the answer)
    again = process_source(stack.settings, name, stack.client, stack.records)
    assert again.status == "failed" and again.error_code == "InternalServerError"
    assert sweep(stack.settings, stack.client, stack.records).ocr_started == []


def test_a_long_ocr_keeps_its_claim_alive_and_a_dead_workers_claim_expires(
    stack: Stack, data_dir: Path, fault_server: Callable[..., FaultServer]
) -> None:
    stack = stack.with_settings(OCR_CLAIM_SECONDS="3")
    canned = json.loads((data_dir / "purchase-orders" / "Form_3.jpg.ocr.json").read_text())
    slow = _layout_server(fault_server, lambda n: canned if n >= 60 else {"status": "running"})
    client = fast_client(stack.settings, endpoint=slow.url, poll_interval=0.1)
    name = "slow/Form_3.jpg"
    data = (data_dir / "purchase-orders" / "Form_3.jpg").read_bytes()
    stack.upload(name, data)
    source = blob_service(stack.settings).get_blob_client(stack.settings.forms_container, name)
    etag = str(source.get_blob_properties().etag).strip('"')
    outcomes: list[str] = []
    reader = threading.Thread(
        target=lambda: outcomes.append(process_source(stack.settings, name, client, stack.records).status))
    reader.start()
    time.sleep(4.5)  # past OCR_CLAIM_SECONDS: only the renewals keep the claim
    rival = claim_document(stack.records, "slow", "Form_3.jpg", name, etag, stack.settings.ocr_claim_seconds)
    reader.join(30)
    assert not rival.won and outcomes == ["succeeded"]
    # A worker that died holding a claim: after OCR_CLAIM_SECONDS the claim is taken over.
    stack.records.merge_document("slow", "Form_3.jpg", status="processing", claimedAt="2020-01-01T00:00:00Z")
    assert claim_document(stack.records, "slow", "Form_3.jpg", name, etag, 3.0).won


def _interrupted(fault_server: Callable[..., FaultServer]) -> FaultServer:
    body = {"modelInfo": {"modelId": "m-cut", "status": "invalid", "createdDateTime": now_iso(),
                          "lastUpdatedDateTime": now_iso()},
            "trainResult": {"trainingDocuments": [], "errors": [
                {"code": "InternalServerError",
                 "message": "Training was interrupted by an engine restart; train again."}]}}
    return fault_server(fallback=lambda m, p, b: (200, JSON, json.dumps(body).encode()))


def _submitted_run(stack: Stack, folder: str, run_id: str, url: str) -> None:
    stack.records.merge(stack.records.runs, folder, FOLDER_STATE_KEY, folder=folder, activeRunId=run_id,
                        lastFingerprint="fp1", lastLabeledSetChunks=1, lastLabeledSet0='{"a.pdf": "x"}')
    stack.records.merge_run(folder, run_id, status="submitted", operationUrl=url, submittedAt=now_iso(),
                            fingerprint="fp1")


def test_a_training_interrupted_by_an_engine_restart_re_arms_its_set_once(
    stack: Stack, fault_server: Callable[..., FaultServer]
) -> None:
    server = _interrupted(fault_server)
    _submitted_run(stack, "cut", "r1", server.url + "/m")
    assert poll_training_runs(stack.settings, stack.client, stack.records).finished == ["r1"]
    run = stack.records.run("cut", "r1")
    assert run and run["status"] == "failed" and run["errorCode"] == "InternalServerError"
    state = stack.records.get_folder_state("cut")[0]
    assert state and state["activeRunId"] == "" and state["lastFingerprint"] == ""
    assert state["retriedFingerprint"] == "fp1"
    assert [json.loads(m) for m in queue_messages(stack)] == [{"folder": "cut"}]
    # interrupted again: the set waits for new labels (no endless retries)
    _submitted_run(stack, "cut", "r2", server.url + "/m")
    poll_training_runs(stack.settings, stack.client, stack.records)
    state = stack.records.get_folder_state("cut")[0]
    assert state and state["lastFingerprint"] == "fp1"


def _claimed_run(stack: Stack, folder: str, run_id: str, requested_at: str) -> None:
    stack.records.merge(stack.records.runs, folder, FOLDER_STATE_KEY, folder=folder, activeRunId=run_id,
                        activeSince=requested_at, lastFingerprint="fp1", lastLabeledSetChunks=0)
    stack.records.merge_run(folder, run_id, status="claimed", requestedAt=requested_at, fingerprint="fp1")


def test_a_claim_whose_worker_died_before_submitting_expires_and_the_set_trains_again(
    stack: Stack, data_dir: Path
) -> None:
    stack = stack.with_settings(HTTP_RETRY_BUDGET_SECONDS="2", HTTP_TIMEOUT_SECONDS="2")
    prepare_labeled_folder(stack, data_dir, "lost", 5)
    _claimed_run(stack, "lost", "young", now_iso())
    assert poll_training_runs(stack.settings, stack.client, stack.records).finished == []
    assert not start_training_if_due(stack.settings, "lost", stack.client, stack.records).train

    _claimed_run(stack, "lost", "old", "2020-01-01T00:00:00Z")
    stack.records.merge_run("lost", "young", status="failed")  # only one claim at a time
    assert poll_training_runs(stack.settings, stack.client, stack.records).finished == ["old"]
    run = stack.records.run("lost", "old")
    assert run and run["status"] == "failed" and run["errorCode"] == CLAIM_EXPIRED
    state = stack.records.get_folder_state("lost")[0]
    assert state and state["activeRunId"] == "" and state["lastFingerprint"] == ""
    decision = start_training_if_due(stack.settings, "lost", stack.client, stack.records)
    assert decision.train and decision.labeled_count == 5


def test_an_expired_claim_adopts_the_model_its_late_request_created(stack: Stack, data_dir: Path) -> None:
    stack = stack.with_settings(HTTP_RETRY_BUDGET_SECONDS="2", HTTP_TIMEOUT_SECONDS="2")
    prepare_labeled_folder(stack, data_dir, "late", 5)
    _claimed_run(stack, "late", "r9", "2020-01-01T00:00:00Z")
    # the request the dead worker sent reached the engine after all
    sas = container_sas_url(stack.settings)
    stack.client.begin_training(sas, folder_prefix("late"), model_name="late-r9")
    deadline = time.monotonic() + 120
    while (run := stack.records.run("late", "r9")) and run["status"] != "succeeded":
        assert time.monotonic() < deadline and run["status"] in ("claimed", "submitted", "running"), run
        poll_training_runs(stack.settings, stack.client, stack.records)
        time.sleep(0.5)
    assert run and run["adopted"] is True and run["status"] == "succeeded"
    models = stack.records.folder_models("late")
    assert [(m["modelId"], m["isCurrent"]) for m in models] == [(run["modelId"], True)]


def test_training_waits_for_the_ocr_of_every_labeled_form_of_a_burst(stack: Stack, data_dir: Path) -> None:
    po = data_dir / "purchase-orders"
    prepare_labeled_folder(stack, data_dir, "burst", 5)
    for i in (6, 7, 8):  # labels that landed before their form's OCR
        stack.upload(f"burst/Form_{i:02d}.jpg", (po / "Form_1.jpg").read_bytes())
        labels = json.loads((po / "Form_1.jpg.labels.json").read_text())
        labels["document"] = f"Form_{i:02d}.jpg"
        stack.upload(f"burst/Form_{i:02d}.jpg.labels.json", json.dumps(labels).encode())
    decision = start_training_if_due(stack.settings, "burst", stack.client, stack.records)
    assert not decision.train and "3 labeled document(s) still wait for their OCR" in decision.reason
    # one form's OCR failed for good: it is no longer waited for
    stack.records.merge_document("burst", "Form_08.jpg", status="failed", errorCode="InvalidImage")
    for i in (6, 7):
        stack.upload(f"burst/Form_{i:02d}.jpg.ocr.json", (po / "Form_1.jpg.ocr.json").read_bytes())
    decision = start_training_if_due(stack.settings, "burst", stack.client, stack.records)
    assert decision.train and decision.labeled_count == 7
    run = stack.records.run("burst", decision.run_id)
    assert run and run["invalidLabels"] == 1


def test_a_set_the_service_cannot_train_is_not_retried(
    stack: Stack, fault_server: Callable[..., FaultServer]
) -> None:
    body = {"modelInfo": {"modelId": "m-few", "status": "invalid"}, "trainResult": {"errors": [
        {"code": "2012", "message": "At least 5 labeled documents are needed; 4 are usable."}]}}
    server = fault_server(fallback=lambda m, p, b: (200, JSON, json.dumps(body).encode()))
    _submitted_run(stack, "few", "r1", server.url + "/m")
    poll_training_runs(stack.settings, stack.client, stack.records)
    state = stack.records.get_folder_state("few")[0]
    assert state and state["lastRunStatus"] == "failed" and state["lastFingerprint"] == "fp1"
    assert "retriedFingerprint" not in state


def test_a_form_just_read_is_not_read_again_while_its_output_is_written(
    stack: Stack, data_dir: Path
) -> None:
    """The race the fault suite found: the sweep reached a form between its row (`succeeded`) and its
    `.ocr.json` being written, took the row over and read the form a second time."""
    name = "race/Form_4.jpg"
    stack.upload(name, (data_dir / "purchase-orders" / "Form_4.jpg").read_bytes())
    source = blob_service(stack.settings).get_blob_client(stack.settings.forms_container, name)
    etag = str(source.get_blob_properties().etag).strip('"')
    stack.records.merge_document("race", "Form_4.jpg", status="succeeded", sourceEtag=etag, ocrAt=now_iso())
    client = counting(stack)
    assert process_source(stack.settings, name, client, stack.records).status == "busy"
    assert client.layout_posts == 0
    # long after, a succeeded row without its output is repaired
    stack.records.merge_document("race", "Form_4.jpg", ocrAt="2020-01-01T00:00:00Z")
    assert process_source(stack.settings, name, client, stack.records).status == "succeeded"
    assert client.layout_posts == 1


def test_a_failed_attempt_leaves_the_row_of_a_worker_that_took_over_alone(
    stack: Stack, data_dir: Path, fault_server: Callable[..., FaultServer]
) -> None:
    name = "takeover/Form_5.jpg"
    stack.upload(name, (data_dir / "purchase-orders" / "Form_5.jpg").read_bytes())

    def taken_over(n: int) -> dict:
        stack.records.merge_document("takeover", "Form_5.jpg", claimId="someone-else", claimedAt=now_iso())
        return _failed_after_restart(n)

    failing = fast_client(stack.settings, endpoint=_layout_server(fault_server, taken_over).url)
    assert process_source(stack.settings, name, failing, stack.records).status == "busy"
    row = stack.records.document("takeover", "Form_5.jpg")
    assert row and row["status"] == "processing" and row["claimId"] == "someone-else"


def test_a_run_that_times_out_drops_its_training_set_snapshot(
    stack: Stack, fault_server: Callable[..., FaultServer]
) -> None:
    creating = json.dumps({"modelInfo": {"modelId": "m-slow", "status": "creating"}}).encode()
    server = fault_server(fallback=lambda m, p, b: (200, JSON, creating))
    stack = stack.with_settings(TRAINING_DEADLINE_SECONDS="1")
    snapshots = blob_service(stack.settings).get_container_client(stack.settings.snapshot_container)
    for name in ("snap/r1/a.pdf", "snap/r1/a.pdf.labels.json", "snap/r1/fields.json", "snap/other.pdf"):
        snapshots.upload_blob(name, b"x")
    _submitted_run(stack, "snap", "r1", server.url + "/m")
    stack.records.merge_run("snap", "r1", submittedAt="2020-01-01T00:00:00Z", snapshotPrefix="snap/r1/")
    assert poll_training_runs(stack.settings, stack.client, stack.records).finished == ["r1"]
    assert stack.records.run("snap", "r1")["status"] == "timedOut"
    assert [b.name for b in snapshots.list_blobs()] == ["snap/other.pdf"]
