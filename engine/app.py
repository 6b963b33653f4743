"""The engine's HTTP application: auth, case-insensitive paths, error bodies, and the route sets."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.config import EngineConfig
from engine.errors import ApiError
from engine.operations import OperationStore
from engine.v2.custom_routes import router as custom_router
from engine.v2.layout_routes import router as layout_router
from engine.v2.not_served import router as v2_not_served_router
from engine.v3 import routes as v3
from engine.v4.errors import V4Error
from engine.v4.protocol import PREFIX as V4_PREFIX
from engine.v4.routes import router as v4_router

log = logging.getLogger("engine.app")

KEY_HEADER = b"ocp-apim-subscription-key"
OPEN_PATHS = ("/health",)
MISSING_KEY = ("Access denied due to missing subscription key. Make sure to include subscription key when "
               "making requests to an API.")
WRONG_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
             "a valid key for an active subscription and use a correct regional API endpoint for your "
             "resource.")


def error_response(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def route_error(method: str, path: str, status: int, detail: str) -> ApiError:
    """No route for this path (404) or not for this method (405), in the error shape of the API the path
    belongs to: a v4.0 or 3.x client reads `{"error": {code, message}}` with a named code, as the rest of
    its API writes; v2.x paths keep the gateway's own 404."""
    if path.startswith(V4_PREFIX + "/") or path == V4_PREFIX or v3.owns(path):
        if status == 404:
            return V4Error(404, "NotFound", None, f"Resource not found: {method} {path} is not a route of "
                           "this API.")
        if status == 405:
            return V4Error(405, "MethodNotAllowed", None, f"{method} is not a method of {path}.")
        return V4Error(status, str(status), None, detail)
    if status == 404:
        return ApiError(404, "404", "Resource not found.")
    return ApiError(status, str(status), detail)


class GatewayMiddleware:
    """What the cloud's gateway does before routing: lowercase the path, then check the key.

    Pure ASGI (not BaseHTTPMiddleware) so request bodies stream through untouched.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].lower()
        scope = dict(scope, path=path, raw_path=path.encode())
        if path.rstrip("/") not in OPEN_PATHS:
            given = next((v for k, v in scope["headers"] if k.lower() == KEY_HEADER), None)
            if given is None or not hmac.compare_digest(given, self.key):
                err = ApiError(401, "401", MISSING_KEY if given is None else WRONG_KEY)
                await error_response(err)(scope, receive, send)
                return
        await self.app(scope, receive, send)


SHUTDOWN_RETRY_AFTER_S = 5


class StoppingMiddleware:
    """A request that a stopping server cancels (still running after uvicorn's graceful-shutdown wait,
    or on a second Ctrl-C) is answered 503 with Retry-After and logged as one warning. Let through,
    the CancelledError would reach uvicorn, which logs "Exception in ASGI application" with a
    40-line traceback on what is a normal Ctrl-C; a cancellation while the server is not stopping
    is left alone."""

    def __init__(self, app: ASGIApp, stopping: threading.Event) -> None:
        self.app = app
        self.stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
            log.warning("request cut off: the engine is stopping",
                        extra={"method": scope.get("method"), "path": scope.get("path")})
            if started:
                return  # the client sees the connection close mid-response
            err = ApiError(503, "ServiceUnavailable", "The engine is stopping; retry the request.",
                           {"Retry-After": str(SHUTDOWN_RETRY_AFTER_S), "Connection": "close"})
            with contextlib.suppress(Exception):
                await error_response(err)(scope, receive, send)


def create_app(config: EngineConfig) -> FastAPI:
    """app.state.config / app.state.operations / app.state.stopping (set by the server when a signal
    asks it to stop); every route but /health needs the API key."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    operations = OperationStore(config.data_dir / "operations", config.workers, config.max_pending,
                                config.result_ttl_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        log.info("engine ready", extra={"workers": config.workers})
        yield
        operations.shutdown()

    app = FastAPI(title="formloop engine", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.config = config
    app.state.operations = operations
    app.state.stopping = stopping = threading.Event()

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        log.info("request refused", extra={"method": request.method, "path": request.url.path,
                                           "status": err.status, "code": err.code, "reason": err.message})
        return error_response(err)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, err: RequestValidationError) -> JSONResponse:
        return error_response(ApiError(400, "BadArgument", f"Bad or unrecognizable request: {err.errors()}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        return error_response(route_error(request.method, request.url.path, err.status_code, str(err.detail)))

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "pending": operations.pending, "workers": config.workers}

    # Form Recognizer 3.x (/formrecognizer/documentModels/...) goes before v2's
    # `/formrecognizer/{version}/...` routes, which would take the analyze results of a model named "layout"
    app.include_router(v3.router)
    app.include_router(layout_router)
    app.include_router(v4_router)  # Document Intelligence v4.0 (/documentintelligence/...)
    app.include_router(custom_router)
    app.include_router(v2_not_served_router)
    app.add_middleware(GatewayMiddleware, api_key=config.api_key)
    app.add_middleware(StoppingMiddleware, stopping=stopping)  # outermost: sees every cancellation
    return app
