"""HTTP triggers: routing, request/response conversion, limits, ports and the graceful stop, against a real
devhost process serving a small HTTP app (plus the route table and the loader in-process)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devhost.app_loader import load_functions
from devhost.http_routes import RouteError, RouteTable, build_route, split_path
from formloop.stack import start_devhost, stop
from tests.helpers.devhost import AppUnderTest, DevhostRun, ensure_queue, wait_until

APP = '''
import json
import os
import pathlib
import time

import azure.functions as func

app = func.FunctionApp()
RECORDS = pathlib.Path(os.environ["RECORD_DIR"])


ANONYMOUS = func.AuthLevel.ANONYMOUS


@app.route(route="review/{*path}", methods=["GET", "POST", "PUT", "DELETE"], auth_level=ANONYMOUS)
def review(req: func.HttpRequest) -> func.HttpResponse:
    if "fail" in req.params:
        raise ValueError("review asked to fail")
    if "wrong" in req.params:
        return 42
    echo = {
        "method": req.method,
        "url": req.url,
        "route": dict(req.route_params),
        "params": dict(req.params),
        "headers": dict(req.headers),
        "body": req.get_body().hex(),
    }
    response = func.HttpResponse(
        json.dumps(echo),
        status_code=int(req.params.get("status", "200")),
        headers={"X-Echo": "yes"},
        mimetype="application/json",
    )
    response.headers.add("Set-Cookie", "session=abc; Path=/; HttpOnly")
    response.headers.add("Set-Cookie", "theme=dark")
    return response


@app.route(route="items/{id:int}", auth_level=ANONYMOUS)
async def item_by_id(req: func.HttpRequest) -> str:
    return "id " + req.route_params["id"]


@app.route(route="items/{name:alpha}/{page?}", methods=["GET"], auth_level=ANONYMOUS)
def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(dict(req.route_params)), mimetype="application/json")


@app.route(auth_level=ANONYMOUS)
def plain(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("<p>plain</p>", mimetype="text/html")


@app.route(route="slow", auth_level=ANONYMOUS)
def slow(req: func.HttpRequest) -> func.HttpResponse:
    (RECORDS / f"started-{req.params['tag']}").write_text("")
    time.sleep(float(req.params["s"]))
    return func.HttpResponse("slept " + req.params["tag"])
'''


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | Iterator[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        connection.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


@dataclass
class HttpHost:
    process: subprocess.Popen[bytes]
    log_path: Path
    port_file: Path
    records: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def port(self) -> int:
        return int(self.port_file.read_text())

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            if self.process.poll() is not None:
                pytest.fail(f"devhost exited ({self.process.returncode}) waiting for {what}\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}\n{self.log()}")
            time.sleep(0.05)
        return value


def write_app(folder: Path, host_json: dict[str, Any] | None = None, source: str = APP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "function_app.py").write_text(source)
    (folder / "host.json").write_text(json.dumps(host_json or {"version": "2.0"}))
    return folder


@pytest.fixture
def http_host(tmp_path: Path) -> Iterator[Callable[..., HttpHost]]:
    """Start devhost on an HTTP-only app; it needs no storage (AzureWebJobsStorage is blanked)."""
    hosts: list[HttpHost] = []
    blank = {"AzureWebJobsStorage": "", "DEVHOST_HTTP_PORT": "", "DEVHOST_HTTP_MAX_BODY_BYTES": ""}

    def launch(
        host_json: dict[str, Any] | None = None,
        *args: str,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> HttpHost:
        n = len(hosts)
        # a free port unless the test names one (the option or the variable)
        any_port = [] if "--http-port" in args or "DEVHOST_HTTP_PORT" in (env or {}) else ["--http-port", "0"]
        records = tmp_path / f"records-{n}"
        records.mkdir()
        app = write_app(tmp_path / f"app-{n}", host_json)
        port_file = tmp_path / f"port-{n}"
        process = start_devhost(
            app,
            env=blank | {"RECORD_DIR": str(records), **(env or {})},
            extra_args=["--http-port-file", str(port_file), *args, *any_port],
            log_path=tmp_path / f"devhost-{n}.log",
        )
        host = HttpHost(process, tmp_path / f"devhost-{n}.log", port_file, records)
        hosts.append(host)
        if wait:
            host.wait(lambda: port_file.exists() and "Host started" in host.log(), "the HTTP port file")
        return host

    yield launch
    for host in hosts:
        stop(host.process)


def test_route_params_query_body_and_headers_round_trip(http_host: Callable[..., HttpHost]) -> None:
    host = http_host()
    body = bytes(range(256)) * 3  # binary survives as is
    answer = call(
        host.port,
        "POST",
        "/api/Review/forms/po%20box/a%2Fb.pdf?x=1&x=2&empty=&name=J%C3%BCrgen",
        body=body,
        headers={"X-Custom": "v1", "Cookie": "a=1", "Content-Type": "application/octet-stream"},
    )
    assert answer.status == 200
    echo = answer.json()
    assert echo["method"] == "POST"
    assert echo["url"] == (
        f"http://127.0.0.1:{host.port}/api/Review/forms/po%20box/a%2Fb.pdf?x=1&x=2&empty=&name=J%C3%BCrgen"
    )
    # the catch-all: decoded, but an encoded slash stays encoded (as in ASP.NET Core)
    assert echo["route"] == {"path": "forms/po box/a%2Fb.pdf"}
    assert echo["params"] == {"x": "1,2", "empty": "", "name": "Jürgen"}
    assert bytes.fromhex(echo["body"]) == body
    assert echo["headers"]["x-custom"] == "v1"
    assert echo["headers"]["cookie"] == "a=1"
    assert echo["headers"]["content-length"] == str(len(body))

    assert answer.header("X-Echo") == ["yes"]
    assert answer.header("Set-Cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert answer.header("Content-Type") == ["application/json"]
    assert answer.header("Content-Length") == [str(len(answer.body))]

    created = call(host.port, "PUT", "/api/review?status=201", body=b"")
    assert created.status == 201
    assert created.json()["route"] == {}  # an empty catch-all is left out


def test_templates_constraints_and_the_function_name_route(http_host: Callable[..., HttpHost]) -> None:
    host = http_host()
    by_id = call(host.port, "GET", "/API/ITEMS/42")  # literals match case-insensitively
    assert (by_id.status, by_id.body) == (200, b"id 42")
    assert by_id.header("Content-Type") == ["text/plain; charset=utf-8"]  # a str return: the worker takes it
    assert call(host.port, "DELETE", "/api/items/42").status == 200  # no methods given: all of them

    assert call(host.port, "GET", "/api/items/abc").json() == {"name": "abc"}
    assert call(host.port, "GET", "/api/items/abc/3").json() == {"name": "abc", "page": "3"}
    assert call(host.port, "GET", "/api/items/4x").status == 404  # neither int nor alpha
    assert call(host.port, "GET", "/api/items/99999999999").status == 404  # beyond int (32-bit)

    plain = call(host.port, "GET", "/api/plain")
    assert (plain.status, plain.body) == (200, b"<p>plain</p>")
    assert plain.header("Content-Type") == ["text/html; charset=utf-8"]


def test_unknown_routes_and_other_methods_are_404(http_host: Callable[..., HttpHost]) -> None:
    host = http_host()
    for method, path in [
        ("GET", "/api/nothing"),
        ("GET", "/"),
        ("GET", "/review/x"),  # without the prefix
        ("PATCH", "/api/review/x"),  # review takes GET, POST, PUT, DELETE
        ("POST", "/api/items/abc"),  # item_by_name takes GET only
        ("GET", "/api/items/abc/3/4"),
    ]:
        answer = call(host.port, method, path)
        assert (method, path, answer.status, answer.body) == (method, path, 404, b"")
    assert call(host.port, "GET", "/api/review/x").status == 200  # still serving


def test_a_raising_function_is_500_and_the_host_keeps_serving(http_host: Callable[..., HttpHost]) -> None:
    host = http_host()
    for _ in range(2):
        failed = call(host.port, "GET", "/api/review/x?fail=1")
        assert (failed.status, failed.body) == (500, b"")
    assert call(host.port, "GET", "/api/review/x").status == 200
    wrong = call(host.port, "GET", "/api/review/x?wrong=1")
    assert (wrong.status, wrong.body) == (500, b"")
    assert call(host.port, "GET", "/api/review/x").status == 200

    log = host.log()
    failed_lines = [line for line in log.splitlines() if "(Failed," in line]
    assert len(failed_lines) == 3, log
    assert all(" ERROR " in line for line in failed_lines)
    assert sum("ValueError: review asked to fail" in line for line in failed_lines) == 2
    assert "returned int, not a func.HttpResponse; answered 500" in failed_lines[2]
    assert log.count("Traceback") == 1  # with the first failure of a streak only
    # successful requests are DEBUG: nothing at INFO
    assert "Executing 'Functions.review'" not in log
    assert "Executed 'Functions.review' (Succeeded" not in log


def test_startup_lines_name_each_function_with_methods_and_url(http_host: Callable[..., HttpHost]) -> None:
    host = http_host()
    port = host.port
    log = host.log()
    assert f"review: [GET,POST,PUT,DELETE] http://127.0.0.1:{port}/api/review/{{*path}}" in log
    assert f"item_by_id: http://127.0.0.1:{port}/api/items/{{id:int}}" in log
    assert f"item_by_name: [GET] http://127.0.0.1:{port}/api/items/{{name:alpha}}/{{page?}}" in log
    assert f"plain: http://127.0.0.1:{port}/api/plain" in log
    assert "Host started (5 function(s))" in log
    assert "extra bindings" not in log  # the http $return binding is served, not ignored
    assert "No job functions found" not in log


def test_route_prefix_from_host_json(http_host: Callable[..., HttpHost]) -> None:
    host = http_host({"version": "2.0", "extensions": {"http": {"routePrefix": "/web/"}}})
    assert call(host.port, "GET", "/web/review/a").json()["route"] == {"path": "a"}
    assert call(host.port, "GET", "/api/review/a").status == 404
    assert f"http://127.0.0.1:{host.port}/web/review/{{*path}}" in host.log()

    bare = http_host({"version": "2.0", "extensions": {"http": {"routePrefix": ""}}})
    assert call(bare.port, "GET", "/plain").body == b"<p>plain</p>"
    assert call(bare.port, "GET", "/api/plain").status == 404


def test_a_body_over_the_limit_is_413(http_host: Callable[..., HttpHost]) -> None:
    host = http_host(env={"DEVHOST_HTTP_MAX_BODY_BYTES": "1000"})
    fits = call(host.port, "POST", "/api/review/x", body=b"a" * 1000)
    assert fits.status == 200
    assert len(bytes.fromhex(fits.json()["body"])) == 1000

    too_large = call(host.port, "POST", "/api/review/x", body=b"a" * 1001)
    assert (too_large.status, too_large.body) == (413, b"")
    chunked = call(host.port, "POST", "/api/review/x", body=iter([b"a" * 600, b"b" * 600]))  # no length
    assert chunked.status == 413
    # refused from the declared length alone: the body is never read
    with socket.create_connection(("127.0.0.1", host.port), timeout=10) as raw:
        raw.sendall(b"POST /api/review/x HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 413 ")
    assert "(Failed," not in host.log()
    assert call(host.port, "GET", "/api/review/x").status == 200


def _listening(port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def test_a_taken_port_moves_to_the_next_free_one(http_host: Callable[..., HttpHost]) -> None:
    with _listening(0) as taken:
        port = taken.getsockname()[1]
        host = http_host(None, "--http-port", str(port))
        chosen = host.port
        assert port < chosen < port + 20
        assert f"HTTP port {port} is taken; listening on {chosen} instead" in host.log()
        assert f"http://127.0.0.1:{chosen}/api/review/{{*path}}" in host.log()
        assert call(chosen, "GET", "/api/plain").status == 200


def test_the_env_port_is_used_and_the_port_file_goes_at_stop(http_host: Callable[..., HttpHost]) -> None:
    with _listening(0) as probe:
        port = probe.getsockname()[1]
    host = http_host(None, env={"DEVHOST_HTTP_PORT": str(port)})  # no --http-port: the env decides
    assert host.port == port
    assert call(port, "GET", "/api/plain").status == 200
    host.process.send_signal(signal.SIGINT)
    assert host.process.wait(timeout=20) == 0
    assert not host.port_file.exists()


def _consecutive_free_ports(count: int) -> list[socket.socket]:
    for _ in range(50):
        with _listening(0) as probe:
            base = probe.getsockname()[1]
        held: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                held.append(_listening(port))
            return held
        except OSError:
            for sock in held:
                sock.close()
    pytest.fail(f"no {count} consecutive free loopback ports in 50 tries: the machine is short of ports")


def test_twenty_taken_ports_are_a_startup_error(http_host: Callable[..., HttpHost]) -> None:
    held = _consecutive_free_ports(20)
    try:
        first = held[0].getsockname()[1]
        host = http_host(None, "--http-port", str(first), wait=False)
        assert host.process.wait(timeout=60) == 2
        assert f"devhost: error: ports {first}-{first + 19} on 127.0.0.1 are all taken" in host.log()
        assert "Traceback" not in host.log()
        assert not host.port_file.exists()
    finally:
        for sock in held:
            sock.close()


def _in_thread(function: Callable[[], Answer]) -> tuple[threading.Thread, list[Answer | BaseException]]:
    result: list[Answer | BaseException] = []

    def run() -> None:
        try:
            result.append(function())
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_sigint_lets_running_requests_finish_within_the_grace(http_host: Callable[..., HttpHost]) -> None:
    host = http_host(None, "--grace", "1.5")
    port = host.port
    short, short_result = _in_thread(lambda: call(port, "GET", "/api/slow?s=0.8&tag=short"))
    long, long_result = _in_thread(lambda: call(port, "GET", "/api/slow?s=30&tag=long"))
    host.wait(lambda: len(list(host.records.glob("started-*"))) == 2, "both requests to run")

    host.process.send_signal(signal.SIGINT)
    short.join(20)
    long.join(20)
    assert host.process.wait(timeout=20) == 0
    (answer,) = short_result
    assert isinstance(answer, Answer) and (answer.status, answer.body) == (200, b"slept short")
    (abandoned,) = long_result
    assert isinstance(abandoned, Answer) and (abandoned.status, abandoned.body) == (503, b"")
    log = host.log()
    assert "Abandoned 'Functions.slow'" in log
    assert "abandoned 1 running HTTP invocation(s); their requests were answered 503" in log
    assert "Host stopped." in log
    assert "Traceback" not in log
    with pytest.raises(OSError):  # no longer listening
        call(port, "GET", "/api/plain")


def test_http_functions_run_next_to_the_storage_triggers(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun], tmp_path: Path
) -> None:
    """The template's blob, queue and timer functions plus an HTTP one, on one host."""
    app = make_app()
    with (app.dir / "function_app.py").open("a") as source:
        source.write(
            "\n\n@app.route(route='ping/{word:alpha}', methods=['GET'])\n"
            "def ping(req: func.HttpRequest) -> func.HttpResponse:\n"
            "    record('http', word=req.route_params['word'])\n"
            "    return func.HttpResponse('pong ' + req.route_params['word'])\n"
        )
    port_file = tmp_path / "http.port"
    queue = ensure_queue(app.queue_client())
    run = devhost(app, "--http-port", "0", "--http-port-file", str(port_file))
    wait_until(port_file.exists, "the port file", run)
    port = int(port_file.read_text())

    queue.send_message(base64.b64encode(b"hello").decode())
    answer = call(port, "GET", "/api/ping/abc")
    assert (answer.status, answer.body) == (200, b"pong abc")
    wait_until(lambda: app.read("queue"), "the queue invocation", run)
    assert [r["word"] for r in app.read("http")] == ["abc"]
    assert f"ping: [GET] http://127.0.0.1:{port}/api/ping/{{word:alpha}}" in run.log()
    assert "Host started (4 function(s))" in run.log()
    assert "extra bindings" not in run.log()


