"""Unit tests of devhost's pure logic: blob paths, message decoding, schedules, poison messages."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.app_loader import FunctionSpec
from devhost.blob_listener import poison_message, quoted_etag
from devhost.blob_path import BlobPathError, parse_blob_path
from devhost.connections import ConnectionSettingError, resolve_connection
from devhost.invoker import Attempt, Invoker, one_line
from devhost.queue_listener import decode_body
from devhost.receipts import BlobVersion
from devhost.settings import SettingsError
from devhost.timer_listener import parse_schedule


def test_blob_path_binds_name_across_folders() -> None:
    path = parse_blob_path("forms/{name}")
    assert (path.container, path.prefix) == ("forms", "")
    assert path.match("po/doc 1.pdf") == {"name": "po/doc 1.pdf"}


def test_blob_path_with_prefix_and_extension() -> None:
    path = parse_blob_path("forms/incoming/{folder}/{name}.pdf")
    assert path.prefix == "incoming/"
    assert path.match("incoming/po/a.pdf") == {"folder": "po", "name": "a"}
    assert path.match("incoming/po/a.pdf.ocr.json") is None
    assert path.match("other/a.pdf") is None


@pytest.mark.parametrize("bad", ["{container}/{name}", "", "/{name}"])
def test_blob_path_needs_a_literal_container(bad: str) -> None:
    with pytest.raises(BlobPathError):
        parse_blob_path(bad)


def test_message_decoding_like_the_host() -> None:
    assert decode_body(base64.b64encode(b'{"folder": "po"}').decode()) == b'{"folder": "po"}'
    assert decode_body("not base64 at all") == b"not base64 at all"
    assert decode_body("abcd") == b"abcd"  # valid base64, not UTF-8 once decoded
    assert decode_body(base64.b64encode(b"x").decode(), "none") == base64.b64encode(b"x")
    assert decode_body("") == b""


def test_poison_message_names_the_blob() -> None:
    version = BlobVersion("forms", "po/a.pdf", '"0x1"')
    assert poison_message("Host.Functions.on_blob", "BlockBlob", version) == {
        "Type": "BlobTrigger",
        "FunctionId": "Host.Functions.on_blob",
        "BlobType": "BlockBlob",
        "ContainerName": "forms",
        "BlobName": "po/a.pdf",
        "ETag": '"0x1"',
    }
    assert quoted_etag("0x1") == quoted_etag('"0x1"') == '"0x1"'


def test_six_field_ncrontab_has_seconds_first() -> None:
    schedule = parse_schedule("*/30 * * * * *")
    start = datetime(2024, 1, 1, 12, 0, 10, tzinfo=UTC)
    assert schedule.next_after(start) == datetime(2024, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert schedule.period(start) == timedelta(seconds=30)
    hourly = parse_schedule("0 0 * * * *")
    assert hourly.next_after(start) == datetime(2024, 1, 1, 13, 0, 0, tzinfo=UTC)


def test_timespan_schedule_and_bad_schedules() -> None:
    assert parse_schedule("00:05:00").next_after(datetime(2024, 1, 1, tzinfo=UTC)) == datetime(
        2024, 1, 1, 0, 5, tzinfo=UTC
    )
    for bad in ["every minute", "* * *", "99 * * * * *"]:
        with pytest.raises(SettingsError):
            parse_schedule(bad)


def test_connection_resolution() -> None:
    assert resolve_connection(
        "FORMS_STORAGE", {"FORMS_STORAGE": "UseDevelopmentStorage=true"}
    ).connection_string
    assert resolve_connection("", {"AzureWebJobsStorage": "cs"}).connection_string == "cs"
    identity = resolve_connection(
        "FORMS_STORAGE",
        {
            "FORMS_STORAGE__blobServiceUri": "https://acct.blob.core.windows.net",
            "FORMS_STORAGE__queueServiceUri": "https://acct.queue.core.windows.net",
            "FORMS_STORAGE__clientId": "abc",
        },
    )
    assert (identity.blob_uri, identity.client_id) == ("https://acct.blob.core.windows.net", "abc")
    with pytest.raises(ConnectionSettingError, match="FORMS_STORAGE"):
        resolve_connection("FORMS_STORAGE", {})


def _spec(func: Callable[..., Any], name: str = "f") -> FunctionSpec:
    return FunctionSpec(name, "queueTrigger", "msg", {}, func)


def _fails(msg: str) -> None:
    raise ValueError("bad input\nsecond line of the message")


def _invoke(func: Callable[..., Any], **kwargs: Any) -> Any:
    invoker = Invoker(None, max_threads=1)
    try:
        return asyncio.run(invoker.invoke(_spec(func), "x", "test", **kwargs))
    finally:
        invoker.shutdown()


def _at_least(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "devhost" and r.levelno >= level]


def test_a_retried_failure_is_one_line_with_its_traceback_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 12 item 11: each failed attempt wrote a 30-line traceback; the reason is enough at INFO."""
    caplog.set_level(logging.DEBUG, logger="devhost")
    outcome = _invoke(_fails, attempt=Attempt(2, 5))
    assert not outcome.succeeded
    (failed,) = [r for r in _at_least(caplog, logging.INFO) if "(Failed," in r.getMessage()]
    assert failed.levelno == logging.WARNING
    assert failed.getMessage().endswith(", attempt 2/5) ValueError: bad input …")
    assert all("\n" not in r.getMessage() for r in _at_least(caplog, logging.INFO))
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("Traceback" in m and "_fails" in m for m in debug)


def test_the_poisoning_attempt_keeps_the_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devhost")
    _invoke(_fails, attempt=Attempt(5, 5))
    (failed,) = [r for r in _at_least(caplog, logging.ERROR) if "(Failed," in r.getMessage()]
    assert "attempt 5/5) ValueError: bad input" in failed.getMessage()
    assert "Traceback" in failed.getMessage() and "_fails" in failed.getMessage()


def test_a_quiet_invocation_logs_its_success_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="devhost")
    assert _invoke(lambda msg: None, quiet=True).succeeded
    assert _at_least(caplog, logging.INFO) == []
    assert [r.getMessage().split(" '")[0] for r in caplog.records] == ["Executing", "Executed"]


def test_one_line_reason() -> None:
    assert one_line(ValueError("a\nb")) == "ValueError: a …"
    assert one_line(KeyError()) == "KeyError"
    assert len(one_line(RuntimeError("x" * 1000))) < 320
