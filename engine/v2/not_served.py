"""The v2.x routes the service has and this engine does not implement: answered 501 `NotImplemented`.

Without these, `POST .../custom/models/compose` and `.../copyAuthorization` met the GET route of
`custom/models/{modelId}` and answered 405, and the others the gateway's 404, which an SDK reports as a
missing resource. A 501 says what is missing (azure-core does not retry it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response

from engine.errors import ApiError
from engine.v2.layout_routes import api_version

router = APIRouter()
BASE = "/formrecognizer/{version}"
PREBUILT = "prebuilt models (receipts, invoices, business cards, ID documents)"
NOT_SERVED = (
    ("POST", "/custom/models/compose", "composing models"),
    ("POST", "/custom/models/copyauthorization", "copying models"),
    ("POST", "/custom/models/{model_id}/copy", "copying models"),
    ("GET", "/custom/models/{model_id}/copyresults/{result_id}", "copying models"),
    ("POST", "/prebuilt/{kind}/analyze", PREBUILT),
    ("GET", "/prebuilt/{kind}/analyzeresults/{result_id}", PREBUILT),
)


def _endpoint(what: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        api_version(request.path_params["version"])  # an unknown version is the gateway's 404
        raise ApiError(501, "NotImplemented", f"{request.method} {request.url.path}: {what} is not supported "
                       "by this engine (docs/engine.md lists what it serves).")
    return endpoint


for _method, _path, _what in NOT_SERVED:
    router.add_api_route(BASE + _path, _endpoint(_what), methods=[_method])
