"""The `make run` demo: the bundled purchase orders go through the whole loop.

It behaves like a person would: drop the forms in, wait for their OCR files, then add the
labels (and fields.json) and watch the training run until the model is ready. The threshold
is set to the five forms the sample holds.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient, ContainerClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from formloop.stack import REPO_ROOT, StackError

SAMPLE_DIR = REPO_ROOT / "tests" / "data" / "purchase-orders"
FOLDER = "purchase-orders"
CONTAINER = "forms"
DEMO_SETTINGS = {"TRAINING_THRESHOLD": "5", "POLL_SCHEDULE": "*/5 * * * * *"}
OCR_DEADLINE_S = 600.0
TRAIN_DEADLINE_S = 600.0
FINISHED = {"succeeded", "failed", "timedout", "poisoned"}


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
        raise StackError("the Functions host stopped during the demo:\n" + "\n".join(tail))


def _upload(container: ContainerClient, paths: list[Path]) -> None:
    for path in paths:
        with path.open("rb") as fh:
            container.upload_blob(f"{FOLDER}/{path.name}", fh, overwrite=True)


def _run_status(connection_string: str) -> str:
    """The latest training run's status for the demo folder, '' while there is none."""
    table = TableServiceClient.from_connection_string(connection_string).get_table_client("TrainingRuns")
    try:
        rows = list(table.query_entities(f"PartitionKey eq '{FOLDER}'"))
    except Exception:  # the table appears with the first run
        return ""
    if not rows:
        return ""
    latest = min(rows, key=lambda r: r["RowKey"])  # run ids sort newest first
    return str(latest.get("Status") or latest.get("status") or "")


def run_demo(console: Console, connection_string: str, host: subprocess.Popen[bytes], host_log: Path) -> None:
    forms = sorted(SAMPLE_DIR.glob("Form_*.jpg"))
    labels = sorted(SAMPLE_DIR.glob("Form_*.jpg.labels.json"))
    service = BlobServiceClient.from_connection_string(connection_string)
    container = service.get_container_client(CONTAINER)
    with contextlib.suppress(ResourceExistsError):
        container.create_container()

    console.rule(f"Demo: {len(forms)} purchase orders into {CONTAINER}/{FOLDER}/")
    with _progress(console) as progress:
        task = progress.add_task("Uploading forms", total=len(forms))
        for form in forms:
            _upload(container, [form])
            progress.advance(task)
        ocr = progress.add_task("OCR (.ocr.json written)", total=len(forms))
        deadline = time.monotonic() + OCR_DEADLINE_S
        while True:
            done = {
                b.name
                for b in container.list_blobs(name_starts_with=f"{FOLDER}/")
                if b.name.endswith(".ocr.json")
            }
            progress.update(ocr, completed=sum(f"{FOLDER}/{f.name}.ocr.json" in done for f in forms))
            if len(done) >= len(forms):
                break
            _check_host(host, host_log)
            if time.monotonic() > deadline:
                raise StackError(f"OCR did not finish within {OCR_DEADLINE_S:.0f} s; see {host_log}")
            time.sleep(0.5)

        task = progress.add_task("Uploading labels + fields.json", total=len(labels) + 1)
        _upload(container, [SAMPLE_DIR / "fields.json"])
        progress.advance(task)
        for label in labels:
            _upload(container, [label])
            progress.advance(task)

        train = progress.add_task("Training (waiting for the run to finish)", total=None)
        deadline = time.monotonic() + TRAIN_DEADLINE_S
        status = ""
        while status.lower() not in FINISHED:
            _check_host(host, host_log)
            if time.monotonic() > deadline:
                raise StackError(f"training did not finish within {TRAIN_DEADLINE_S:.0f} s; see {host_log}")
            time.sleep(1)
            status = _run_status(connection_string)
            progress.update(train, description=f"Training: {status or 'waiting for the threshold'}")
        progress.update(train, total=1, completed=1)

    console.rule("What landed in the tables")
    from argparse import Namespace

    from formloop.status import run_status

    run_status(Namespace(folder=FOLDER, connection_string=connection_string, account_name=None))
