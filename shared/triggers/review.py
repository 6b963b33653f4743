"""The review page's HTTP trigger (`/api/review/{*path}`): the Functions request in, the app's response
out; everything between is shared/review/routes.py, which knows nothing of the Functions library."""

from __future__ import annotations

import azure.functions as func

from shared import runtime
from shared.review.routes import handle
from shared.review.web import Request

__all__ = ["on_review"]


def on_review(req: func.HttpRequest) -> func.HttpResponse:
    settings = runtime.settings()
    request = Request(method=req.method.upper(), path=str(req.route_params.get("path") or ""),
                      query={k: v for k, v in req.params.items()},
                      headers={k.lower(): v for k, v in req.headers.items()},
                      body=req.get_body() or b"", url=req.url)
    response = handle(settings, runtime.records_for, request)
    out = func.HttpResponse(body=response.body, status_code=response.status, headers=response.headers)
    for cookie in response.cookies:  # one header each: a joined Set-Cookie is not what browsers read
        out.headers.add("Set-Cookie", cookie)
    return out
