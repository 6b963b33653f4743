"""Fixtures of the browser tests: one Chromium per session, a devhost with the real app per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from formloop.stack import AzuriteInfo, EngineInfo, stop
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, ReviewHost, start_review_host


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def review_host(azurite: AzuriteInfo, engine: EngineInfo, tmp_path: Path) -> Iterator[ReviewHost]:
    host = start_review_host(azurite, engine, tmp_path, TRAINING_THRESHOLD="5", RETRAIN_MIN_NEW_LABELS="100")
    yield host
    stop(host.proc)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.dialogs = []  # type: ignore[attr-defined]
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    yield tab
    context.close()
