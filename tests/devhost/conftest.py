"""Fixtures for devhost integration tests: a test function app in a tmp dir and a devhost process
(the helpers themselves are in tests/helpers/devhost.py)."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from formloop.stack import AzuriteInfo, stop
from tests.helpers.devhost import AppUnderTest, DevhostRun

TEMPLATE = Path(__file__).parent / "app_template.py"


@pytest.fixture
def make_app(azurite: AzuriteInfo, tmp_path: Path) -> Callable[..., AppUnderTest]:
    """Write the test app with a host.json; each app gets its own container, queue and host id."""

    def build(host_json: dict[str, Any] | None = None, **settings: str) -> AppUnderTest:
        tag = uuid.uuid4().hex[:10]
        app_dir = tmp_path / f"app-{tag}"
        records = tmp_path / f"records-{tag}"
        app_dir.mkdir()
        records.mkdir()
        shutil.copy(TEMPLATE, app_dir / "function_app.py")
        config = host_json or {
            "version": "2.0",
            "functionTimeout": "00:02:00",
            "extensions": {"queues": {"maxDequeueCount": 5, "visibilityTimeout": "00:00:00"}},
        }
        (app_dir / "host.json").write_text(json.dumps(config))
        env = {
            "FORMS_STORAGE": azurite.connection_string,
            "AzureWebJobsStorage": azurite.connection_string,
            "AzureFunctionsWebHost__hostid": f"test-{tag}",
            "RECORD_DIR": str(records),
            "TEST_CONTAINER": f"c{tag}",
            "TEST_QUEUE": f"q{tag}",
            "TEST_SCHEDULE": "0 0 0 1 1 *",
            **settings,
        }
        return AppUnderTest(
            app_dir, records, azurite.connection_string, env, f"c{tag}", f"q{tag}", f"test-{tag}"
        )

    return build


@pytest.fixture
def devhost(tmp_path: Path) -> Iterator[Callable[..., DevhostRun]]:
    """Start devhost processes for an app; all are stopped at the end of the test."""
    runs: list[DevhostRun] = []

    def launch(app: AppUnderTest, *args: str) -> DevhostRun:
        run = DevhostRun(app, list(args), tmp_path / f"devhost-{len(runs)}.log")
        runs.append(run)
        return run.start()

    yield launch
    for run in runs:
        if run.process is not None:
            stop(run.process)
