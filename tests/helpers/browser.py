"""The review page in a real browser: Debian's Chromium driven by Playwright, and a devhost serving the
real function app (all its triggers and the page) on free loopback ports."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formloop.stack import AzuriteInfo, EngineInfo, start_devhost
from shared.clients.records import Records
from shared.clients.storage import blob_service, ensure_resources
from shared.settings import Settings, load_settings
from tests.helpers.paths import DATA_DIR, REPO_ROOT
from tests.helpers.pipeline import make_app_dir, pipeline_env

CHROMIUM = "/usr/bin/chromium"
# As the machine notes say: no background traffic, a new profile, no sandbox (tests run as root).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
JOBS = DATA_DIR / "job-application"
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TOKEN = "browser-test-token-0123456789abcdef"


@dataclass
class ReviewHost:
    settings: Settings
    records: Records
    proc: subprocess.Popen[bytes]
    log: Path
    base: str  # http://127.0.0.1:PORT

    @property
    def page_url(self) -> str:
        return f"{self.base}/api/review/"

    @property
    def login_url(self) -> str:
        return f"{self.base}/api/review/?token={TOKEN}"

    def upload(self, name: str, data: bytes) -> None:
        blob_service(self.settings).get_blob_client(self.settings.forms_container, name).upload_blob(
            data, overwrite=True)

    def read(self, name: str) -> bytes:
        client = blob_service(self.settings).get_blob_client(self.settings.forms_container, name)
        return client.download_blob().readall()

    def exists(self, name: str) -> bool:
        return blob_service(self.settings).get_blob_client(self.settings.forms_container, name).exists()

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 180.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = check()
            except Exception:  # a table not created yet, a blob not written yet
                value = None
            if value:
                return value
            if self.proc.poll() is not None:
                raise AssertionError(f"devhost exited while waiting for {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.tail()}")
            time.sleep(0.3)

    def open(self, page: Any) -> None:
        """Open the page with the token, as the address `formloop up` prints; returns once a page shows."""
        page.goto(self.login_url)
        page.wait_for_selector("body[data-page-shown]", timeout=30000)

    def upload_job_applications(self, *names: str, folder: str = "jobs") -> None:
        """The bundled job applications (with their `.ocr.json`) and their fields.json."""
        for name in ("fields.json", *(n for doc in names for n in (doc, f"{doc}.ocr.json"))):
            self.upload(f"{folder}/{name}", (JOBS / name).read_bytes())

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def start_review_host(azurite: AzuriteInfo, engine: EngineInfo, root: Path, **overrides: str) -> ReviewHost:
    env = pipeline_env(azurite, engine.endpoint, engine.api_key, POLL_SCHEDULE="*/1 * * * * *",
                       SWEEP_INTERVAL_SECONDS="3600", REVIEW_TOKEN=TOKEN, **overrides)
    env["AzureWebJobsStorage"] = azurite.connection_string
    settings = load_settings(env)
    ensure_resources(settings)
    port_file = root / "http.port"
    log = root / "devhost.log"
    proc = start_devhost(make_app_dir(root), env={**os.environ, **env},
                         extra_args=["--http-port", "0", "--http-port-file", str(port_file)], log_path=log)
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text().strip():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"devhost did not serve HTTP:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    port = int(port_file.read_text().strip())
    return ReviewHost(settings, Records(settings), proc, log, f"http://127.0.0.1:{port}")


def field_value(page: Any, name: str) -> str:
    """What the page shows as a field's value ('—' when it is empty)."""
    return page.locator(f'#field-list button[data-field="{name}"] .value').text_content()
