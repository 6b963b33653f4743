"""Timer trigger: NCRONTAB (seconds first) or TimeSpan schedules, `run_on_startup`, `past_due`.

`past_due` is true when the invocation stands for a beat that was missed: the previous invocation
overran the next beat (the missed beats fold into one late invocation, as on the real host), or
the host was down at a scheduled time (seen at startup from the stored schedule status, when the
schedule is monitored: `use_monitor`, by default for schedules of a minute or longer).

A beat's Executing/Executed lines are DEBUG (a 30 s heartbeat would otherwise be most of the log):
the function logs at INFO what a beat did. A failing beat logs one line; the first failure after a
success also logs the app's traceback.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError
from azure.functions.timer import TimerRequest
from croniter import croniter

from devhost.app_loader import FunctionSpec
from devhost.inflight import InFlight, short_error, sleep_or_stop
from devhost.invoker import Invoker
from devhost.schedule_status import ScheduleStatus, ScheduleStatusStore
from devhost.settings import SettingsError, parse_timespan

log = logging.getLogger("devhost")

MONITOR_THRESHOLD = timedelta(minutes=1)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: a 6-field (or 5-field) NCRONTAB expression or a fixed TimeSpan interval."""

    expression: str
    interval: timedelta | None = None

    def next_after(self, moment: datetime) -> datetime:
        if self.interval is not None:
            return moment + self.interval
        return croniter(self.expression, moment, second_at_beginning=True).get_next(datetime)

    def period(self, moment: datetime) -> timedelta:
        first = self.next_after(moment)
        return self.next_after(first) - first


def parse_schedule(expression: str) -> Schedule:
    """Validate a schedule as the host would; the error names the expression."""
    text = expression.strip()
    if ":" in text and " " not in text:
        interval = parse_timespan(text, "timer schedule")
        if not interval:
            raise SettingsError(f"timer schedule {expression!r} must be a positive TimeSpan")
        return Schedule(text, interval)
    if len(text.split()) not in (5, 6):
        raise SettingsError(
            f"timer schedule {expression!r} is not NCRONTAB: expected 6 fields "
            "'{second} {minute} {hour} {day} {month} {day-of-week}'"
        )
    if not croniter.is_valid(text, second_at_beginning=True):
        raise SettingsError(f"timer schedule {expression!r} is not a valid NCRONTAB expression")
    return Schedule(text)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimerListener:
    """Fires one timer function; invocations never overlap (the host runs timers as singletons)."""

    def __init__(
        self,
        spec: FunctionSpec,
        schedule: Schedule,
        store: ScheduleStatusStore,
        *,
        invoker: Invoker,
        run_on_startup: bool,
        use_monitor: bool | None,
    ) -> None:
        self.spec = spec
        self.schedule = schedule
        self._store = store
        self._invoker = invoker
        self._run_on_startup = run_on_startup
        now = utcnow()
        self.monitored = use_monitor if use_monitor is not None else schedule.period(now) >= MONITOR_THRESHOLD
        self.inflight = InFlight()
        self._failing = False  # the last beat failed: the next failure is one line, no traceback

    async def run(self, stopping: asyncio.Event) -> None:
        status = await self._read_status()
        now = utcnow()
        past_due = bool(self.monitored and status and status.next and status.next < now)
        if past_due and status and status.next:
            log.info(
                "timer %s missed its beat at %s while the host was down",
                self.spec.name,
                status.next.isoformat(),
            )
        scheduled = now if (past_due or self._run_on_startup) else self.schedule.next_after(now)
        # The first invocation sees the status as the previous run left it (as on the real host).
        shown = status or ScheduleStatus(None, scheduled, now)
        await self._write_status(ScheduleStatus(status.last if status else None, scheduled, now))
        while not stopping.is_set():
            await sleep_or_stop(stopping, (scheduled - utcnow()).total_seconds())
            if stopping.is_set():
                return
            request = TimerRequest(
                past_due=past_due, schedule_status=shown.as_dict(), schedule={"AdjustForDST": True}
            )
            reason = "Timer fired at " + utcnow().isoformat() + (" (past due)" if past_due else "")
            outcome = await self.inflight.spawn(
                self._invoker.invoke(
                    self.spec, request, reason, quiet=True, traceback_on_failure=not self._failing
                )
            )
            self._failing = not outcome.succeeded
            now = utcnow()
            following = self.schedule.next_after(scheduled)
            past_due = following < now
            fired = scheduled
            scheduled = now if past_due else following
            shown = ScheduleStatus(fired, scheduled, now)
            await self._write_status(shown)

    async def _read_status(self) -> ScheduleStatus | None:
        try:
            return await asyncio.to_thread(self._store.read)
        except AzureError as exc:
            log.warning("timer %s: reading schedule status failed: %s", self.spec.name, short_error(exc))
            return None

    async def _write_status(self, status: ScheduleStatus) -> None:
        try:
            await asyncio.to_thread(self._store.write, status)
        except AzureError as exc:
            log.warning("timer %s: writing schedule status failed: %s", self.spec.name, short_error(exc))


def timer_options(binding: dict[str, Any]) -> tuple[bool, bool | None]:
    """(run_on_startup, use_monitor) from a timerTrigger binding."""
    return bool(binding.get("runOnStartup")), binding.get("useMonitor")
