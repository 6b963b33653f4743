"""Layout routes: v2.1, v2.0 (+ v2.0-preview, v2.1 previews) and the 2019 `readLayout/asyncAnalyze` pair.

Paths arrive lowercased (see app.GatewayMiddleware), so every route is declared in lowercase.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from engine.errors import ApiError
from engine.layout.analyze import analyze_layout, check_page_range, parse_pages
from engine.layout.documents import SUPPORTED_V20, SUPPORTED_V21
from engine.ocr import default_engine
from engine.ocr.tesseract import LANGUAGE_MAP
from engine.v2.inputs import read_document

router = APIRouter()
log = logging.getLogger("engine.layout.analyze")

KIND = "layout"
V21_PREFIXES = ("v2.1", "v2.1-preview.1", "v2.1-preview.2", "v2.1-preview.3")
V20_PREFIXES = ("v2.0", "v2.0-preview")


def api_version(version: str) -> str:
    """URL version segment -> "2.1" | "2.0"; unknown -> 404 as the cloud answers unknown paths."""
    if version in V21_PREFIXES:
        return "2.1"
    if version in V20_PREFIXES:
        return "2.0"
    raise ApiError(404, "404", "Resource not found.")


def _check_language(language: str | None) -> str | None:
    if language is None or language == "":
        return None
    if language.lower() not in LANGUAGE_MAP or not default_engine().supports_language(language):
        raise ApiError(400, "NotSupportedLanguage",
                       "The requested operation is not supported in the language specified.")
    return language


def _check_reading_order(value: str | None) -> None:
    if value and value.lower() not in ("basic", "natural"):
        raise ApiError(400, "InvalidParameter", f"readingOrder must be basic or natural, not '{value}'.")


async def _submit(request: Request, api: str) -> str:
    q = request.query_params
    pages = parse_pages(q.get("pages"))
    language = _check_language(q.get("language"))
    _check_reading_order(q.get("readingorder") or q.get("readingOrder"))
    data, info = await read_document(request, SUPPORTED_V21 if api == "2.1" else SUPPORTED_V20)
    check_page_range(pages, info.page_count)

    def work() -> dict:
        return analyze_layout(data, info.content_type, pages=pages, language=language, api_version=api)

    result_id = request.app.state.operations.submit(KIND, work, version="2.1.0" if api == "2.1" else "2.0.0")
    log.info("layout accepted", extra={"result_id": result_id, "content_type": info.content_type,
                                       "pages": info.page_count, "bytes": len(data), "api": api})
    return result_id


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post("/formrecognizer/{version}/layout/analyze", status_code=202)
async def analyze(version: str, request: Request) -> Response:
    api = api_version(version)
    result_id = await _submit(request, api)
    url = f"{_base(request)}/formrecognizer/{version}/layout/analyzeResults/{result_id}"
    return Response(status_code=202, headers={"Operation-Location": url, "apim-request-id": result_id})


@router.get("/formrecognizer/{version}/layout/analyzeresults/{result_id}")
async def analyze_result(version: str, result_id: str, request: Request) -> JSONResponse:
    api_version(version)
    envelope = request.app.state.operations.get(KIND, result_id)
    if envelope is None:
        raise ApiError(404, "NotFound", f"The result '{result_id}' was not found or has expired.")
    return JSONResponse(envelope)


# -- the 2019 Feedback Loop container routes ------------------------------------------------------
_LEGACY_STATUS = {"notStarted": "NotStarted", "running": "Running", "succeeded": "Succeeded",
                  "failed": "Failed"}


def _legacy_ts(ts: str) -> str:
    """"2021-05-25T18:10:30Z" -> "2021-05-25T18:10:30.0000000+00:00", as that container wrote them."""
    return ts[:-1] + ".0000000+00:00" if ts.endswith("Z") else ts


@router.post("/formrecognizer/v2.0-preview/readlayout/asyncanalyze", status_code=202)
async def legacy_analyze(request: Request) -> Response:
    result_id = await _submit(request, "2.0")
    url = f"{_base(request)}/formrecognizer/v2.0-preview/readLayout/asyncAnalyzeOperations/{result_id}"
    return Response(status_code=202, headers={"Location": url, "Operation-Location": url,
                                              "apim-request-id": result_id})


@router.get("/formrecognizer/v2.0-preview/readlayout/asyncanalyzeoperations/{result_id}")
async def legacy_result(result_id: str, request: Request) -> JSONResponse:
    envelope = request.app.state.operations.get(KIND, result_id)
    if envelope is None:
        raise ApiError(404, "NotFound", f"The operation '{result_id}' was not found or has expired.")
    body = dict(envelope)
    body["status"] = _LEGACY_STATUS.get(body["status"], body["status"])
    body["createdDateTime"] = _legacy_ts(body["createdDateTime"])
    body["lastUpdatedDateTime"] = _legacy_ts(body["lastUpdatedDateTime"])
    if "analyzeResult" in body:
        body["analyzeResult"] = dict(body["analyzeResult"], version="2.0")
    return JSONResponse(body)
