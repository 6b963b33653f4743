"""Track running invocation tasks so a stopping host can let them finish, then abandon the rest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("devhost")


def log_crash(task: asyncio.Task[Any]) -> None:
    """A devhost task must never die silently: say what broke (a bug in devhost, not in the app)."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("devhost task %s crashed: %s: %s", task.get_name(), type(exc).__name__, exc, exc_info=exc)


class InFlight:
    """A set of tasks with a bounded, graceful drain."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(log_crash)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float) -> int:
        """Wait up to `grace` seconds, cancel what is still running; return how many were abandoned."""
        if not self._tasks:
            return 0
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return len(pending)


async def sleep_or_stop(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake at once when the host starts stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=max(0.0, seconds))


def short_error(exc: BaseException) -> str:
    """First line of a storage error: the SDK's messages run to dozens of lines."""
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
