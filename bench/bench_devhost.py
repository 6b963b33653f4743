"""Benchmark: devhost trigger latency (blob upload -> invocation, queue send -> invocation).

Baseline in the same run: the raw Azurite round trip devhost cannot beat for blobs (upload, then
list the container until the blob shows up) and for queues (send, then receive it). Quick, bounded
defaults: `.venv/bin/python bench/bench_devhost.py [--n 20]`. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import psutil  # noqa: E402
from azure.storage.blob import BlobServiceClient  # noqa: E402
from azure.storage.queue import QueueClient  # noqa: E402

from formloop.stack import start_azurite, start_devhost, stop  # noqa: E402

BENCH_APP = """
import os, pathlib, time
import azure.functions as func

app = func.FunctionApp()
OUT = pathlib.Path(os.environ["BENCH_RECORDS"])


def mark(key: str) -> None:
    stamp = time.time()
    tmp = OUT / (key + ".tmp")
    tmp.write_text(repr(stamp))
    tmp.rename(OUT / key)


@app.blob_trigger(arg_name="blob", path="bench/{name}", connection="FORMS_STORAGE")
def on_blob(blob: func.InputStream) -> None:
    mark("blob-" + blob.name.split("/", 1)[1])


@app.queue_trigger(arg_name="msg", queue_name="bench", connection="FORMS_STORAGE")
def on_message(msg: func.QueueMessage) -> None:
    mark("queue-" + msg.get_body().decode())
"""


IDLE_SECONDS = 5.0


def wait_for_file(path: Path, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no invocation recorded at {path} within {timeout} s")
        time.sleep(0.002)
    return float(path.read_text())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20, help="blobs and messages per measurement (max 200)")
    parser.add_argument("--scan-interval", type=float, default=0.25)
    parser.add_argument(
        "--idle-blobs", type=int, default=300, help="blobs in the container for the idle-CPU probe"
    )
    args = parser.parse_args()
    n = max(3, min(200, args.n))
    rng = random.Random(7)
    results: dict[str, list[float]] = {}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        app_dir, records = root / "app", root / "records"
        app_dir.mkdir()
        records.mkdir()
        (app_dir / "function_app.py").write_text(BENCH_APP)
        (app_dir / "host.json").write_text('{"version": "2.0"}')
        azurite = start_azurite(log_path=root / "azurite.log")
        devhost = None
        try:
            blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
            container = blobs.create_container("bench")
            baseline_container = blobs.create_container("baseline")
            queue = QueueClient.from_connection_string(azurite.connection_string, "bench")
            queue.create_queue()
            baseline_queue = QueueClient.from_connection_string(azurite.connection_string, "baseline")
            baseline_queue.create_queue()
            payload = b"x" * 2048

            results["baseline: blob upload -> seen in a listing"] = []
            for i in range(n):
                started = time.time()
                baseline_container.upload_blob(f"b{i}.bin", payload)
                while not any(b.name == f"b{i}.bin" for b in baseline_container.list_blobs()):
                    pass
                results["baseline: blob upload -> seen in a listing"].append(time.time() - started)

            results["baseline: queue send -> received"] = []
            for i in range(n):
                started = time.time()
                baseline_queue.send_message(str(i))
                while not (got := list(baseline_queue.receive_messages(max_messages=1))):
                    pass
                baseline_queue.delete_message(got[0])
                results["baseline: queue send -> received"].append(time.time() - started)

            env = {
                "FORMS_STORAGE": azurite.connection_string,
                "AzureWebJobsStorage": azurite.connection_string,
                "AzureFunctionsWebHost__hostid": "bench",
                "BENCH_RECORDS": str(records),
            }
            devhost = start_devhost(
                app_dir,
                env=env,
                extra_args=["--scan-interval", str(args.scan_interval)],
                log_path=root / "devhost.log",
            )
            log = root / "devhost.log"
            deadline = time.monotonic() + 60
            while "Host started" not in (log.read_text() if log.exists() else ""):
                if time.monotonic() > deadline or devhost.poll() is not None:
                    raise RuntimeError("devhost did not start:\n" + log.read_text())
                time.sleep(0.05)

            results["devhost: blob upload -> invocation"] = []
            for i in range(n):
                time.sleep(rng.uniform(0, 2.0))  # random gaps: some uploads land after the scan eased off
                started = time.time()
                container.upload_blob(f"d{i}.bin", payload)
                invoked = wait_for_file(records / f"blob-d{i}.bin")
                results["devhost: blob upload -> invocation"].append(invoked - started)

            results["devhost: queue send -> invocation (idle queue)"] = []
            for i in range(n):
                time.sleep(rng.uniform(0.5, 1.5))  # let the poller back off, as between real messages
                started = time.time()
                queue.send_message(base64.b64encode(f"m{i}".encode()).decode())
                invoked = wait_for_file(records / f"queue-m{i}")
                results["devhost: queue send -> invocation (idle queue)"].append(invoked - started)

            # Cost of watching: devhost's CPU while idle, with --idle-blobs blobs in the scanned container.
            for i in range(args.idle_blobs):
                container.upload_blob(f"idle-{i}.bin", b"")
            wait_for_file(records / f"blob-idle-{args.idle_blobs - 1}.bin", timeout=120)
            time.sleep(1.0)
            proc = psutil.Process(devhost.pid)
            before = proc.cpu_times()
            time.sleep(IDLE_SECONDS)
            after = proc.cpu_times()
            idle_cpu = (after.user + after.system - before.user - before.system) / IDLE_SECONDS
        finally:
            stop(devhost)
            stop(azurite.process, timeout=3)

    blob_base = statistics.median(results["baseline: blob upload -> seen in a listing"])
    queue_base = statistics.median(results["baseline: queue send -> received"])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )

    print(f"devhost trigger latency, n={n} each, scan interval {args.scan_interval} s")
    print(f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; {date.today()}\n")
    print("| measurement | median (ms) | p90 (ms) | median / baseline |")
    print("|---|---:|---:|---:|")
    for name, values in results.items():
        base = blob_base if "blob" in name else queue_base
        print(
            f"| {name} | {statistics.median(values) * 1000:.0f} | {percentile(values, 0.9) * 1000:.0f} "
            f"| {statistics.median(values) / base:.1f}x |"
        )
    print(
        f"\ndevhost idle CPU with {args.idle_blobs} blobs in the watched container "
        f"(no uploads, {IDLE_SECONDS:.0f} s): {idle_cpu * 100:.1f}% of one core"
    )
    median_blob = statistics.median(results["devhost: blob upload -> invocation"])
    print(f"\nblob target (median <= 1 s): {'met' if median_blob <= 1.0 else 'MISSED'} ({median_blob:.3f} s)")


if __name__ == "__main__":
    main()
