"""Who may use the review page: every request proves it, and a misconfiguration refuses everyone.

Two modes (REVIEW_AUTH):
- `token` (local): `formloop up` prints the page's URL with a random token; the first visit trades it
  for an HttpOnly, SameSite=Strict cookie. A script sends `Authorization: Bearer <token>` instead.
- `entra` (Azure): a signed session cookie from the Entra ID sign-in (shared/review/signin.py), or a
  bearer ID token from the tenant; both must carry the app role REVIEW_ROLE.
Requests that change something and ride on a cookie must also come from the page's own origin (the
Origin header, or Sec-Fetch-Site), so another site cannot make a signed-in browser save labels.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.review.signin import SESSION_COOKIE, entra_problem, principal_from_bearer, principal_from_session
from shared.review.web import ApiError, Request, Response
from shared.settings import Settings

__all__ = ["TOKEN_COOKIE", "Principal", "check_access", "token_login"]

TOKEN_COOKIE = "formloop_review"
SAFE_METHODS = ("GET", "HEAD")
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class Principal:
    name: str
    via: str  # token-cookie | token-bearer | entra-session | entra-bearer


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_origin(req: Request) -> bool:
    origin = req.header("origin")
    if origin:
        return origin.lower() == _origin(req.url)
    return req.header("sec-fetch-site") == "same-origin"


def _token_problem(settings: Settings) -> str:
    if len(settings.review_token) < MIN_TOKEN_CHARS:
        return (f"REVIEW_TOKEN is not set (or shorter than {MIN_TOKEN_CHARS} characters): start the stack "
                "with `formloop up`, which makes one and prints the page's address")
    return ""


def _bearer(req: Request) -> str:
    scheme, _, value = req.header("authorization").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def check_access(settings: Settings, req: Request) -> Principal:
    """The verified principal of the request, or ApiError (401 none, 403 wrong, 503 misconfigured)."""
    problem = _token_problem(settings) if settings.review_auth == "token" else entra_problem(settings)
    if problem:
        raise ApiError(503, "NotConfigured", f"the review page is closed: {problem}")
    bearer = _bearer(req)
    if settings.review_auth == "token":
        if bearer:
            if hmac.compare_digest(bearer.encode(), settings.review_token.encode()):
                return Principal("token holder", "token-bearer")
            raise ApiError(401, "BadToken", "the bearer token is not this stack's review token")
        cookie = req.cookie(TOKEN_COOKIE)
        if not cookie or not hmac.compare_digest(cookie.encode(), settings.review_token.encode()):
            raise ApiError(401, "NoToken", "open the review page with the address `formloop up` printed "
                                           "(it carries the token)")
        principal = Principal("token holder", "token-cookie")
    else:
        if bearer:
            name = principal_from_bearer(settings, bearer)
            return Principal(name, "entra-bearer")
        name = principal_from_session(settings, req.cookie(SESSION_COOKIE))
        principal = Principal(name, "entra-session")
    if req.method not in SAFE_METHODS and not _same_origin(req):
        raise ApiError(403, "CrossOrigin", "a change must come from the review page itself")
    return principal


def token_login(settings: Settings, req: Request) -> Response | None:
    """`GET /api/review/?token=…`: a right token becomes the cookie and the address loses it."""
    token = req.query.get("token", "")
    if settings.review_auth != "token" or not token or _token_problem(settings):
        return None
    if not hmac.compare_digest(token.encode(), settings.review_token.encode()):
        raise ApiError(401, "BadToken", "this address's token is not the stack's current one: use the "
                                        "address the last `formloop up` printed")
    secure = "; Secure" if urlsplit(req.url).scheme == "https" else ""
    return Response(303, b"", {"Location": "/api/review/", "Cache-Control": "no-store"},
                    [f"{TOKEN_COOKIE}={token}; Path=/api/review; HttpOnly; SameSite=Strict{secure}"])
