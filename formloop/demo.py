"""The `make run` demo: the bundled purchase orders go through the whole loop.

It behaves like a person would: drop the forms in, wait for their OCR files, then add the
labels (and fields.json) and watch the training run until the model is ready. Then a new form
arrives: the fifth sample, held out of training, is dropped into the folder, the pipeline OCRs
and predicts it with the new model, and the demo shows what was extracted beside the labels a
person made for it, which the model never saw. Training with labels needs five labeled forms (as
in Azure), so the four that train are joined by a second copy of the first (`Form_1-copy.jpg`).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient, ContainerClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from formloop.results import field_text
from formloop.stack import REPO_ROOT, StackError, describe_exit
from shared.clients.records import now_iso
from shared.names import encode_key
from shared.predictions.field_values import labeled_values, norm, stored_fields

SAMPLE_DIR = REPO_ROOT / "tests" / "data" / "purchase-orders"
FOLDER = "purchase-orders"
CONTAINER = "forms"
NEW_FORM = "Form_5.jpg"  # held out: no model trains on it, so its prediction is a fair test
COPY_OF, COPY = "Form_1.jpg", "Form_1-copy.jpg"  # the fifth labeled form training needs
LABELS = ".labels.json"
STATE_KEY = "~folder"  # the folder's training state row in TrainingRuns (shared.clients.records)
DEMO_SETTINGS = {"TRAINING_THRESHOLD": "5", "POLL_SCHEDULE": "*/5 * * * * *"}
OCR_DEADLINE_S = 600.0
TRAIN_DEADLINE_S = 600.0
PREDICT_DEADLINE_S = 300.0
UNCHANGED = "unchanged"  # no run: the labels are the ones the current model was trained on
FINISHED = {"succeeded", "failed", "timedout", "poisoned", UNCHANGED}


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _check_host(host: subprocess.Popen[bytes], log: Path) -> None:
    if host.poll() is not None:
        tail = log.read_text(errors="replace").splitlines()[-20:]
        raise StackError(f"the Functions host {describe_exit(host.returncode)} during the demo; see {log}:\n"
                         + "\n".join(tail))


def _upload(container: ContainerClient, path: Path, name: str = "") -> None:
    """Upload a sample file into the demo folder as `name` (default: its own name); labels uploaded
    under another name are made to name their form so, as the pipeline checks."""
    name = name or path.name
    data = path.read_bytes()
    if name != path.name and name.endswith(LABELS):
        labels = json.loads(data)
        labels["document"] = name[: -len(LABELS)]
        data = json.dumps(labels).encode()
    container.upload_blob(f"{FOLDER}/{name}", data, overwrite=True)


def _latest_run(connection_string: str, api: str = "") -> dict[str, Any]:
    """The demo folder's latest training run (of API version `api` when given), {} while there is none."""
    table = TableServiceClient.from_connection_string(connection_string).get_table_client("TrainingRuns")
    try:
        rows = [r for r in table.query_entities(f"PartitionKey eq '{FOLDER}'") if r["RowKey"] != STATE_KEY]
    except Exception:  # the table appears with the first run
        return {}
    if api:
        rows = [r for r in rows if str(r.get("apiVersion") or "v2.1") == api]
    return dict(min(rows, key=lambda r: r["RowKey"])) if rows else {}  # run ids sort newest first


def _run_status(connection_string: str, since: str = "") -> str:
    """The status of the demo folder's training run requested since `since` ('' while there is none);
    `unchanged` when the pipeline decided since then that the labeled set needs no new run (a demo run
    again on the same storage: the old run's status is not this one's)."""
    latest = _latest_run(connection_string)
    if str(latest.get("requestedAt") or latest.get("submittedAt") or "") >= since:
        return str(latest.get("Status") or latest.get("status") or "")
    try:
        table = TableServiceClient.from_connection_string(connection_string).get_table_client("TrainingRuns")
        state = dict(table.get_entity(encode_key(FOLDER), STATE_KEY))
    except ResourceNotFoundError:
        return ""
    decided = str(state.get("lastDecisionAt") or "") >= since
    if decided and "unchanged" in str(state.get("lastDecision") or "") and state.get("currentModelId"):
        return UNCHANGED
    return ""


def _app_api(connection_string: str) -> str:
    """The API version the app speaks: FORM_RECOGNIZER_API from the environment or local.settings.json,
    as the host gets it."""
    from argparse import Namespace

    from formloop.status import settings_from_args
    from shared.settings import SettingsError

    try:
        return str(settings_from_args(Namespace(connection_string=connection_string)).fr_api)
    except SettingsError:
        return "v2.1"


