"""Document Intelligence v4.0 routes (`/documentintelligence/...?api-version=2024-11-30`), and the same
routes for any other Dialect (engine.v3: Form Recognizer 3.x under `/formrecognizer`).

`make_router(dialect)` declares every route under the dialect's prefix; the handlers build v4.0 bodies and
the dialect's shapes turn them into its own. Paths arrive lowercased (engine.app's gateway), so routes are
declared in lowercase and model ids compare case-insensitively (engine.v4.model_store). Analyze jobs run on
the engine's OperationStore like v2.1 ones; builds run on a trainer thread of their own and are tracked by
engine.v4.build_ops. Models and build operations are one store for every dialect, as one cloud resource
serves all its API versions. Routes the service has and the engine does not implement answer 501.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from engine.custom.results import build_result
from engine.custom.table_fields.schema import cell_types
from engine.errors import ApiError
from engine.layout.analyze import analyze_layout, check_page_range, page_image
from engine.layout.documents import SUPPORTED_V21, validate_document
from engine.v2.inputs import read_body
from engine.v4.analyze_input import AnalyzeOptions, parse_options, read_v4_document
from engine.v4.build import BuildRequest, parse_build_request, run_build
from engine.v4.build_ops import BuildOperations
from engine.v4.convert.custom_result import documents
from engine.v4.convert.layout_result import convert_layout, layout_result
from engine.v4.errors import (
    V4Error,
    error_from_v2_code,
    error_object,
    from_v2,
    invalid_parameter,
    model_not_found,
    not_implemented,
    operation_not_found,
)
from engine.v4.model_store import LIMIT, V4Models
from engine.v4.protocol import PREBUILT_MODELS, V4, Dialect

log = logging.getLogger("engine.v4")
POLL_AFTER_S = "1"  # Retry-After on polls of unfinished operations
# ...and the finer hint clients read first (azure-core's pollers and the pipeline's client): a local
# page takes a fraction of a second, and a whole second between looks would double the time of one
POLL_AFTER = {"Retry-After": POLL_AFTER_S, "retry-after-ms": "200"}
PREBUILT_DESCRIPTIONS = {
    "prebuilt-layout": "Extract text, selection marks, tables and paragraphs from documents.",
    "prebuilt-read": "Extract text (words, lines, paragraphs) from documents.",
}
# Routes of the service this engine does not implement: (method, path under the prefix, what it is).
NOT_SERVED = (
    ("POST", "/documentmodels:compose", "composing models"),
    ("POST", "/documentmodels:authorizecopy", "copying models"),
    ("POST", "/documentmodels/{model_id}:copyto", "copying models"),
    ("POST", "/documentmodels/{model_id}:analyzebatch", "batch analysis"),
    ("GET", "/documentmodels/{model_id}/analyzebatchresults", "batch analysis"),
    ("GET", "/documentmodels/{model_id}/analyzebatchresults/{result_id}", "batch analysis"),
    ("DELETE", "/documentmodels/{model_id}/analyzebatchresults/{result_id}", "batch analysis"),
    ("DELETE", "/documentmodels/{model_id}/analyzeresults/{result_id}", "deleting analyze results"),
    ("GET", "/documentmodels/{model_id}/analyzeresults/{result_id}/pdf", "the searchable PDF output"),
    ("GET", "/documentmodels/{model_id}/analyzeresults/{result_id}/figures/{figure_id}", "figure images"),
    ("POST", "/documentclassifiers:build", "document classifiers"),
    ("GET", "/documentclassifiers", "document classifiers"),
    ("GET", "/documentclassifiers/{classifier_id}", "document classifiers"),
    ("DELETE", "/documentclassifiers/{classifier_id}", "document classifiers"),
    ("POST", "/documentclassifiers/{classifier_id}:analyze", "document classifiers"),
    ("GET", "/documentclassifiers/{classifier_id}/analyzeresults/{result_id}", "document classifiers"),
    ("POST", "/documentclassifiers:authorizecopy", "copying classifiers"),
    ("POST", "/documentclassifiers/{classifier_id}:copyto", "copying classifiers"),
)
_init_lock = threading.Lock()


class _State:
    """Per-app v4 state: models, build operations, one trainer thread, ids being built."""

    def __init__(self, request: Request) -> None:
        config = request.app.state.config
        root = config.data_dir / "documentintelligence"
        self.models = V4Models(root / "models")
        self.ops = BuildOperations(root / "operations", config.result_ttl_s)
        self.trainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v4-build")
        self.lock = threading.Lock()
        self.building: set[str] = set()


def _state(request: Request) -> _State:
    st = getattr(request.app.state, "v4", None)
    if st is None:
        with _init_lock:
            st = getattr(request.app.state, "v4", None)
            if st is None:
                st = request.app.state.v4 = _State(request)
    return st


def _prebuilt_details(model_id: str, version: str) -> dict[str, Any]:
    return {"modelId": model_id, "description": PREBUILT_DESCRIPTIONS[model_id],
            "createdDateTime": f"{version}T00:00:00Z", "apiVersion": version, "tags": {}}


def _accepted(url: str, request_id: str) -> Response:
    return Response(status_code=202, headers={"Operation-Location": url, "apim-request-id": request_id})


# -- analyze ----------------------------------------------------------------------------------------
def _engine_ocr(data: bytes) -> dict[str, Any]:
    """How training reads a document that has no `.ocr.json`: the engine's own v2.1 Layout."""
    info = validate_document(data, None, SUPPORTED_V21)
    return analyze_layout(data, info.content_type, api_version="2.1")


