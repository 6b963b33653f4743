"""The timer function's body: poll unfinished runs every beat; sweep for missed events now and then.

When the last sweep ran is kept in storage (TrainingRuns, partition `!sweep`), not in the process:
a restart or a second instance does not sweep again before `SWEEP_INTERVAL_SECONDS`, and the sweep
is claimed with a conditional write, so two instances never sweep at the same time. A beat the host
reports as past due (`force`) sweeps regardless of the interval.
"""

from __future__ import annotations

import logging
import time

from azure.core.exceptions import HttpResponseError

from shared.clients.formrecognizer import FormRecognizerClient
from shared.clients.records import FOLDER_STATE_KEY, Records, lost_race, now_iso, parse_iso
from shared.settings import Settings
from shared.training.poll import PollReport, poll_training_runs
from shared.triggers.sweep import SweepReport, sweep

log = logging.getLogger(__name__)
SWEEP_PARTITION = "!sweep"
# When this process last saw the stored sweep time (monotonic): within the interval no read is needed.
_seen_sweep: dict[Settings, float] = {}


def claim_sweep(settings: Settings, records: Records, force: bool = False) -> bool:
    """Whether this beat sweeps; if so, the stored time is already moved to now."""
    interval = settings.sweep_interval_seconds
    seen = _seen_sweep.get(settings)
    if not force and seen is not None and time.monotonic() - seen < interval:
        return False
    row, etag = records.get_with_etag(records.runs, SWEEP_PARTITION, FOLDER_STATE_KEY)
    age = time.time() - parse_iso(str((row or {}).get("lastSweptAt", "")))
    if not force and age < interval:
        _seen_sweep[settings] = time.monotonic() - age
        return False
    try:
        records.conditional_write(records.runs, SWEEP_PARTITION, FOLDER_STATE_KEY, etag,
                                  {"folder": SWEEP_PARTITION, "lastSweptAt": now_iso()})
    except HttpResponseError as exc:
        if lost_race(exc):
            return False  # another instance claimed this sweep first
        raise
    _seen_sweep[settings] = time.monotonic()
    return True


def on_timer(settings: Settings, client: FormRecognizerClient, records: Records,
              force_sweep: bool = False) -> tuple[PollReport, SweepReport | None]:
    polled = poll_training_runs(settings, client, records)
    swept = sweep(settings, client, records) if claim_sweep(settings, records, force_sweep) else None
    _log_beat(polled, swept)
    return polled, swept


def _log_beat(polled: PollReport, swept: SweepReport | None) -> None:
    """One INFO line for a beat that did something; DEBUG for an idle one (no run to poll, no sweep or
    a sweep that found nothing), which every beat is most of the time: the 30 s heartbeat must not
    fill the host log."""
    found = swept is not None and bool(swept.ocr_started or swept.folders_requested or swept.errors)
    idle = polled.polled == 0 and polled.unreachable == 0 and not found
    sweep_text = "skipped" if swept is None else (
        f"OCR'd {len(swept.ocr_started)}, requested {len(swept.folders_requested)} folders"
        + (f", {len(swept.errors)} errors" if swept.errors else ""))
    log.log(logging.DEBUG if idle else logging.INFO,
            "timer: polled %d runs (%d finished, %d unreachable); sweep %s", polled.polled,
            len(polled.finished), polled.unreachable, sweep_text)