# In-process: the loader and the route table.


def test_the_loader_reads_route_and_methods_and_still_skips_other_triggers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="devhost")
    source = (
        "import azure.functions as func\napp = func.FunctionApp()\n"
        "@app.route(route='review/{*path}', methods=['GET', 'post'])\n"
        "def review(req: func.HttpRequest) -> func.HttpResponse:\n    return func.HttpResponse('x')\n"
        "@app.route()\ndef bare(req: func.HttpRequest) -> str:\n    return 'x'\n"
        "@app.service_bus_queue_trigger(arg_name='msg', queue_name='q', connection='SB')\n"
        "def bus(msg: func.ServiceBusMessage) -> None:\n    pass\n"
    )
    (tmp_path / "function_app.py").write_text(source)
    specs = {s.name: s for s in load_functions(tmp_path)}
    assert set(specs) == {"review", "bare"}
    assert (specs["review"].trigger_type, specs["review"].route) == ("httpTrigger", "review/{*path}")
    assert specs["review"].methods == ("GET", "POST")
    assert (specs["bare"].route, specs["bare"].methods) == ("bare", None)
    assert "does not serve 'serviceBusTrigger'" in caplog.text
    assert "extra bindings" not in caplog.text


def _table(*routes: tuple[str, list[str] | None]) -> RouteTable:
    return RouteTable(build_route("api", route, methods, route) for route, methods in routes)