Job = Callable[[], dict[str, Any]]


def _layout_job(data: bytes, ctype: str, opts: AnalyzeOptions, model_id: str, d: Dialect,
                version: str) -> Job:
    def work() -> dict[str, Any]:
        v2 = analyze_layout(data, ctype, pages=opts.pages, language=opts.language, api_version="2.1")
        return d.analyze_result(layout_result(v2, model_id=model_id, api_version=version,
                                              string_index_type=opts.string_index_type))
    return work


def _custom_job(data: bytes, ctype: str, opts: AnalyzeOptions, d: Dialect, version: str,
                info: dict[str, Any], params: dict[str, Any]) -> Job:
    model_id = info["details"]["modelId"]

    def work() -> dict[str, Any]:
        layout = analyze_layout(data, ctype, pages=opts.pages, language=opts.language, api_version="2.1")
        images = functools.cache(lambda n: page_image(data, ctype, n))
        v2 = build_result(info["modelInfo"]["modelId"], info, params, layout, True, images)
        converted = convert_layout(layout, model_id=model_id, api_version=version,
                                   string_index_type=opts.string_index_type)
        converted.result["documents"] = documents(v2, converted, model_id, cell_types(params))
        return d.analyze_result(converted.result)
    return work


def _custom_model(request: Request, model_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stored record, learned params) of a built model, or 404 ModelNotFound."""
    models = _state(request).models
    info = models.get(model_id)
    params = models.params(model_id) if info is not None else None
    if info is None or params is None:
        raise model_not_found(model_id)
    return info, params


async def analyze(d: Dialect, request: Request, model_id: str) -> Response:
    version = d.check_version(request)
    custom = None if model_id in PREBUILT_MODELS else _custom_model(request, model_id)
    display = model_id if custom is None else custom[0]["details"]["modelId"]
    opts = parse_options(request)
    data, doc = await read_v4_document(request)
    try:
        check_page_range(opts.pages, doc.page_count)
    except ApiError as exc:
        raise invalid_parameter("pages", exc.message) from None
    work = (_layout_job(data, doc.content_type, opts, display, d, version) if custom is None
            else _custom_job(data, doc.content_type, opts, d, version, *custom))
    try:
        result_id = request.app.state.operations.submit(d.analyze_kind, work, owner=model_id.lower(),
                                                        version=version)
    except ApiError as exc:
        raise from_v2(exc) from None
    log.info("v4 analyze accepted", extra={"result_id": result_id, "model_id": display, "api": version,
                                           "content_type": doc.content_type, "pages": doc.page_count})
    url = f"{d.base_url(request)}/documentModels/{display}/analyzeResults/{result_id}"
    return _accepted(d.with_version(url, version), result_id)


def _model_exists(request: Request, model_id: str) -> bool:
    return model_id in PREBUILT_MODELS or _state(request).models.get(model_id) is not None


async def analyze_result(d: Dialect, request: Request, model_id: str, result_id: str) -> Response:
    d.check_version(request)
    envelope = request.app.state.operations.get(d.analyze_kind, result_id, owner=model_id.lower())
    if envelope is None:
        if not _model_exists(request, model_id):
            raise model_not_found(model_id)
        raise operation_not_found(result_id)
    status = envelope["status"]
    body: dict[str, Any] = {"status": status, "createdDateTime": envelope["createdDateTime"],
                            "lastUpdatedDateTime": envelope["lastUpdatedDateTime"]}
    result = envelope.get("analyzeResult") or {}
    if status == "succeeded":
        body["analyzeResult"] = result
    elif status == "failed":
        first = next(iter(result.get("errors") or []), None)
        body["error"] = (error_from_v2_code(str(first.get("code")), str(first.get("message")))
                         if first else error_object("InternalServerError", "Unknown", "Analysis failed."))
    headers = POLL_AFTER if status in ("notStarted", "running") else {}
    return JSONResponse(body, headers=headers)


# -- models -----------------------------------------------------------------------------------------
async def build_model(d: Dialect, request: Request) -> Response:
    version = d.check_version(request)
    raw = await read_body(request, 1024 * 1024)
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = None
    allowed = request.app.state.config.allowed_hosts
    req = parse_build_request(body, allowed, version)
    st = _state(request)
    key = req.model_id.lower()
    with st.lock:
        if key in st.building:
            raise V4Error(409, "Conflict", "ModelExists", f"A model named '{req.model_id}' is being built.")
        exists = st.models.get(req.model_id) is not None
        if exists and not req.allow_overwrite:
            raise V4Error(409, "Conflict", "ModelExists",
                          f"A model named '{req.model_id}' already exists; set allowOverwrite to replace it.")
        if not exists and st.models.count() >= LIMIT:
            raise V4Error(400, "InvalidRequest", "DocumentModelLimit",
                          f"Account cannot create more than {LIMIT} models.")
        st.building.add(key)
    try:
        record = st.ops.create(req.model_id, version, req.tags)
        st.trainer.submit(_build_job, st, req, record["operationId"], allowed)
    except BaseException:
        st.building.discard(key)
        raise
    log.info("v4 build accepted", extra={"model_id": req.model_id, "operation_id": record["operationId"],
                                         "api": version})
    return _accepted(d.with_version(f"{d.base_url(request)}/operations/{record['operationId']}", version),
                     record["operationId"])


def _build_job(st: _State, req: BuildRequest, operation_id: str, allowed: tuple[str, ...]) -> None:
    try:
        run_build(req, operation_id, st.models, st.ops, allowed, _engine_ocr)
    finally:
        with st.lock:
            st.building.discard(req.model_id.lower())


async def get_model(d: Dialect, request: Request, model_id: str) -> Response:
    version = d.check_version(request)
    if model_id in PREBUILT_MODELS:
        return JSONResponse(_prebuilt_details(model_id, version))
    details = _state(request).models.details(model_id)
    if details is None:
        raise model_not_found(model_id)
    return JSONResponse(d.model_details(details))


async def delete_model(d: Dialect, request: Request, model_id: str) -> Response:
    d.check_version(request)
    if model_id in PREBUILT_MODELS:
        raise V4Error(400, "InvalidRequest", "ModelReadOnly", "The requested model is read-only.")
    st = _state(request)
    if st.models.get(model_id) is None or not st.models.delete(model_id):
        raise model_not_found(model_id)
    return Response(status_code=204)


async def list_models(d: Dialect, request: Request) -> Response:
    version = d.check_version(request)
    value = [_prebuilt_details(m, version) for m in PREBUILT_MODELS]
    value += [d.model_summary(m) for m in _state(request).models.list()]
    return JSONResponse({"value": value})


def neural_builds(models: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """`customNeuralDocumentModelBuilds`: the engine sets no neural build quota, so `quota` is its model
    limit (no more models can be kept), `used` the neural-mode models built this month (UTC) that still
    exist, and the count resets, as the service's does, at the start of next month."""
    month = now.strftime("%Y-%m")
    used = sum(1 for m in models
               if m.get("buildMode") == "neural" and str(m.get("createdDateTime", "")).startswith(month))
    reset = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return {"used": used, "quota": LIMIT, "quotaResetDateTime": reset.strftime("%Y-%m-%dT%H:%M:%SZ")}


