"""Pipeline test helpers: per-test storage names on the session Azurite, settings and quick-retrying
clients (Stack), a fault-injecting HTTP server, and the steps' helpers (a counting client, queue reads,
labeled folders from the sample data).

The fixtures that hand them out (`stack`, `fault_server`) are in tests/shared/conftest.py."""

from __future__ import annotations

import http.server
import json
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from formloop.stack import AzuriteInfo
from shared.clients.formrecognizer import FormRecognizerClient
from shared.clients.records import Records
from shared.clients.storage import blob_service, queue_service
from shared.settings import Settings, load_settings
from tests.helpers.paths import REPO_ROOT


def storage_names() -> dict[str, str]:
    """Unique container/queue/table names so tests on the shared Azurite never see each other."""
    tag = secrets.token_hex(4)
    return {
        "FORMS_CONTAINER": f"forms-{tag}",
        "TRAINING_QUEUE": f"training-requests-{tag}",
        "DOCUMENTS_TABLE": f"Documents{tag}",
        "TRAINING_RUNS_TABLE": f"TrainingRuns{tag}",
        "MODELS_TABLE": f"Models{tag}",
        "FIELDS_TABLE": f"Fields{tag}",
        "TRAINING_DOCUMENTS_TABLE": f"TrainingDocuments{tag}",
        "PREDICTIONS_TABLE": f"Predictions{tag}",
        "REVIEWS_TABLE": f"Reviews{tag}",
        "PREDICTION_QUEUE": f"prediction-requests-{tag}",
        "SNAPSHOT_CONTAINER": f"training-sets-{tag}",
    }


def pipeline_env(azurite: AzuriteInfo, endpoint: str, api_key: str, **overrides: str) -> dict[str, str]:
    env = {
        "FORMS_STORAGE": azurite.connection_string,
        "FORM_RECOGNIZER_ENDPOINT": endpoint,
        "FORM_RECOGNIZER_KEY": api_key,
        "TRAINING_THRESHOLD": "5",
        "OCR_DEADLINE_SECONDS": "120",
        "HTTP_RETRY_BUDGET_SECONDS": "20",
        "SWEEP_GRACE_SECONDS": "1",
        **storage_names(),
    }
    env.update(overrides)
    return env


def fast_client(settings: Settings, endpoint: str | None = None, **overrides: Any) -> FormRecognizerClient:
    options: dict[str, Any] = {
        "timeout": 30.0,
        "retry_budget": 20.0,
        "backoff": 0.05,
        "max_backoff": 0.5,
        "poll_interval": 0.1,
    }
    options.update(overrides)
    return FormRecognizerClient(endpoint or settings.fr_endpoint, settings.fr_key, settings.fr_api, **options)


@dataclass
class Stack:
    """Settings, records and a quick-retrying engine client for one test's private storage names."""

    settings: Settings
    records: Records
    client: FormRecognizerClient
    env: dict[str, str]

    def upload(self, name: str, data: bytes) -> None:
        blob_service(self.settings).get_blob_client(self.settings.forms_container, name).upload_blob(
            data, overwrite=True
        )

    def blob_names(self) -> list[str]:
        container = blob_service(self.settings).get_container_client(self.settings.forms_container)
        return sorted(b.name for b in container.list_blobs())

    def with_settings(self, **overrides: str) -> Stack:
        env = {**self.env, **overrides}
        settings = load_settings(env)
        return Stack(settings, Records(settings), fast_client(settings), env)


# ---------------------------------------------------------------------------------------- fault server
Reply = tuple[int, dict[str, str], bytes]


@dataclass
class FaultServer:
    """A real HTTP server on 127.0.0.1. Each request first consumes a scripted fault (if any left),
    otherwise it is forwarded to `target` (the real engine) or answered by `fallback`."""

    port: int
    faults: list[Reply] = field(default_factory=list)
    target: str | None = None
    fallback: Callable[[str, str, bytes], Reply] | None = None
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_faults(self, *replies: Reply) -> None:
        with self.lock:
            self.faults.extend(replies)

    def next_reply(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            reply = fault
        elif self.target is not None:
            upstream = requests.request(
                method,
                self.target + path,
                data=body or None,
                timeout=60,
                headers={
                    k: v for k, v in headers.items() if k.lower() not in ("content-length", "connection")
                },
            )
            keep = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() in ("content-type", "operation-location", "location", "retry-after")
            }
            reply = (upstream.status_code, keep, upstream.content)
        elif self.fallback is not None:
            reply = self.fallback(method, path, body)
        else:
            reply = (500, {}, b"no script")
        with self.lock:
            self.seen.append((method, path, reply[0]))
        return reply


