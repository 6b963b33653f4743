"""Timer trigger semantics against a real Azurite and a real devhost process."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.receipts import HOSTS_CONTAINER
from tests.helpers.devhost import AppUnderTest, DevhostRun, wait_until


def test_run_on_startup_fires_and_writes_schedule_status(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app(TEST_RUN_ON_STARTUP="1")
    run = devhost(app, "--functions", "on_timer")
    (rec,) = wait_until(lambda: app.read("timer"), "the startup invocation", run)
    assert rec["type"] == "TimerRequest"
    assert rec["past_due"] is False

    status_blob = app.blobs().get_blob_client(
        HOSTS_CONTAINER, f"timers/{app.host_id}/Host.Functions.on_timer/status"
    )
    status = wait_until(
        lambda: status_blob.exists() and json.loads(status_blob.download_blob().readall()), "status", run
    )
    wait_until(
        lambda: "Last" in json.loads(status_blob.download_blob().readall()), "status after the run", run
    )
    status = json.loads(status_blob.download_blob().readall())
    assert datetime.fromisoformat(status["Next"]) > datetime.fromisoformat(status["Last"])
    assert datetime.fromisoformat(status["Next"]).month == 1  # the yearly schedule's next beat


def test_overrun_beat_is_reported_past_due(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    # Every 2 s; the first invocation takes 3 s, so the beat in between is missed.
    app = make_app(TEST_SCHEDULE="*/2 * * * * *", TEST_FIRST_TICK_SLEEP="3")
    run = devhost(app, "--functions", "on_timer")
    records = wait_until(lambda: len(app.read("timer")) >= 3 and app.read("timer"), "three ticks", run)
    assert [r["past_due"] for r in records[:3]] == [False, True, False]


def test_beat_missed_while_host_was_down_is_past_due(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    # Hourly, monitored: the stored status says the next beat was an hour ago, so it was missed.
    app = make_app(TEST_SCHEDULE="0 0 * * * *", TEST_USE_MONITOR="1")
    hosts = app.blobs().get_container_client(HOSTS_CONTAINER)
    if not hosts.exists():
        hosts.create_container()
    missed = datetime.now(UTC) - timedelta(hours=1)
    status = {
        "Last": (missed - timedelta(hours=1)).isoformat(),
        "Next": missed.isoformat(),
        "LastUpdated": missed.isoformat(),
    }
    hosts.upload_blob(
        f"timers/{app.host_id}/Host.Functions.on_timer/status", json.dumps(status), overwrite=True
    )

    run = devhost(app, "--functions", "on_timer")
    (rec,) = wait_until(lambda: app.read("timer"), "the past-due invocation", run)
    assert rec["past_due"] is True
    assert rec["status"]["Next"] == missed.isoformat()
    assert "missed its beat" in run.log()


def test_heartbeats_log_nothing_at_info_and_failures_one_line(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    """Issue 12 item 11: a 30 s heartbeat wrote three lines a beat, half of host.log. A beat that
    succeeds leaves nothing at INFO (the function says what it did); a failing one is one line, the
    app's traceback only with the first failure of a streak."""
    quiet = make_app(TEST_SCHEDULE="* * * * * *")
    run = devhost(quiet, "--functions", "on_timer")
    wait_until(lambda: len(quiet.read("timer")) >= 2, "two beats", run)
    assert "Functions.on_timer" not in run.log()

    failing = make_app(TEST_SCHEDULE="* * * * * *", TEST_TIMER_FAIL="1")
    run = devhost(failing, "--functions", "on_timer")
    wait_until(lambda: run.log().count("(Failed,") >= 3, "three failed beats", run)
    assert "Executing 'Functions.on_timer'" not in run.log()
    failed = [line for line in run.log().splitlines() if "(Failed," in line]
    assert all(" ERROR " in line and "RuntimeError: timer asked to fail" in line for line in failed)
    assert run.log().count("Traceback") == 1


def test_heartbeats_are_logged_at_debug(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app(TEST_SCHEDULE="* * * * * *")
    run = devhost(app, "--functions", "on_timer", "--log-level", "DEBUG")
    beat = "DEBUG   devhost: Executed 'Functions.on_timer' (Succeeded"
    wait_until(lambda: beat in run.log(), "a beat", run)


def test_an_idle_timer_step_logs_nothing_at_info(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """shared/triggers/timer.py: no run to poll and no sweep (or one that found nothing) is DEBUG; a beat
    that did something is one INFO line."""
    from shared.training.poll import PollReport
    from shared.triggers import timer as timer_step
    from shared.triggers.sweep import SweepReport

    caplog.set_level(logging.DEBUG, logger="shared.triggers.timer")
    polled, swept = PollReport(), None
    monkeypatch.setattr(timer_step, "poll_training_runs", lambda *_: polled)
    monkeypatch.setattr(timer_step, "claim_sweep", lambda *_: swept is not None)
    monkeypatch.setattr(timer_step, "sweep", lambda *_: swept)
    settings: Any = object()

    def beat() -> list[tuple[int, str]]:
        caplog.clear()
        timer_step.on_timer(settings, None, None)  # type: ignore[arg-type]
        return [(r.levelno, r.getMessage()) for r in caplog.records]

    assert [level for level, _ in beat()] == [logging.DEBUG]
    swept = SweepReport()
    assert [level for level, _ in beat()] == [logging.DEBUG]  # a sweep that found nothing
    swept = SweepReport(ocr_started=["po/a.pdf"])
    assert beat() == [(logging.INFO, "timer: polled 0 runs (0 finished, 0 unreachable); "
                                     "sweep OCR'd 1, requested 0 folders")]
    swept, polled = None, PollReport(polled=1)
    assert beat() == [(logging.INFO, "timer: polled 1 runs (0 finished, 0 unreachable); sweep skipped")]