async def resource_details(d: Dialect, request: Request) -> Response:
    d.check_version(request)
    models = _state(request).models.list()
    return JSONResponse({"customDocumentModels": {"count": len(models), "limit": LIMIT},
                         "customNeuralDocumentModelBuilds": neural_builds(models, datetime.now(UTC))})


# -- operations -------------------------------------------------------------------------------------
def _render_operation(d: Dialect, request: Request, record: dict[str, Any], version: str,
                      full: bool) -> dict[str, Any]:
    body = {k: record[k] for k in ("operationId", "status", "percentCompleted", "createdDateTime",
                                   "lastUpdatedDateTime", "kind")}
    body["resourceLocation"] = d.with_version(f"{d.base_url(request)}/documentModels/{record['modelId']}",
                                              version)
    body["apiVersion"] = record["apiVersion"]
    if record.get("tags"):
        body["tags"] = record["tags"]
    if full and record["status"] == "succeeded" and "result" in record:
        body["result"] = d.model_details(record["result"])
    if full and record["status"] == "failed" and "error" in record:
        body["error"] = record["error"]
    return body


async def get_operation(d: Dialect, request: Request, operation_id: str) -> Response:
    version = d.check_version(request)
    record = _state(request).ops.get(operation_id)
    if record is None:
        raise operation_not_found(operation_id)
    headers = POLL_AFTER if record["status"] in ("notStarted", "running") else {}
    return JSONResponse(_render_operation(d, request, record, version, full=True), headers=headers)


