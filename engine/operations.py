"""Asynchronous operations: a bounded worker pool, with every state change persisted under data_dir.

Why on disk: a client polls for minutes and the engine may restart in between; a finished result must
still be there afterwards (until its TTL). Work that was queued or running when the process died cannot
be resumed (its input lived in memory), so on start-up it is closed as `failed` with a clear error
instead of polling forever.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import ApiError
from engine.jsonfiles import read_json, write_json_atomic

log = logging.getLogger("engine.operations")

_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KIND_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
_SWEEP_EVERY_S = 60.0


def utc_now() -> str:
    """Timestamps as the real service writes them: UTC, whole seconds, trailing Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(ts: str) -> float:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


class OperationStore:
    """Runs analyze-like jobs on a thread pool (Tesseract runs in-process and releases the GIL while it
    recognizes, so threads scale)."""

    def __init__(self, root: Path, workers: int, max_pending: int, ttl_s: int) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_pending = max_pending
        self.ttl_s = ttl_s
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="op")
        self._futures: set[Future[None]] = set()  # queued or running: what shutdown waits for
        self._lock = threading.Lock()
        self._pending = 0
        self._last_sweep = 0.0
        self._recover()
        self.sweep()

    # -- public API ---------------------------------------------------------------------------
    def submit(self, kind: str, fn: Callable[[], dict], *, owner: str = "", version: str = "2.1.0") -> str:
        """Queue fn on the worker pool; return a new lowercase-uuid result id.

        Raises ApiError(429) with Retry-After when max_pending jobs are queued or running.
        """
        self._check_kind(kind)
        with self._lock:
            if self._pending >= self.max_pending:
                retry = max(1, min(60, self._pending // max(1, self.workers)))
                raise ApiError(429, "429", f"Too many pending operations ({self._pending}); "
                               f"please retry after {retry} second(s).", {"Retry-After": str(retry)})
            self._pending += 1
        result_id = str(uuid.uuid4())
        now = utc_now()
        record = {"kind": kind, "owner": owner, "version": version,
                  "envelope": {"status": "notStarted", "createdDateTime": now, "lastUpdatedDateTime": now}}
        try:
            self._write(kind, result_id, record)
            future = self._pool.submit(self._run, kind, result_id, record, fn)
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        self._maybe_sweep()
        return result_id

    def get(self, kind: str, result_id: str, *, owner: str = "") -> dict | None:
        """The envelope {status, createdDateTime, lastUpdatedDateTime, analyzeResult?}; None when unknown."""
        if not _ID_RE.match(result_id or "") or not _KIND_RE.match(kind):
            return None
        record = self._read(self._path(kind, result_id))
        if record is None or record.get("kind") != kind or record.get("owner", "") != owner:
            return None
        env = record["envelope"]
        if time.time() - _parse_ts(env["lastUpdatedDateTime"]) > self.ttl_s and env["status"] in (
                "succeeded", "failed"):
            self._path(kind, result_id).unlink(missing_ok=True)
            return None
        return env

    @property
    def pending(self) -> int:
        return self._pending

    def shutdown(self, grace: float = 0.0, cut_short: threading.Event | None = None) -> int:
        """Drop queued operations, give running ones up to `grace` seconds (until `cut_short` is set) to
        record their results; return how many still run (the next start closes them as failed)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        while True:
            running = [f for f in list(self._futures) if not f.done()]
            left = deadline - time.monotonic()
            if not running or left <= 0 or (cut_short is not None and cut_short.is_set()):
                return len(running)
            wait(running, timeout=min(left, 0.1))

    def sweep(self) -> int:
        """Delete finished results older than the TTL; returns how many went."""
        self._last_sweep = time.monotonic()
        removed = 0
        cutoff = time.time() - self.ttl_s
        for path in self._files():
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                record = self._read(path)
                if record and record["envelope"]["status"] in ("notStarted", "running"):
                    continue
                path.unlink(missing_ok=True)
                removed += 1
            except OSError:
                continue
        if removed:
            log.info("expired results removed", extra={"count": removed})
        return removed

    # -- internals ----------------------------------------------------------------------------
    def _run(self, kind: str, result_id: str, record: dict, fn: Callable[[], dict]) -> None:
        started = time.perf_counter()
        try:
            self._update(kind, result_id, record, "running")
            try:
                result = fn()
                status = "succeeded"
            except ApiError as e:
                result = {"version": record["version"], "errors": [{"code": e.code, "message": e.message}]}
                status = "failed"
            except Exception as e:  # a bug or an unreadable document must still end the operation
                log.exception("operation failed", extra={"result_id": result_id, "kind": kind})
                result = {"version": record["version"],
                          "errors": [{"code": "2005",
                                      "message": f"Unable to read file. ({type(e).__name__})"}]}
                status = "failed"
            self._update(kind, result_id, record, status, result)
            log.info("operation finished", extra={"result_id": result_id, "kind": kind, "status": status,
                                                   "seconds": round(time.perf_counter() - started, 3)})
        except Exception:
            log.exception("could not record operation", extra={"result_id": result_id})
        finally:
            with self._lock:
                self._pending -= 1

    def _update(self, kind: str, result_id: str, record: dict, status: str,
                result: dict | None = None) -> None:
        env = dict(record["envelope"])
        env["status"] = status
        env["lastUpdatedDateTime"] = utc_now()
        if result is not None:
            env["analyzeResult"] = result
        record["envelope"] = env
        self._write(kind, result_id, record)

    def _recover(self) -> None:
        """Close operations a previous process left unfinished (their inputs are gone)."""
        for path in self._files():
            record = self._read(path)
            if not record or record["envelope"]["status"] not in ("notStarted", "running"):
                continue
            record["envelope"]["status"] = "failed"
            record["envelope"]["lastUpdatedDateTime"] = utc_now()
            record["envelope"]["analyzeResult"] = {
                "version": record.get("version", "2.1.0"),
                "errors": [{"code": "InternalServerError",
                            "message": "The engine restarted before this operation finished; "
                                       "submit it again."}]}
            self._write(record["kind"], path.stem, record)

    def _files(self) -> list[Path]:
        return [p for p in self.root.glob("*/*.json") if not p.name.startswith(".")]

    def _maybe_sweep(self) -> None:
        if time.monotonic() - self._last_sweep > _SWEEP_EVERY_S:
            threading.Thread(target=self.sweep, daemon=True).start()

    def _check_kind(self, kind: str) -> None:
        if not _KIND_RE.match(kind):
            raise ValueError(f"bad operation kind {kind!r}")

    def _path(self, kind: str, result_id: str) -> Path:
        return self.root / kind / f"{result_id}.json"

    def _write(self, kind: str, result_id: str, record: dict) -> None:
        write_json_atomic(self._path(kind, result_id), record)

    @staticmethod
    def _read(path: Path) -> dict | None:
        return read_json(path)
