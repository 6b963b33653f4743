"""Training a folder to its end in-process: the decision, then the timer's polls until the run ended."""

from __future__ import annotations

import time
from typing import Any

from shared.training.poll import poll_training_runs
from shared.training.start import start_training_if_due
from tests.helpers.pipeline import Stack


def train_to_end(stack: Stack, folder: str, timeout: float = 240) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decide (it must train), poll until the run ended; the run and its model's rows."""
    decision = start_training_if_due(stack.settings, folder, stack.client, stack.records)
    assert decision.train, decision.reason
    deadline = time.monotonic() + timeout
    while (run := stack.records.run(folder, decision.run_id)) and run["status"] in (
            "claimed", "submitted", "running"):
        assert time.monotonic() < deadline, "training did not finish"
        poll_training_runs(stack.settings, stack.client, stack.records)
        time.sleep(0.5)
    assert run and run["status"] == "succeeded", run
    model = stack.records.model(folder, str(run["modelId"]))
    assert model
    return run, model
