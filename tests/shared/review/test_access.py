"""Who gets into the review app: the local token, and Entra ID tokens checked against a tenant's keys.

The tenant is the one part that cannot exist here, so a loopback server plays it: it serves a JWKS
with our own RSA key, and tokens are signed with that key (or with another one: forged)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.review.access import TOKEN_COOKIE, check_access, token_login
from shared.review.routes import handle
from shared.review.signin import SESSION_COOKIE, _sign, finish_signin, start_signin
from shared.review.web import ApiError, Request
from shared.settings import load_settings

TOKEN = "t" * 32
BASE = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:1"}
URL = "http://127.0.0.1:7071/api/review/queue?folder=a"


def _req(method: str = "GET", path: str = "queue", **headers: str) -> Request:
    named = {k.lower().replace("_", "-"): v for k, v in headers.items()}
    return Request(method, path, {"folder": "a"}, named, b"", URL)


def _no_records(_settings: Any) -> Any:
    raise AssertionError("a refused request must not reach storage")


@pytest.fixture
def token_settings() -> Any:
    return load_settings({**BASE, "REVIEW_TOKEN": TOKEN})


def test_no_token_is_refused_and_a_wrong_one_too(token_settings: Any) -> None:
    with pytest.raises(ApiError) as none:
        check_access(token_settings, _req())
    assert none.value.status == 401
    with pytest.raises(ApiError) as wrong:
        check_access(token_settings, _req(cookie=f"{TOKEN_COOKIE}={'x' * 32}"))
    assert wrong.value.status == 401
    with pytest.raises(ApiError):
        check_access(token_settings, _req(authorization="Bearer nope"))
    response = handle(token_settings, _no_records, _req())
    assert response.status == 401 and b"NoToken" in response.body


def test_the_token_becomes_a_strict_httponly_cookie(token_settings: Any) -> None:
    login = token_login(token_settings, Request("GET", "", {"token": TOKEN}, {}, b"", URL))
    assert login is not None and login.status == 303 and login.headers["Location"] == "/api/review/"
    cookie = login.cookies[0]
    assert cookie.startswith(f"{TOKEN_COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    with pytest.raises(ApiError):
        token_login(token_settings, Request("GET", "", {"token": "y" * 32}, {}, b"", URL))
    assert check_access(token_settings, _req(cookie=f"{TOKEN_COOKIE}={TOKEN}")).via == "token-cookie"
    assert check_access(token_settings, _req(authorization=f"Bearer {TOKEN}")).via == "token-bearer"


def test_changes_riding_on_the_cookie_must_come_from_the_page(token_settings: Any) -> None:
    cookie = f"{TOKEN_COOKIE}={TOKEN}"
    with pytest.raises(ApiError) as cross:
        check_access(token_settings, _req("PUT", "labels", cookie=cookie, origin="http://evil.example"))
    assert cross.value.status == 403
    with pytest.raises(ApiError):
        check_access(token_settings, _req("PUT", "labels", cookie=cookie))  # no Origin, no Sec-Fetch-Site
    assert check_access(token_settings, _req("PUT", "labels", cookie=cookie, origin="http://127.0.0.1:7071"))
    assert check_access(token_settings, _req("PUT", "labels", cookie=cookie, sec_fetch_site="same-origin"))
    assert check_access(token_settings, _req("PUT", "labels", authorization=f"Bearer {TOKEN}"))  # a script


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"REVIEW_TOKEN": "short"},
        {"REVIEW_AUTH": "entra"},
        {"REVIEW_AUTH": "entra", "ENTRA_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c"},
    ],
)
def test_a_misconfigured_app_opens_to_nobody(env: dict[str, str]) -> None:
    settings = load_settings({**BASE, **env})
    for headers in ({}, {"cookie": f"{TOKEN_COOKIE}=short"}, {"authorization": "Bearer short"}):
        response = handle(settings, _no_records, Request("GET", "folders", {}, headers, b"", URL))
        assert response.status == 503 and b"closed" in response.body


def test_security_headers_on_every_answer(token_settings: Any) -> None:
    response = handle(token_settings, _no_records, _req())
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ---- Entra ID -------------------------------------------------------------------------------------
TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "app-client-id"


class Tenant:
    """A loopback stand-in for the tenant: its signing keys, and a token endpoint."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "k1"
        self.next_id_token = ""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        keys = {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        tenant = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(keys).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.dumps({"id_token": tenant.next_id_token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.authority = f"http://127.0.0.1:{self.server.server_port}"

    def token(self, key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": f"{self.authority}/{TENANT}/v2.0",
            "aud": CLIENT,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "preferred_username": "ada@contoso.example",
            "roles": ["Reviewer"],
            "oid": "oid-1",
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    t = Tenant()
    yield t
    t.server.shutdown()


def _entra(tenant: Tenant) -> Any:
    return load_settings(
        {
            **BASE,
            "REVIEW_AUTH": "entra",
            "ENTRA_TENANT_ID": TENANT,
            "ENTRA_CLIENT_ID": CLIENT,
            "REVIEW_SESSION_KEY": "k" * 40,
            "ENTRA_AUTHORITY": tenant.authority,
        }
    )


def _bearer(settings: Any, token: str) -> ApiError | str:
    try:
        return check_access(settings, _req(authorization=f"Bearer {token}")).name
    except ApiError as exc:
        return exc


def test_entra_accepts_the_tenants_token_with_the_role(tenant: Tenant) -> None:
    assert _bearer(_entra(tenant), tenant.token()) == "ada@contoso.example"


@pytest.mark.parametrize(
    ("claims", "status", "code"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, 401, "TokenExpired"),
        ({"aud": "another-app"}, 401, "WrongAudience"),
        ({"iss": "https://login.microsoftonline.com/another-tenant/v2.0"}, 401, "BadToken"),
        ({"roles": ["Reader"]}, 403, "NoRole"),
    ],
)
def test_entra_refuses_expired_foreign_and_roleless_tokens(
    tenant: Tenant, claims: dict[str, Any], status: int, code: str
) -> None:
    refused = _bearer(_entra(tenant), tenant.token(**claims))
    assert isinstance(refused, ApiError) and (refused.status, refused.code) == (status, code)


def test_entra_refuses_a_forged_signature(tenant: Tenant) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = _bearer(_entra(tenant), tenant.token(key=forger))
    assert isinstance(refused, ApiError) and refused.status == 401
    unsigned = jwt.encode({"aud": CLIENT, "roles": ["Reviewer"]}, None, algorithm="none")
    assert isinstance(_bearer(_entra(tenant), unsigned), ApiError)


def test_entra_session_cookie_must_be_signed_and_current(tenant: Tenant) -> None:
    settings = _entra(tenant)
    good = _sign(settings, {"name": "ada", "exp": time.time() + 60})
    assert check_access(settings, _req(cookie=f"{SESSION_COOKIE}={good}")).name == "ada"
    body, _, mac = good.partition(".")
    for bad in (f"{body}.{'A' * len(mac)}", _sign(settings, {"name": "ada", "exp": time.time() - 1}), "junk"):
        with pytest.raises(ApiError) as refused:
            check_access(settings, _req(cookie=f"{SESSION_COOKIE}={bad}"))
        assert refused.value.status == 401


def test_entra_signin_round_trip_with_pkce_and_nonce(tenant: Tenant) -> None:
    settings = _entra(tenant)
    start = start_signin(
        settings, Request("GET", "signin", {}, {}, b"", "https://app.example/api/review/signin")
    )
    assert start.status == 302 and "code_challenge_method=S256" in start.headers["Location"]
    flow_cookie = start.cookies[0].split(";")[0]
    state = start.headers["Location"].split("state=")[1].split("&")[0]
    nonce = start.headers["Location"].split("nonce=")[1].split("&")[0]
    callback = Request(
        "GET",
        "callback",
        {"code": "c", "state": state},
        {"cookie": flow_cookie},
        b"",
        "https://app.example/api/review/callback",
    )
    tenant.next_id_token = tenant.token(nonce="someone-elses")
    with pytest.raises(ApiError):
        finish_signin(settings, callback)
    tenant.next_id_token = tenant.token(nonce=nonce)
    done = finish_signin(settings, callback)
    session = done.cookies[0]
    assert done.status == 303 and session.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in session and "Secure" in session and "SameSite=Lax" in session
    value = session.split(";")[0].split("=", 1)[1]
    assert check_access(settings, _req(cookie=f"{SESSION_COOKIE}={value}")).name == "ada@contoso.example"
    with pytest.raises(ApiError):  # a callback whose state is not the one started here
        finish_signin(
            settings,
            Request(
                "GET",
                "callback",
                {"code": "c", "state": "forged"},
                {"cookie": flow_cookie},
                b"",
                "https://app.example/api/review/callback",
            ),
        )
