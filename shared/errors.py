"""How a failure reads in one log line or report entry."""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """Storage errors carry the whole response body; a log line and a report entry need its first line."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