def _find(table: RouteTable, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = table.find(method, split_path(path))
    return None if found is None else (found[0].target, found[1])


def test_the_most_specific_route_wins() -> None:
    table = _table(
        ("review/{*path}", None),
        ("review/{id:int}", None),
        ("review/new", None),
        ("review/{name}", ["GET"]),
        ("files/{name}.{ext}", None),
        ("docs/{page=index}", None),
        ("range/{n:int:range(1,5)}", None),
        ("code/{c:regex(^[a-z]{{2}}$)}", None),
        ("weird/{x:nosuchconstraint}", None),
    )
    assert _find(table, "GET", "/api/review/new") == ("review/new", {})
    assert _find(table, "GET", "/api/review/7") == ("review/{id:int}", {"id": "7"})
    assert _find(table, "GET", "/api/review/abc") == ("review/{name}", {"name": "abc"})
    assert _find(table, "POST", "/api/review/abc") == ("review/{*path}", {"path": "abc"})  # {name}: GET
    assert _find(table, "GET", "/api/review/a/b/") == ("review/{*path}", {"path": "a/b"})
    assert _find(table, "GET", "/api/files/report.v2.pdf") == (
        "files/{name}.{ext}",
        {"name": "report.v2", "ext": "pdf"},
    )
    assert _find(table, "GET", "/api/docs") == ("docs/{page=index}", {"page": "index"})
    assert _find(table, "GET", "/api/docs/faq") == ("docs/{page=index}", {"page": "faq"})
    assert _find(table, "GET", "/api/range/3") == ("range/{n:int:range(1,5)}", {"n": "3"})
    assert _find(table, "GET", "/api/range/6") is None
    assert _find(table, "GET", "/api/code/AB") == ("code/{c:regex(^[a-z]{{2}}$)}", {"c": "AB"})
    assert _find(table, "GET", "/api/code/abc") is None
    assert _find(table, "GET", "/api/weird/anything") == ("weird/{x:nosuchconstraint}", {"x": "anything"})
    weird = [r.ignored_constraints for r in table.routes if r.target.startswith("weird")]
    assert weird == [["nosuchconstraint"]]
    assert _find(table, "GET", "/api") is None


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ("a/{*rest}/b", "catch-all parameter must be the whole last segment"),
        ("{x}/{X}", "names parameter 'X' twice"),
        ("{a?}/b", "only the last segments may be optional"),
        ("a/{b", "unclosed"),
        ("a/b}", "unmatched"),
        ("{a}{b}", "two parameters need a literal between them"),
        ("{}", "no valid name"),
    ],
)
def test_templates_the_host_would_refuse_are_errors(route: str, message: str) -> None:
    with pytest.raises(RouteError, match=message):
        build_route("api", route, None, None)


def test_a_bad_route_stops_devhost_with_a_clear_error(tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", source=APP.replace('route="slow"', 'route="slow/{a}/{a}"'))
    process = start_devhost(
        app,
        env={"RECORD_DIR": str(tmp_path), "AzureWebJobsStorage": ""},
        extra_args=["--http-port", "0"],
        log_path=tmp_path / "devhost.log",
    )
    try:
        process.wait(timeout=60)
    finally:
        stop(process)
    log = (tmp_path / "devhost.log").read_text()
    assert process.returncode == 2, log
    assert "devhost: error: function slow: route 'slow/{a}/{a}' names parameter 'a' twice" in log
    assert "Traceback" not in log
