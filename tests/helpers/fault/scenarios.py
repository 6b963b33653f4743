"""The issue-12 crash scenarios, each driven on a running FaultStack and measured the same way.

A scenario injects its fault as a real process event (`kill -9`, `kill -STOP`/`-CONT`), then waits for
the invariants (tests/helpers/fault/harness.py: every form with its `.ocr.json` and a `succeeded` row,
nothing left `processing`/`retrying`/`claimed`, exactly one ready and current model per labeled-set
fingerprint) until its recovery bound. The result says what was tried and what came of it; the tests
assert on it and bench/bench_reliability.py prints it as a table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.helpers.fault.harness import (
    POLL_BEAT_SECONDS,
    REPO_ROOT,
    SAMPLE_DIR,
    FaultStack,
    Watch,
    form_problems,
    model_problems,
    wait_until,
)

# Time the work itself may take on 2 shared cores (8 scans' OCR, a training run, a process start).
WORK_ALLOWANCE_SECONDS = 30.0
FORMS_OCR = 8  # forms per OCR scenario (copies of the 5 bundled purchase orders)
FORMS_TRAIN = 5  # labeled forms per training scenario (= TRAINING_THRESHOLD)


@dataclass
class Result:
    scenario: str
    inputs: str
    faults: str
    bound_s: float
    detail: str = ""  # what the fault hit this time (operations in flight, rows processing)
    recover_s: float | None = None  # from the fault to every invariant holding; None: not within bound
    lost: int = 0  # forms without `.ocr.json` + `succeeded` row (or bad inputs without a verdict)
    duplicated: int = 0  # forms whose output or OCR time was written again for the same version
    engine_layouts: tuple[int, int] = (0, 0)  # Layout requests accepted / succeeded, all engine lives
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.recover_s is not None and not self.lost and not self.duplicated


def ocr_bound(stack: FaultStack) -> float:
    """An OCR claim expires, a sweep finds the form, a beat runs it: OCR_CLAIM + SWEEP_INTERVAL + beat."""
    return (stack.setting("OCR_CLAIM_SECONDS") + stack.setting("SWEEP_INTERVAL_SECONDS")
            + POLL_BEAT_SECONDS + WORK_ALLOWANCE_SECONDS)


def training_bound(stack: FaultStack) -> float:
    """The poll that sees the interrupted model, the re-armed request (or the sweep), the new run's poll."""
    return 2 * POLL_BEAT_SECONDS + stack.setting("SWEEP_INTERVAL_SECONDS") + WORK_ALLOWANCE_SECONDS


def claim_bound(stack: FaultStack) -> float:
    """A claim expires after the submission timeout (HTTP_RETRY_BUDGET + 2 x HTTP_TIMEOUT); then a beat
    releases or adopts it and the sweep (or the end of the adopted run) trains the folder."""
    submission = stack.setting("HTTP_RETRY_BUDGET_SECONDS") + 2 * stack.setting("HTTP_TIMEOUT_SECONDS")
    return submission + stack.setting("SWEEP_INTERVAL_SECONDS") + POLL_BEAT_SECONDS + WORK_ALLOWANCE_SECONDS


def _settle(stack: FaultStack, result: Result, folder: str, forms: list[str], since: float,
            labeled: int = 0) -> None:
    """Wait until the invariants hold or the bound passes; fill recover_s, lost and problems."""
    deadline = since + result.bound_s
    while True:
        problems = form_problems(stack, folder, forms)
        if labeled and not problems:
            problems = model_problems(stack, folder, labeled)
        if not problems:
            result.recover_s = round(time.monotonic() - since, 1)
            break
        if time.monotonic() > deadline:
            result.problems += problems
            break
        time.sleep(0.5)
    ocr = stack.ocr_etags(folder)
    rows = stack.documents(folder)
    result.lost = sum(1 for name in forms if name not in ocr
                      or (rows.get(name.rsplit("/", 1)[1]) or {}).get("status") != "succeeded")


def _finish(stack: FaultStack, result: Result, watch: Watch) -> Result:
    duplicated = watch.duplicated()
    result.duplicated = len(duplicated)
    if duplicated:
        result.problems.append(f"OCR output rewritten for {duplicated}")
    result.engine_layouts = stack.engine.layouts()
    return result


