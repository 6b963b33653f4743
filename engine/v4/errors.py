"""Errors in the v4.0 shape {"error": {code, message, innererror: {code, message}, details?}}.

The shared code (inputs, documents, layout, sources) raises v2-style ApiErrors; `from_v2` maps them onto the
v4 error table (learn.microsoft.com, "Error guide v4.0, v3.1, and v3.0") so a v4 client never sees a v2 code.
"""

from __future__ import annotations

from typing import Any

from engine.errors import ApiError

TOP_MESSAGES = {
    "InvalidRequest": "Invalid request.",
    "InvalidArgument": "Invalid argument.",
    "Forbidden": "Access forbidden due to policy or other configuration.",
    "NotFound": "Resource not found.",
    "Conflict": "The request could not be completed due to a conflict.",
    "UnsupportedMediaType": "Request content type is not supported.",
    "InternalServerError": "An unexpected error occurred.",
    "NotImplemented": "This engine does not implement the requested operation.",
}
_STATUS_TOP = {400: "InvalidRequest", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
               415: "UnsupportedMediaType", 500: "InternalServerError"}
# v2 code -> (top code, inner code); the status stays the v2 one.
_FROM_V2 = {
    "InvalidImage": ("InvalidRequest", "InvalidContent"),
    "2005": ("InvalidRequest", "InvalidContent"),
    "InvalidImageSize": ("InvalidRequest", "InvalidContentLength"),
    "InvalidImageDimension": ("InvalidRequest", "InvalidContentDimensions"),
    "UnsupportedXfaForm": ("InvalidRequest", "UnsupportedContent"),
    "UnsupportedMediaType": ("UnsupportedMediaType", None),
    "InvalidPageRange": ("InvalidArgument", "InvalidParameter"),
    "InvalidParameter": ("InvalidArgument", "InvalidParameter"),
    "NotSupportedLanguage": ("InvalidArgument", "InvalidParameter"),
    "BadArgument": ("InvalidArgument", "InvalidParameter"),
    "2001": ("InvalidRequest", "ContentSourceNotAccessible"),
    "InternalServerError": ("InternalServerError", "Unknown"),
}


class V4Error(ApiError):
    """An ApiError whose body carries the v4 innererror (and optional details)."""

    def __init__(self, status: int, code: str, inner_code: str | None, message: str,
                 headers: dict[str, str] | None = None, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(status, code, message, headers)
        self.inner_code = inner_code
        self.details = details or []

    def error(self) -> dict[str, Any]:
        """The `error` object alone (also what a failed operation carries)."""
        return error_object(self.code, self.inner_code, self.message, self.details)

    def body(self) -> dict[str, Any]:
        return {"error": self.error()}


def error_object(code: str, inner_code: str | None, message: str,
                 details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The top message is the table's generic one and the specific one goes to innererror, as the
    service writes them."""
    top_message = TOP_MESSAGES.get(code, message) if inner_code else message
    out: dict[str, Any] = {"code": code, "message": top_message}
    if inner_code:
        out["innererror"] = {"code": inner_code, "message": message}
    if details:
        out["details"] = details
    return out


def from_v2(err: ApiError) -> ApiError:
    """The same failure in v4 words; a V4Error passes through, 401/429/503 keep the gateway's own shape."""
    if isinstance(err, V4Error) or err.status in (401, 429, 503):
        return err
    top, inner = _FROM_V2.get(err.code, (_STATUS_TOP.get(err.status, "InvalidRequest"), err.code))
    return V4Error(err.status, top, inner, err.message, err.headers)


def error_from_v2_code(code: str, message: str) -> dict[str, Any]:
    """A failed operation's v2 `errors[0]` as a v4 `error` object."""
    fallback = ("InternalServerError" if code.startswith("5") else "InvalidRequest", code)
    top, inner = _FROM_V2.get(code, fallback)
    return error_object(top, inner, message)


def parameter_missing(name: str) -> V4Error:
    return V4Error(400, "InvalidArgument", "ParameterMissing", f"The parameter {name} is required.")


def invalid_parameter(name: str, detail: str) -> V4Error:
    return V4Error(400, "InvalidArgument", "InvalidParameter", f"The parameter {name} is invalid: {detail}")


def model_not_found(model_id: str) -> V4Error:
    if model_id.lower().startswith("prebuilt-"):
        return V4Error(404, "NotFound", "ModelNotFound",
                       f"The requested model '{model_id}' was not found: this engine serves the prebuilt "
                       "models prebuilt-layout and prebuilt-read, and the custom models built on it.")
    return V4Error(404, "NotFound", "ModelNotFound",
                   f"The requested model '{model_id}' was not found. It may have been deleted or is still "
                   "building.")


def not_implemented(method: str, path: str, what: str) -> V4Error:
    """A route the service has and this engine does not serve: 501, never a 404 or 405 that would read as
    a missing model or a client mistake (azure-core does not retry a 501)."""
    return V4Error(501, "NotImplemented", "OperationNotSupported",
                   f"{method} {path}: {what} is not supported by this engine (docs/engine.md lists what it "
                   "serves).")


def operation_not_found(operation_id: str) -> V4Error:
    return V4Error(404, "NotFound", "OperationNotFound",
                   f"The requested operation '{operation_id}' was not found. The identifier may be invalid "
                   "or the operation may have expired.")
