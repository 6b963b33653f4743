"""Pipeline overhead: N forms uploaded at once, through the whole loop, against the engine called directly.

Run: `.venv/bin/python bench/bench_pipeline.py [--forms 50] [--kind pdf|scan] [--concurrency N]`.

Pipeline (Azurite + engine + devhost, all real processes): upload N generated one-page forms and their
labels at once (TRAINING_THRESHOLD = N); measure until every `.ocr.json` exists and until the Models
table shows a ready model. Baseline, in the same run on the same files: the same engine called directly
with as many Layout requests in flight as devhost runs blob invocations (`--concurrency`, default the
repository's host.json `extensions.blobs.maxDegreeOfParallelism`) — Layout for every file, then one
Train on a container holding the files, their OCR and labels, polled until ready.
Fairness: one warm-up (Layout + Train) before anything is timed; the direct pass runs both before and
after the pipeline and the baseline is their mean (the machine is shared; the spread is printed).
Overhead = pipeline / baseline - 1. A per-function profile from the devhost log follows the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from formgen.generate import generate  # noqa: E402
from formloop.stack import start_azurite, start_devhost, start_engine, stop  # noqa: E402
from shared.clients.formrecognizer import FormRecognizerClient, content_type_for  # noqa: E402
from shared.clients.records import Records  # noqa: E402
from shared.clients.sas import container_sas_url  # noqa: E402
from shared.clients.storage import blob_service, ensure_resources  # noqa: E402
from shared.settings import load_settings  # noqa: E402

FOLDER = "bench"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def wait(what: str, check, timeout: float, proc=None, every: float = 0.05) -> float:  # type: ignore[no-untyped-def]
    """Look every `every` s; the looks themselves load Azurite, so the model watcher looks no more often
    than the direct side polls the engine (0.25 s)."""
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"devhost exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(every)
    return time.monotonic()


def cpu_seconds(*procs) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """CPU time (user + system, children included) used so far by each named process."""
    out: dict[str, float] = {}
    for name, proc in procs:
        try:
            root = psutil.Process(proc.pid)
            total = 0.0
            for p in [root, *root.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
            out[name] = total
        except psutil.Error:
            out[name] = 0.0
    me = psutil.Process().cpu_times()
    out["bench (client)"] = me.user + me.system
    return out


CPU_USE: dict[str, dict[str, float]] = {}


def add_cpu(phase: str, before: dict[str, float], after: dict[str, float]) -> None:
    totals = CPU_USE.setdefault(phase, {})
    for name, value in after.items():
        totals[name] = totals.get(name, 0.0) + value - before.get(name, 0.0)


def host_json_parallelism() -> int:
    blobs = json.loads((ROOT / "host.json").read_text()).get("extensions", {}).get("blobs", {})
    return int(blobs.get("maxDegreeOfParallelism") or 1)


def upload_all(container, items: list[tuple[str, Path]], workers: int) -> None:  # type: ignore[no-untyped-def]
    """Upload at once, as a user's sync tool would (several requests in flight)."""
    with ThreadPoolExecutor(workers) as pool:
        list(
            pool.map(lambda item: container.upload_blob(item[0], item[1].read_bytes(), overwrite=True), items)
        )


LAST_RESULTS: list[bytes] = []


