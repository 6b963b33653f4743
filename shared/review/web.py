"""The review app's own request and response, free of any trigger, and the errors a handler raises.

Why not `azure.functions.HttpRequest` throughout: the handlers are then testable (and scriptable)
without the Functions library's objects; shared/triggers/review.py converts at the edge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SECURITY_HEADERS", "ApiError", "Request", "Response", "json_response"]

# No inline script or style anywhere: form text cannot become code, whatever a form contains.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' blob:; connect-src 'self'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class ApiError(Exception):
    """A request the app refuses: its status and a message meant for the person (or script) asking."""

    def __init__(self, status: int, code: str, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


@dataclass
class Request:
    method: str
    path: str  # below /api/review/, without a leading slash
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    url: str = ""  # as the client asked, for the same-origin check

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def cookie(self, name: str) -> str:
        for part in self.header("cookie").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return ""

    def param(self, name: str) -> str:
        value = self.query.get(name, "")
        if not value:
            raise ApiError(400, "MissingParameter", f"the query parameter '{name}' is required")
        return value

    def json(self, limit: int) -> Any:
        if len(self.body) > limit:
            raise ApiError(413, "TooLarge", f"the request body is larger than the limit of {limit} bytes")
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ApiError(400, "InvalidJson", f"the request body is not JSON: {exc}") from exc


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)  # Set-Cookie values


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8",
                                   "Cache-Control": "no-store", **(headers or {})})
