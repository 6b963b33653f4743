"""Call one function once: sync bodies in a worker thread, async ones on the loop; log like the host.

Every invocation logs an "Executing" line with the trigger detail and an "Executed" line with the
outcome (Succeeded/Failed) and duration, so a devhost log reads like a `func start` log.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from devhost.app_loader import FunctionSpec

log = logging.getLogger("devhost")


_HOST_FRAMES = ("/devhost/", "/asyncio/", "/concurrent/")


def user_traceback(exc: BaseException) -> str:
    """The traceback from the app's own frames on: devhost's and asyncio's frames only add noise."""
    tb = exc.__traceback__
    while tb is not None and any(part in tb.tb_frame.f_code.co_filename for part in _HOST_FRAMES):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()


class FunctionTimeoutError(TimeoutError):
    """The invocation ran longer than host.json `functionTimeout`."""


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended."""

    invocation_id: str
    succeeded: bool
    duration: float
    error: BaseException | None = None


class Invoker:
    """Runs invocations with the host's timeout; one shared thread pool bounds sync concurrency."""

    def __init__(self, function_timeout: timedelta | None, max_threads: int) -> None:
        self._timeout = function_timeout.total_seconds() if function_timeout else None
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_threads), thread_name_prefix="invocation")
        self.running = 0

    async def invoke(self, spec: FunctionSpec, argument: Any, reason: str) -> Outcome:
        """Invoke `spec` with its trigger argument; never raises for the function's own errors."""
        invocation_id = str(uuid.uuid4())
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
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
                await asyncio.wait_for(call, self._timeout)
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
            detail = "" if isinstance(exc, FunctionTimeoutError) else "\n" + user_traceback(exc)
            log.error(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%.0fms) %s: %s%s",
                spec.name,
                invocation_id,
                duration * 1000,
                type(exc).__name__,
                exc,
                detail,
            )
            return Outcome(invocation_id, False, duration, exc)
        finally:
            self.running -= 1
        duration = time.perf_counter() - started
        log.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
            spec.name,
            invocation_id,
            duration * 1000,
        )
        return Outcome(invocation_id, True, duration)

    def shutdown(self) -> None:
        """Stop accepting work; threads still inside a sync function are left to finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
