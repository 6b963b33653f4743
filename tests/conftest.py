"""Session fixtures: a real Azurite and a real engine process on free loopback ports."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from formloop.stack import AzuriteInfo, EngineInfo, start_azurite, start_engine, stop
from tests.helpers.paths import DATA_DIR


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteInfo]:
    """An in-memory Azurite shared by the session; tests use unique container/queue/table names."""
    log = tmp_path_factory.mktemp("azurite") / "azurite.log"
    info = start_azurite(log_path=log)
    yield info
    # In-memory data needs no orderly shutdown; Node waits on idle keep-alive sockets after SIGINT.
    stop(info.process, timeout=3, sig=signal.SIGTERM)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineInfo]:
    """The local engine as a real `python -m engine` process with its own data dir."""
    root = tmp_path_factory.mktemp("engine")
    info = start_engine(root / "data", log_path=root / "engine.log")
    yield info
    stop(info.process)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The bundled sample forms (MIT; see tests/data/README.md)."""
    return DATA_DIR
