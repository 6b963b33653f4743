"""The timer function's body: poll unfinished runs every beat; sweep for missed events now and then."""

from __future__ import annotations

import logging
import time

from shared.formrecognizer import FormRecognizerClient
from shared.records import Records
from shared.settings import Settings
from shared.sweep import SweepReport, sweep
from shared.training_poll import PollReport, poll_training_runs

log = logging.getLogger(__name__)
# When this process last swept (an optimisation only: a restart just sweeps a little early).
_last_sweep: dict[Settings, float] = {}


def run_timer(settings: Settings, client: FormRecognizerClient, records: Records,
              force_sweep: bool = False) -> tuple[PollReport, SweepReport | None]:
    polled = poll_training_runs(settings, client, records)
    swept = None
    last = _last_sweep.get(settings)
    if force_sweep or last is None or time.monotonic() - last >= settings.sweep_interval_seconds:
        _last_sweep[settings] = time.monotonic()
        swept = sweep(settings, client, records)
    log.info("timer: polled %d runs (%d finished, %d unreachable); sweep %s", polled.polled,
             len(polled.finished), polled.unreachable, "skipped" if swept is None else
             f"OCR'd {len(swept.ocr_started)}, requested {len(swept.folders_requested)} folders")
    return polled, swept
