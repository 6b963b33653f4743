"""Fault-injection harness: the engine and devhost as real processes this harness may kill.

Why its own processes: a `kill -9` must hit only the stack under test, never the session's shared
engine; Azurite is shared (each stack uses unique container, queue, table and host-id names, so
nothing is seen across stacks). Everything is on 127.0.0.1 and every wait has a deadline.
Used by tests/fault/ and by bench/bench_reliability.py.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from formloop.stack import REPO_ROOT, free_port, new_api_key, start_devhost, start_engine, stop
from shared.clients.records import Records
from shared.clients.storage import blob_service, ensure_resources
from shared.settings import Settings, load_settings
from tests.helpers.pipeline import storage_names

SAMPLE_DIR = REPO_ROOT / "tests" / "data" / "purchase-orders"

# Short deadlines so a recovery takes seconds, not the production minutes (values: see FAULT_SETTINGS).
POLL_BEAT_SECONDS = 2.0
FAULT_SETTINGS: dict[str, str] = {
    "TRAINING_THRESHOLD": "5",
    "POLL_SCHEDULE": f"*/{POLL_BEAT_SECONDS:.0f} * * * * *",
    "OCR_DEADLINE_SECONDS": "20",
    "OCR_CLAIM_SECONDS": "10",
    "SWEEP_INTERVAL_SECONDS": "5",
    "SWEEP_GRACE_SECONDS": "1",
    "HTTP_TIMEOUT_SECONDS": "4",
    "HTTP_RETRY_BUDGET_SECONDS": "8",
    "TRAINING_DEADLINE_SECONDS": "120",
    "TRAINING_REQUEST_DELAY_SECONDS": "1",
}
# devhost's host.json for the faults: blob retries and queue redelivery after 1 s (production: 10 s);
# a queue message held by a killed host comes back after functionTimeout + 30 s.
HOST_JSON: dict[str, Any] = {
    "version": "2.0",
    "functionTimeout": "00:01:00",
    "extensions": {
        "blobs": {"maxDegreeOfParallelism": 8},
        "queues": {"maxDequeueCount": 5, "maxPollingInterval": "00:00:01", "visibilityTimeout": "00:00:01",
                   "batchSize": 8},
    },
}


class FaultTimeout(AssertionError):
    """A wait ran past its deadline; the message carries the logs' last lines."""