def _check_layouts(result: Result, forms: int, orphaned: int = 0) -> None:
    """Each form read to the end once: the engine's succeeded Layouts are the forms, plus at most the
    operations a killed host left behind (the engine finished them; no one was there to read them)."""
    succeeded = result.engine_layouts[1]
    if not forms <= succeeded <= forms + orphaned:
        result.problems.append(f"{succeeded} Layout operations succeeded for {forms} forms "
                               f"(at most {orphaned} orphaned by the crash)")


def _wait_ocr(stack: FaultStack, folder: str, forms: list[str], timeout: float = 120.0) -> None:
    wait_until(f"the OCR of {len(forms)} forms", lambda: not form_problems(stack, folder, forms), timeout,
               every=0.5, context=stack.context)


# ------------------------------------------------------------------------------------- scenarios
def engine_killed_during_ocr(stack: FaultStack, count: int = FORMS_OCR) -> Result:
    """Upload forms; `kill -9` the engine once it logs "layout accepted"; restart it (same port, data
    dir, key). The operations it had in flight come back `failed` (InternalServerError: the restarted
    engine cannot resume them): transient, so the row goes `retrying` and the host retries."""
    folder = "ocr-engine-kill"
    result = Result("engine killed during OCR", f"{count} scanned forms",
                    "engine kill -9 while Layout operations run, restart", ocr_bound(stack))
    with Watch(stack, folder).running() as watch:
        forms = stack.upload_forms(folder, count)
        wait_until("the engine to accept a Layout", lambda: stack.engine.layouts()[0] >= 1, 60,
                   every=0.02, context=stack.context)
        time.sleep(0.5)  # let the other uploads reach the engine: several operations in flight
        accepted = len(stack.engine.events("layout accepted"))
        finished = len(stack.engine.events("operation finished", kind="layout"))
        stack.engine.kill()
        killed = time.monotonic()
        stack.engine.start()
        result.detail = f"{accepted - finished} in flight"
        result.notes.append(f"engine back after {time.monotonic() - killed:.1f} s")
        if accepted - finished < 1:
            result.problems.append("the kill hit no Layout in flight (the fault was not injected)")
        _settle(stack, result, folder, forms, killed)
        went_retrying = sum(1 for r in stack.documents(folder).values() if r.get("failedAt"))
        result.notes.append(f"rows that went retrying on the way: {went_retrying}; engine operation "
                            f"records: {stack.engine.operations_on_disk()}")
    _finish(stack, result, watch)
    _check_layouts(result, count)
    return result


def engine_killed_during_training(stack: FaultStack, count: int = FORMS_TRAIN) -> Result:
    """Upload a labeled folder at the threshold; once its run has recorded the model (still `creating`)
    `kill -9` the engine and restart it. The restarted engine marks the model invalid ("interrupted ...
    train again"): the run is recorded failed, the labeled set is re-armed once, and a new run ends
    with one ready, current model."""
    folder = "train-engine-kill"
    result = Result("engine killed during training", f"{count} labeled forms",
                    "engine kill -9 while the model is creating, restart", training_bound(stack))
    with Watch(stack, folder).running() as watch:
        forms = stack.upload_forms(folder, count)
        stack.upload_labels(forms)

        def creating() -> list[dict]:
            return [m for m in stack.engine.models_on_disk() if m.get("status") == "creating"]

        model = wait_until("a model in training", creating, 120, every=0.01, context=stack.context)[0]

        def submitted() -> bool:
            """The run recorded the model (its Train call was answered): the kill cuts a known run
            short, not a request whose answer never came (the client then re-sends it)."""
            if not any(m["modelId"] == model["modelId"] for m in creating()):
                return True  # training over: the check below reports the missed window
            return any(model["modelId"] in str(r.get("operationUrl", "")) for r in stack.runs(folder))

        wait_until("the run to record its model", submitted, 30, every=0.05, context=stack.context)
        stack.engine.kill()
        killed = time.monotonic()
        hit = any(m["modelId"] == model["modelId"] and m["status"] == "creating"
                  for m in stack.engine.models_on_disk())
        if not hit:
            result.problems.append("the training finished before the kill (the fault was not injected)")
        stack.engine.start()
        _settle(stack, result, folder, forms, killed, labeled=count)
        runs = stack.runs(folder)
        result.notes.append("runs (oldest first): " + ", ".join(
            f"{r['status']} {r.get('errorCode', '')}".strip() for r in reversed(runs)))
        interrupted = [r for r in runs if r.get("modelId") == model["modelId"]]
        if [r.get("status") for r in interrupted] != ["failed"]:
            result.problems.append(f"the interrupted model's run: {[r.get('status') for r in interrupted]}")
        if [r.get("status") for r in runs].count("succeeded") != 1:
            result.problems.append("not exactly one run succeeded after the interrupted one")
    _finish(stack, result, watch)
    _check_layouts(result, count)
    return result


