"""The `formloop` CLI run in-process against a test stack's private storage names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from formloop.cli import main
from tests.helpers.pipeline import Stack

Cli = Callable[..., tuple[int, str, str]]


def in_process_cli(stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`run(*args) -> (exit code, stdout, stderr)` of `formloop ARGS --connection-string ...`; tables and
    queues come from the environment, as they do for a deployment's own names."""
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "220")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--connection-string", stack.settings.connection_string])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
