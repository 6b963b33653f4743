"""The document and options of a v4 `:analyze` call.

Body: the raw bytes (the SDK sends `application/octet-stream`; the real type comes from the magic bytes)
or JSON `{"urlSource": ...}` / `{"base64Source": ...}`. The limits, the type sniffing and the URL fetching
are the v2.1 routes' own (engine.v2.inputs, engine.layout.documents, engine.sources), their errors
re-worded for v4.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from engine.errors import ApiError
from engine.layout.analyze import parse_pages
from engine.layout.documents import MAX_BYTES, SUPPORTED_V21, DocumentInfo, validate_document
from engine.ocr import default_engine
from engine.ocr.tesseract import LANGUAGE_MAP
from engine.sources import fetch_source
from engine.v2.inputs import read_body, read_document
from engine.v4.convert.text_index import STRING_INDEX_TYPES
from engine.v4.errors import V4Error, from_v2, invalid_parameter, parameter_missing
from engine.v4.url_check import check_url

# A base64 document of MAX_BYTES plus the JSON around it.
MAX_JSON_BYTES = MAX_BYTES * 4 // 3 + 64 * 1024
# Features accepted although they change nothing in what the engine returns: high resolution (pages
# are read at their own resolution anyway) and font styles (the engine reports none: `styles` holds
# handwriting only; docs/engine.md says so). Every other add-on is refused rather than silently ignored.
ACCEPTED_FEATURES = ("ocrHighResolution", "styleFont")


@dataclass
class AnalyzeOptions:
    pages: list[int] | None
    language: str | None
    string_index_type: str


def _language(locale: str | None) -> str | None:
    """`locale` (en, en-US, de-DE, zh-Hans) -> a language the installed OCR reads; else 400."""
    if not locale:
        return None
    for candidate in (locale.lower(), locale.split("-")[0].lower()):
        if candidate in LANGUAGE_MAP and default_engine().supports_language(candidate):
            return candidate
    raise invalid_parameter("locale", f"'{locale}' is not a language this engine's OCR has installed.")


def parse_options(request: Request) -> AnalyzeOptions:
    q = request.query_params
    try:
        pages = parse_pages(q.get("pages"))
    except ApiError as exc:
        raise invalid_parameter("pages", exc.message) from None
    index_type = q.get("stringIndexType") or "textElements"
    if index_type not in STRING_INDEX_TYPES:
        raise invalid_parameter("stringIndexType", f"must be one of {', '.join(STRING_INDEX_TYPES)}.")
    features = [f for f in (q.get("features") or "").split(",") if f.strip()]
    unsupported = [f for f in features if f.strip() not in ACCEPTED_FEATURES]
    if unsupported:
        raise invalid_parameter("features", f"{', '.join(unsupported)} not supported by this engine.")
    if q.get("queryFields"):
        raise invalid_parameter("queryFields", "query fields are not supported by this engine.")
    content_format = q.get("outputContentFormat") or "text"
    if content_format != "text":
        raise invalid_parameter("outputContentFormat", "this engine writes text content only.")
    if q.get("output"):
        raise invalid_parameter("output", "additional outputs (pdf, figures) are not supported here.")
    return AnalyzeOptions(pages=pages, language=_language(q.get("locale")), string_index_type=index_type)


def _bad_source(detail: str) -> V4Error:
    return V4Error(400, "InvalidArgument", "InvalidContentSourceFormat", f"Invalid content source: {detail}")


async def _from_json(request: Request) -> tuple[bytes, str | None]:
    raw = await read_body(request, MAX_JSON_BYTES)
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise _bad_source("the JSON body could not be parsed.") from None
    if not isinstance(body, dict):
        raise _bad_source('the body must be {"urlSource": ...} or {"base64Source": ...}.')
    url, b64 = body.get("urlSource"), body.get("base64Source")
    if url is None and b64 is None:
        raise parameter_missing("urlSource or base64Source")
    if url is not None and b64 is not None:
        raise _bad_source("give urlSource or base64Source, not both.")
    if b64 is not None:
        if not isinstance(b64, str):
            raise _bad_source("base64Source must be a base64 string.")
        try:
            return base64.b64decode(b64, validate=True), None
        except (binascii.Error, ValueError):
            raise _bad_source("base64Source is not valid base64.") from None
    allowed = request.app.state.config.allowed_hosts
    check_url(url, allowed, "urlSource")
    return await run_in_threadpool(fetch_source, url, allowed, MAX_BYTES)


async def read_v4_document(request: Request) -> tuple[bytes, DocumentInfo]:
    """Bytes + validated DocumentInfo, or the service's v4 error."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    try:
        if ctype != "application/json":
            return await read_document(request, SUPPORTED_V21)
        data, declared = await _from_json(request)
        return data, await run_in_threadpool(validate_document, data, declared, SUPPORTED_V21)
    except ApiError as exc:
        raise from_v2(exc) from None
