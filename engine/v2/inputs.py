"""Read the document of an analyze POST: raw bytes, JSON {"source": url}, or (legacy) multipart.

Shared by the layout and custom-model routes, so every analyze call applies the same limits and errors.
"""

from __future__ import annotations

import json

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from engine.errors import ApiError, bad_argument
from engine.layout.documents import (
    MAX_BYTES,
    SUPPORTED_V21,
    DocumentInfo,
    unsupported_media,
    validate_document,
)
from engine.sources import fetch_source, too_large

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def parse_bool(value: str | bool | None, name: str, default: bool = False) -> bool:
    """Booleans in any case ("true", "True", "TRUE"); anything else is a 400."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ApiError(400, "InvalidParameter", f"The parameter {name} must be true or false, not '{value}'.")


async def read_body(request: Request, limit: int = MAX_BYTES) -> bytes:
    """The body, refusing (without buffering it all) anything over the limit."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_document(request: Request,
                        supported: tuple[str, ...] = SUPPORTED_V21) -> tuple[bytes, DocumentInfo]:
    """Bytes + validated DocumentInfo, or the service's 400/415 error."""
    config = request.app.state.config
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        raw = await read_body(request, 1024 * 1024)
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            raise bad_argument("The JSON body could not be parsed.") from None
        source = payload.get("source") if isinstance(payload, dict) else None
        if not isinstance(source, str) or not source:
            raise bad_argument('The JSON body must be {"source": "<url>"}.')
        data, fetched_type = await run_in_threadpool(fetch_source, source, config.allowed_hosts, MAX_BYTES)
        declared = fetched_type
    elif ctype == "multipart/form-data":
        data, declared = await _first_file(request)
    elif ctype in supported or ctype in ("", "application/octet-stream"):
        data, declared = await read_body(request), ctype or None
    else:
        raise unsupported_media(ctype, supported)
    info = await run_in_threadpool(validate_document, data, declared, supported)
    return data, info


async def _first_file(request: Request) -> tuple[bytes, str | None]:
    """The 2019 Feedback Loop samples posted the file as multipart (field `analyzeFile`, or any file)."""
    form = await request.form(max_files=1, max_fields=10, max_part_size=MAX_BYTES)
    for value in form.values():
        if hasattr(value, "read"):
            data = await value.read()
            if len(data) > MAX_BYTES:
                raise too_large(MAX_BYTES)
            return data, getattr(value, "content_type", None)
    raise bad_argument("The multipart body holds no file.")
