"""Custom-model routes: train, get, list, delete, analyze (v2.1, v2.0, v2.0-preview) and the 2019
Feedback Loop `custom/asyncTrain` / `models/{id}/asyncAnalyze` routes.

Paths arrive lowercased (engine.app), so routes are declared in lowercase.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from engine.custom.results import build_result
from engine.custom.source import ContainerSource
from engine.custom.store import MODEL_LIMIT, ModelStore
from engine.custom.training import TrainingOutcome, run_training
from engine.errors import ApiError, bad_argument
from engine.layout.analyze import analyze_layout, check_page_range, page_image, parse_pages
from engine.layout.documents import SUPPORTED_V20, SUPPORTED_V21, validate_document
from engine.operations import utc_now
from engine.sources import check_source_url
from engine.v2.inputs import parse_bool, read_body, read_document
from engine.v2.layout_routes import api_version

log = logging.getLogger("engine.custom")
router = APIRouter()
KIND = "custom"
LEGACY_KIND = "customlegacy"
_init_lock = threading.Lock()


class _State:
    """Per-app custom-model state: the store and one training worker (training is CPU-bound)."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.trainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="train")


def _state(request: Request) -> _State:
    app_state = request.app.state
    st = getattr(app_state, "custom_models", None)
    if st is None:
        with _init_lock:
            st = getattr(app_state, "custom_models", None)
            if st is None:
                st = _State(ModelStore(app_state.config.data_dir / "models"))
                _recover(st.store)
                app_state.custom_models = st
    return st


def _recover(store: ModelStore) -> None:
    """A model still `creating` after a restart lost its training thread: it becomes invalid, clearly."""
    for info in store.list():
        mi = info.get("modelInfo", {})
        if mi.get("status") == "creating":
            mi["status"] = "invalid"
            mi["lastUpdatedDateTime"] = utc_now()
            info["trainResult"] = {"trainingDocuments": [], "errors": [
                {"code": "InternalServerError",
                 "message": "Training was interrupted by an engine restart; train again."}]}
            store.update(mi["modelId"], info)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _not_found(model_id: str) -> ApiError:
    return ApiError(404, "1022", f"Model with 'id={model_id}' not found.")


def _get_info(request: Request, model_id: str) -> dict[str, Any]:
    info = _state(request).store.get(model_id.lower())
    if info is None:
        raise _not_found(model_id)
    return info


# -- rendering --------------------------------------------------------------------------------------
def model_info(info: dict[str, Any], api: str) -> dict[str, Any]:
    mi = dict(info["modelInfo"])
    if api == "2.0":
        mi.pop("modelName", None)
        mi.pop("attributes", None)
    elif not mi.get("modelName"):
        mi.pop("modelName", None)
    return mi


def render_model(info: dict[str, Any], api: str, include_keys: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"modelInfo": model_info(info, api)}
    if info.get("kind") == "unlabeled" and include_keys and info.get("keys") is not None:
        body["keys"] = info["keys"]
    tr = info.get("trainResult")
    if tr is not None and info["modelInfo"]["status"] != "creating":
        tr = dict(tr)
        if api != "2.0":
            tr["modelId"] = info["modelInfo"]["modelId"]
        body["trainResult"] = tr
    return body


# -- training ---------------------------------------------------------------------------------------
def _coerce_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if isinstance(value, str):
        return parse_bool(value, name)
    raise bad_argument(f"{name} must be a boolean.")


