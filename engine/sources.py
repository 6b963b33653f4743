"""The only place that decides whether a URL may be contacted, and the only place that contacts it.

A `source` URL comes from the caller; fetching arbitrary addresses would turn the engine into an
open proxy into whatever network it runs in (SSRF). So only http(s) URLs whose host is on the
configured allow-list are fetched, without following redirects, with a size cap and a timeout.
"""

from __future__ import annotations

import fnmatch
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from engine.errors import ApiError

FETCH_TIMEOUT_S = 30.0


def _bad_source(detail: str) -> ApiError:
    return ApiError(400, "2001", f"Unable to download the document from the source URL: {detail}")


def host_allowed(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in allowed_hosts)


def check_source_url(url: str, allowed_hosts: tuple[str, ...]) -> None:
    """Raise ApiError(400, "2001") unless url is a well-formed http(s) URL on an allowed host."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise _bad_source("the source must be a URL of at most 2048 characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as e:
        raise _bad_source(f"malformed URL ({e}).") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _bad_source("only http and https URLs are accepted.")
    if parts.username or parts.password:
        raise _bad_source("credentials in the URL are not accepted.")
    if not host_allowed(host, allowed_hosts):
        raise _bad_source(f"host '{host}' is not on this engine's allow-list (ENGINE_ALLOWED_HOSTS).")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could point outside the allow-list, so none is followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))


def fetch_source(url: str, allowed_hosts: tuple[str, ...], max_bytes: int) -> tuple[bytes, str | None]:
    """Download an allowed URL; (body, content-type). Over max_bytes -> 400 InvalidImageSize."""
    check_source_url(url, allowed_hosts)
    try:
        with _opener.open(urllib.request.Request(url, method="GET"), timeout=FETCH_TIMEOUT_S) as resp:
            if resp.status != 200:
                raise _bad_source(f"the server answered {resp.status}.")
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise too_large(max_bytes)
            body = resp.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise too_large(max_bytes)
            ctype = resp.headers.get("Content-Type")
            return body, (ctype.split(";")[0].strip().lower() if ctype else None)
    except ApiError:
        raise
    except urllib.error.HTTPError as e:
        raise _bad_source(f"the server answered {e.code}.") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise _bad_source(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None


def too_large(max_bytes: int) -> ApiError:
    return ApiError(400, "InvalidImageSize",
                    f"The document is larger than {max_bytes // (1024 * 1024)} MB; the limit is 50 MB.")
