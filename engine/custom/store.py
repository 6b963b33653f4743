"""Models on disk: one folder per model, plain JSON only.

Why JSON and nothing else: a model file may be copied between machines; loading it must never run code
(pickle/joblib would). Classifier weights and calibration are just numbers in `params.json`.
Layout: `<data_dir>/models/<model_id>/info.json` (modelInfo, trainResult, keys) and `params.json`
(the learned model, written once training succeeded). Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Any

from engine.custom.scoring.model import FORMAT_VERSION
from engine.jsonfiles import read_json, write_json_atomic

_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MODEL_LIMIT = 5000


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._params_cache: dict[str, dict[str, Any]] = {}

    def _dir(self, model_id: str) -> Path | None:
        if not _ID_RE.match(model_id or ""):
            return None
        return self.root / model_id

    def create(self, model_id: str, info: dict[str, Any]) -> None:
        d = self._dir(model_id)
        assert d is not None
        write_json_atomic(d / "info.json", {"formatVersion": FORMAT_VERSION, **info})

    def get(self, model_id: str) -> dict[str, Any] | None:
        d = self._dir(model_id)
        return None if d is None else read_json(d / "info.json")

    def update(self, model_id: str, info: dict[str, Any], params: dict[str, Any] | None = None) -> bool:
        """Write the final state; False when the model was deleted meanwhile (then nothing is written)."""
        d = self._dir(model_id)
        with self._lock:
            if d is None or not (d / "info.json").exists():
                return False
            if params is not None:
                write_json_atomic(d / "params.json", params)
            write_json_atomic(d / "info.json", {"formatVersion": FORMAT_VERSION, **info})
        return True

    def params(self, model_id: str) -> dict[str, Any] | None:
        cached = self._params_cache.get(model_id)
        if cached is not None:
            return cached
        d = self._dir(model_id)
        data = None if d is None else read_json(d / "params.json")
        if data is not None:
            if data.get("format") != "formloop-custom-model" or int(data.get("version", 0)) > FORMAT_VERSION:
                return None
            self._params_cache[model_id] = data
        return data

    def delete(self, model_id: str) -> bool:
        d = self._dir(model_id)
        with self._lock:
            if d is None or not (d / "info.json").exists():
                return False
            self._params_cache.pop(model_id, None)
            shutil.rmtree(d, ignore_errors=True)
        return True

    def list(self) -> list[dict[str, Any]]:
        out = []
        for d in sorted(self.root.iterdir()) if self.root.exists() else []:
            if d.is_dir() and _ID_RE.match(d.name):
                info = read_json(d / "info.json")
                if info is not None:
                    out.append(info)
        out.sort(key=lambda i: i.get("modelInfo", {}).get("createdDateTime", ""))
        return out