def error_reply(status: int, code: str, message: str, **headers: str) -> Reply:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return status, {"Content-Type": "application/json", **headers}, body


def serve_faults(
    target: str | None = None, fallback: Callable[[str, str, bytes], Reply] | None = None
) -> tuple[FaultServer, http.server.ThreadingHTTPServer]:
    """Start a FaultServer on a free loopback port; the caller shuts the returned HTTP server down."""
    state: dict[str, FaultServer] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = state["server"].next_reply(
                self.command, self.path, body, dict(self.headers.items())
            )
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server = FaultServer(httpd.server_address[1], target=target, fallback=fallback)
    state["server"] = server
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return server, httpd


# ---------------------------------------------------------------------------------------------- steps
class CountingClient(FormRecognizerClient):
    """The real client, counting the Layout POSTs it makes (to prove no repeated OCR)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.layout_posts = 0
        self.train_posts = 0

    def begin_layout(self, document, content_type):  # type: ignore[no-untyped-def]
        self.layout_posts += 1
        return super().begin_layout(document, content_type)

    def begin_training(self, source_url, prefix, model_name=""):  # type: ignore[no-untyped-def]
        self.train_posts += 1
        return super().begin_training(source_url, prefix, model_name)


def counting(stack: Stack) -> CountingClient:
    s = stack.settings
    return CountingClient(
        s.fr_endpoint, s.fr_key, s.fr_api, backoff=0.05, poll_interval=0.1, retry_budget=20.0
    )


def wait_for_messages(stack: Stack, count: int, timeout: float = 15.0) -> list[str]:
    """Receive until `count` messages came (delayed messages become visible later); then one more look."""
    client = queue_service(stack.settings).get_queue_client(stack.settings.training_queue)
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += [m.content for m in client.receive_messages(max_messages=32, visibility_timeout=30)]
        time.sleep(0.1)
    time.sleep(stack.settings.training_request_delay_seconds + 0.5)
    return got + [m.content for m in client.receive_messages(max_messages=32, visibility_timeout=30)]


def queue_messages(stack: Stack, queue: str | None = None) -> list[str]:
    client = queue_service(stack.settings).get_queue_client(queue or stack.settings.training_queue)
    return [m.content for m in client.receive_messages(max_messages=32, visibility_timeout=1)]


def upload_form(stack: Stack, folder: str, path: Path) -> str:
    name = f"{folder}/{path.name}"
    stack.upload(name, path.read_bytes())
    return name


def prepare_labeled_folder(stack: Stack, data_dir: Path, folder: str, count: int) -> None:
    """Forms with their OCR and labels, straight from the sample data (no engine needed)."""
    po = data_dir / "purchase-orders"
    for i in range(count):
        src = i % 5 + 1
        stem = f"Form_{i + 1:02d}.jpg"
        stack.upload(f"{folder}/{stem}", (po / f"Form_{src}.jpg").read_bytes())
        stack.upload(f"{folder}/{stem}.ocr.json", (po / f"Form_{src}.jpg.ocr.json").read_bytes())
        labels = json.loads((po / f"Form_{src}.jpg.labels.json").read_text())
        labels["document"] = stem
        stack.upload(f"{folder}/{stem}.labels.json", json.dumps(labels).encode())
    stack.upload(f"{folder}/fields.json", (po / "fields.json").read_bytes())


def make_app_dir(root: Path) -> Path:
    """function_app.py + shared/ + host.json in a folder of their own: no local.settings.json leaks in."""
    app = root / "app"
    app.mkdir(parents=True)
    (app / "function_app.py").symlink_to(REPO_ROOT / "function_app.py")
    (app / "shared").symlink_to(REPO_ROOT / "shared")
    shutil.copyfile(REPO_ROOT / "host.json", app / "host.json")
    return app
