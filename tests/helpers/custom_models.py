"""Custom models against a real engine: v2.x over REST (a training container on Azurite, train, wait for
the model, analyze with it; used by tests/engine/v2/test_custom_routes.py and tests/engine/custom/), and
the purchase orders as Document Intelligence Studio writes them (v4 and the SDK samples' tests)."""

from __future__ import annotations

import json
import time

import requests

from engine.v4.convert.layout_result import layout_result
from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.engine import sas_container
from tests.helpers.paths import DATA_DIR

PURCHASE_ORDERS = DATA_DIR / "purchase-orders"
LABELS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/labels.json"


def purchase_orders(prefix: str = "") -> dict[str, bytes]:
    """The five labeled purchase orders as the v2 labeling tool wrote them (v2.0 `.ocr.json`)."""
    return {prefix + f.name: f.read_bytes() for f in sorted(PURCHASE_ORDERS.iterdir()) if f.name != "LICENSE"}


def studio_files(prefix: str = "", ocr: bool = True,
                 only: tuple[int, ...] = (1, 2, 3, 4, 5)) -> dict[str, bytes]:
    """The purchase orders as Document Intelligence Studio writes them: labels with its `$schema` and
    extra keys, `.ocr.json` as a v4 Layout result (or absent), fields.json."""
    files = {}
    for name, data in purchase_orders().items():
        if name.startswith("Form_") and int(name[5]) not in only:
            continue
        if name.endswith(".ocr.json"):
            if not ocr:
                continue
            v2 = json.loads(data)["analyzeResult"]
            data = json.dumps({"status": "succeeded", "analyzeResult": layout_result(v2)}).encode()
        elif name.endswith(".labels.json"):
            labels = json.loads(data)
            labels["$schema"] = LABELS_SCHEMA
            for lab in labels["labels"]:
                lab.update(labelType="words", kind="fieldValue")
            data = json.dumps(labels).encode()
        files[prefix + name] = data
    return files


def key_headers(engine: EngineInfo, **extra: str) -> dict[str, str]:
    return {"Ocp-Apim-Subscription-Key": engine.api_key, **extra}


def training_container(azurite: AzuriteInfo, files: dict[str, bytes]) -> str:
    return sas_container(azurite, files, "custom")


def train_model(engine: EngineInfo, body: dict, version: str = "v2.1") -> str:
    r = requests.post(f"{engine.endpoint}/formrecognizer/{version}/custom/models", json=body,
                      headers=key_headers(engine), timeout=30)
    assert r.status_code == 201, r.text
    loc = r.headers["Location"]
    assert loc.startswith(engine.endpoint + "/") and "?" not in loc
    assert r.content == b""
    return loc


def wait_model(engine: EngineInfo, loc: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(loc + "?includeKeys=true", headers=key_headers(engine), timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["modelInfo"]["status"] != "creating" or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def analyze_with_model(engine: EngineInfo, model_loc: str, data: bytes, ctype: str = "image/jpeg",
                       query: str = "") -> dict:
    r = requests.post(f"{model_loc}/analyze{query}", data=data,
                      headers=key_headers(engine, **{"Content-Type": ctype}), timeout=30)
    assert r.status_code == 202, r.text
    op = r.headers["Operation-Location"]
    assert "Location" not in r.headers and "/analyzeresults/" in op
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = requests.get(op, headers=key_headers(engine), timeout=30).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError("analyze did not finish")
