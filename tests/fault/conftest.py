"""Fault-suite fixtures: a stack of its own per test (engine and devhost processes it may kill) on the
session Azurite, with unique storage names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from formloop.stack import AzuriteInfo
from tests.helpers.fault.harness import FaultStack


@pytest.fixture
def fault_stack(azurite: AzuriteInfo, tmp_path: Path) -> Iterator[FaultStack]:
    stack = FaultStack.create(azurite.connection_string, tmp_path / "stack")
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
