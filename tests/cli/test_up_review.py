"""`formloop up` serves the review page at the address it prints, and Ctrl-C says the stack stopped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from formloop.stack import REPO_ROOT


def test_up_prints_the_review_address_that_opens_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for name in ("function_app.py", "host.json", "local.settings.example.json"):
        shutil.copyfile(REPO_ROOT / name, app_dir / name)
    log = tmp_path / "up.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "formloop.cli",
                "up",
                "--app-dir",
                str(app_dir),
                "--state-dir",
                str(tmp_path / "state"),
            ],
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "250", "DEVHOST_HTTP_PORT": "0"},
        )
    try:
        deadline = time.monotonic() + 120
        while not (
            found := re.search(r"(http://127\.0\.0\.1:\d+/api/review/)\?token=([\w-]+)", log.read_text())
        ):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        page, token = found.group(1), found.group(2)
        assert requests.get(page, timeout=10).status_code == 401  # the address without its token
        session = requests.Session()
        opened = session.get(f"{page}?token={token}", timeout=30)
        assert opened.status_code == 200 and "formloop review" in opened.text
        assert session.get(f"{page}folders", timeout=30).json()["folders"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    text = log.read_text()
    assert code == 0 and "Stopped the Functions host, the engine and Azurite" in text, text