async def list_operations(d: Dialect, request: Request) -> Response:
    version = d.check_version(request)
    records = _state(request).ops.list()
    return JSONResponse({"value": [_render_operation(d, request, r, version, full=False) for r in records]})


# -- the routes -------------------------------------------------------------------------------------
Handler = Callable[..., Awaitable[Response]]
ROUTES: tuple[tuple[str, str, Handler, int], ...] = (
    ("POST", "/documentmodels/{model_id}:analyze", analyze, 202),
    ("GET", "/documentmodels/{model_id}/analyzeresults/{result_id}", analyze_result, 200),
    ("POST", "/documentmodels:build", build_model, 202),
    ("GET", "/documentmodels/{model_id}", get_model, 200),
    ("DELETE", "/documentmodels/{model_id}", delete_model, 204),
    ("GET", "/documentmodels", list_models, 200),
    ("GET", "/info", resource_details, 200),
    ("GET", "/operations/{operation_id}", get_operation, 200),
    ("GET", "/operations", list_operations, 200),
)


def _endpoint(d: Dialect, handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        return await handler(d, request, **request.path_params)
    return endpoint


def _not_served(what: str) -> Handler:
    async def endpoint(request: Request) -> Response:
        raise not_implemented(request.method, request.url.path, what)
    return endpoint


def make_router(d: Dialect) -> APIRouter:
    """Every route of the dialect under its prefix: the served ones, then those answered 501."""
    router = APIRouter()
    for method, path, handler, status in ROUTES:
        router.add_api_route(d.prefix + path, _endpoint(d, handler), methods=[method], status_code=status)
    for method, path, what in NOT_SERVED:
        router.add_api_route(d.prefix + path, _not_served(what), methods=[method])
    return router


router = make_router(V4)