def _current_model(connection_string: str) -> tuple[str, str]:
    """The demo folder's current model and the API version it was trained for ('' for none)."""
    service = TableServiceClient.from_connection_string(connection_string)
    try:
        state = dict(service.get_table_client("TrainingRuns").get_entity(encode_key(FOLDER), STATE_KEY))
        model_id = str(state.get("currentModelId") or "")
        api = str(state.get("currentModelApi") or "")
        if model_id and not api:
            api = str(service.get_table_client("Models").get_entity(
                encode_key(FOLDER), encode_key(model_id)).get("apiVersion") or "")
    except ResourceNotFoundError:
        return "", ""
    return model_id, api


def _switch_note(console: Console, model_id: str, model_api: str, api: str) -> None:
    console.print(
        f"[yellow]The folder's current model {model_id} was trained for API {model_api}; the app now speaks "
        f"{api} (FORM_RECOGNIZER_API), which cannot use it.[/yellow] The pipeline reads the forms again with "
        f"{api} and trains a model for it from the same labels at once; until it is current, new forms wait "
        f"for it, and the predictions made earlier stay as they were.", highlight=False)


def _wait_for_switch(progress: Progress, task: Any, connection_string: str, api: str, since: str,
                     check: Any) -> str:
    """Until the folder's current model is one of `api` ('succeeded'), or this demo's run for it ended
    otherwise (its status)."""
    deadline = time.monotonic() + TRAIN_DEADLINE_S
    while True:
        check()
        if _current_model(connection_string)[1] == api:
            progress.update(task, description=f"Training a model for {api}: succeeded, it is current")
            return "succeeded"
        run = _latest_run(connection_string, api)
        status = str(run.get("status") or "") if str(run.get("requestedAt") or "") >= since else ""
        if status.lower() in FINISHED - {"succeeded"}:
            return status
        progress.update(task, description=f"Training a model for {api}: "
                                          f"{status or f'the forms are read again with {api}'}")
        if time.monotonic() > deadline:
            raise StackError(f"no model for {api} within {TRAIN_DEADLINE_S:.0f} s; see formloop status")
        time.sleep(1)


def _prediction(connection_string: str, document: str, etag: str) -> dict[str, Any] | None:
    """The form's Predictions row once the pipeline finished with this version of it (None before)."""
    table = TableServiceClient.from_connection_string(connection_string).get_table_client("Predictions")
    try:
        row = dict(table.get_entity(encode_key(FOLDER), encode_key(document)))
    except ResourceNotFoundError:  # no row (or no table) yet
        return None
    if str(row.get("sourceEtag", "")).strip('"') != etag or row.get("status") not in ("succeeded", "failed"):
        return None  # an earlier demo's row, or still being analyzed
    return row


def _field_order(names: set[str]) -> list[str]:
    """The order of the sample's fields.json (how the form reads), then any others by name."""
    declared = [f["fieldKey"] for f in json.loads((SAMPLE_DIR / "fields.json").read_text())["fields"]]
    return [n for n in declared if n in names] + sorted(names - set(declared))


def _trained_on(connection_string: str, model_id: str, document: str) -> bool:
    """Whether the model's training set held the form: only with storage kept from an earlier demo that
    labeled every sample (then the comparison below shows memory, and the title says so)."""
    table = TableServiceClient.from_connection_string(connection_string).get_table_client("TrainingDocuments")
    try:
        table.get_entity(encode_key(model_id), encode_key(document))
    except ResourceNotFoundError:
        return False
    return True


def show_extraction(console: Console, row: dict[str, Any], truth: dict[str, str], seen: bool = False) -> None:
    """The model's answer for the new form, field by field, beside the labels a person made for it."""
    fields = stored_fields(row)
    try:
        low = set(json.loads(str(row.get("lowConfidenceNames") or "[]")))
    except ValueError:
        low = set()
    which = ("a form this model trained on (storage from an earlier demo: delete .formloop/ to start afresh)"
             if seen else "a form no model trained on")
    table = Table(title=f"Extracted by {row.get('modelId', '')} from {NEW_FORM}, {which}")
    for col in ("field", "extracted", "confidence", "truth (its labels)", ""):
        table.add_column(col)
    agreed = labeled = 0
    for name in _field_order(set(fields) | set(truth)):
        found = fields.get(name) or {}
        text, expected = field_text(found), truth.get(name, "")
        confidence = found.get("confidence")
        shown = f"{confidence:.2f}" if isinstance(confidence, int | float) and text else ""
        if name in low and shown:
            shown = f"[yellow]{shown}[/yellow]"  # below the review confidence: a person should look
        if expected.strip():
            labeled += 1
            right = norm(text) == norm(expected)
            agreed += right
            mark = "[green]✓[/green]" if right else "[red]✗[/red]"
        else:
            mark = "[red]✗[/red]" if text else ""  # found something where the person labeled nothing
        table.add_row(name, text, shown, expected, mark)
    console.print(table)
    review = str(row.get("reviewStatus") or "")
    why = (f": {len(low)} field(s) below the review confidence (yellow) for a person to check"
           if review == "needsReview" else "")
    console.print(f"{agreed} of {labeled} labeled fields extracted right; review state [bold]{review}"
                  f"[/bold]{why}. All forms: [bold]formloop results --folder {FOLDER}[/bold]")


