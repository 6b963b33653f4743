"""Which URLs a v4 request may make the engine contact (containerUrl, urlSource), in v4 error words.

The decision is engine.sources' allow-list (ENGINE_ALLOWED_HOSTS); this only tells a malformed URL
(`InvalidArgument` / `InvalidContentSourceFormat`) from a host the engine may not reach
(403 `Forbidden` / `OutboundAccessForbidden`, the service's answer to a disallowed domain).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from engine.sources import check_source_url, host_allowed
from engine.v4.errors import V4Error


def _bad(name: str, detail: str) -> V4Error:
    return V4Error(400, "InvalidArgument", "InvalidContentSourceFormat",
                   f"Invalid content source: {name} {detail}")


def check_url(url: object, allowed_hosts: tuple[str, ...], name: str) -> str:
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise _bad(name, "must be a URL of at most 2048 characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise _bad(name, "is not a well-formed URL.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _bad(name, "must be an http or https URL.")
    if parts.username or parts.password:
        raise _bad(name, "must not carry credentials.")
    if not host_allowed(host, allowed_hosts):
        raise V4Error(403, "Forbidden", "OutboundAccessForbidden",
                      f"The request contains a disallowed domain name: '{host}' is not on this engine's "
                      "allow-list (ENGINE_ALLOWED_HOSTS).")
    check_source_url(url, allowed_hosts)  # the one place that decides; agrees with the checks above
    return url


def without_query(url: str) -> str:
    """The URL without its query: a container SAS token is a credential and is never echoed back."""
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))
