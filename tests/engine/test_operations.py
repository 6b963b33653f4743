"""Operations: results on disk survive a restart, expire after their TTL, a full queue answers 429."""

from __future__ import annotations

import signal
from collections.abc import Callable

from formloop.stack import EngineInfo, stop
from tests.helpers.engine import Client, encode, make_pdf, multi_tiff, text_image

ANALYZE = "/formrecognizer/v2.1/layout/analyze"


def _slow_document() -> bytes:
    """Six OCR pages: long enough to keep one worker busy while we post again."""
    return multi_tiff([text_image([f"Page {i} of a slow scan", "with two lines"]) for i in range(6)])


def test_results_survive_restart(private_engine: Callable[..., EngineInfo]) -> None:
    first = private_engine()
    c = Client(first.endpoint, first.api_key)
    r = c.post(ANALYZE, make_pdf([["Kept across restarts"]]), "application/pdf")
    url = r.headers["Operation-Location"]
    before = c.wait(url)
    stop(first.process)
    second = private_engine(first.data_dir, api_key=first.api_key)
    c2 = Client(second.endpoint, second.api_key)
    after = c2.wait(url.replace(first.endpoint, second.endpoint))
    assert after == before and after["status"] == "succeeded"


def test_interrupted_operation_ends_failed_after_restart(private_engine: Callable[..., EngineInfo]) -> None:
    first = private_engine(workers=1)
    c = Client(first.endpoint, first.api_key)
    r = c.post(ANALYZE, _slow_document(), "image/tiff")
    url = r.headers["Operation-Location"]
    first.process.send_signal(signal.SIGKILL)  # crash mid-operation
    first.process.wait(10)
    second = private_engine(first.data_dir, api_key=first.api_key)
    body = Client(second.endpoint, second.api_key).wait(url.replace(first.endpoint, second.endpoint))
    assert body["status"] == "failed"
    assert body["analyzeResult"]["errors"][0]["code"] == "InternalServerError"
    assert "restarted" in body["analyzeResult"]["errors"][0]["message"]


def test_results_expire_after_ttl(private_engine: Callable[..., EngineInfo]) -> None:
    import time

    info = private_engine(extra_env={"ENGINE_RESULT_TTL_HOURS": "0.001"})  # 3.6 s
    c = Client(info.endpoint, info.api_key)
    url = c.post(ANALYZE, make_pdf([["Short lived"]]), "application/pdf").headers["Operation-Location"]
    assert c.wait(url)["status"] == "succeeded"
    time.sleep(5)
    r = c.get(url)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"


def test_full_queue_answers_429_with_retry_after(private_engine: Callable[..., EngineInfo]) -> None:
    info = private_engine(workers=1, extra_env={"ENGINE_MAX_PENDING": "1"})
    c = Client(info.endpoint, info.api_key)
    first = c.post(ANALYZE, _slow_document(), "image/tiff")
    assert first.status_code == 202
    second = c.post(ANALYZE, encode(text_image(["second"]), "PNG"), "image/png")
    assert second.status_code == 429, second.text
    assert second.json()["error"]["code"] == "429"
    assert int(second.headers["Retry-After"]) >= 1
    assert c.wait(first.headers["Operation-Location"])["status"] == "succeeded"
    # Once the queue drains the engine accepts work again.
    assert c.post(ANALYZE, make_pdf([["again"]]), "application/pdf").status_code == 202
