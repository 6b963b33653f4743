"""v2.x custom models over REST against a real engine: a training container on Azurite, train, wait for
the model, analyze with it (used by tests/engine/v2/test_custom_routes.py and tests/engine/custom/)."""

from __future__ import annotations

import time

import requests

from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.engine import sas_container


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
