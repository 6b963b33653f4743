"""The review app's routes below /api/review/: the page, its static files and the JSON API.

Every route but the token exchange and the sign-in needs a verified principal (shared/review/access.py);
folder and form names must be names that exist in the container (no `..`, no other container); bodies
are capped at the labels limit. Errors are JSON `{"error": {"code", "message"}}` with their status.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceModifiedError, ResourceNotFoundError

from shared.clients.records import Records
from shared.clients.storage import blob_service
from shared.errors import one_line
from shared.forms.labels import MAX_LABELS_BYTES
from shared.names import join
from shared.review import labels_save, models_view, page_images, queue, schema
from shared.review.access import Principal, check_access, token_login
from shared.review.form_view import form_view, read_schema
from shared.review.signin import finish_signin, start_signin
from shared.review.web import SECURITY_HEADERS, ApiError, Request, Response, json_response
from shared.settings import Settings

__all__ = ["STATIC_DIR", "handle"]

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}
_BAD_NAME = re.compile(r"(^|/)\.\.?(/|$)|[\x00-\x1f\\]|^/|/$|//")


def _name(value: str, what: str) -> str:
    if len(value) > 1024 or _BAD_NAME.search(value):
        raise ApiError(400, "BadName", f"{what} {value[:80]!r} is not a name in the forms container")
    return value


def _folder(req: Request) -> str:
    return _name(req.query.get("folder", ""), "folder") if req.query.get("folder") else ""


def _doc(req: Request) -> str:
    doc = _name(req.param("doc"), "form")
    if "/" in doc:
        raise ApiError(400, "BadName", "a form is named within its folder (no '/')")
    return doc


def _static(name: str) -> Response:
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR.resolve() or path.suffix not in STATIC_TYPES or not path.is_file():
        raise ApiError(404, "NotFound", f"no file {name!r}")
    return Response(200, path.read_bytes(), {"Content-Type": STATIC_TYPES[path.suffix],
                                             "Cache-Control": "no-cache"})


def _page_image(settings: Settings, req: Request) -> Response:
    folder, doc = _folder(req), _doc(req)
    try:
        number = int(req.param("page"))
    except ValueError as exc:
        raise ApiError(400, "BadPage", "page is a number from 1") from exc
    blob = blob_service(settings).get_blob_client(settings.forms_container, join(folder, doc))
    try:
        etag = str(blob.get_blob_properties().etag)  # a page already drawn for this version is not read again
    except ResourceNotFoundError as exc:
        raise ApiError(404, "NoSuchForm", f"there is no form {doc!r} in folder {folder!r}") from exc

    def load() -> bytes:
        try:
            download = blob.download_blob(etag=etag, match_condition=MatchConditions.IfNotModified)
            return bytes(download.readall())
        except (ResourceNotFoundError, ResourceModifiedError) as exc:
            raise ApiError(409, "FormChanged",
                           f"{doc} was replaced or deleted while it was shown: reload the form") from exc

    png = page_images.page_png(join(folder, doc), etag, number, load)
    return Response(200, png, {"Content-Type": "image/png", "Cache-Control": "private, max-age=3600"})


def _api(settings: Settings, records: Records, req: Request, who: Principal) -> Response:
    route = (req.method, req.path)
    if route == ("GET", "folders"):
        return json_response({"folders": queue.folders(settings), "user": who.name,
                              "reviewConfidence": settings.review_confidence,
                              "fieldTypes": list(schema.FIELD_TYPES)})
    if route == ("GET", "queue"):
        return json_response(queue.form_queue(settings, records, _folder(req), req.query.get("state", ""),
                                              req.query.get("field", "")))
    if route == ("GET", "form"):
        return json_response(form_view(settings, records, _folder(req), _doc(req)))
    if route == ("GET", "page"):
        return _page_image(settings, req)
    if route == ("PUT", "labels"):
        folder, doc = _folder(req), _doc(req)
        return json_response(labels_save.save_labels(settings, records, folder, doc,
                                                      req.json(MAX_LABELS_BYTES), who.name))
    if route == ("GET", "fields"):
        fields, etag = read_schema(settings, queue.folder_inventory(settings, _folder(req)).folder)
        return json_response({"fields": fields, "etag": etag})
    if route == ("PUT", "fields"):
        folder = queue.folder_inventory(settings, _folder(req)).folder
        return json_response(schema.save_schema(settings, folder, req.json(MAX_LABELS_BYTES)))
    if route == ("GET", "models"):
        folder = _folder(req)
        return json_response({"folder": folder, "models": models_view.folder_models(records, folder),
                              "current": queue.model_summary(records, folder)})
    if route == ("POST", "promote"):
        return json_response(models_view.make_current(settings, records, _folder(req),
                                                      req.json(MAX_LABELS_BYTES), who.name))
    raise ApiError(404, "NotFound", f"no route {req.method} /api/review/{req.path}")


def _error(exc: ApiError, html: bool) -> Response:
    if html and exc.status in (401, 503):
        body = (f"<!doctype html><meta charset=utf-8><title>Review</title><h1>{exc.status}</h1>"
                f"<p>{_escape(exc.message)}</p>").encode()
        return Response(exc.status, body, {"Content-Type": "text/html; charset=utf-8",
                                           "Cache-Control": "no-store"})
    return json_response({"error": {"code": exc.code, "message": exc.message, **exc.extra}}, exc.status)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def handle(settings: Settings, records_for: Callable[[Settings], Records], req: Request) -> Response:
    """One request of the review app, start to end; never raises."""
    html = req.method == "GET" and req.path in ("", "index.html")
    try:
        if html and (login := token_login(settings, req)) is not None:
            response = login
        elif req.method == "GET" and req.path == "signin" and settings.review_auth == "entra":
            response = start_signin(settings, req)
        elif req.method == "GET" and req.path == "callback" and settings.review_auth == "entra":
            response = finish_signin(settings, req)
        else:
            try:
                who = check_access(settings, req)
            except ApiError as exc:
                if html and exc.code == "SignIn":
                    to_signin = {"Location": "/api/review/signin", "Cache-Control": "no-store"}
                    return _secure(Response(302, b"", to_signin))
                raise
            if html:
                response = _static("index.html")
            elif req.method == "GET" and req.path.startswith("static/"):
                response = _static(req.path[len("static/"):])
            else:
                response = _api(settings, records_for(settings), req, who)
    except ApiError as exc:
        response = _error(exc, html)
    except ResourceNotFoundError as exc:
        response = _error(ApiError(404, "NotFound", one_line(exc)), html)
    except AzureError as exc:
        log.warning("review %s %s: storage error: %s", req.method, req.path, one_line(exc))
        response = _error(ApiError(502, "StorageError", f"storage answered with an error: {one_line(exc)}"),
                          html)
    except Exception as exc:  # a bug: the person gets a message and the log the traceback
        log.exception("review %s %s failed", req.method, req.path)
        response = _error(ApiError(500, "InternalError", f"the review app failed: {one_line(exc)}"), html)
    return _secure(response)


def _secure(response: Response) -> Response:
    response.headers = {**SECURITY_HEADERS, **response.headers}
    return response
