"""A small REST client for Form Recognizer v2.1 (and the 2019 `2.0-preview` routes), and for Document
Intelligence v4.0 (`2024-11-30`: `documentModels:build`, `operations/{id}`, `{model}:analyze`) and the
Form Recognizer 3.x versions with the same calls under `/formrecognizer` (`2023-07-31`, `2022-08-31`).

Why not the SDK: the pipeline needs the raw Layout body (it IS the `.ocr.json` file), the raw model
body for the tables, explicit control over retries/deadlines, and the 2019 routes the SDK never had.
Transient answers (429, 5xx, connection errors) are retried with exponential backoff that honours
`Retry-After`, within a time budget; anything else fails fast with the service's own code and message.

Why it is long: one client for three API dialects (v2.1, the 2019 preview, v4.0) whose calls share the
retry, polling and error handling; split by dialect, each part would repeat that core.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import quote, urljoin

import requests

from shared.clients.http_env import configure_session

log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Codes of an operation the service itself failed (not the document): submitting it again may work.
# The local engine reports InternalServerError for operations a restart cut short; Azure uses the
# same code, and ServiceUnavailable/Timeout, for failures on its side.
TRANSIENT_OPERATION_CODES = frozenset({"InternalServerError", "ServiceUnavailable", "Timeout",
                                       "OperationTimedOut"})
COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"
FIRST_POLL_SECONDS = 0.2
# A model's analysis of a form the engine has just read takes tens of milliseconds (the Layout comes
# from its cache); the cloud service takes seconds either way, where an early look costs one GET.
FIRST_ANALYZE_POLL_SECONDS = 0.05

# path pieces per dialect: (base, layout POST, train POST, custom analyze POST)
_ROUTES = {
    "v2.1": ("/formrecognizer/v2.1", "/layout/analyze", "/custom/models",
             "/custom/models/{model_id}/analyze"),
    "2.0-preview": ("/formrecognizer/v2.0-preview", "/readLayout/asyncAnalyze", "/custom/asyncTrain",
                    "/models/{model_id}/asyncAnalyze"),
    "2024-11-30": ("/documentintelligence", "/documentModels/prebuilt-layout:analyze",
                   "/documentModels:build", "/documentModels/{model_id}:analyze"),
    "2023-07-31": ("/formrecognizer", "/documentModels/prebuilt-layout:analyze",
                   "/documentModels:build", "/documentModels/{model_id}:analyze"),
    "2022-08-31": ("/formrecognizer", "/documentModels/prebuilt-layout:analyze",
                   "/documentModels:build", "/documentModels/{model_id}:analyze"),
}
V4 = "2024-11-30"
# The versions with v4.0's calls and bodies (`documentModels`, `api-version=`): 3.x is v4.0 under
# another prefix.
DOCUMENT_MODEL_APIS = (V4, "2023-07-31", "2022-08-31")
_V4_MODEL_ID = re.compile(r"[^A-Za-z0-9._~-]+")
_RUN_SUFFIX = re.compile(r"-(\d{13}-[0-9a-f]{6})$")  # shared.clients.records.new_run_id


def v4_model_id(model_name: str) -> str:
    """A v4.0 model id for a run's model name (`<folder>-<runId>`): the caller chooses it, within
    `^[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}$`. The run id (20 characters, unique) is kept whole at the end,
    so the id is unique and derived, not stored: a lost submission's model is found by it."""
    match = _RUN_SUFFIX.search(model_name)
    folder, run = (model_name[: match.start()], match.group(1)) if match else (model_name, "")
    slug = _V4_MODEL_ID.sub("-", folder).strip("-._~")
    if not run:
        return (slug or "model")[:64]
    return f"{slug[: 63 - len(run)] or 'root'}-{run}"

