"""Engine fixtures: a client of the session's engine, private engines for restart tests, a loopback file
server for `source` URLs (the helpers themselves are in tests/helpers/engine.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from formloop.stack import EngineInfo, start_engine, stop
from tests.helpers.engine import Client, FileServer


@pytest.fixture(scope="session")
def client(engine: EngineInfo) -> Client:
    return Client(engine.endpoint, engine.api_key)


@pytest.fixture()
def private_engine(tmp_path: Path) -> Iterator[Callable[..., EngineInfo]]:
    """Start engines of our own (for restart, TTL and queue-bound tests); all stopped afterwards."""
    started: list[EngineInfo] = []

    def start(data_dir: Path | None = None, **kw) -> EngineInfo:  # type: ignore[no-untyped-def]
        log = tmp_path / f"engine{len(started)}.log"
        info = start_engine(data_dir or tmp_path / "data", log_path=log, **kw)
        started.append(info)
        return info

    yield start
    for info in started:
        stop(info.process)


@pytest.fixture(scope="session")
def file_server() -> Iterator[FileServer]:
    fs = FileServer()
    yield fs
    fs.server.shutdown()