def wait_until(what: str, check: Callable[[], Any], timeout: float, every: float = 0.25,
               context: Callable[[], str] | None = None) -> Any:
    """Poll `check` until it returns something truthy (returned); FaultTimeout after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise FaultTimeout(f"timed out after {timeout:.0f} s waiting for {what}"
                               + (f"\n{context()}" if context else ""))
        time.sleep(every)


def _tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _kill(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL (the crash under test: no handler, no cleanup) and reap."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGCONT)  # a stopped process dies on SIGKILL too; CONT keeps `wait` simple
    proc.kill()
    proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------- engine
class Engine:
    """`python -m engine` with a fixed port, key and data dir, so a restart is the same service."""

    def __init__(self, root: Path, workers: int = 2) -> None:
        self.root = root
        self.data_dir = root / "engine-data"
        self.port = free_port()
        self.api_key = new_api_key()
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.root / f"engine-{len(self.logs)}.log"
        self.logs.append(log)
        info = start_engine(self.data_dir, api_key=self.api_key, port=self.port, workers=self.workers,
                            log_path=log)
        self.proc = info.process

    def kill(self) -> None:
        _kill(self.proc)

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's backlog) but nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        stop(self.proc, timeout=5)

    def events(self, msg: str | None = None, **match: Any) -> list[dict[str, Any]]:
        """The JSON log lines of every incarnation, optionally those with this `msg` and fields."""
        out = []
        for log in self.logs:
            if not log.exists():
                continue
            for line in log.read_text(errors="replace").splitlines():
                if not line.startswith("{"):
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if msg is not None and event.get("msg") != msg:
                    continue
                if all(event.get(k) == v for k, v in match.items()):
                    out.append(event)
        return out

    def layouts(self) -> tuple[int, int]:
        """(Layout requests accepted, Layout operations that succeeded) over all incarnations."""
        return (len(self.events("layout accepted")),
                len(self.events("operation finished", kind="layout", status="succeeded")))

    def operations_on_disk(self, kind: str = "layout") -> dict[str, int]:
        """Operation records by outcome ("succeeded", "failed InternalServerError", ...): the restarted
        engine closes what it lost without a log line, so the records are where that shows."""
        counts: dict[str, int] = {}
        for path in (self.data_dir / "operations" / kind).glob("*.json"):
            try:
                envelope = json.loads(path.read_text())["envelope"]
            except (OSError, ValueError, KeyError):
                continue
            errors = (envelope.get("analyzeResult") or {}).get("errors") or [{}]
            key = f"{envelope['status']} {errors[0].get('code', '')}".strip()
            counts[key] = counts.get(key, 0) + 1
        return counts

    def models_on_disk(self) -> list[dict[str, Any]]:
        """modelInfo of every model in the data dir (status creating/ready/invalid), as kept on disk."""
        out = []
        for info in sorted((self.data_dir / "models").glob("*/info.json")):
            try:
                out.append(json.loads(info.read_text())["modelInfo"])
            except (OSError, ValueError, KeyError):
                continue  # written atomically, but may vanish or be replaced between glob and read
        return out

    def tail(self) -> str:
        return f"--- {self.logs[-1].name} ---\n{_tail(self.logs[-1])}" if self.logs else ""


# -------------------------------------------------------------------------------------------- devhost
class Host:
    """devhost serving function_app.py from an app dir of its own (no local.settings.json leaks in)."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.app_dir = root / "app"
        self.app_dir.mkdir(parents=True, exist_ok=True)
        (self.app_dir / "function_app.py").symlink_to(REPO_ROOT / "function_app.py")
        (self.app_dir / "shared").symlink_to(REPO_ROOT / "shared")
        (self.app_dir / "host.json").write_text(json.dumps(HOST_JSON, indent=2))
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait for "Host started" (the listeners run from then on)."""
        log = self.root / f"devhost-{len(self.logs)}.log"
        self.logs.append(log)
        self.proc = start_devhost(self.app_dir, env=self.env, extra_args=["--workers", "2"], log_path=log)
        proc = self.proc

        def started() -> bool:
            if proc.poll() is not None:
                raise FaultTimeout(f"devhost exited with {proc.returncode} at start:\n{_tail(log)}")
            return log.exists() and "Host started" in log.read_text(errors="replace")

        wait_until("devhost to start", started, timeout, every=0.1)

    def kill(self) -> None:
        _kill(self.proc)

    def close(self) -> None:
        stop(self.proc, timeout=15)

    def text(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs if log.exists())

    def tail(self) -> str:
        return f"--- {self.logs[-1].name} ---\n{_tail(self.logs[-1], 40)}" if self.logs else ""


# --------------------------------------------------------------------------------------------- stack
@dataclass
class FaultStack:
    """One stack under test: unique storage names on a shared Azurite, its own engine and devhost."""

    root: Path
    env: dict[str, str]
    settings: Settings
    records: Records
    engine: Engine
    host: Host

    @classmethod
    def create(cls, connection_string: str, root: Path, **overrides: str) -> FaultStack:
        root.mkdir(parents=True, exist_ok=True)
        engine = Engine(root)
        env = {
            "FORMS_STORAGE": connection_string,
            "AzureWebJobsStorage": connection_string,
            # receipts, checkpoints and timer status are per host id: unique per stack, kept across restarts
            "AzureFunctionsWebHost__hostid": f"fault-{secrets.token_hex(4)}",
            "FORM_RECOGNIZER_ENDPOINT": engine.endpoint,
            "FORM_RECOGNIZER_KEY": engine.api_key,
            **FAULT_SETTINGS,
            **storage_names(),
            **overrides,
        }
        settings = load_settings(env)
        ensure_resources(settings)
        return cls(root, env, settings, Records(settings), engine, Host(root / "host", env))

    def start(self) -> None:
        self.engine.start()
        self.host.start()

    def close(self) -> None:
        self.host.close()
        self.engine.close()

    @property
    def container(self) -> ContainerClient:
        return blob_service(self.settings).get_container_client(self.settings.forms_container)

    def setting(self, name: str) -> float:
        return float(self.env[name])

    def context(self) -> str:
        """What a failed wait prints: the last lines of both processes' logs."""
        return f"{self.host.tail()}\n{self.engine.tail()}"

    # -- uploads ---------------------------------------------------------------------------------
    def upload(self, name: str, data: bytes) -> None:
        self.container.upload_blob(name, data, overwrite=True)

    def upload_forms(self, folder: str, count: int) -> list[str]:
        """`count` purchase-order scans (copies of the 5 bundled ones under names of their own)."""
        names = []
        for i in range(count):
            name = f"{folder}/Form_{i + 1:02d}.jpg"
            self.upload(name, (SAMPLE_DIR / f"Form_{i % 5 + 1}.jpg").read_bytes())
            names.append(name)
        return names

    def upload_labels(self, forms: list[str]) -> None:
        """fields.json and each form's labels (the bundled ones, `document` renamed to the copy)."""
        folders = {name.rsplit("/", 1)[0] for name in forms}
        for folder in folders:
            self.upload(f"{folder}/fields.json", (SAMPLE_DIR / "fields.json").read_bytes())
        for i, name in enumerate(forms):
            labels = json.loads((SAMPLE_DIR / f"Form_{i % 5 + 1}.jpg.labels.json").read_text())
            labels["document"] = name.rsplit("/", 1)[1]
            self.upload(f"{name}.labels.json", json.dumps(labels).encode())

    # -- reading the outcome ---------------------------------------------------------------------
    def ocr_etags(self, folder: str) -> dict[str, str]:
        """form name -> ETag of its `.ocr.json`."""
        return {b.name.removesuffix(".ocr.json"): str(b.etag)
                for b in self.container.list_blobs(name_starts_with=f"{folder}/")
                if b.name.endswith(".ocr.json")}

    def documents(self, folder: str) -> dict[str, dict[str, Any]]:
        return self.records.folder_documents(folder)

    def runs(self, folder: str) -> list[dict[str, Any]]:
        return self.records.folder_runs(folder)

    def models(self, folder: str) -> list[dict[str, Any]]:
        return self.records.folder_models(folder)


