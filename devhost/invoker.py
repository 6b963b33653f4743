"""Call one function once: sync bodies in a worker thread, async ones on the loop; log like the host.

Every invocation logs an "Executing" line with the trigger detail and an "Executed" line with the
outcome (Succeeded/Failed) and duration, so a devhost log reads like a `func start` log. A failure is
one line (exception type and message, attempt n/m); the app's traceback goes with it only when asked
(the attempt that poisons), else at DEBUG: a retried failure costs two lines, not thirty. A `quiet`
invocation (a timer's heartbeat) logs its Executing/Executed lines at DEBUG: the function says at INFO
what it did, and a beat that did nothing leaves nothing in the log.
"""

from __future__ import annotations

import asyncio
import concurrent
import functools
import logging
import os
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from devhost.app_loader import FunctionSpec

log = logging.getLogger("devhost")


# devhost's own package and the stdlib's asyncio/concurrent (not any folder that happens to be called so)
_HOST_DIRS = tuple(str(Path(m.__file__).parent) + os.sep for m in (asyncio, concurrent))  # type: ignore[arg-type]
_HOST_DIRS += (str(Path(__file__).parent) + os.sep,)


def user_traceback(exc: BaseException) -> str:
    """The traceback from the app's own frames on: devhost's and asyncio's frames only add noise."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_HOST_DIRS):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()


MAX_REASON_CHARS = 300


def one_line(exc: BaseException) -> str:
    """`Type: first line of the message` (shortened): the reason a failed attempt gets in the log."""
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    if len(first) > MAX_REASON_CHARS:
        first = first[: MAX_REASON_CHARS - 1] + "…"
    elif first != text:
        first += " …"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@dataclass(frozen=True)
class Attempt:
    """Which try of one trigger event this is: `number` of `limit` (a failure of the last one poisons)."""

    number: int
    limit: int

    @property
    def last(self) -> bool:
        return self.number >= self.limit


class FunctionTimeoutError(TimeoutError):
    """The invocation ran longer than host.json `functionTimeout`."""


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended."""

    invocation_id: str
    succeeded: bool
    duration: float
    error: BaseException | None = None
    value: Any = None  # what the function returned (an HTTP function's response)


class Invoker:
    """Runs invocations with the host's timeout; one shared thread pool bounds sync concurrency."""

    def __init__(self, function_timeout: timedelta | None, max_threads: int) -> None:
        self._timeout = function_timeout.total_seconds() if function_timeout else None
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_threads), thread_name_prefix="invocation")
        self.running = 0

    async def invoke(
        self,
        spec: FunctionSpec,
        argument: Any,
        reason: str,
        *,
        attempt: Attempt | None = None,
        traceback_on_failure: bool | None = None,
        quiet: bool = False,
    ) -> Outcome:
        """Invoke `spec` with its trigger argument; never raises for the function's own errors.

        A failure logs one line (ERROR when nothing retries it, else WARNING); the app's traceback
        joins it when `traceback_on_failure` (default: on the last `attempt`), else goes to DEBUG.
        `quiet` logs a success at DEBUG only."""
        invocation_id = str(uuid.uuid4())
        level = logging.DEBUG if quiet else logging.INFO
        log.log(level, "Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
        kwargs = {spec.arg_name: argument}
        started = time.perf_counter()
        self.running += 1
        try:
            if spec.is_async:
                call = spec.func(**kwargs)
            else:
                loop = asyncio.get_running_loop()
                call = loop.run_in_executor(self._pool, functools.partial(spec.func, **kwargs))
            try:
                value = await asyncio.wait_for(call, self._timeout)
            except TimeoutError as exc:
                if self._timeout is None or time.perf_counter() - started < self._timeout:
                    raise  # the function's own TimeoutError, not the host's limit
                raise FunctionTimeoutError(
                    f"Timeout value of {timedelta(seconds=self._timeout or 0)} was exceeded by function "
                    f"Functions.{spec.name}"
                ) from exc
        except asyncio.CancelledError:
            log.warning(
                "Abandoned 'Functions.%s' (Id=%s) after %.0fms: the host is stopping",
                spec.name,
                invocation_id,
                (time.perf_counter() - started) * 1000,
            )
            raise
        except Exception as exc:
            duration = time.perf_counter() - started
            if traceback_on_failure is None:
                traceback_on_failure = attempt is not None and attempt.last
            self._log_failure(spec, invocation_id, duration, exc, attempt, traceback_on_failure)
            return Outcome(invocation_id, False, duration, exc)
        finally:
            self.running -= 1
        duration = time.perf_counter() - started
        log.log(
            level,
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
            spec.name,
            invocation_id,
            duration * 1000,
        )
        return Outcome(invocation_id, True, duration, value=value)

    @staticmethod
    def _log_failure(
        spec: FunctionSpec,
        invocation_id: str,
        duration: float,
        exc: Exception,
        attempt: Attempt | None,
        with_traceback: bool,
    ) -> None:
        """One line with the reason; the traceback with it (`with_traceback`) or at DEBUG."""
        retried = attempt is not None and not attempt.last
        level = logging.WARNING if retried else logging.ERROR
        tries = f", attempt {attempt.number}/{attempt.limit}" if attempt is not None else ""
        line = (
            f"Executed 'Functions.{spec.name}' (Failed, Id={invocation_id}, "
            f"Duration={duration * 1000:.0f}ms{tries}) {one_line(exc)}"
        )
        if isinstance(exc, FunctionTimeoutError):  # the host's own limit: no app frames to show
            log.log(level, "%s", line)
        elif with_traceback:
            log.log(level, "%s\n%s", line, user_traceback(exc))
        else:
            log.log(level, "%s", line)
            log.debug("Functions.%s (Id=%s) failed:\n%s", spec.name, invocation_id, user_traceback(exc))

    def shutdown(self) -> None:
        """Stop accepting work; threads still inside a sync function are left to finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