def devhost_killed_between_claim_and_submission(stack: FaultStack, count: int = FORMS_TRAIN) -> Result:
    """OCR a folder; `kill -STOP` the engine; upload the labels (threshold reached); once a run is
    `claimed` (its Train request hangs on the stopped engine) `kill -9` devhost, `kill -CONT` the engine
    (which may still train the orphaned request) and restart devhost. The claim's deadline passes, the
    timer releases it (or adopts the model named after the run) and the folder ends with one model."""
    folder = "claim-host-kill"
    result = Result("devhost killed between claim and submission", f"{count} labeled forms",
                    "engine kill -STOP; devhost kill -9 with the run claimed; engine -CONT; devhost restart",
                    claim_bound(stack))
    with Watch(stack, folder).running() as watch:
        forms = stack.upload_forms(folder, count)
        _wait_ocr(stack, folder, forms)
        stack.engine.pause()
        try:
            stack.upload_labels(forms)
            claimed = wait_until("a claimed run", lambda: [r for r in stack.runs(folder)
                                                           if r.get("status") == "claimed"],
                                 60, every=0.1, context=stack.context)[0]
            stack.host.kill()
            killed = time.monotonic()
        finally:
            stack.engine.resume()
        stack.host.start()
        _settle(stack, result, folder, forms, killed, labeled=count)
        run_id = str(claimed["RowKey"])
        late = [m for m in stack.engine.models_on_disk() if run_id in str(m.get("modelName", ""))]
        adopted = [m for m in stack.models(folder) if m.get("runId") == run_id]
        result.notes.append(f"engine trained {len(late)} model(s) from the orphaned request; "
                            f"{'adopted' if adopted else 'not adopted'}; runs: "
                            + ", ".join(str(r["status"]) for r in reversed(stack.runs(folder))))
    _finish(stack, result, watch)
    _check_layouts(result, count)
    return result


def devhost_killed_mid_batch(stack: FaultStack, count: int = FORMS_OCR) -> Result:
    """Upload forms; `kill -9` devhost while some are done and others `processing`; restart it. The
    restarted host finds those claims fresh (busy); they expire after OCR_CLAIM_SECONDS and the
    sweep OCRs the forms again."""
    folder = "batch-host-kill"
    result = Result("devhost killed mid-batch", f"{count} scanned forms",
                    "devhost kill -9 while forms are processing, restart", ocr_bound(stack))
    with Watch(stack, folder).running() as watch:
        forms = stack.upload_forms(folder, count)

        def mid_batch() -> tuple[int, int] | None:
            statuses = [r.get("status") for r in stack.documents(folder).values()]
            done, busy = statuses.count("succeeded"), statuses.count("processing")
            return (done, busy) if done >= 1 and busy >= 2 else None

        done, busy = wait_until("forms done and forms in progress", mid_batch, 90, every=0.1,
                                context=stack.context)
        stack.host.kill()
        killed = time.monotonic()
        stack.host.start()
        result.detail = f"{done} done, {busy} processing"
        _settle(stack, result, folder, forms, killed)
    _finish(stack, result, watch)
    _check_layouts(result, count, orphaned=busy)
    result.notes.append(f"{result.engine_layouts[1] - count} Layout(s) finished by the engine for the killed "
                        "host and read again by the sweep")
    return result


