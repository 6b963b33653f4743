"""The one exception type every engine module raises for a client-visible error.

Routes never build error bodies by hand: raising ApiError anywhere ends in the service's own
body shape {"error": {"code", "message"}} with the right status (see app.py).
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answered with the service's body {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status: int = status
        self.code: str = code
        self.message: str = message
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def invalid_image(detail: str = "") -> ApiError:
    """The cloud's answer for corrupt, truncated or password-protected input."""
    msg = "The input data is not a valid image or password protected."
    return ApiError(400, "InvalidImage", f"{msg} {detail}".strip())


def bad_argument(detail: str) -> ApiError:
    msg = "Bad or unrecognizable request JSON or binary file."
    return ApiError(400, "BadArgument", f"{msg} {detail}".strip())
