"""v4 document models, kept with engine.custom's ModelStore in a folder of their own.

v4 model ids are chosen by the caller (`[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}`) while ModelStore keys folders by
UUID, so a model lives under uuid5(its lowercased id): one id -> one folder, and no mapping file to keep in
step. Lowercased because the engine's gateway lowercases every path, so `GET /documentModels/MyModel`
arrives as `mymodel`; ids therefore compare case-insensitively, and the id as the caller wrote it is kept
in the stored details. The v2.1 routes never see these models (separate folder).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from engine.custom.store import MODEL_LIMIT, ModelStore

_NAMESPACE = uuid.UUID("3f0c2d4e-8b1a-5c6d-9e7f-a1b2c3d4e5f6")
LIMIT = MODEL_LIMIT


def storage_id(model_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, model_id.lower()))


class V4Models:
    """DocumentModelDetails + the learned params of every built v4 model."""

    def __init__(self, root: Path) -> None:
        self.store = ModelStore(root)

    def get(self, model_id: str) -> dict[str, Any] | None:
        """The stored record {"details", "modelInfo", ...}; None when unknown or not fully written."""
        info = self.store.get(storage_id(model_id))
        return info if info is not None and info.get("modelInfo", {}).get("status") == "ready" else None

    def details(self, model_id: str) -> dict[str, Any] | None:
        info = self.get(model_id)
        return None if info is None else info["details"]

    def params(self, model_id: str) -> dict[str, Any] | None:
        return self.store.params(storage_id(model_id))

    def save(self, details: dict[str, Any], params: dict[str, Any], train_result: dict[str, Any]) -> None:
        """Write a built model, replacing one of the same id (its cached params go with it)."""
        sid = storage_id(details["modelId"])
        self.store.delete(sid)
        info: dict[str, Any] = {"modelInfo": {"modelId": sid, "status": "creating",
                                              "createdDateTime": details["createdDateTime"],
                                              "lastUpdatedDateTime": details["createdDateTime"],
                                              "modelName": details["modelId"]},
                                "kind": "labeled", "apiVersion": details["apiVersion"], "details": details,
                                "trainResult": train_result}
        self.store.create(sid, info)
        info["modelInfo"] = dict(info["modelInfo"], status="ready")
        self.store.update(sid, info, params)

    def delete(self, model_id: str) -> bool:
        return self.store.delete(storage_id(model_id))

    def list(self) -> list[dict[str, Any]]:
        """Details of every ready model, oldest first."""
        return [i["details"] for i in self.store.list()
                if i.get("modelInfo", {}).get("status") == "ready" and "details" in i]

    def count(self) -> int:
        return len(self.list())