async def _parse_train_request(request: Request) -> dict[str, Any]:
    raw = await read_body(request, 1024 * 1024)
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise bad_argument("The JSON body could not be parsed.") from None
    if not isinstance(body, dict):
        raise bad_argument("The body must be a JSON object.")
    source = body.get("source")
    if not isinstance(source, str) or not source:
        raise ApiError(400, "2001", "The 'source' of the training request is missing.")
    check_source_url(source, request.app.state.config.allowed_hosts)
    sf = body.get("sourceFilter") or {}
    if not isinstance(sf, dict):
        raise bad_argument("sourceFilter must be an object.")
    prefix = sf.get("prefix") or ""
    if not isinstance(prefix, str) or len(prefix) > 1024:
        raise bad_argument("sourceFilter.prefix must be a string of at most 1024 characters.")
    name = body.get("modelName") or ""
    if not isinstance(name, str) or len(name) > 1024:
        raise bad_argument("modelName must be a string of at most 1024 characters.")
    return {"source": source, "prefix": prefix,
            "include_subfolders": _coerce_bool(sf.get("includeSubFolders"), "includeSubFolders"),
            "use_labels": _coerce_bool(body.get("useLabelFile"), "useLabelFile"), "model_name": name}


def _ocr_for(api: str):  # type: ignore[no-untyped-def]
    def ocr(data: bytes) -> dict[str, Any]:
        info = validate_document(data, None, SUPPORTED_V21)
        return analyze_layout(data, info.content_type, api_version=api)
    return ocr


def _train_job(store: ModelStore, model_id: str, req: dict[str, Any], allowed: tuple[str, ...],
               api: str) -> None:
    started = time.perf_counter()
    try:
        source = ContainerSource(req["source"], allowed)
        outcome = run_training(source, req["prefix"], req["include_subfolders"], req["use_labels"],
                               _ocr_for(api), req["model_name"],
                               image_fn=lambda data, n: page_image(data, None, n))
    except ApiError as exc:
        outcome = TrainingOutcome("invalid", {"trainingDocuments": [], "errors": [
            {"code": exc.code, "message": exc.message}]})
    except Exception as exc:  # storage unreachable, bad SAS, ...: the model says why
        log.warning("training failed", exc_info=True, extra={"model_id": model_id})
        outcome = TrainingOutcome("invalid", {"trainingDocuments": [], "errors": [
            {"code": "2012",
             "message": f"Unable to list or read blobs of the training source: {_brief(exc)}"}]})
    info = store.get(model_id)
    if info is None:
        return  # deleted while training
    info["modelInfo"]["status"] = outcome.status
    info["modelInfo"]["lastUpdatedDateTime"] = utc_now()
    info["trainResult"] = outcome.train_result
    if outcome.keys is not None:
        info["keys"] = outcome.keys
    store.update(model_id, info, outcome.params if outcome.status == "ready" else None)
    log.info("operation finished", extra={"model_id": model_id, "kind": "train", "status": outcome.status,
                                          "documents": len(outcome.train_result.get("trainingDocuments", [])),
                                          "seconds": round(time.perf_counter() - started, 3)})


