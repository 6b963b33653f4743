"""Queue-triggered: decide whether a folder trains now and, if so, start exactly one run.

The claim is a conditional write on the folder-state row (insert-if-absent, or update-if-ETag-
unchanged): of many workers handling messages for the same folder at once, one write wins; the
others re-read, see the run in flight, and stop. Nothing is decided on a read alone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from azure.core.exceptions import HttpResponseError

from shared.clients.formrecognizer import FormRecognizerClient, FormRecognizerError
from shared.clients.records import FOLDER_STATE_KEY, Records, lost_race, new_run_id, now_iso, run_model_name
from shared.forms.inventory import inventory
from shared.settings import Settings
from shared.training.holdout import Holdout, choose_holdout
from shared.training.policy import (
    Decision,
    LabeledSet,
    decide,
    labeled_set,
    pack_set,
    run_in_flight,
    trained_api,
)
from shared.training.promotion import TrainingPlan, drop_snapshot, plan_training

log = logging.getLogger(__name__)
CLAIM_ATTEMPTS = 8


def _release(records: Records, folder: str, run_id: str, state: dict[str, Any] | None) -> None:
    """Give a claim back after a failed submission, restoring the previous labeled set."""
    previous = {k: v for k, v in (state or {}).items() if k.startswith("lastLabeledSet")}
    records.merge(records.runs, folder, FOLDER_STATE_KEY, activeRunId="", releasedRunId=run_id,
                  lastFingerprint=str((state or {}).get("lastFingerprint", "")),
                  lastApiVersion=str((state or {}).get("lastApiVersion", "")),
                  **(previous or {"lastLabeledSetChunks": 0}))


def due(settings: Settings, records: Records, folder: str, labeled: LabeledSet, state: dict[str, Any] | None,
        in_flight: bool) -> tuple[Decision, Holdout]:
    """The policy's decision, then what a retrain would hold back to compare: one that would train on
    nothing the current model did not waits for more labels instead (training/holdout.py)."""
    decision = decide(settings, labeled, state, in_flight, trained_api(records, folder, state))
    if not decision.train:
        return decision, Holdout()
    holdout = choose_holdout(settings, records, folder, labeled.docs)
    if holdout.wait:
        decision = replace(decision, train=False, reason=holdout.wait)
    return decision, holdout


def start_training_if_due(settings: Settings, folder: str, client: FormRecognizerClient,
                          records: Records) -> Decision:
    state, _ = records.get_folder_state(folder)
    if run_in_flight(records, folder, state, settings.training_deadline_seconds, time.time()):
        # cheap exit for bursts of requests during a run (its end re-queues the folder anyway)
        return Decision(False, "a training run is in flight for this folder",
                        labeled_count=int((state or {}).get("labeledCount") or 0))
    labeled = labeled_set(settings, records, inventory(settings, folder))
    for _ in range(CLAIM_ATTEMPTS):
        state, etag = records.get_folder_state(folder)
        in_flight = run_in_flight(records, folder, state, settings.training_deadline_seconds, time.time())
        decision, holdout = due(settings, records, folder, labeled, state, in_flight)
        if not decision.train:
            note = {"folder": folder, "lastDecision": decision.reason, "lastDecisionAt": now_iso(),
                    "labeledCount": decision.labeled_count, "invalidLabels": len(labeled.invalid),
                    "decisionApiVersion": settings.fr_api}
            try:  # informational only: never overwrite a concurrent claim
                records.conditional_write(records.runs, folder, FOLDER_STATE_KEY, etag, note)
            except HttpResponseError as exc:
                if not lost_race(exc):
                    raise
            log.info("folder %r not trained: %s", folder, decision.reason)
            return decision
        run_id = new_run_id()
        claim = {"folder": folder, "activeRunId": run_id, "activeSince": now_iso(),
                 "lastFingerprint": decision.fingerprint, "lastApiVersion": settings.fr_api,
                 "lastDecision": decision.reason, "lastDecisionAt": now_iso(),
                 "decisionApiVersion": settings.fr_api, "labeledCount": decision.labeled_count,
                 **pack_set(labeled.docs)}
        try:
            records.conditional_write(records.runs, folder, FOLDER_STATE_KEY, etag, claim)
        except HttpResponseError as exc:
            if lost_race(exc):
                continue  # someone else wrote first: look again
            raise
        decision.run_id = run_id
        _submit(settings, folder, run_id, decision, labeled, holdout, state, client, records)
        return decision
    raise RuntimeError(f"could not settle the training claim for folder {folder!r}")


def _submit(settings: Settings, folder: str, run_id: str, decision: Decision, labeled: LabeledSet,
            holdout: Holdout, state: dict[str, Any] | None, client: FormRecognizerClient,
            records: Records) -> None:
    records.merge_run(folder, run_id, status="claimed", labeledCount=decision.labeled_count,
                      newLabels=decision.new_labels, fingerprint=decision.fingerprint,
                      invalidLabels=len(labeled.invalid), requestedAt=now_iso(), apiVersion=settings.fr_api)
    plan: TrainingPlan | None = None
    try:
        plan = plan_training(settings, folder, run_id, sorted(labeled.docs), holdout)
        if plan.snapshot or plan.baseline_model_id:
            records.merge_run(folder, run_id, holdout=plan.holdout, baselineModelId=plan.baseline_model_id,
                              trainingCount=decision.labeled_count - len(plan.holdout),
                              snapshotPrefix=plan.prefix if plan.snapshot else "",
                              newTrainingForms=holdout.new, holdoutNote=holdout.note)
        operation_url = client.begin_training(plan.source_url, plan.prefix,
                                              model_name=run_model_name(folder, run_id))
    except FormRecognizerError as exc:
        _drop(settings, plan)
        records.merge_run(folder, run_id, status="failed", errorCode=exc.code, errorMessage=exc.message,
                          finishedAt=now_iso())
        _release(records, folder, run_id, state)
        if exc.transient:
            raise  # the message comes back; the claim was released so it can be tried again
        return
    except Exception as exc:
        _drop(settings, plan)
        records.merge_run(folder, run_id, status="failed", errorCode=type(exc).__name__,
                          errorMessage=str(exc), finishedAt=now_iso())
        _release(records, folder, run_id, state)
        raise
    records.merge_run(folder, run_id, status="submitted", operationUrl=operation_url, submittedAt=now_iso())
    log.info("folder %r: training run %s submitted (%s)", folder, run_id, decision.reason)


def _drop(settings: Settings, plan: TrainingPlan | None) -> None:
    if plan is not None and plan.snapshot:
        drop_snapshot(settings, plan.prefix)
