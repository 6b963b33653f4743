"""Fixtures of the shared/ tests: per-test storage names on the session Azurite (`stack`), fault-injecting
HTTP servers, generated invoices (the helpers themselves are in tests/helpers/pipeline.py)."""

from __future__ import annotations

import http.server
from collections.abc import Callable, Iterator

import pytest

from formgen.generate import generate
from formloop.stack import AzuriteInfo, EngineInfo
from shared.clients.records import Records
from shared.clients.storage import ensure_resources
from shared.settings import load_settings
from tests.helpers.pipeline import FaultServer, Reply, Stack, fast_client, pipeline_env, serve_faults


@pytest.fixture
def stack(azurite: AzuriteInfo, engine: EngineInfo) -> Stack:
    env = pipeline_env(azurite, engine.endpoint, engine.api_key)
    settings = load_settings(env)
    ensure_resources(settings)
    return Stack(settings, Records(settings), fast_client(settings), env)


@pytest.fixture
def fault_server() -> Iterator[Callable[..., FaultServer]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(
        target: str | None = None, fallback: Callable[[str, str, bytes], Reply] | None = None
    ) -> FaultServer:
        server, httpd = serve_faults(target, fallback)
        servers.append(httpd)
        return server

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> list:
    """Twelve generated invoices (digital PDFs), once per test module."""
    return generate("invoice", 12, tmp_path_factory.mktemp("forms"), kind="pdf")
