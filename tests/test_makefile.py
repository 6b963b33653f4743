"""`make clean` keeps the user's data; only `make reset`, which says what it deletes, removes it."""

from __future__ import annotations

import subprocess

from tests.helpers.paths import REPO_ROOT


def _dry_run(target: str) -> str:
    return subprocess.run(["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_clean_removes_caches_but_never_the_local_stacks_data() -> None:
    commands = _dry_run("clean")
    assert ".pytest_cache" in commands and "__pycache__" in commands
    assert ".formloop" not in commands


def test_reset_names_what_it_deletes() -> None:
    commands = _dry_run("reset")
    assert "rm -rf .formloop" in commands and "every form, label and table row" in commands