def run_demo(console: Console, connection_string: str, host: subprocess.Popen[bytes], host_log: Path) -> None:
    trained = sorted(f.name for f in SAMPLE_DIR.glob("Form_*.jpg") if f.name != NEW_FORM)
    forms = [(SAMPLE_DIR / name, name) for name in trained] + [(SAMPLE_DIR / COPY_OF, COPY)]
    labels = [(SAMPLE_DIR / f"{source.name}{LABELS}", f"{name}{LABELS}") for source, name in forms]
    service = BlobServiceClient.from_connection_string(connection_string)
    container = service.get_container_client(CONTAINER)
    with contextlib.suppress(ResourceExistsError):
        container.create_container()
    api, since = _app_api(connection_string), now_iso()
    model_id, model_api = _current_model(connection_string)
    switching = bool(model_api) and model_api != api  # storage kept from a demo on another API version

    console.rule(f"Demo: {len(forms)} labeled purchase orders into {CONTAINER}/{FOLDER}/, then a new one")
    if switching:
        _switch_note(console, model_id, model_api, api)
    with _progress(console) as progress:
        task = progress.add_task("Uploading forms", total=len(forms))
        for path, name in forms:
            _upload(container, path, name)
            progress.advance(task)
        ocr = progress.add_task("OCR (.ocr.json written)", total=len(forms))
        deadline = time.monotonic() + OCR_DEADLINE_S
        while True:
            done = {  # read with the API the app speaks (a user's own `.ocr.json` counts under any)
                b.name
                for b in container.list_blobs(name_starts_with=f"{FOLDER}/", include=["metadata"])
                if b.name.endswith(".ocr.json") and (b.metadata or {}).get("api_version", api) == api
            }
            finished = sum(f"{FOLDER}/{name}.ocr.json" in done for _, name in forms)
            progress.update(ocr, completed=finished)
            if finished >= len(forms):
                break
            _check_host(host, host_log)
            if time.monotonic() > deadline:
                raise StackError(f"OCR did not finish within {OCR_DEADLINE_S:.0f} s; see {host_log}")
            time.sleep(0.5)

        task = progress.add_task("Uploading labels + fields.json", total=len(labels) + 1)
        _upload(container, SAMPLE_DIR / "fields.json")
        progress.advance(task)
        for path, name in labels:
            _upload(container, path, name)
            progress.advance(task)

        train = progress.add_task("Training (waiting for the run to finish)", total=None)
        deadline = time.monotonic() + TRAIN_DEADLINE_S
        status = ""
        if switching:
            status = _wait_for_switch(progress, train, connection_string, api, since,
                                      lambda: _check_host(host, host_log))
        while status.lower() not in FINISHED:
            _check_host(host, host_log)
            if time.monotonic() > deadline:
                raise StackError(f"training did not finish within {TRAIN_DEADLINE_S:.0f} s; see {host_log}")
            time.sleep(1)
            status = _run_status(connection_string, since)
            shown = ("not needed: the labels are the ones the current model was trained on"
                     if status == UNCHANGED else status or "waiting for the threshold")
            progress.update(train, description=f"Training: {shown}")
        progress.update(train, total=1, completed=1)

        row = None
        if status.lower() in ("succeeded", UNCHANGED):  # a model is current by then
            new = progress.add_task(f"New form {NEW_FORM}: OCR + prediction", total=None)
            blob = container.get_blob_client(f"{FOLDER}/{NEW_FORM}")
            etag = str(blob.upload_blob((SAMPLE_DIR / NEW_FORM).read_bytes(), overwrite=True)["etag"])
            deadline = time.monotonic() + PREDICT_DEADLINE_S
            while (row := _prediction(connection_string, NEW_FORM, etag.strip('"'))) is None:
                _check_host(host, host_log)
                if time.monotonic() > deadline:
                    raise StackError(f"{NEW_FORM} was not predicted within {PREDICT_DEADLINE_S:.0f} s; "
                                     f"see {host_log}")
                time.sleep(0.5)
            progress.update(new, total=1, completed=1,
                            description=f"New form {NEW_FORM}: prediction {row.get('status')}")

    if row is not None:
        console.rule("A new form, read by the new model")
        if row.get("status") == "succeeded":
            truth = labeled_values((SAMPLE_DIR / f"{NEW_FORM}.labels.json").read_bytes())
            seen = _trained_on(connection_string, str(row.get("modelId", "")), NEW_FORM)
            show_extraction(console, row, truth, seen)
        else:
            console.print(f"[red]the prediction of {NEW_FORM} failed:[/red] {row.get('errorCode')}: "
                          f"{row.get('errorMessage')}", highlight=False)

    console.rule("What landed in the tables")
    from argparse import Namespace

    from formloop.status import run_status

    run_status(Namespace(folder=FOLDER, connection_string=connection_string, account_name=None))
