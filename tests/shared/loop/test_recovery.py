"""Failure handling: poison messages, the engine down during a training poll, events that never came."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from formloop.stack import free_port, start_engine, stop
from shared.clients.queues import make_message
from shared.clients.records import FOLDER_STATE_KEY, parse_iso
from shared.clients.storage import queue_service
from shared.training.poll import poll_training_runs
from shared.training.start import start_training_if_due
from shared.triggers import timer as timer_step
from shared.triggers.sweep import sweep
from shared.triggers.timer import claim_sweep
from shared.triggers.training_request import INVALID_MESSAGES_PARTITION, on_training_request
from tests.helpers.pipeline import Stack, fast_client, prepare_labeled_folder, queue_messages


def test_a_malformed_message_goes_to_the_poison_queue_with_a_row(stack: Stack) -> None:
    body = "this is not a training request"
    assert on_training_request(stack.settings, body, 1, stack.client, stack.records) is None
    assert queue_messages(stack, stack.settings.poison_queue) == [body]
    rows = stack.records.folder_runs(INVALID_MESSAGES_PARTITION)
    assert len(rows) == 1 and rows[0]["status"] == "poisoned" and rows[0]["errorCode"] == "BadMessage"
    assert rows[0]["queueMessage"] == body


def test_a_folder_name_no_blob_can_have_is_poisoned_at_once_with_a_row(stack: Stack) -> None:
    """40,000 characters: it was tried 5 times with tracebacks, then poisoned with no row (the row's copy of
    the message was larger than a table property may be)."""
    body = make_message("f" * 40000)
    assert on_training_request(stack.settings, body, 1, stack.client, stack.records) is None
    assert queue_messages(stack, stack.settings.poison_queue) == [body]
    rows = stack.records.folder_runs(INVALID_MESSAGES_PARTITION)
    assert len(rows) == 1 and rows[0]["errorCode"] == "BadMessage"
    assert "40000 characters long" in rows[0]["errorMessage"]
    assert rows[0]["queueMessage"].endswith(f"({len(body)} characters in all)")


def test_a_message_failing_every_time_leaves_a_row_on_its_last_attempt(stack: Stack, data_dir: Path) -> None:
    prepare_labeled_folder(stack, data_dir, "po", 1)
    down = stack.with_settings(
        TRAINING_THRESHOLD="1", FORM_RECOGNIZER_ENDPOINT=f"http://127.0.0.1:{free_port()}"
    )
    client = fast_client(down.settings, retry_budget=0.3)
    message = make_message("po")
    for attempt in range(1, 6):
        with pytest.raises(Exception, match="ServiceUnreachable"):
            on_training_request(down.settings, message, attempt, client, down.records)
        poisoned = [r for r in down.records.folder_runs("po") if r["status"] == "poisoned"]
        assert len(poisoned) == (1 if attempt == 5 else 0)
    assert (
        "failed 5 times" in poisoned[0]["errorMessage"] and poisoned[0]["errorCode"] == "ServiceUnreachable"
    )
    # each attempt's run was recorded as failed and the claim released, so a later attempt can succeed
    failed = [r for r in down.records.folder_runs("po") if r["status"] == "failed"]
    assert len(failed) == 5 and all(r["errorCode"] == "ServiceUnreachable" for r in failed)
    assert down.records.get_folder_state("po")[0]["activeRunId"] == ""
    assert down.records.get_folder_state("po")[0]["lastFingerprint"] == ""


def test_engine_down_during_polling_the_run_finishes_once_it_is_back(
    stack: Stack, data_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    engine = start_engine(tmp_path / "engine", port=port, log_path=tmp_path / "engine.log")
    try:
        own = stack.with_settings(
            FORM_RECOGNIZER_ENDPOINT=engine.endpoint,
            FORM_RECOGNIZER_KEY=engine.api_key,
            TRAINING_THRESHOLD="5",
        )
        prepare_labeled_folder(own, data_dir, "po", 5)
        client = fast_client(own.settings, retry_budget=0.5)
        assert start_training_if_due(own.settings, "po", client, own.records).train
        run = own.records.folder_runs("po")[0]
        deadline = time.monotonic() + 120
        while client.get_training(run["operationUrl"]).state == "creating":  # let it finish, engine-side
            assert time.monotonic() < deadline
            time.sleep(0.5)
        stop(engine.process)
        report = poll_training_runs(own.settings, client, own.records)
        assert report.unreachable == 1 and not report.finished
        run = own.records.run("po", run["runId"])
        assert run and run["status"] == "submitted" and "ServiceUnreachable" in run["lastPollError"]
        engine = start_engine(
            tmp_path / "engine", port=port, api_key=engine.api_key, log_path=tmp_path / "e2.log"
        )
        report = poll_training_runs(own.settings, client, own.records)
        assert report.finished == [run["runId"]]
        run = own.records.run("po", run["runId"])
        assert run and run["status"] == "succeeded" and run["modelId"]
        assert own.records.folder_models("po")[0]["isCurrent"] is True
    finally:
        stop(engine.process)


def test_the_sweep_catches_up_on_events_that_never_came(stack: Stack, data_dir: Path) -> None:
    s = stack.with_settings(TRAINING_THRESHOLD="2", SWEEP_GRACE_SECONDS="0.5")
    po = data_dir / "purchase-orders"
    # a form with no OCR, and two labeled forms whose label events were lost
    s.upload("po/Form_1.jpg", (po / "Form_1.jpg").read_bytes())
    for i in (2, 3):
        for suffix in ("", ".ocr.json", ".labels.json"):
            s.upload(f"po/Form_{i}.jpg{suffix}", (po / f"Form_{i}.jpg{suffix}").read_bytes())
    time.sleep(0.6)
    report = sweep(s.settings, s.client, s.records)
    assert (
        report.ocr_started == ["po/Form_1.jpg"] and report.folders_requested == ["po"] and not report.errors
    )
    assert "po/Form_1.jpg.ocr.json" in s.blob_names()
    rows = s.records.folder_documents("po")
    assert rows["Form_1.jpg"]["status"] == "succeeded"
    assert rows["Form_2.jpg"]["labelsStatus"] == "valid" and rows["Form_3.jpg"]["labeled"] is True
    assert [json.loads(m) for m in queue_messages(s)] == [{"folder": "po"}]
    # nothing left to catch up on
    queue_service(s.settings).get_queue_client(s.settings.training_queue).clear_messages()
    again = sweep(s.settings, s.client, s.records)
    assert again.ocr_started == [] and again.folders_requested == ["po"]  # still trainable: no run yet


def test_the_sweep_time_is_kept_in_storage_and_claimed_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart (or a second instance) does not sweep again within the interval; past due forces it."""
    s = stack.with_settings(SWEEP_INTERVAL_SECONDS="3600")
    key = (timer_step.SWEEP_PARTITION, FOLDER_STATE_KEY)
    assert claim_sweep(s.settings, s.records)  # the first beat ever sweeps
    assert not claim_sweep(s.settings, s.records)  # within the interval: no (and no table read)
    timer_step._seen_sweep.clear()  # a restarted process knows nothing...
    assert not claim_sweep(s.settings, s.records)  # ...but storage does
    assert claim_sweep(s.settings, s.records, force=True)  # a past-due beat sweeps anyway
    row = s.records.get(s.records.runs, *key)
    assert row is not None and time.time() - parse_iso(str(row["lastSweptAt"])) < 60

    # the interval has passed and two instances read the same old time: one conditional write wins
    s.records.merge(s.records.runs, *key, lastSweptAt="2026-01-01T00:00:00+00:00")
    stale = s.records.get_with_etag(s.records.runs, *key)
    timer_step._seen_sweep.clear()
    assert claim_sweep(s.settings, s.records)
    monkeypatch.setattr(s.records, "get_with_etag", lambda *args: stale)  # read before the winner wrote
    timer_step._seen_sweep.clear()
    assert not claim_sweep(s.settings, s.records)
