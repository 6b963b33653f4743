"""Timer-driven: follow every unfinished training run to its end and record the outcome.

Each run is polled with a short retry budget so one unreachable engine cannot stall the sweep; the
run stays `submitted`/`running` and is polled again next beat, until its deadline (`timedOut`).
A run still `claimed` after the submission deadline belongs to a worker that died between the claim
and the submission: the model its request may still have created (found by the run's model name) is
adopted, or the run fails with `ClaimExpired`. A run that timed out, whose claim expired, or that the
service failed on its side (an interrupted training) re-arms its labeled set once per set version.
Order of writes on completion (model, fields, documents, run, then the folder claim) makes a crash
at any point harmless: the claim of an ended run no longer blocks (see training/policy.py).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from shared.clients.formrecognizer import (
    TRANSIENT_OPERATION_CODES,
    FormRecognizerClient,
    FormRecognizerError,
    TrainingOutcome,
)
from shared.clients.queues import request_training
from shared.clients.records import FOLDER_STATE_KEY, Records, now_iso, parse_iso, run_model_name
from shared.settings import Settings
from shared.training.policy import unpack_set
from shared.training.promotion import decide_promotion, drop_snapshot, make_current

log = logging.getLogger(__name__)
POLL_BUDGET_SECONDS = 10.0
CLAIM_EXPIRED = "ClaimExpired"
# Outcomes that say nothing about the labeled set, so training it again may succeed: the service's
# own failures (the local engine's "training was interrupted by a restart" is InternalServerError)
# and lost workers. Not 2012: the service uses it for sets that cannot train (too few documents).
RETRYABLE_TRAINING_CODES = TRANSIENT_OPERATION_CODES | {CLAIM_EXPIRED}


@dataclass
class PollReport:
    polled: int = 0
    finished: list[str] = field(default_factory=list)
    unreachable: int = 0


def _finish(settings: Settings, records: Records, run: dict[str, Any], status: str, **props: Any) -> None:
    folder, run_id = str(run["folder"]), str(run["runId"])
    started = parse_iso(str(run.get("submittedAt") or run.get("requestedAt") or ""))
    duration = round(time.time() - started, 1) if started else None
    records.merge_run(folder, run_id, status=status, finishedAt=now_iso(), durationSeconds=duration, **props)
    if run.get("snapshotPrefix"):  # the training set copy is read only while the model trains
        drop_snapshot(settings, str(run["snapshotPrefix"]))
    state = records.get(records.runs, folder, FOLDER_STATE_KEY) or {}
    if state.get("activeRunId") == run_id:
        extra: dict[str, Any] = {}
        fingerprint = str(run.get("fingerprint") or "")
        retryable = status == "timedOut" or (status == "failed"
                                             and props.get("errorCode") in RETRYABLE_TRAINING_CODES)
        if retryable and fingerprint and state.get("retriedFingerprint") != fingerprint:
            # the set never trained: forget it once, so the request below trains it again; a second
            # such end of the same set waits for new labels (no endless retries against a stuck engine)
            extra.update(lastFingerprint="", lastLabeledSetChunks=0, retriedFingerprint=fingerprint)
        records.merge(records.runs, folder, FOLDER_STATE_KEY, activeRunId="", lastRunId=run_id,
                      lastRunStatus=status, **extra)
    request_training(settings, folder, coalesce=False)  # labels that came during the run count now


def claimed_set(records: Records, run: dict[str, Any]) -> dict[str, str]:
    """What a run trained on: the labeled set its claim recorded (document -> label hash), without the
    held-back forms (the folder state still holds that set: no other claim is made while a run is in
    flight). Kept with the model's TrainingDocuments, so the next retrain knows which labels it saw."""
    state = records.get(records.runs, str(run["folder"]), FOLDER_STATE_KEY)
    held = set(json.loads(str(run.get("holdout") or "[]")))
    return {doc: digest for doc, digest in unpack_set(state).items() if doc not in held}


def submitted_documents(trained: dict[str, str]) -> list[dict[str, Any]]:
    """v4.0 names no training documents: the set submitted is known."""
    return [{"documentName": doc, "status": "succeeded", "pages": 0, "errors": []} for doc in sorted(trained)]


