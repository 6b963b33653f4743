"""Issue 21 item 2: `FORM_RECOGNIZER_API=2024-11-30 make run` on storage a v2.1 demo left: the demo says
the current model belongs to the other API version, waits for the model trained for the new one and
predicts the new form with it (the whole stack as processes, twice on the same storage)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from formloop.stack import REPO_ROOT


def _demo(app_dir: Path, state: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "formloop.cli", "up", "--demo", "--no-wait",
         "--app-dir", str(app_dir), "--state-dir", str(state)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "400", **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_demo_on_another_api_version_trains_a_model_for_it_and_says_so(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for name in ("function_app.py", "host.json", "local.settings.example.json"):
        shutil.copyfile(REPO_ROOT / name, app_dir / name)
    first = _demo(app_dir, tmp_path / "state", FORM_RECOGNIZER_API="v2.1")
    assert "Training: succeeded" in first and "New form Form_5.jpg: prediction succeeded" in first

    out = _demo(app_dir, tmp_path / "state", FORM_RECOGNIZER_API="2024-11-30")
    flat = " ".join(out.split())
    assert "The folder's current model " in flat and (
        "was trained for API v2.1; the app now speaks 2024-11-30 (FORM_RECOGNIZER_API), which cannot use it. "
        "The pipeline reads the forms again with 2024-11-30 and trains a model for it from the same labels "
        "at once") in flat
    assert "Training a model for 2024-11-30: succeeded, it is current" in out
    assert "New form Form_5.jpg: prediction succeeded" in out and "Extracted by purchase-orders-" in out
    assert "(API 2024-11-30)" in flat and "│ 2024-11-30 │ ready │ yes" in flat and "│ switched" in flat
    assert "was trained for API v2.1, which FORM_RECOGNIZER_API=2024-11-30 cannot use" in flat

    again = " ".join(_demo(app_dir, tmp_path / "state", FORM_RECOGNIZER_API="2024-11-30").split())
    assert "Training: not needed: the labels are the ones the current model was trained on" in again
    assert "Training: succeeded" not in again  # the earlier run's status is not this demo's
    assert "New form Form_5.jpg: prediction succeeded" in again
