"""Pipeline overhead: N forms uploaded at once, through the whole loop, against the engine called directly.

Run: `.venv/bin/python bench/bench_pipeline.py [--forms 50] [--workers 2]`.

Pipeline (Azurite + engine + devhost, all real processes): upload N generated one-page PDFs and their
labels at once (TRAINING_THRESHOLD = N); measure until every `.ocr.json` exists and until the Models
table shows a ready model. Baseline, in the same run on the same files: the same engine called directly
with as many client threads as devhost workers — Layout for every file, then one Train on a container
holding the files, their OCR and labels, polled until ready. Overhead = pipeline / baseline - 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formloop.stack import start_azurite, start_devhost, start_engine, stop  # noqa: E402
from shared.formrecognizer import FormRecognizerClient, content_type_for  # noqa: E402
from shared.records import Records  # noqa: E402
from shared.sas import container_sas_url  # noqa: E402
from shared.settings import load_settings  # noqa: E402
from shared.storage import blob_service, ensure_resources  # noqa: E402
from tests.formgen.generate import generate  # noqa: E402

FOLDER = "bench"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def wait(what: str, check, timeout: float, proc=None) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"devhost exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(0.1)
    return time.monotonic()


def direct(client: FormRecognizerClient, settings, forms: list, workers: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The engine alone: Layout for every file (N threads), then one Train; returns (ocr s, train s)."""
    start = time.monotonic()

    def layout(path: Path) -> bytes:
        data = path.read_bytes()
        return client.analyze_layout(data, content_type_for(data[:8], path.name), 600)[1]

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(layout, [f.path for f in forms]))
    ocr_seconds = time.monotonic() - start
    container = blob_service(settings).get_container_client(settings.forms_container)
    for form, raw in zip(forms, results, strict=True):
        container.upload_blob(f"{FOLDER}/{form.path.name}", form.path.read_bytes(), overwrite=True)
        container.upload_blob(f"{FOLDER}/{form.path.name}.ocr.json", raw, overwrite=True)
        container.upload_blob(
            f"{FOLDER}/{form.labels_path.name}", form.labels_path.read_bytes(), overwrite=True
        )
    start = time.monotonic()
    url = client.begin_training(container_sas_url(settings), f"{FOLDER}/")
    while not client.get_training(url).finished:
        time.sleep(0.25)
    return ocr_seconds, time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="devhost workers = direct client threads")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--kind",
        choices=("pdf", "scan"),
        default="pdf",
        help="digital PDFs (text layer, no OCR) or scanned-looking images (Tesseract)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) for inspection")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    forms = generate("invoice", args.forms, work / "forms", kind=args.kind)
    azurite = start_azurite(log_path=work / "azurite.log")
    engine = start_engine(work / "engine", log_path=work / "engine.log")
    host = None
    try:
        base_env = {
            "FORMS_STORAGE": azurite.connection_string,
            "FORM_RECOGNIZER_ENDPOINT": engine.endpoint,
            "FORM_RECOGNIZER_KEY": engine.api_key,
            "TRAINING_THRESHOLD": str(args.forms),
            "POLL_SCHEDULE": "* * * * * *",
            "SWEEP_INTERVAL_SECONDS": "3600",
            "FORMS_CONTAINER": "forms",
            "TRAINING_QUEUE": "training-requests",
        }
        direct_settings = load_settings({**base_env, "FORMS_CONTAINER": "direct"})
        ensure_resources(direct_settings)
        client = FormRecognizerClient(engine.endpoint, engine.api_key)  # the pipeline's own defaults
        ocr_direct, train_direct = direct(client, direct_settings, forms, args.workers)

        settings = load_settings(base_env)
        ensure_resources(settings)
        app = work / "app"
        app.mkdir()
        (app / "function_app.py").symlink_to(ROOT / "function_app.py")
        (app / "shared").symlink_to(ROOT / "shared")
        shutil.copyfile(ROOT / "host.json", app / "host.json")
        env = {**os.environ, **base_env, "AzureWebJobsStorage": azurite.connection_string}
        host = start_devhost(
            app, env=env, extra_args=["--workers", str(args.workers)], log_path=work / "devhost.log"
        )
        time.sleep(3)  # let the host start its listeners (the first timer beat runs on startup)
        container = blob_service(settings).get_container_client(settings.forms_container)
        records = Records(settings)
        start = time.monotonic()
        for form in forms:
            container.upload_blob(f"{FOLDER}/{form.path.name}", form.path.read_bytes(), overwrite=True)
            container.upload_blob(
                f"{FOLDER}/{form.labels_path.name}", form.labels_path.read_bytes(), overwrite=True
            )

        uploaded = time.monotonic() - start

        def ocr_count() -> int:
            return sum(
                b.name.endswith(".ocr.json") for b in container.list_blobs(name_starts_with=f"{FOLDER}/")
            )

        ocr_done = wait("all .ocr.json", lambda: ocr_count() == args.forms, args.timeout, host) - start
        model_done = (
            wait(
                "a ready model",
                lambda: any(m.get("status") == "ready" for m in records.folder_models(FOLDER)),
                args.timeout,
                host,
            )
            - start
        )
    finally:
        if host is not None:
            stop(host)
        stop(engine.process)
        stop(azurite.process)
    base_total = ocr_direct + train_direct
    rows = [
        ("every .ocr.json written", ocr_direct, ocr_done),
        ("model ready (from upload)", base_total, model_done),
    ]
    print(
        f"\n{args.forms} one-page {'PDFs' if args.kind == 'pdf' else 'scans'} + labels, "
        f"{args.workers} workers; {os.cpu_count()} cores, {cpu_model()}, "
        f"{date.today()}\n"
    )
    print("| measure | engine directly (s) | pipeline (s) | overhead |")
    print("|---|---:|---:|---:|")
    for label, base, pipe in rows:
        print(f"| {label} | {base:.1f} | {pipe:.1f} | {100 * (pipe / base - 1):+.0f}% |")
    print(
        f"\n(uploading {2 * args.forms} blobs took {uploaded:.1f} s of the pipeline time; direct training "
        f"alone: {train_direct:.1f} s; pipeline training after the last OCR: {model_done - ocr_done:.1f} s)"
    )
    if args.keep:
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
