"""Polling training runs (shared/training/poll.py): a run that times out releases its folder, and its set
is re-armed once."""

from __future__ import annotations

import json
from collections.abc import Callable

from shared.training.poll import poll_training_runs
from tests.helpers.pipeline import FaultServer, Stack, fast_client, queue_messages


def test_a_timed_out_run_releases_the_folder(stack: Stack, fault_server: Callable[..., FaultServer]) -> None:
    creating = json.dumps({"modelInfo": {"modelId": "m-slow", "status": "creating"}}).encode()
    server = fault_server(fallback=lambda m, p, b: (200, {"Content-Type": "application/json"}, creating))
    stack = stack.with_settings(TRAINING_DEADLINE_SECONDS="1")
    stack.records.merge(stack.records.runs, "slow", "~folder", folder="slow", activeRunId="r1",
                        lastFingerprint="fp1", lastLabeledSetChunks=1, lastLabeledSet0='{"a.pdf": "x"}')
    stack.records.merge_run("slow", "r1", status="submitted", operationUrl=server.url + "/m",
                            submittedAt="2020-01-01T00:00:00Z", fingerprint="fp1")
    report = poll_training_runs(stack.settings, fast_client(stack.settings), stack.records)
    assert report.finished == ["r1"]
    run = stack.records.run("slow", "r1")
    assert run and run["status"] == "timedOut" and run["errorCode"] == "Timeout"
    state = stack.records.get_folder_state("slow")[0]
    assert state and state["activeRunId"] == "" and state["lastRunStatus"] == "timedOut"
    # the set never trained, so it is re-armed once and the folder asked for at once
    assert state["lastFingerprint"] == "" and state["retriedFingerprint"] == "fp1"
    assert [json.loads(m) for m in queue_messages(stack)] == [{"folder": "slow"}]

    # the retry of the same set times out too: no second re-arm (no endless retries)
    stack.records.merge(stack.records.runs, "slow", "~folder", activeRunId="r2", lastFingerprint="fp1")
    stack.records.merge_run("slow", "r2", status="submitted", operationUrl=server.url + "/m",
                            submittedAt="2020-01-01T00:00:00Z", fingerprint="fp1")
    assert poll_training_runs(stack.settings, fast_client(stack.settings), stack.records).finished == ["r2"]
    state = stack.records.get_folder_state("slow")[0]
    assert state and state["activeRunId"] == "" and state["lastFingerprint"] == "fp1"