def record_outcome(settings: Settings, client: FormRecognizerClient, records: Records,
                   run: dict[str, Any], outcome: TrainingOutcome) -> str:
    folder, run_id = str(run["folder"]), str(run["runId"])
    model_id = outcome.model_id
    ready = outcome.state == "ready"
    first_error = outcome.errors[0] if outcome.errors else {}
    if model_id:
        trained = claimed_set(records, run)
        if ready and not outcome.documents:
            outcome.documents = submitted_documents(trained)
        for doc in outcome.documents:  # a form listed but not in the set (no labels) gets no hash
            doc["labelsHash"] = trained.get(str(doc["documentName"]), "")
        records.write_fields(model_id, folder, outcome.fields)
        records.write_training_documents(model_id, folder, outcome.documents)
        records.merge_model(folder, model_id, runId=run_id, status=outcome.state,
                            modelName=outcome.model_name, createdDateTime=outcome.created,
                            lastUpdatedDateTime=outcome.updated,
                            averageModelAccuracy=outcome.average_accuracy, fieldCount=len(outcome.fields),
                            trainingDocumentCount=len(outcome.documents),
                            labeledCount=run.get("labeledCount"), fingerprint=run.get("fingerprint"),
                            isCurrent=False, errors=outcome.errors, apiVersion=run.get("apiVersion"))
        if ready:
            promotion = decide_promotion(settings, client, records, run, model_id)
            records.merge_model(folder, model_id, promotion=promotion.decision,
                                promotionReason=promotion.reason, **promotion.figures)
            if promotion.promoted:
                make_current(settings, records, folder, model_id)
            log.info("model %s of %r: %s (%s)", model_id, folder, promotion.decision, promotion.reason)
    status = "succeeded" if ready else "failed"
    _finish(settings, records, run, status, modelId=model_id, modelStatus=outcome.state,
            averageModelAccuracy=outcome.average_accuracy, fieldCount=len(outcome.fields),
            trainingDocumentCount=len(outcome.documents),
            failedDocuments=sum(1 for d in outcome.documents if d["status"] == "failed"),
            errorCode=str(first_error.get("code", "")), errorMessage=str(first_error.get("message", "")))
    return status


def expire_claim(settings: Settings, client: FormRecognizerClient, records: Records,
                 run: dict[str, Any]) -> bool:
    """Settle a run still `claimed` past the submission deadline; False while it is younger."""
    folder, run_id = str(run["folder"]), str(run["runId"])
    age = time.time() - parse_iso(str(run.get("requestedAt") or ""))
    if age < settings.submission_deadline_seconds:
        return False
    found = client.find_model_named(run_model_name(folder, run_id), budget=POLL_BUDGET_SECONDS)
    if found:  # the request got through before its worker died: follow that model, train nothing twice
        records.merge_run(folder, run_id, status="submitted", operationUrl=found, submittedAt=now_iso(),
                          adopted=True)
        log.info("run %s of %r: claim expired, adopted the model its request created", run_id, folder)
        return True
    _finish(settings, records, run, "failed", errorCode=CLAIM_EXPIRED,
            errorMessage=f"claimed {age:.0f} s ago and never submitted (the worker stopped); "
                         f"the labeled set is trained again")
    log.info("run %s of %r: claim expired after %.0f s without a submission", run_id, folder, age)
    return True


def poll_training_runs(settings: Settings, client: FormRecognizerClient, records: Records) -> PollReport:
    report = PollReport()
    for run in records.unfinished_runs():
        folder, run_id = str(run["folder"]), str(run["runId"])
        if run.get("status") == "claimed":
            try:
                if expire_claim(settings, client, records, run):
                    report.finished.append(run_id)
            except FormRecognizerError as exc:
                report.unreachable += 1
                log.warning("expired claim of run %s of %r not settled: %s", run_id, folder, exc)
            continue
        report.polled += 1
        submitted = parse_iso(str(run.get("submittedAt", "")))
        overdue = bool(submitted) and time.time() - submitted > settings.training_deadline_seconds
        try:
            outcome = client.get_training(str(run["operationUrl"]), budget=POLL_BUDGET_SECONDS)
        except FormRecognizerError as exc:
            if not exc.transient:
                _finish(settings, records, run, "failed", errorCode=exc.code, errorMessage=exc.message)
                report.finished.append(run_id)
            elif overdue:
                _finish(settings, records, run, "timedOut", errorCode="Timeout",
                        errorMessage=f"not finished within {settings.training_deadline_seconds:.0f} s; "
                                     f"last poll: {exc.code} {exc.message}")
                report.finished.append(run_id)
            else:
                report.unreachable += 1
                records.merge_run(folder, run_id, lastPolledAt=now_iso(),
                                  lastPollError=f"{exc.code}: {exc.message}")
                log.warning("run %s of %r not polled: %s", run_id, folder, exc)
            continue
        if outcome.finished:
            try:
                record_outcome(settings, client, records, run, outcome)
            except FormRecognizerError as exc:  # the promotion's comparison could not run: next beat
                if not exc.transient:
                    raise
                report.unreachable += 1
                log.warning("run %s of %r: outcome not recorded yet: %s", run_id, folder, exc)
                continue
            report.finished.append(run_id)
        elif overdue:
            _finish(settings, records, run, "timedOut", modelId=outcome.model_id, errorCode="Timeout",
                    errorMessage=f"model still {outcome.state} after "
                                 f"{settings.training_deadline_seconds:.0f} s")
            report.finished.append(run_id)
        else:
            records.merge_run(folder, run_id, status="running", modelId=outcome.model_id,
                              lastPolledAt=now_iso(), lastPollError="")
    return report