# ----------------------------------------------------------------------------------- bad inputs
def _bad_items() -> dict[str, bytes]:
    pdf = (REPO_ROOT / "tests" / "data" / "job-application" / "ceo.pdf").read_bytes()
    jpeg = (SAMPLE_DIR / "Form_1.jpg").read_bytes()
    return {
        "empty.pdf": b"",
        "text-named.pdf": b"This is a plain text file with a .pdf name.\n" * 20,
        "truncated.pdf": pdf[: len(pdf) // 3],
        "truncated.jpg": jpeg[:4096],
        "garbage.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "n" * (1024 - len("bad-inputs/") - len(".pdf")) + ".pdf": pdf,  # the longest blob name there is
    }


def bad_inputs(stack: FaultStack) -> Result:
    """Inputs no one should send, no fault: each gets a verdict (`failed` with the service's code, or
    `succeeded`), none is left unsettled or retried forever; labels naming another file are refused."""
    folder = "bad-inputs"
    items = _bad_items()
    result = Result("bad inputs (no fault)", f"{len(items) + 2} files", "none", ocr_bound(stack))
    with Watch(stack, folder).running() as watch:
        for name, data in items.items():
            stack.upload(f"{folder}/{name}", data)
        good = f"{folder}/Form_1.jpg"
        stack.upload(good, (SAMPLE_DIR / "Form_1.jpg").read_bytes())
        copied = (SAMPLE_DIR / "Form_2.jpg.labels.json").read_bytes()  # names Form_2.jpg, not Form_1.jpg
        stack.upload(f"{good}.labels.json", copied)
        started = time.monotonic()

        def verdicts() -> dict[str, str] | None:
            rows = stack.documents(folder)
            out = {}
            for name in [*items, "Form_1.jpg"]:
                row = rows.get(name) or {}
                if row.get("status") not in ("failed", "succeeded"):
                    return None
                out[name] = f"{row['status']} {row.get('errorCode', '')}".strip()
            if (rows.get("Form_1.jpg") or {}).get("labelsStatus") != "failed":
                return None
            return out

        try:
            found = wait_until("a verdict for every bad input", verdicts, result.bound_s, every=0.5,
                               context=stack.context)
            result.recover_s = round(time.monotonic() - started, 1)
        except AssertionError as exc:
            found = {}
            result.problems.append(str(exc).splitlines()[0])
        rows = stack.documents(folder)
        result.lost = sum(1 for name in [*items, "Form_1.jpg"]
                          if (rows.get(name) or {}).get("status") not in ("failed", "succeeded"))
        for name, verdict in found.items():
            short = name if len(name) < 40 else f"{name[:8]}…({len(name)} chars)"
            result.notes.append(f"{short}: {verdict}")
        if found and not found["Form_1.jpg"].startswith("succeeded"):
            result.problems.append(f"the good form's verdict: {found['Form_1.jpg']}")
        ocr = stack.ocr_etags(folder)
        wrong = [n for n, v in found.items() if v.startswith("failed") and f"{folder}/{n}" in ocr]
        if wrong:
            result.problems.append(f"failed inputs with an .ocr.json: {wrong}")
        label_row = rows.get("Form_1.jpg") or {}
        result.notes.append(f"copied labels: labelsStatus={label_row.get('labelsStatus')} "
                            f"{label_row.get('labelsErrorCode', '')}")
    return _finish(stack, result, watch)


SCENARIOS = {
    "engine_ocr": engine_killed_during_ocr,
    "engine_training": engine_killed_during_training,
    "host_claim": devhost_killed_between_claim_and_submission,
    "host_batch": devhost_killed_mid_batch,
    "bad_inputs": bad_inputs,
}


def describe(result: Result) -> str:
    """A failure message a reader can act on: what went wrong, and the notes."""
    fault = result.faults + (f"; {result.detail}" if result.detail else "")
    lines = [f"{result.scenario} ({fault}): recover {result.recover_s} s (bound {result.bound_s:.0f} s), "
             f"lost {result.lost}, duplicated {result.duplicated}, engine layouts accepted/succeeded "
             f"{result.engine_layouts}", *[f"  problem: {p}" for p in result.problems],
             *[f"  note: {n}" for n in result.notes]]
    return "\n".join(lines)
