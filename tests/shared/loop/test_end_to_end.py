"""The whole loop on the real local stack: Azurite + engine + devhost as processes, nothing mocked."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from formgen.generate import generate
from formloop.stack import AzuriteInfo, EngineInfo, start_devhost, stop
from shared.clients.records import Records
from shared.clients.storage import ensure_resources, queue_service
from shared.settings import load_settings
from tests.helpers.pipeline import Stack, fast_client, make_app_dir, pipeline_env

TIMEOUT = 180.0


class Host:
    def __init__(self, stack: Stack, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.stack, self.proc, self.log = stack, proc, log

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if self.proc.poll() is not None:
                pytest.fail(f"devhost exited while waiting for {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.tail()}")
            time.sleep(0.5)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture
def devhost(azurite: AzuriteInfo, engine: EngineInfo, tmp_path: Path) -> Iterator[Callable[..., Host]]:
    started: list[Host] = []

    def start(workers: int = 1, **overrides: str) -> Host:
        env = pipeline_env(
            azurite,
            engine.endpoint,
            engine.api_key,
            POLL_SCHEDULE="*/2 * * * * *",
            SWEEP_INTERVAL_SECONDS="3600",
            **overrides,
        )
        env["AzureWebJobsStorage"] = azurite.connection_string
        settings = load_settings(env)
        ensure_resources(settings)
        stack = Stack(settings, Records(settings), fast_client(settings), env)
        log = tmp_path / f"devhost-{len(started)}.log"
        proc = start_devhost(
            make_app_dir(tmp_path / f"h{len(started)}"),
            env={**os.environ, **env},
            extra_args=["--workers", str(workers)],
            log_path=log,
        )
        host = Host(stack, proc, log)
        started.append(host)
        return host

    yield start
    for host in started:
        stop(host.proc)


def finished_runs(records: Records, folder: str) -> list[dict]:
    return [r for r in records.folder_runs(folder) if r["status"] not in ("claimed", "submitted", "running")]


def test_forms_to_ocr_to_training_to_tables_and_a_second_model(
    devhost: Callable[..., Host], tmp_path: Path
) -> None:
    host = devhost(TRAINING_THRESHOLD="10", RETRAIN_MIN_NEW_LABELS="3")
    stack, records = host.stack, host.stack.records
    forms = generate("invoice", 15, tmp_path / "forms", kind="pdf")
    for form in forms[:12]:
        stack.upload(f"invoices/{form.path.name}", form.path.read_bytes())
    host.wait_for(
        "12 .ocr.json files", lambda: sum(n.endswith(".ocr.json") for n in stack.blob_names()) == 12
    )

    stack.upload("invoices/fields.json", (tmp_path / "forms" / "fields.json").read_bytes())
    for form in forms[:10]:
        stack.upload(f"invoices/{form.labels_path.name}", form.labels_path.read_bytes())
    host.wait_for("the first run to finish", lambda: len(finished_runs(records, "invoices")) == 1)

    runs = records.folder_runs("invoices")
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["status"] == "succeeded" and run["labeledCount"] == 10, run
    assert run["trainingDocumentCount"] in (10, 12), run
    model_id = run["modelId"]
    docs = records.folder_documents("invoices")
    assert len(docs) == 12 and all(d["status"] == "succeeded" and d["pages"] == 1 for d in docs.values())
    assert sorted(n for n, d in docs.items() if d.get("labeled")) == sorted(f.path.name for f in forms[:10])
    models = records.folder_models("invoices")
    assert [(m["modelId"], m["status"], m["isCurrent"]) for m in models] == [(model_id, "ready", True)]
    assert models[0]["averageModelAccuracy"] > 0.8
    fields = list(records.fields.query_entities("PartitionKey eq @p", parameters={"p": model_id}))
    field_keys = {
        f["fieldKey"] for f in json.loads((tmp_path / "forms" / "fields.json").read_text())["fields"]
    }
    assert {f["fieldName"] for f in fields} <= field_keys and len(fields) >= len(field_keys) - 2
    tdocs = list(records.training_documents.query_entities("PartitionKey eq @p", parameters={"p": model_id}))
    labeled_names = {f.path.name for f in forms[:10]}
    assert labeled_names <= {d["documentName"] for d in tdocs}
    assert all(
        d["status"] in ("succeeded", "partiallySucceeded")
        for d in tdocs
        if d["documentName"] in labeled_names
    )

    # a message that can never be processed lands in the poison queue, with a row
    queue_service(stack.settings).get_queue_client(stack.settings.training_queue).send_message("garbage")
    poison = queue_service(stack.settings).get_queue_client(stack.settings.poison_queue)
    host.wait_for("the poison message", lambda: bool(poison.peek_messages()))
    assert records.folder_runs("!invalid-messages")[0]["status"] == "poisoned"

    # three more labels: a second run and a second model; the first model is kept
    for form in forms[10:12]:
        stack.upload(f"invoices/{form.labels_path.name}", form.labels_path.read_bytes())
    stack.upload(f"invoices/{forms[12].path.name}", forms[12].path.read_bytes())
    stack.upload(f"invoices/{forms[12].labels_path.name}", forms[12].labels_path.read_bytes())
    host.wait_for("the second run to finish", lambda: len(finished_runs(records, "invoices")) == 2)
    runs = records.folder_runs("invoices")
    assert len(runs) == 2 and [r["status"] for r in runs] == ["succeeded", "succeeded"]
    newest = runs[0]  # run ids sort newest first
    assert newest["labeledCount"] == 13 and newest["newLabels"] == 3 and newest["modelId"] != model_id
    models = {m["modelId"]: m for m in records.folder_models("invoices")}
    assert set(models) == {model_id, newest["modelId"]}
    assert models[model_id]["isCurrent"] is False and models[newest["modelId"]]["isCurrent"] is True
    assert models[model_id]["status"] == "ready"
    assert len(list(records.fields.query_entities("PartitionKey eq @p", parameters={"p": model_id}))) == len(
        fields
    )


def test_twenty_labels_at_once_with_two_workers_start_exactly_one_run(
    devhost: Callable[..., Host], tmp_path: Path
) -> None:
    host = devhost(workers=2, TRAINING_THRESHOLD="20")
    stack, records = host.stack, host.stack.records
    forms = generate("purchase_order", 20, tmp_path / "forms", kind="pdf")
    for form in forms:
        stack.upload(f"po/{form.path.name}", form.path.read_bytes())
    host.wait_for(
        "20 .ocr.json files", lambda: sum(n.endswith(".ocr.json") for n in stack.blob_names()) == 20
    )
    for form in forms:
        stack.upload(f"po/{form.labels_path.name}", form.labels_path.read_bytes())
    # a duplicate burst of requests on top of the 20 label events
    queue = queue_service(stack.settings).get_queue_client(stack.settings.training_queue)
    for _ in range(10):
        queue.send_message(json.dumps({"folder": "po"}))
    host.wait_for("the run to finish", lambda: len(finished_runs(records, "po")) >= 1)
    host.wait_for("the queue to drain", lambda: not queue.peek_messages())
    runs = records.folder_runs("po")
    assert len(runs) == 1 and runs[0]["status"] == "succeeded" and runs[0]["labeledCount"] == 20, runs
