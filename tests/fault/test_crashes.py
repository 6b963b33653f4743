"""Crashes as real process events (issue 12): the engine and devhost are `kill -9`ed (or stopped) at the
worst moments, and the pipeline must lose nothing and duplicate nothing.

After each fault, within its recovery bound (counted from the fault):
- every form has its `.ocr.json` and a `succeeded` Documents row; no row is left `processing`,
  `retrying` or `claimed`; no `.ocr.json` or `ocrAt` is written twice for the same version;
- with labels: no run left `claimed`/`submitted`/`running`, exactly one ready model per labeled-set
  fingerprint, and it is the folder's current model.

The bounds are those of docs/pipeline.md ("Recovery bound") plus W = 30 s for the work itself on 2
shared cores (OCR of 8 scans, a training run, a process start), with the short settings of
tests/helpers/fault/harness.py: OCR_CLAIM_SECONDS=10, OCR_DEADLINE_SECONDS=20, SWEEP_INTERVAL_SECONDS=5,
SWEEP_GRACE_SECONDS=1, POLL_SCHEDULE every 2 s, HTTP_TIMEOUT_SECONDS=4, HTTP_RETRY_BUDGET_SECONDS=8.

| fault | bound | here |
|---|---|---|
| engine killed during OCR | OCR_CLAIM + SWEEP_INTERVAL + beat + W | 47 s |
| engine killed during training | 2 beats + SWEEP_INTERVAL + W | 39 s |
| devhost killed between claim and submission | submission deadline + SWEEP_INTERVAL + beat + W | 53 s |
| devhost killed mid-batch | OCR_CLAIM + SWEEP_INTERVAL + beat + W | 47 s |

(submission deadline = HTTP_RETRY_BUDGET + 2 x HTTP_TIMEOUT: a claim with no submission recorded is
then released, or the model its late request created is adopted.)
"""

from __future__ import annotations

from tests.helpers.fault.harness import FaultStack
from tests.helpers.fault.scenarios import (
    bad_inputs,
    describe,
    devhost_killed_between_claim_and_submission,
    devhost_killed_mid_batch,
    engine_killed_during_ocr,
    engine_killed_during_training,
)


def test_engine_killed_during_ocr_every_form_still_gets_its_ocr_once(fault_stack: FaultStack) -> None:
    result = engine_killed_during_ocr(fault_stack)
    assert result.ok, describe(result)


def test_engine_killed_during_training_the_set_trains_again_into_one_model(fault_stack: FaultStack) -> None:
    result = engine_killed_during_training(fault_stack)
    assert result.ok, describe(result)


def test_devhost_killed_between_claim_and_submission_the_claim_expires(fault_stack: FaultStack) -> None:
    result = devhost_killed_between_claim_and_submission(fault_stack)
    assert result.ok, describe(result)


def test_devhost_killed_mid_batch_every_form_ends_succeeded(fault_stack: FaultStack) -> None:
    result = devhost_killed_mid_batch(fault_stack)
    assert result.ok, describe(result)


def test_bad_inputs_each_get_a_verdict_and_nothing_is_retried_forever(fault_stack: FaultStack) -> None:
    result = bad_inputs(fault_stack)
    assert result.ok, describe(result)
