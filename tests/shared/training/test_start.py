"""Starting training (shared/training/start.py) against the real Azurite and engine: many concurrent
requests start exactly one run, which is recorded when done."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from shared.training.poll import poll_training_runs
from shared.training.start import start_training_if_due
from tests.helpers.pipeline import Stack, counting, prepare_labeled_folder


def test_many_concurrent_requests_start_exactly_one_run_which_is_recorded_when_done(
    stack: Stack, data_dir: Path
) -> None:
    prepare_labeled_folder(stack, data_dir, "po", 10)
    client = counting(stack)
    stack = stack.with_settings(TRAINING_THRESHOLD="10")
    decisions: list = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(3):
            decisions.append(start_training_if_due(stack.settings, "po", client, stack.records))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(d.train for d in decisions) == 1 and client.train_posts == 1
    runs = stack.records.folder_runs("po")
    assert len(runs) == 1 and runs[0]["status"] == "submitted" and runs[0]["labeledCount"] == 10
    assert runs[0]["operationUrl"].startswith(stack.settings.fr_endpoint)

    deadline = time.monotonic() + 120
    while stack.records.folder_runs("po")[0]["status"] in ("submitted", "running"):
        assert time.monotonic() < deadline, "training did not finish"
        poll_training_runs(stack.settings, client, stack.records)
        time.sleep(0.5)
    run = stack.records.folder_runs("po")[0]
    assert (
        run["status"] == "succeeded" and run["modelStatus"] == "ready" and run["trainingDocumentCount"] == 10
    )
    model_id = run["modelId"]
    models = stack.records.folder_models("po")
    assert [(m["modelId"], m["status"], m["isCurrent"]) for m in models] == [(model_id, "ready", True)]
    assert 0 <= models[0]["averageModelAccuracy"] <= 1 and models[0]["fieldCount"] == 15
    fields = list(stack.records.fields.query_entities("PartitionKey eq @p", parameters={"p": model_id}))
    assert len(fields) == 15 and all(0 <= f["accuracy"] <= 1 for f in fields)
    docs = list(
        stack.records.training_documents.query_entities("PartitionKey eq @p", parameters={"p": model_id})
    )
    assert sorted(d["documentName"] for d in docs) == [f"Form_{i:02d}.jpg" for i in range(1, 11)]
    assert all(d["status"] == "succeeded" and d["pages"] == 1 for d in docs)
    state, _ = stack.records.get_folder_state("po")
    assert state and state["activeRunId"] == "" and state["currentModelId"] == model_id
    # the end of a run re-queues the folder; the same labeled set does not train again
    assert not start_training_if_due(stack.settings, "po", client, stack.records).train
    assert "unchanged" in stack.records.get_folder_state("po")[0]["lastDecision"]