_MAGIC = ((b"%PDF", "application/pdf"), (b"\xff\xd8", "image/jpeg"), (b"\x89PNG", "image/png"),
          (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"), (b"BM", "image/bmp"))
_BY_EXTENSION = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".png": "image/png", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff"}


class FormRecognizerError(Exception):
    """An error answered (or implied) by the service: `code` and `message` as the service wrote them."""

    def __init__(self, code: str, message: str, status: int | None = None, transient: bool = False):
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.code = code
        self.message = message
        self.status = status
        self.transient = transient


def content_type_for(head: bytes, name: str) -> str:
    """Content type from the file's first bytes (as the SDK does), else from its extension."""
    for magic, ctype in _MAGIC:
        if head.startswith(magic):
            return ctype
    ext = "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""
    return _BY_EXTENSION.get(ext, "application/octet-stream")


def _retry_after(response: requests.Response) -> float | None:
    """Seconds the service asked us to wait: `retry-after-ms`, `x-ms-retry-after-ms`, `Retry-After`."""
    for header, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("Retry-After", 1.0)):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            return max(0.0, float(raw) * scale)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if scale == 1.0 else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    return None


def error_from_response(response: requests.Response) -> FormRecognizerError:
    """The service's `{"error": {"code", "message"}}` body as an exception (best effort on other bodies)."""
    code, message = f"HTTP{response.status_code}", (response.text or response.reason or "")[:500]
    try:
        body = response.json()
        err = body.get("error", body) if isinstance(body, dict) else {}
        if isinstance(err, dict):
            code = str(err.get("code") or code)
            message = str(err.get("message") or message)
    except ValueError:
        pass
    return FormRecognizerError(code, message, response.status_code,
                               transient=response.status_code in TRANSIENT_STATUS)


@dataclass
class TrainingOutcome:
    """A model body (v2.1 `modelInfo`/`trainResult`, or the 2019 `asyncTrainOperations` shape), uniform."""

    state: str  # creating | ready | invalid
    model_id: str
    model_name: str = ""
    created: str = ""
    updated: str = ""
    average_accuracy: float | None = None
    fields: list[tuple[str, float | None]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in ("ready", "invalid")


_MODEL_STATES = {"creating": "creating", "running": "creating", "notstarted": "creating",
                 "ready": "ready", "succeeded": "ready", "invalid": "invalid", "failed": "invalid"}
_DOC_STATES = {"success": "succeeded", "succeeded": "succeeded", "partiallysucceeded": "partiallySucceeded",
               "failed": "failed", "failure": "failed"}


def parse_training_body(body: dict[str, Any]) -> TrainingOutcome:
    info = body.get("modelInfo") or {}
    result = body.get("trainResult") or {}
    raw_state = str(info.get("status") or body.get("status") or "creating").lower()
    outcome = TrainingOutcome(
        state=_MODEL_STATES.get(raw_state, "creating"),
        model_id=str(info.get("modelId") or result.get("modelId") or ""),
        model_name=str(info.get("modelName") or ""),
        created=str(info.get("createdDateTime") or body.get("createdDateTime") or ""),
        updated=str(info.get("lastUpdatedDateTime") or body.get("lastUpdatedDateTime") or ""),
    )
    legacy = result.get("trainingFields") or {}
    accuracy = result.get("averageModelAccuracy", legacy.get("averageModelAccuracy"))
    outcome.average_accuracy = float(accuracy) if accuracy is not None else None
    for item in result.get("fields") or legacy.get("fields") or []:
        acc = item.get("accuracy")
        outcome.fields.append((str(item.get("fieldName")), float(acc) if acc is not None else None))
    for doc in result.get("trainingDocuments") or []:
        outcome.documents.append({
            "documentName": str(doc.get("documentName", "")),
            "pages": int(doc.get("pages") or 0),
            "status": _DOC_STATES.get(str(doc.get("status", "")).lower(), str(doc.get("status", ""))),
            "errors": list(doc.get("errors") or []),
        })
    outcome.errors = [{"code": str(e.get("code", "")), "message": str(e.get("message", ""))}
                      for e in (result.get("errors") or body.get("errors") or []) if isinstance(e, dict)]
    return outcome


_V4_STATES = {"notstarted": "creating", "running": "creating", "succeeded": "ready", "failed": "invalid",
              "canceled": "invalid", "skipped": "invalid"}


def parse_v4_training_body(body: dict[str, Any]) -> TrainingOutcome:
    """A v4.0 build operation (`{status, result | error}`) or model (`{modelId, docTypes}`), uniform.
    v4.0 reports no per-document training results: `documents` stays empty (the pipeline knows the
    set it submitted)."""
    model = body.get("result") if "status" in body else body
    model = model if isinstance(model, dict) else {}
    state = _V4_STATES.get(str(body.get("status", "succeeded")).lower(), "creating")
    location = str(body.get("resourceLocation") or "")
    model_id = str(model.get("modelId") or location.rsplit("/", 1)[-1].split("?")[0])
    created = str(model.get("createdDateTime") or body.get("createdDateTime") or "")
    outcome = TrainingOutcome(state=state, model_id=model_id, model_name=str(model.get("description") or ""),
                              created=created, updated=str(body.get("lastUpdatedDateTime") or created))
    confidences: list[float] = []
    for doc_type in (model.get("docTypes") or {}).values():
        scores = doc_type.get("fieldConfidence") or {}
        for name in doc_type.get("fieldSchema") or {}:
            acc = scores.get(name)
            outcome.fields.append((str(name), float(acc) if acc is not None else None))
            if acc is not None:
                confidences.append(float(acc))
    outcome.average_accuracy = round(sum(confidences) / len(confidences), 4) if confidences else None
    error = body.get("error")
    if isinstance(error, dict):
        inner = error.get("innererror") if isinstance(error.get("innererror"), dict) else {}
        outcome.errors = [{"code": str(inner.get("code") or error.get("code", "")),
                           "message": str(inner.get("message") or error.get("message", ""))}]
    return outcome


class FormRecognizerClient:
    """Calls one Form Recognizer endpoint; one `requests.Session` per client (connection reuse)."""

    def __init__(self, endpoint: str, key: str = "", api: str = "v2.1", *,
                 token_provider: Callable[[], str] | None = None, timeout: float = 30.0,
                 retry_budget: float = 120.0, backoff: float = 1.0, max_backoff: float = 30.0,
                 poll_interval: float = 1.0, session: requests.Session | None = None):
        if api not in _ROUTES:
            raise ValueError(f"unknown API dialect {api!r}")
        self.endpoint = endpoint.rstrip("/")
        self.api = api
        self._key = key
        self._token_provider = token_provider
        self.timeout = timeout
        self.retry_budget = retry_budget
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.session = session or configure_session(requests.Session())
        base, self._layout_path, self._train_path, self._analyze_path = _ROUTES[api]
        self.base_url = self.endpoint + base
        self.v4 = api in DOCUMENT_MODEL_APIS

    def _url(self, path: str) -> str:
        """v4.0 and 3.x want `api-version` on every call (Operation-Location URLs carry it already)."""
        url = self.base_url + path
        if self.v4:
            url += ("&" if "?" in url else "?") + f"api-version={self.api}"
        return url

    # -- plumbing -------------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        if self._key:
            return {"Ocp-Apim-Subscription-Key": self._key}
        if self._token_provider is not None:
            return {"Authorization": f"Bearer {self._token_provider()}"}
        return {}

    def _request(self, method: str, url: str, *, body: bytes | IO[bytes] | None = None,
                 json_body: Any = None, content_type: str | None = None,
                 budget: float | None = None,
                 on_retry: Callable[[], None] | None = None) -> requests.Response:
        """One call with retries on transient faults; returns a 2xx response or raises. `on_retry` runs
        before each wait (a claim is kept alive while the service is away)."""
        deadline = time.monotonic() + (self.retry_budget if budget is None else budget)
        attempt = 0
        start = body.tell() if body is not None and hasattr(body, "tell") else 0
        while True:
            headers = self._headers()
            if content_type:
                headers["Content-Type"] = content_type
            if body is not None and hasattr(body, "seek"):
                body.seek(start)
            wait: float | None
            try:
                response = self.session.request(method, url, data=body, json=json_body, headers=headers,
                                                timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = FormRecognizerError("ServiceUnreachable", f"{type(exc).__name__}: {exc}",
                                            transient=True)
                wait = None
            else:
                if response.status_code < 400:
                    return response
                error = error_from_response(response)
                wait = _retry_after(response)
                if not error.transient:
                    raise error
            attempt += 1
            if wait is None:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1)
            delay = wait
            if time.monotonic() + delay > deadline:
                raise error
            log.info("transient %s from %s %s, retry %d in %.2fs", error.code, method, url, attempt, delay)
            if on_retry is not None:
                on_retry()
            time.sleep(delay)

    def _location(self, response: requests.Response, *names: str) -> str:
        for name in names:
            value = response.headers.get(name)
            if value:
                return urljoin(self.endpoint + "/", value)
        raise FormRecognizerError("MissingOperationLocation",
                                  f"the service answered {response.status_code} without {' or '.join(names)}",
                                  response.status_code)

    def get_json(self, url: str, budget: float | None = None) -> dict[str, Any]:
        response = self._request("GET", url, budget=budget)
        try:
            body = response.json()
        except ValueError as exc:
            raise FormRecognizerError("InvalidResponse", f"non-JSON body from {url}", response.status_code,
                                      transient=True) from exc
        if not isinstance(body, dict):
            raise FormRecognizerError("InvalidResponse", f"unexpected body from {url}", response.status_code)
        return body

    # -- Layout ---------------------------------------------------------------------------------------
    def begin_layout(self, document: bytes | IO[bytes], content_type: str) -> str:
        """POST the document; returns the operation URL to poll."""
        response = self._request("POST", self._url(self._layout_path), body=document,
                                 content_type=content_type)
        return self._location(response, "Operation-Location", "Location")

    def wait_for_result(self, operation_url: str, deadline_seconds: float,
                        on_poll: Callable[[], None] | None = None,
                        first_poll: float = FIRST_POLL_SECONDS) -> tuple[dict[str, Any], bytes]:
        """Poll a Layout or custom analysis until it ends; returns the parsed body and its exact bytes
        (the `.ocr.json` or `.prediction.json`).

        `on_poll` is called before each look (the OCR step renews its claim there). A failed operation
        whose code says the service failed it (`TRANSIENT_OPERATION_CODES`) raises a transient error."""
        deadline = time.monotonic() + deadline_seconds
        interval = min(first_poll, self.poll_interval)
        # No GET right after the POST: a result is never ready that soon (a text-layer page takes
        # the local engine ~0.1 s, the cloud service 1-3 s), so the first look comes after a short delay.
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(self.poll_interval, interval * 1.5)
        while True:
            if on_poll is not None:
                on_poll()
            remaining = deadline - time.monotonic()
            response = self._request("GET", operation_url, budget=max(0.0, min(self.retry_budget, remaining)),
                                     on_retry=on_poll)
            try:
                body = response.json()
            except ValueError as exc:
                raise FormRecognizerError("InvalidResponse", "layout result is not JSON",
                                          response.status_code, transient=True) from exc
            status = str(body.get("status", "")).lower()
            if status == "succeeded":
                if body.get("status") != "succeeded":  # the 2019 preview wrote "Succeeded"
                    body["status"] = "succeeded"
                    return body, json.dumps(body).encode()
                return body, response.content
            if status in ("failed", "canceled"):
                errors = (body.get("analyzeResult") or {}).get("errors") or body.get("errors") or []
                if isinstance(body.get("error"), dict):  # v4.0: one error, the detail in `innererror`
                    errors = [body["error"].get("innererror") or body["error"]]
                first = errors[0] if errors and isinstance(errors[0], dict) else {}
                code = str(first.get("code") or "AnalysisFailed")
                raise FormRecognizerError(code, str(first.get("message") or f"layout analysis {status}"),
                                          transient=code in TRANSIENT_OPERATION_CODES)
            wait = _retry_after(response)
            if wait is None:  # short first polls for quick pages, then back off to poll_interval
                wait, interval = interval, min(self.poll_interval, interval * 1.5)
            if time.monotonic() + wait > deadline:
                raise FormRecognizerError("Timeout", f"layout analysis not finished within "
                                          f"{deadline_seconds:.0f} s ({operation_url})", transient=True)
            time.sleep(wait)

    def analyze_layout(self, document: bytes | IO[bytes], content_type: str, deadline_seconds: float = 300.0,
                       on_poll: Callable[[], None] | None = None) -> tuple[dict[str, Any], bytes]:
        return self.wait_for_result(self.begin_layout(document, content_type), deadline_seconds, on_poll)

    # -- Custom models --------------------------------------------------------------------------------
    def analyze_custom(self, model_id: str, document: bytes | IO[bytes], content_type: str,
                       deadline_seconds: float = 300.0) -> tuple[dict[str, Any], bytes]:
        """Extract a form's fields with a trained model; the body and its exact bytes (the prediction
        file). Polled like Layout: a 404 (model gone) fails fast, a service-side failure is transient."""
        path = self._analyze_path.format(model_id=quote(model_id, safe=""))
        response = self._request("POST", self._url(path), body=document, content_type=content_type)
        return self.wait_for_result(self._location(response, "Operation-Location", "Location"),
                                    deadline_seconds, first_poll=FIRST_ANALYZE_POLL_SECONDS)

    # -- Training -------------------------------------------------------------------------------------
    def begin_training(self, source_url: str, prefix: str, model_name: str = "") -> str:
        """POST a labeled training request for one folder; returns the URL the model is polled at
        (v4.0: the build operation's URL; its model id is `v4_model_id(model_name)`)."""
        if self.v4:
            build = {"modelId": v4_model_id(model_name or f"model-{int(time.time())}"),
                     "description": model_name[:4096], "buildMode": "template",
                     "azureBlobSource": {"containerUrl": source_url, "prefix": prefix}}
            response = self._request("POST", self._url(self._train_path), json_body=build)
            return self._location(response, "Operation-Location", "Location")
        body: dict[str, Any] = {"source": source_url,
                                "sourceFilter": {"prefix": prefix, "includeSubFolders": False},
                                "useLabelFile": True}
        if model_name and self.api == "v2.1":
            body["modelName"] = model_name[:1024]
        response = self._request("POST", self.base_url + self._train_path, json_body=body)
        return self._location(response, "Location", "Operation-Location")

    def get_training(self, model_url: str, budget: float | None = None) -> TrainingOutcome:
        body = self.get_json(model_url, budget=budget)
        return parse_v4_training_body(body) if self.v4 else parse_training_body(body)

    def find_model_named(self, model_name: str, budget: float | None = None) -> str:
        """The URL of a model whose `modelName` is `model_name` ('' if none): finds the model a training
        request created after the worker that sent it died. Only v2.1 models carry a name."""
        if self.v4:
            url = self._url(f"/documentModels/{quote(v4_model_id(model_name), safe='')}")
            try:
                self.get_json(url, budget=budget)
            except FormRecognizerError as exc:
                if exc.status == 404:
                    return ""
                raise
            return url
        if self.api != "v2.1":
            return ""
        url = self.base_url + self._train_path + "?op=full"
        for _ in range(1000):  # pages of the model list; bounded however the service pages
            body = self.get_json(url, budget=budget)
            for info in body.get("modelList") or []:
                if isinstance(info, dict) and info.get("modelName") == model_name and info.get("modelId"):
                    return f"{self.base_url}{self._train_path}/{info['modelId']}"
            next_link = str(body.get("nextLink") or "")
            if not next_link:
                return ""
            url = urljoin(self.endpoint + "/", next_link)
            if "op=full" not in url:
                url += ("&" if "?" in url else "?") + "op=full"
        return ""


def client_from_settings(settings: Any, **overrides: Any) -> FormRecognizerClient:
    """The client the pipeline uses: key auth when a key is set, else tokens from the app's identity."""
    token_provider = None
    if not settings.fr_key:
        from shared.clients.storage import token_credential

        credential = token_credential(settings)

        def token_provider() -> str:
            return credential.get_token(COGNITIVE_SCOPE).token

    options: dict[str, Any] = {"timeout": settings.http_timeout_seconds,
                               "retry_budget": settings.http_retry_budget_seconds}
    options.update(overrides)
    return FormRecognizerClient(settings.fr_endpoint, settings.fr_key, settings.fr_api,
                                token_provider=token_provider, **options)
