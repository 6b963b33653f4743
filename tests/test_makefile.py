"""`make clean` keeps the user's data; only `make reset`, which says what it deletes, removes it."""

from __future__ import annotations

import subprocess

from tests.helpers.paths import REPO_ROOT


def _dry_run(*targets: str) -> str:
    return subprocess.run(["make", "-n", *targets], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_clean_removes_caches_but_never_the_local_stacks_data() -> None:
    commands = _dry_run("clean")
    assert ".pytest_cache" in commands and "__pycache__" in commands
    assert ".formloop" not in commands


def test_reset_names_what_it_deletes() -> None:
    commands = _dry_run("reset")
    assert "rm -rf .formloop" in commands and "every form, label and table row" in commands


def test_the_region_reader_runs_on_headless_opencv() -> None:
    """rapidocr-onnxruntime asks for the full opencv-python (Qt, GL: ~290 MB and libGL.so.1 on the system);
    `make install` installs it without its dependencies, which engine/requirements.txt pins with the
    headless build instead (issue 21 item 7)."""
    from importlib.metadata import PackageNotFoundError, version

    nodeps = (REPO_ROOT / "engine" / "requirements-nodeps.txt").read_text()
    engine = (REPO_ROOT / "engine" / "requirements.txt").read_text()
    assert "rapidocr-onnxruntime==" in nodeps and "\nrapidocr" not in engine
    assert "opencv-python-headless==" in engine
    assert "--no-deps -r engine/requirements-nodeps.txt" in _dry_run("-B", ".venv/.installed")
    try:
        version("opencv-python")
        full = True
    except PackageNotFoundError:
        full = False
    assert not full, "the full opencv-python is installed: rebuild .venv with make install"
    from engine.ocr import rapid_region

    assert rapid_region.available()
