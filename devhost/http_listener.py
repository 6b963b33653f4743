"""HTTP trigger: one loopback web server (uvicorn) in front of every HTTP function, as `func start` has.

A request is routed as the Functions host routes it (devhost/http_routes.py: the host.json
`routePrefix`, templates, constraints), turned into an `azure.functions.HttpRequest` and handed to
the Invoker like any other trigger event, so `functionTimeout`, the thread pool and the graceful
stop apply. The function's `func.HttpResponse` (or `str`, as the Python worker accepts) becomes the
answer; an exception, a timeout or any other return value is a 500 with an empty body. Executing/
Executed lines are DEBUG (a page makes many requests); a failure is an ERROR line, with the app's
traceback when it is the function's first failure since it last succeeded.

No match, or a match whose function does not take the method, is 404 (the host's route constraints
answer so too). A body above `DEVHOST_HTTP_MAX_BODY_BYTES` (default 100 MB, the host's limit) is 413,
refused from its Content-Length before it is read. Once the host is stopping, new requests get 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func
import uvicorn

from devhost.app_loader import FunctionSpec
from devhost.http_routes import Route, RouteError, RouteTable, build_route, split_path
from devhost.inflight import InFlight
from devhost.invoker import Invoker

log = logging.getLogger("devhost")

LOOPBACK = "127.0.0.1"
PORT_ATTEMPTS = 20  # the default port and the next 19
STOP_TIMEOUT = 5.0  # for the server to close its connections once the invocations are done or abandoned
Headers = list[tuple[bytes, bytes]]


class PortError(RuntimeError):
    """No port to listen on; the message says which were tried."""


def bind_port(first: int, attempts: int = PORT_ATTEMPTS) -> socket.socket:
    """A listening loopback socket on `first` or, when that is taken, the next free port after it
    (`first` = 0: any free port)."""
    last = first if first == 0 else min(65535, first + attempts - 1)
    for port in range(first, last + 1):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart may reuse it at once
        try:
            sock.bind((LOOPBACK, port))
            sock.listen(2048)
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise PortError(f"cannot listen on {LOOPBACK}:{port}: {exc}") from exc
        return sock
    raise PortError(
        f"ports {first}-{last} on {LOOPBACK} are all taken: free one or pass --http-port "
        "(or set DEVHOST_HTTP_PORT) to another port, 0 for any free one"
    )


def describe(route: Route, port: int) -> str:
    """`review: [GET,POST] http://127.0.0.1:7071/api/review/{*path}`, the line `func start` prints."""
    spec: FunctionSpec = route.target
    methods = f"[{','.join(spec.methods)}] " if spec.methods else ""
    return f"{spec.name}: {methods}http://{LOOPBACK}:{port}/{route.template}"


def build_routes(specs: list[FunctionSpec], prefix: str) -> RouteTable:
    """The route table; a template the host would refuse stops devhost (StartupError in host.py)."""
    routes = []
    for spec in specs:
        try:
            route = build_route(prefix, spec.route, spec.methods, spec)
        except RouteError as exc:
            raise RouteError(f"function {spec.name}: {exc}") from exc
        if route.ignored_constraints:
            log.warning(
                "function %s: devhost does not check the route constraint(s) %s",
                spec.name,
                ", ".join(route.ignored_constraints),
            )
        routes.append(route)
    return RouteTable(routes)


def _text(value: bytes) -> str:
    return value.decode("latin-1")


def request_headers(raw: Headers) -> dict[str, str]:
    """One value per name, repeated headers joined as the host joins them (`Cookie` with `; `)."""
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name, value = _text(name_bytes).lower(), _text(value_bytes)
        if name in headers:
            headers[name] += ("; " if name == "cookie" else ", ") + value
        else:
            headers[name] = value
    return headers


def query_params(query_string: bytes) -> dict[str, str]:
    """The query as a dict; a repeated name gets its values joined with `,` (as the host's do)."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(_text(query_string), keep_blank_values=True, errors="replace"):
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def _header_pairs(response: func.HttpResponse) -> Iterator[tuple[str, str]]:
    """Every header of the response (werkzeug keeps repeated ones, e.g. several Set-Cookie), with the
    Content-Type the Python worker derives from `mimetype`/`charset` when the function set none."""
    headers = response.headers
    if "content-type" not in headers:
        mimetype = response.mimetype
        text = mimetype.startswith("text/")
        yield "content-type", f"{mimetype}; charset={response.charset}" if text else mimetype
    for name, value in headers.items():
        if name.lower() not in ("content-length", "transfer-encoding", "connection"):
            yield name, str(value)


def to_asgi(value: Any) -> tuple[int, Headers, bytes]:
    """Status, headers and body of a function's return value; ValueError when it is no response."""
    if isinstance(value, str):
        value = func.HttpResponse(value)
    if not isinstance(value, func.HttpResponse):
        raise ValueError(f"returned {type(value).__name__}, not a func.HttpResponse")
    status = int(value.status_code)
    if not 100 <= status <= 599:
        raise ValueError(f"returned status code {status}")
    headers: Headers = []
    for name, text in _header_pairs(value):
        if any(c in text or c in name for c in "\r\n\0"):
            raise ValueError(f"returned header {name!r} with a line break or NUL in it")
        try:
            headers.append((name.encode("latin-1"), text.encode("latin-1")))
        except UnicodeEncodeError as exc:
            raise ValueError(f"returned header {name!r} that is not Latin-1: {exc}") from exc
    body = value.get_body() or b""
    if status < 200 or status in (204, 304):
        return status, headers, b""
    return status, [*headers, (b"content-length", str(len(body)).encode())], body


def _plain(status: int, *, close: bool = False) -> tuple[int, Headers, bytes]:
    headers = [(b"content-length", b"0")]
    return status, [*headers, (b"connection", b"close")] if close else headers, b""


class _ClientGone(Exception):
    """The client disconnected before its request body arrived."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (devhost's serve() owns SIGINT/SIGTERM) and with a
    `ready` event set once it accepts connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class HttpListener:
    """The HTTP front door: one server for all HTTP functions of the app."""

    def __init__(
        self,
        specs: list[FunctionSpec],
        routes: RouteTable,
        sock: socket.socket,
        *,
        invoker: Invoker,
        max_body_bytes: int,
        port_file: Path | None = None,
        grace: float = 10.0,
    ) -> None:
        self.specs = specs
        self.spec = specs[0]
        self.routes = routes
        self.inflight = InFlight()
        self._sock = sock
        self.port: int = sock.getsockname()[1]
        self._invoker = invoker
        self._max_body = max_body_bytes
        self._port_file = port_file
        self._grace = grace
        self._stopping = False
        self._failing: set[str] = set()  # functions whose last invocation failed: no traceback again
        self._serving: asyncio.Task[None] | None = None

    async def run(self, stopping: asyncio.Event) -> None:
        config = uvicorn.Config(
            self,
            log_config=None,
            access_log=False,
            lifespan="off",
            proxy_headers=False,  # the URL is the one the client asked for, not what X-Forwarded-* claim
            http="h11",
            server_header=False,
            timeout_graceful_shutdown=int(self._grace + STOP_TIMEOUT),
        )
        server = _Server(config)
        self._serving = asyncio.get_running_loop().create_task(server.serve(sockets=[self._sock]))
        ready = asyncio.ensure_future(server.ready.wait())
        await asyncio.wait({ready, self._serving}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._serving.done():
            await self._serving  # startup failed: log_crash reports it
            return
        self._write_port_file()
        log.info("HTTP functions listen on http://%s:%d", LOOPBACK, self.port)
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({stop, self._serving}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if self._serving.done() and not self._serving.cancelled() and self._serving.exception() is None:
            log.error("the HTTP server stopped on its own; HTTP functions are no longer served")
        self._stopping = True  # new requests get 503 until the server has closed its socket (<= 0.1 s)
        server.should_exit = True
        await self._serving

    async def close(self) -> None:
        """After the drain: let the server close its connections, and take the port file away."""
        if self._serving is not None and not self._serving.done():
            await asyncio.wait({self._serving}, timeout=STOP_TIMEOUT)
        if self._port_file is not None:
            with contextlib.suppress(OSError):
                if self._port_file.read_text().strip() == str(self.port):
                    self._port_file.unlink()

    def _write_port_file(self) -> None:
        if self._port_file is None:
            return
        partial = self._port_file.with_name(self._port_file.name + ".partial")
        try:
            partial.write_text(f"{self.port}\n")
            os.replace(partial, self._port_file)
        except OSError as exc:
            log.error("cannot write the HTTP port to %s: %s", self._port_file, exc)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The ASGI application uvicorn serves."""
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        try:
            status, headers, body = await self._answer(scope, receive)
        except _ClientGone:
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: dict[str, Any], receive: Any) -> tuple[int, Headers, bytes]:
        if self._stopping:
            return _plain(503, close=True)
        method = str(scope["method"]).upper()
        raw_path = _text(scope.get("raw_path") or scope["path"].encode("utf-8"))
        found = self.routes.find(method, split_path(raw_path))
        if found is None:
            return _plain(404)
        route, values = found
        spec: FunctionSpec = route.target
        headers = request_headers(scope["headers"])
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self._max_body:
            return _plain(413, close=True)  # refused before reading it
        body = await self._read_body(receive)
        if body is None:
            return _plain(413, close=True)
        if self._stopping:  # the body took until after the drain began
            return _plain(503, close=True)
        query = _text(scope.get("query_string") or b"")
        authority = headers.get("host") or f"{LOOPBACK}:{self.port}"
        url = f"{scope.get('scheme', 'http')}://{authority}{raw_path}" + (f"?{query}" if query else "")
        request = func.HttpRequest(
            method,
            url,
            headers=headers,
            params=query_params(scope.get("query_string") or b""),
            route_params=values,
            body=body,
        )
        invocation = self.inflight.spawn(
            self._invoker.invoke(
                spec,
                request,
                f"HTTP {method} {raw_path}",
                quiet=True,
                traceback_on_failure=spec.name not in self._failing,
            )
        )
        await asyncio.wait({invocation})
        if invocation.cancelled():  # abandoned at shutdown
            return _plain(503, close=True)
        outcome = invocation.result()
        if not outcome.succeeded:
            self._failing.add(spec.name)
            return _plain(500)
        try:
            answer = to_asgi(outcome.value)
        except ValueError as exc:
            log.error(
                "Executed 'Functions.%s' (Failed, Id=%s): it %s; answered 500",
                spec.name,
                outcome.invocation_id,
                exc,
            )
            self._failing.add(spec.name)
            return _plain(500)
        self._failing.discard(spec.name)
        return answer

    async def _read_body(self, receive: Any) -> bytes | None:
        """The request body, or None as soon as it grows past the limit."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


def build_http_listener(
    specs: list[FunctionSpec],
    *,
    prefix: str,
    port: int,
    invoker: Invoker,
    max_body_bytes: int,
    port_file: Path | None,
    grace: float,
) -> HttpListener:
    """Routes, a port (the next free one when `port` is taken) and one line per function, as
    `func start` prints them. Raises RouteError or PortError."""
    routes = build_routes(specs, prefix)
    sock = bind_port(port)
    chosen = sock.getsockname()[1]
    if port and chosen != port:
        log.warning("HTTP port %d is taken; listening on %d instead", port, chosen)
    listener = HttpListener(
        specs,
        routes,
        sock,
        invoker=invoker,
        max_body_bytes=max_body_bytes,
        port_file=port_file,
        grace=grace,
    )
    for route in sorted(routes.routes, key=lambda r: r.target.name):
        log.info("%s", describe(route, chosen))
    return listener