def _brief(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


def _start_training(request: Request, req: dict[str, Any], api: str) -> str:
    st = _state(request)
    if len(st.store.list()) >= MODEL_LIMIT:
        raise ApiError(400, "1007", f"The number of models has reached the limit of {MODEL_LIMIT}.")
    model_id = str(uuid.uuid4())
    now = utc_now()
    mi: dict[str, Any] = {"modelId": model_id, "status": "creating", "createdDateTime": now,
                          "lastUpdatedDateTime": now}
    if req["model_name"]:
        mi["modelName"] = req["model_name"]
    if req["use_labels"]:
        mi["attributes"] = {"isComposed": False}
    st.store.create(model_id, {"modelInfo": mi, "kind": "labeled" if req["use_labels"] else "unlabeled",
                               "apiVersion": api})
    st.trainer.submit(_train_job, st.store, model_id, req, request.app.state.config.allowed_hosts, api)
    return model_id


@router.post("/formrecognizer/{version}/custom/models", status_code=201)
async def train_model(version: str, request: Request) -> Response:
    api = api_version(version)
    req = await _parse_train_request(request)
    if api == "2.0":
        req["model_name"] = ""
    model_id = _start_training(request, req, api)
    return Response(status_code=201, headers={
        "Location": f"{_base(request)}/formrecognizer/{version}/custom/models/{model_id}"})


@router.get("/formrecognizer/{version}/custom/models")
async def list_models(version: str, request: Request) -> JSONResponse:
    api = api_version(version)
    op = (request.query_params.get("op") or "full").lower()
    if op not in ("full", "summary"):
        raise ApiError(400, "BadArgument", f"op must be full or summary, not '{op}'.")
    infos = _state(request).store.list()
    last = max((i["modelInfo"].get("lastUpdatedDateTime", "") for i in infos), default=utc_now())
    summary = {"count": len(infos), "limit": MODEL_LIMIT, "lastUpdatedDateTime": last}
    if op == "summary":
        return JSONResponse({"summary": summary})
    return JSONResponse({"summary": summary, "modelList": [model_info(i, api) for i in infos],
                         "nextLink": ""})


@router.get("/formrecognizer/{version}/custom/models/{model_id}")
async def get_model(version: str, model_id: str, request: Request) -> JSONResponse:
    api = api_version(version)
    q = request.query_params
    include_keys = parse_bool(q.get("includekeys") or q.get("includeKeys"), "includeKeys")
    return JSONResponse(render_model(_get_info(request, model_id), api, include_keys))


@router.delete("/formrecognizer/{version}/custom/models/{model_id}", status_code=204)
async def delete_model(version: str, model_id: str, request: Request) -> Response:
    api_version(version)
    if not _state(request).store.delete(model_id.lower()):
        raise _not_found(model_id)
    return Response(status_code=204)


# -- analyze ----------------------------------------------------------------------------------------
async def _submit_analyze(request: Request, model_id: str, api: str, kind: str, owner: str) -> str:
    st = _state(request)
    model_id = model_id.lower()
    info = st.store.get(model_id)
    if info is None:
        raise _not_found(model_id)
    params = st.store.params(model_id) if info["modelInfo"]["status"] == "ready" else None
    if params is None:
        raise ApiError(400, "1001", f"Specified model not found or not ready, Model Id: {model_id}")
    q = request.query_params
    include_text = parse_bool(q.get("includetextdetails") or q.get("includeTextDetails"),
                              "includeTextDetails")
    pages = parse_pages(q.get("pages")) if api == "2.1" else None
    data, doc = await read_document(request, SUPPORTED_V21 if api == "2.1" else SUPPORTED_V20)
    check_page_range(pages, doc.page_count)

    def work() -> dict[str, Any]:
        layout = analyze_layout(data, doc.content_type, pages=pages, api_version=api)
        return build_result(model_id, info, params, layout, include_text,
                            functools.cache(lambda n: page_image(data, doc.content_type, n)))

    return request.app.state.operations.submit(kind, work, owner=owner,
                                               version="2.1.0" if api == "2.1" else "2.0.0")


@router.post("/formrecognizer/{version}/custom/models/{model_id}/analyze", status_code=202)
async def analyze(version: str, model_id: str, request: Request) -> Response:
    api = api_version(version)
    result_id = await _submit_analyze(request, model_id, api, KIND, model_id.lower())
    base = f"{_base(request)}/formrecognizer/{version}/custom/models/{model_id.lower()}"
    url = f"{base}/analyzeresults/{result_id}"
    return Response(status_code=202, headers={"Operation-Location": url, "apim-request-id": result_id})


@router.get("/formrecognizer/{version}/custom/models/{model_id}/analyzeresults/{result_id}")
async def analyze_result(version: str, model_id: str, result_id: str, request: Request) -> JSONResponse:
    api_version(version)
    envelope = request.app.state.operations.get(KIND, result_id, owner=model_id.lower())
    if envelope is None:
        if _state(request).store.get(model_id.lower()) is None:
            raise _not_found(model_id)
        raise ApiError(404, "NotFound", f"The result '{result_id}' was not found or has expired.")
    return JSONResponse(envelope)


# -- the 2019 Feedback Loop routes ------------------------------------------------------------------
_LEGACY_STATUS = {"creating": "Running", "ready": "Succeeded", "invalid": "Failed",
                  "notStarted": "NotStarted", "running": "Running", "succeeded": "Succeeded",
                  "failed": "Failed"}
_LEGACY_DOC_STATUS = {"succeeded": "Success", "partiallySucceeded": "PartialSuccess", "failed": "Failure"}


@router.post("/formrecognizer/v2.0-preview/custom/asynctrain", status_code=201)
@router.post("/formrecognizer/v2.0-preview/asynctrain", status_code=201)
async def legacy_train(request: Request) -> Response:
    req = await _parse_train_request(request)
    req["model_name"] = ""
    model_id = _start_training(request, req, "2.0")
    base = f"{_base(request)}/formrecognizer/v2.0-preview"
    return Response(status_code=201, headers={
        "Location": f"{base}/custom/models/{model_id}",
        "Operation-Location": f"{base}/asyncTrainOperations/{model_id}"})


@router.get("/formrecognizer/v2.0-preview/asynctrainoperations/{model_id}")
@router.get("/formrecognizer/v2.0-preview/custom/asynctrainoperations/{model_id}")
async def legacy_train_status(model_id: str, request: Request) -> JSONResponse:
    info = _get_info(request, model_id)
    body = render_model(info, "2.0", include_keys=True)
    mi = info["modelInfo"]
    body.update({"status": _LEGACY_STATUS[mi["status"]], "createdDateTime": mi["createdDateTime"],
                 "lastUpdatedDateTime": mi["lastUpdatedDateTime"]})
    tr = body.get("trainResult")
    if tr is not None:
        tr = dict(tr, modelId=mi["modelId"])
        tr["trainingDocuments"] = [dict(d, status=_LEGACY_DOC_STATUS[d["status"]])
                                   for d in tr.get("trainingDocuments", [])]
        if "fields" in tr:
            tr["trainingFields"] = {"fields": tr["fields"],
                                    "averageModelAccuracy": tr.get("averageModelAccuracy")}
        body["trainResult"] = tr
    return JSONResponse(body)


@router.post("/formrecognizer/v2.0-preview/models/{model_id}/asyncanalyze", status_code=202)
@router.post("/formrecognizer/v2.0-preview/models/{model_id}/asyncanalyze/", status_code=202)
async def legacy_analyze(model_id: str, request: Request) -> Response:
    result_id = await _submit_analyze(request, model_id, "2.0", LEGACY_KIND, "")
    url = f"{_base(request)}/formrecognizer/v2.0-preview/models/asyncAnalyzeOperations/{result_id}"
    return Response(status_code=202, headers={"Operation-Location": url, "apim-request-id": result_id})


@router.get("/formrecognizer/v2.0-preview/models/asyncanalyzeoperations/{result_id}")
async def legacy_analyze_result(result_id: str, request: Request) -> JSONResponse:
    envelope = request.app.state.operations.get(LEGACY_KIND, result_id)
    if envelope is None:
        raise ApiError(404, "NotFound", f"The operation '{result_id}' was not found or has expired.")
    body = dict(envelope, status=_LEGACY_STATUS.get(envelope["status"], envelope["status"]))
    ar = envelope.get("analyzeResult")
    if ar is not None:
        docs = []
        for d in ar.get("documentResults", []):
            fields = {}
            for name, f in d.get("fields", {}).items():
                if f is not None:
                    f = dict(f)
                    f["pageNumber"] = f.pop("page", 1)
                fields[name] = f
            docs.append({"docType": "Analyze ", "pageRange": d.get("pageRange"), "fields": fields})
        body["analyzeResult"] = dict(ar, version="2.0", documentResults=docs)
    return JSONResponse(body)
