"""Persisted model-build operations, what `GET /documentintelligence/operations/{id}` reports.

One JSON file per operation under `<data_dir>/documentintelligence/operations/`, written atomically on
every change, so a client polling across an engine restart still gets an answer: a build that was running
when the engine stopped cannot resume (the trainer thread is gone) and is closed as `failed` on start-up,
like engine.operations does for analyze jobs. Finished operations are dropped after the result TTL.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.jsonfiles import read_json, write_json_atomic
from engine.operations import utc_now
from engine.v4.errors import error_object

_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FINISHED = ("succeeded", "failed", "canceled")


def _age_s(ts: str) -> float:
    return time.time() - datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


class BuildOperations:
    def __init__(self, root: Path, ttl_s: float) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._recover()

    def create(self, model_id: str, api_version: str, tags: dict[str, str]) -> dict[str, Any]:
        now = utc_now()
        record = {"operationId": str(uuid.uuid4()), "status": "notStarted", "percentCompleted": 0,
                  "createdDateTime": now, "lastUpdatedDateTime": now, "kind": "documentModelBuild",
                  "modelId": model_id, "apiVersion": api_version, "tags": tags}
        write_json_atomic(self._path(record["operationId"]), record)
        return record

    def update(self, operation_id: str, **changes: Any) -> None:
        with self._lock:
            record = read_json(self._path(operation_id))
            if record is None:
                return
            record.update(changes, lastUpdatedDateTime=utc_now())
            write_json_atomic(self._path(operation_id), record)

    def get(self, operation_id: str) -> dict[str, Any] | None:
        if not _ID_RE.match(operation_id or ""):
            return None
        record = read_json(self._path(operation_id))
        if record is not None and self._expired(record):
            self._path(operation_id).unlink(missing_ok=True)
            return None
        return record

    def list(self) -> list[dict[str, Any]]:
        records = [r for p in sorted(self.root.glob("*.json")) if (r := self.get(p.stem)) is not None]
        return sorted(records, key=lambda r: r["createdDateTime"])

    def _expired(self, record: dict[str, Any]) -> bool:
        return record.get("status") in FINISHED and _age_s(record["lastUpdatedDateTime"]) > self.ttl_s

    def _recover(self) -> None:
        for path in self.root.glob("*.json"):
            record = read_json(path)
            if record is None or record.get("status") in FINISHED:
                continue
            record.update(status="failed", lastUpdatedDateTime=utc_now(), error=error_object(
                "InternalServerError", "Unknown",
                "The engine restarted before this build finished; build the model again."))
            write_json_atomic(path, record)

    def _path(self, operation_id: str) -> Path:
        return self.root / f"{operation_id}.json"
