"""v4 operations that an engine restart cut short end as `failed` with a v4 error, for the SDK's pollers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

from engine.operations import utc_now
from formloop.stack import EngineInfo

API = "api-version=2024-11-30"


def test_unfinished_v4_operations_fail_after_a_restart(private_engine: Callable[..., EngineInfo],
                                                       tmp_path: Path) -> None:
    data = tmp_path / "data"
    now = utc_now()
    analyze_id, build_id = str(uuid.uuid4()), str(uuid.uuid4())
    analyze = data / "operations" / "v4analyze" / f"{analyze_id}.json"
    analyze.parent.mkdir(parents=True)
    analyze.write_text(json.dumps({"kind": "v4analyze", "owner": "prebuilt-layout", "version": "2024-11-30",
                                   "envelope": {"status": "running", "createdDateTime": now,
                                                "lastUpdatedDateTime": now}}))
    build = data / "documentintelligence" / "operations" / f"{build_id}.json"
    build.parent.mkdir(parents=True)
    build.write_text(json.dumps({"operationId": build_id, "status": "running", "percentCompleted": 0,
                                 "createdDateTime": now, "lastUpdatedDateTime": now,
                                 "kind": "documentModelBuild", "modelId": "po", "apiVersion": "2024-11-30",
                                 "tags": {}}))
    engine = private_engine(data)
    headers = {"Ocp-Apim-Subscription-Key": engine.api_key}
    base = f"{engine.endpoint}/documentintelligence"

    url = f"{base}/documentModels/prebuilt-layout/analyzeResults/{analyze_id}?{API}"
    r = requests.get(url, headers=headers, timeout=30)
    assert r.status_code == 200 and "Retry-After" not in r.headers
    body = r.json()
    assert body["status"] == "failed" and "analyzeResult" not in body
    assert body["error"]["code"] == "InternalServerError"
    assert "submit it again" in body["error"]["innererror"]["message"]

    r = requests.get(f"{base}/operations/{build_id}?{API}", headers=headers, timeout=30)
    op = r.json()
    assert r.status_code == 200 and op["status"] == "failed" and op["kind"] == "documentModelBuild"
    assert op["error"]["code"] == "InternalServerError"
    assert "build the model again" in op["error"]["innererror"]["message"]
    assert op["resourceLocation"] == f"{base}/documentModels/po?{API}"
    r = requests.get(f"{base}/documentModels/po?{API}", headers=headers, timeout=30)
    assert r.status_code == 404 and r.json()["error"]["innererror"]["code"] == "ModelNotFound"
