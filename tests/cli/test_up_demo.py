"""`make run`'s path: `formloop up --demo` brings the stack up and drives the sample forms to a model."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from formloop.stack import REPO_ROOT


def test_up_demo_reaches_a_ready_model_and_prints_the_tables(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for name in ("function_app.py", "host.json", "local.settings.example.json"):
        shutil.copyfile(REPO_ROOT / name, app_dir / name)
    result = subprocess.run(
        [sys.executable, "-m", "formloop.cli", "up", "--demo", "--no-wait",
         "--app-dir", str(app_dir), "--state-dir", str(tmp_path / "state")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "OCR (.ocr.json written)" in out
    # The review page's address, with a new token that the host was given (devhost's port, 7071 or free).
    url = re.search(r"Review page\s+(http://127\.0\.0\.1:\d+/api/review/\?token=([\w-]{32}))", out)
    assert url, out
    assert "Training: succeeded" in out
    # The tables show the OCR'd, labeled documents and a ready, current model with 15 fields.
    assert out.count("succeeded │") >= 5
    assert "ready" in out and "│ yes" in out
    assert "PurchaseOrderNumber" in out
    # A form held out of training was predicted by the new model and shown beside its labels.
    assert "New form Form_5.jpg: prediction succeeded" in out
    assert "Extracted by" in out and "a form no model trained on" in out
    extracted = out[out.index("Extracted by"):out.index("What landed in the tables")]
    assert re.search(r"PurchaseOrderNumber\s+│ 2992848\s+│", extracted), extracted
    assert extracted.count("│ ✓ │") >= 10, extracted  # the sample's layout is learned from 4 forms
    assert "Predictions (1)" in out and "Form_5.jpg" in out and "│ first" in out
    # The first start generated the engine key into the git-ignored settings, never into the example.
    settings = json.loads((app_dir / "local.settings.json").read_text())
    assert len(settings["Values"]["FORM_RECOGNIZER_KEY"]) == 32
    example = json.loads((app_dir / "local.settings.example.json").read_text())
    assert example["Values"]["FORM_RECOGNIZER_KEY"] == ""
    # Logs of every part were kept for the user.
    logs = {p.name for p in (tmp_path / "state" / "logs").iterdir()}
    assert logs >= {"azurite.log", "engine.log", "host.log"}