def direct(
    client: FormRecognizerClient, settings, forms: list, workers: int, folder: str, procs=()
) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The engine alone: Layout for every file (N in flight), then one Train; returns (ocr s, train s).
    CPU used during the Layout part is added to CPU_USE["direct"] (per process)."""
    before = cpu_seconds(*procs)
    start = time.monotonic()

    def layout(path: Path) -> bytes:
        data = path.read_bytes()
        return client.analyze_layout(data, content_type_for(data[:8], path.name), 600)[1]

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(layout, [f.path for f in forms]))
    ocr_seconds = time.monotonic() - start
    LAST_RESULTS[:] = results
    add_cpu("direct", before, cpu_seconds(*procs))
    container = blob_service(settings).get_container_client(settings.forms_container)
    for form, raw in zip(forms, results, strict=True):
        container.upload_blob(f"{folder}/{form.path.name}", form.path.read_bytes(), overwrite=True)
        container.upload_blob(f"{folder}/{form.path.name}.ocr.json", raw, overwrite=True)
        container.upload_blob(
            f"{folder}/{form.labels_path.name}", form.labels_path.read_bytes(), overwrite=True
        )
    start = time.monotonic()
    url = client.begin_training(container_sas_url(settings), f"{folder}/")
    while not client.get_training(url).finished:
        time.sleep(0.25)
    return ocr_seconds, time.monotonic() - start


def storage_floor(settings, forms: list, results: list[bytes], workers: int, folder: str):  # type: ignore[no-untyped-def]
    """The least storage work any blob pipeline does for these forms, with no host, no engine and no
    logic: upload forms + labels (8 in flight), then per form (`workers` in flight) read it, write its
    `.ocr.json` and upsert one table row. Returns (upload s, per-form part s): next to the engine's
    time, it shows how much of the overhead no pipeline code could remove on this machine."""
    from shared.clients.records import Records

    container = blob_service(settings).get_container_client(settings.forms_container)
    records = Records(settings)
    items = [(f"{folder}/{p.name}", p) for f in forms for p in (f.path, f.labels_path)]
    start = time.monotonic()
    upload_all(container, items, 8)
    uploaded = time.monotonic()

    def one(pair: tuple[object, bytes]) -> None:
        form, raw = pair
        name = f"{folder}/{form.path.name}"  # type: ignore[attr-defined]
        container.get_blob_client(name).download_blob().readall()
        container.upload_blob(name + ".ocr.json", raw, overwrite=True)
        records.merge_document(folder, form.path.name, status="succeeded")  # type: ignore[attr-defined]

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, zip(forms, results, strict=True)))
    return uploaded - start, time.monotonic() - uploaded


_EXECUTING = re.compile(r"^(\S+ \S+) .*Executing 'Functions\.(\w+)' \(Reason='(.*?)', Id=([-\w]+)")
_EXECUTED = re.compile(r"^(\S+ \S+) .*Executed 'Functions\.(\w+)' \((\w+), Id=([-\w]+), Duration=(\d+)ms")


def print_profile(log_path: Path, upload_started: float) -> None:
    """Invocations per kind from the devhost log: count, median and total duration, first start/last end
    (seconds since the upload began, wall clock)."""
    from datetime import datetime

    def stamp(text: str) -> float:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").timestamp()

    started: dict[str, tuple[float, str, str]] = {}
    kinds: dict[str, list[tuple[float, float]]] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if match := _EXECUTING.match(line):
            started[match.group(4)] = (stamp(match.group(1)), match.group(2), match.group(3))
        elif (match := _EXECUTED.match(line)) and match.group(4) in started:
            begin, function, reason = started.pop(match.group(4))
            kind = function
            if function == "on_blob":
                kind = "on_blob " + (
                    "(.ocr.json)"
                    if reason.endswith(".ocr.json")
                    else "(labels)"
                    if reason.endswith(".labels.json")
                    else "(form)"
                )
            kinds.setdefault(kind, []).append((begin, begin + int(match.group(5)) / 1000))
    blobs = [b for k, v in kinds.items() if k.startswith("on_blob") for b in v]
    if not blobs:
        return
    origin = upload_started
    print("\n| devhost invocations | count | median (ms) | total (s) | first start (s after upload began) "
          "| last end (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, spans in sorted(kinds.items()):
        if kind == "poll_training_runs":
            spans = [s for s in spans if s[1] >= origin]
        if not spans:
            continue
        durations = [e - b for b, e in spans]
        print(
            f"| {kind} | {len(spans)} | {1000 * statistics.median(durations):.0f} | {sum(durations):.1f} | "
            f"{min(b for b, _ in spans) - origin:.1f} | {max(e for _, e in spans) - origin:.1f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="devhost --workers (queue, timer)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="blob invocations at once = direct Layout requests in flight "
        "(default: host.json extensions.blobs.maxDegreeOfParallelism)",
    )
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--kind",
        choices=("pdf", "scan"),
        default="pdf",
        help="digital PDFs (text layer, no OCR) or scanned-looking images (Tesseract)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) for inspection")
    args = parser.parse_args()
    concurrency = args.concurrency or host_json_parallelism()

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
        direct(client, direct_settings, forms[:5], concurrency, "warmup")  # warm engine: not timed
        stack_procs = [("engine", engine.process), ("azurite", azurite.process)]
        direct_runs = [direct(client, direct_settings, forms, concurrency, "before", stack_procs)]
        floor_settings = load_settings({**base_env, "FORMS_CONTAINER": "floor"})
        ensure_resources(floor_settings)
        floor = storage_floor(floor_settings, forms, list(LAST_RESULTS), concurrency, "floor")

        settings = load_settings(base_env)
        ensure_resources(settings)
        app = work / "app"
        app.mkdir()
        (app / "function_app.py").symlink_to(ROOT / "function_app.py")
        (app / "shared").symlink_to(ROOT / "shared")
        shutil.copyfile(ROOT / "host.json", app / "host.json")
        env = {**os.environ, **base_env, "AzureWebJobsStorage": azurite.connection_string}
        host = start_devhost(
            app,
            env=env,
            extra_args=["--workers", str(args.workers), "--blob-workers", str(concurrency)],
            log_path=work / "devhost.log",
        )
        time.sleep(3)  # let the host start its listeners (the first timer beat runs on startup)
        container = blob_service(settings).get_container_client(settings.forms_container)
        records = Records(settings)
        items = [(f"{FOLDER}/{p.name}", p) for f in forms for p in (f.path, f.labels_path)]
        pipeline_procs = [*stack_procs, ("devhost", host)]
        cpu_before = cpu_seconds(*pipeline_procs)
        start, upload_wall = time.monotonic(), time.time()
        upload_all(container, items, 8)
        uploaded = time.monotonic() - start

        missing = [f"{FOLDER}/{form.path.name}.ocr.json" for form in forms]

        def all_ocr_written() -> bool:
            """One HEAD per look (not a listing): the watcher must not load Azurite itself."""
            while missing and container.get_blob_client(missing[0]).exists():
                missing.pop(0)
            return not missing

        ocr_done = wait("all .ocr.json", all_ocr_written, args.timeout, host, every=0.1) - start
        add_cpu("pipeline", cpu_before, cpu_seconds(*pipeline_procs))
        model_done = (
            wait(
                "a ready model",
                lambda: any(m.get("status") == "ready" for m in records.folder_models(FOLDER)),
                args.timeout,
                host,
                every=0.25,
            )
            - start
        )
        stop(host)
        host = None
        direct_runs.append(direct(client, direct_settings, forms, concurrency, "after", stack_procs))
    finally:
        if host is not None:
            stop(host)
        stop(engine.process)
        stop(azurite.process)
    ocr_direct = statistics.mean(r[0] for r in direct_runs)
    train_direct = statistics.mean(r[1] for r in direct_runs)
    base_total = ocr_direct + train_direct
    rows = [
        ("every .ocr.json written", ocr_direct, ocr_done),
        ("model ready (from upload)", base_total, model_done),
    ]
    print(
        f"\n{args.forms} one-page {'PDFs' if args.kind == 'pdf' else 'scans'} + labels, "
        f"{concurrency} blob invocations / Layout requests at once, devhost --workers {args.workers}; "
        f"{os.cpu_count()} cores, {cpu_model()}, "
        f"{date.today()}\n"
    )
    print("| measure | engine directly (s) | pipeline (s) | overhead |")
    print("|---|---:|---:|---:|")
    for label, base, pipe in rows:
        print(f"| {label} | {base:.1f} | {pipe:.1f} | {100 * (pipe / base - 1):+.0f}% |")
    print(
        f"\nStorage calls alone, no host, no engine, no logic (one phase after the other): uploading "
        f"{2 * args.forms} blobs {floor[0]:.2f} s = {100 * floor[0] / ocr_direct:.0f}% of the engine's OCR "
        f"time; then per form read + write .ocr.json + one row: {floor[1]:.2f} s = "
        f"{100 * floor[1] / ocr_direct:.0f}%."
    )
    spread = ", ".join(f"{o:.1f}+{t:.1f}" for o, t in direct_runs)
    print(
        f"\n(direct runs before/after, OCR+train s: {spread}; uploading {2 * args.forms} blobs took "
        f"{uploaded:.1f} s of the pipeline time; pipeline training after the last OCR: "
        f"{model_done - ocr_done:.1f} s)"
    )
    print_profile(work / "devhost.log", upload_wall)
    names = sorted({n for phase in CPU_USE.values() for n in phase})
    print("\n| CPU seconds until every .ocr.json | " + " | ".join(names) + " | total |")
    print("|---|" + "---:|" * (len(names) + 1))
    for phase, runs in (("direct (mean of 2)", 2), ("pipeline", 1)):
        use = CPU_USE.get(phase.split()[0], {})
        cells = [use.get(n, 0.0) / runs for n in names]
        print(f"| {phase} | " + " | ".join(f"{c:.1f}" for c in cells) + f" | {sum(cells):.1f} |")
    if args.keep:
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