# ------------------------------------------------------------------------------------ the invariants
UNSETTLED_DOCUMENT = ("processing", "retrying", "claimed")
UNSETTLED_RUN = ("claimed", "submitted", "running")


def form_problems(stack: FaultStack, folder: str, forms: list[str]) -> list[str]:
    """Why the forms are not all done: each has its `.ocr.json` and a `succeeded` row, none unsettled."""
    problems = []
    ocr = stack.ocr_etags(folder)
    rows = stack.documents(folder)
    for name in forms:
        doc = name.rsplit("/", 1)[1]
        status = (rows.get(doc) or {}).get("status", "(no row)")
        if name not in ocr or status != "succeeded":
            problems.append(f"{doc}: {status}{'' if name in ocr else ', no .ocr.json'}")
    problems += [f"{doc}: left {row['status']}" for doc, row in rows.items()
                 if row.get("status") in UNSETTLED_DOCUMENT and f"{folder}/{doc}" not in forms]
    return problems


def model_problems(stack: FaultStack, folder: str, labeled: int) -> list[str]:
    """Why training is not settled: no run left in flight, exactly one ready model per labeled-set
    fingerprint, and the current model is that of the folder's last labeled set (with `labeled` docs)."""
    problems = []
    runs = stack.runs(folder)
    problems += [f"run {r['RowKey']} left {r['status']}" for r in runs if r.get("status") in UNSETTLED_RUN]
    models = stack.models(folder)
    ready: dict[str, list[str]] = {}
    for m in models:
        if m.get("status") == "ready":
            ready.setdefault(str(m.get("fingerprint") or ""), []).append(str(m["modelId"]))
    problems += [f"{len(ids)} ready models for labeled set {fp[:12]}: {ids}"
                 for fp, ids in ready.items() if len(ids) > 1]
    current = [m for m in models if m.get("isCurrent")]
    if len(current) != 1:
        problems.append(f"{len(current)} current models (of {len(models)})")
        return problems
    model = current[0]
    state, _ = stack.records.get_folder_state(folder)
    state = state or {}
    if model.get("status") != "ready":
        problems.append(f"current model {model['modelId']} is {model.get('status')}")
    if state.get("activeRunId"):
        problems.append(f"folder claim {state['activeRunId']} not released")
    if model.get("fingerprint") != state.get("lastFingerprint"):
        problems.append("the current model is not of the folder's last labeled set")
    if state.get("currentModelId") != model["modelId"]:
        problems.append(f"folder state says current model {state.get('currentModelId')!r}")
    if int(model.get("labeledCount") or 0) != labeled:
        problems.append(f"current model trained on {model.get('labeledCount')} labeled forms, not {labeled}")
    return problems


# ------------------------------------------------------------------------------------ duplicates
@dataclass
class Watch:
    """Samples every `.ocr.json` ETag and every row's `ocrAt` while a scenario runs: a form whose output
    or OCR time changes after it was first seen done was OCR'd twice for the same version (duplicate)."""

    stack: FaultStack
    folder: str
    every: float = 0.5
    etags: dict[str, set[str]] = field(default_factory=dict)
    ocr_at: dict[str, set[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        for name, etag in self.stack.ocr_etags(self.folder).items():
            self.etags.setdefault(name, set()).add(etag)
        for doc, row in self.stack.documents(self.folder).items():
            if row.get("status") == "succeeded" and row.get("ocrAt"):
                self.ocr_at.setdefault(f"{self.folder}/{doc}", set()).add(str(row["ocrAt"]))

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sample()
            except Exception as exc:  # Azurite busy: the next sample catches up (ETags persist)
                self.errors.append(repr(exc))

    def duplicated(self) -> list[str]:
        self.sample()
        names = set(self.etags) | set(self.ocr_at)
        return sorted(n for n in names if len(self.etags.get(n, ())) > 1 or len(self.ocr_at.get(n, ())) > 1)

    @contextmanager
    def running(self) -> Iterator[Watch]:
        thread = threading.Thread(target=self._run, daemon=True, name="duplicate-watch")
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=10)
