"""Sign-in with Microsoft Entra ID for the review page in Azure (REVIEW_AUTH=entra).

Why the app signs people in itself: the Flex Consumption plan's docs have said that built-in
authentication (Easy Auth) is not supported and does not block unauthenticated callers there (see
docs/deploy.md). So: the OpenID Connect authorization code flow with PKCE against the tenant; the ID
token is verified with PyJWT against the tenant's signing keys (signature, issuer, audience = the app's
client id, expiry, nonce) and must carry the app role REVIEW_ROLE; then a session cookie signed with
REVIEW_SESSION_KEY (HttpOnly, Secure, SameSite=Lax, 8 hours) stands for the person. Scripts may send
an ID token of the tenant as `Authorization: Bearer`, checked the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests

from shared.review.web import ApiError, Request, Response
from shared.settings import Settings

__all__ = ["SESSION_COOKIE", "entra_problem", "finish_signin", "principal_from_bearer",
           "principal_from_session", "start_signin", "verify_id_token"]

SESSION_COOKIE = "formloop_session"
FLOW_COOKIE = "formloop_signin"
SESSION_SECONDS = 8 * 3600
FLOW_SECONDS = 600
MIN_KEY_CHARS = 32
LEEWAY_SECONDS = 60


def entra_problem(settings: Settings) -> str:
    missing = [name for name, value in (("ENTRA_TENANT_ID", settings.entra_tenant_id),
                                        ("ENTRA_CLIENT_ID", settings.entra_client_id),
                                        ("REVIEW_ROLE", settings.review_role)) if not value]
    if missing:
        return f"REVIEW_AUTH=entra needs {', '.join(missing)}"
    if len(settings.review_session_key) < MIN_KEY_CHARS:
        return f"REVIEW_AUTH=entra needs REVIEW_SESSION_KEY of at least {MIN_KEY_CHARS} characters"
    return ""


def _tenant_url(settings: Settings) -> str:
    return f"{settings.entra_authority.rstrip('/')}/{settings.entra_tenant_id}"


@lru_cache(maxsize=8)
def _keys(jwks_url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=10)


def verify_id_token(settings: Settings, token: str, nonce: str | None = None) -> dict[str, Any]:
    """The token's claims when the tenant signed it for this app and it is current; else ApiError 401.
    A token without the role REVIEW_ROLE is 403."""
    try:
        key = _keys(f"{_tenant_url(settings)}/discovery/v2.0/keys").get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=settings.entra_client_id,
                            issuer=f"{_tenant_url(settings)}/v2.0", leeway=LEEWAY_SECONDS,
                            options={"require": ["exp", "iat", "aud", "iss"]})
    except jwt.ExpiredSignatureError as exc:
        raise ApiError(401, "TokenExpired", "the sign-in has expired: sign in again") from exc
    except jwt.InvalidAudienceError as exc:
        raise ApiError(401, "WrongAudience", "the token was issued for another application") from exc
    except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
        raise ApiError(401, "BadToken", f"the token is not valid: {exc}") from exc
    if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise ApiError(401, "BadToken", "the sign-in response does not belong to this sign-in")
    if settings.review_role not in (claims.get("roles") or []):
        raise ApiError(403, "NoRole", f"{_name(claims)} has no '{settings.review_role}' role for this "
                                      "app; ask an owner to grant it (docs/deploy.md)")
    return claims


def _name(claims: dict[str, Any]) -> str:
    return str(claims.get("preferred_username") or claims.get("name") or claims.get("oid") or "someone")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(settings: Settings, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(settings.review_session_key.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def _unsign(settings: Settings, value: str) -> dict[str, Any] | None:
    body, _, mac = value.partition(".")
    expected = hmac.new(settings.review_session_key.encode(), body.encode(), hashlib.sha256).digest()
    try:
        if not mac or not hmac.compare_digest(_unb64(mac), expected):
            return None
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(payload, dict) or float(payload.get("exp", 0)) < time.time():
        return None
    return payload


def principal_from_session(settings: Settings, cookie: str) -> str:
    payload = _unsign(settings, cookie) if cookie else None
    if payload is None:
        raise ApiError(401, "SignIn", "sign in first", {"signIn": "signin"})
    return str(payload.get("name") or "someone")


def principal_from_bearer(settings: Settings, token: str) -> str:
    return _name(verify_id_token(settings, token))


def _redirect_uri(req: Request) -> str:
    parts = urlsplit(req.url)
    return f"{parts.scheme}://{parts.netloc}/api/review/callback"


def _cookie(name: str, value: str, max_age: int) -> str:
    return f"{name}={value}; Path=/api/review; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}"


def start_signin(settings: Settings, req: Request) -> Response:
    """Redirect to the tenant's sign-in page; state, nonce and the PKCE verifier ride in a signed cookie."""
    verifier = secrets.token_urlsafe(48)
    flow = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24), "verifier": verifier,
            "exp": time.time() + FLOW_SECONDS}
    challenge = _b64(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({"client_id": settings.entra_client_id, "response_type": "code",
                       "redirect_uri": _redirect_uri(req), "response_mode": "query",
                       "scope": "openid profile", "state": flow["state"], "nonce": flow["nonce"],
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    return Response(302, b"", {"Location": f"{_tenant_url(settings)}/oauth2/v2.0/authorize?{query}",
                               "Cache-Control": "no-store"},
                    [_cookie(FLOW_COOKIE, _sign(settings, flow), FLOW_SECONDS)])


def finish_signin(settings: Settings, req: Request,
                  post: Callable[..., requests.Response] = requests.post) -> Response:
    """The tenant's redirect back: check the state, redeem the code, verify the ID token, open a session."""
    if req.query.get("error"):
        raise ApiError(401, "SignInFailed", req.query.get("error_description") or req.query["error"])
    flow = _unsign(settings, req.cookie(FLOW_COOKIE))
    if flow is None or not hmac.compare_digest(str(flow.get("state")), req.query.get("state", "")):
        raise ApiError(401, "SignInFailed", "this sign-in was not started here or took too long: try again")
    form = {"client_id": settings.entra_client_id, "grant_type": "authorization_code",
            "code": req.param("code"), "redirect_uri": _redirect_uri(req),
            "code_verifier": str(flow["verifier"]), "scope": "openid profile"}
    if settings.entra_client_secret:
        form["client_secret"] = settings.entra_client_secret
    reply = post(f"{_tenant_url(settings)}/oauth2/v2.0/token", data=form, timeout=15)
    if reply.status_code != 200:
        raise ApiError(401, "SignInFailed", f"the tenant refused the sign-in code ({reply.status_code})")
    claims = verify_id_token(settings, str(reply.json().get("id_token", "")), nonce=str(flow["nonce"]))
    session = _sign(settings, {"name": _name(claims), "oid": claims.get("oid"),
                               "exp": time.time() + SESSION_SECONDS})
    return Response(303, b"", {"Location": "/api/review/", "Cache-Control": "no-store"},
                    [_cookie(SESSION_COOKIE, session, SESSION_SECONDS), _cookie(FLOW_COOKIE, "", 0)])
