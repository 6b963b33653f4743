"""Timer trigger semantics against a real Azurite and a real devhost process."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from devhost.receipts import HOSTS_CONTAINER
from tests.devhost.conftest import AppUnderTest, DevhostRun, wait_until


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
