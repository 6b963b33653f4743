"""Settings devhost reads: `local.settings.json`, `host.json` and the environment — in one place.

Precedence (the same as `func start`): a variable already set in the environment wins over the
same name in `local.settings.json` `Values`; those values only fill what is missing. That lets a
test or a CI job point the app at another storage account without editing the file.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

HOST_ID_VARIABLE = "AzureFunctionsWebHost__hostid"
_EXPRESSION = re.compile(r"%([^%]+)%")
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?$")
HTTP_PORT_VARIABLE = "DEVHOST_HTTP_PORT"
HTTP_MAX_BODY_VARIABLE = "DEVHOST_HTTP_MAX_BODY_BYTES"
DEFAULT_HTTP_PORT = 7071  # the Core Tools' default
DEFAULT_HTTP_MAX_BODY_BYTES = 100 * 1024 * 1024  # the Functions host's request body limit (100 MB)


class SettingsError(ValueError):
    """A settings file or binding expression cannot be used; the message says which and why."""


def load_local_settings(app_dir: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Copy `Values` of `local.settings.json` into the environment without overriding; return names set."""
    env = os.environ if environ is None else environ
    path = app_dir / "local.settings.json"
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise SettingsError(f"{path} must hold a JSON object with a 'Values' object")
    if document.get("IsEncrypted"):
        raise SettingsError(f"{path} is encrypted (IsEncrypted=true); devhost reads plain values only")
    values = document.get("Values", {})
    if not isinstance(values, dict):
        raise SettingsError(f"{path}: 'Values' must be an object of name -> string")
    applied = []
    for name, value in values.items():
        if name in env:
            continue
        env[name] = "" if value is None else str(value)
        applied.append(name)
    return applied


def parse_timespan(value: Any, what: str) -> timedelta | None:
    """A host.json TimeSpan ("[d.]hh:mm:ss[.fff]"); "-1" means unbounded and gives None."""
    text = str(value).strip()
    if text == "-1":
        return None
    match = _TIMESPAN.match(text)
    if not match:
        raise SettingsError(f"host.json {what}: {value!r} is not a TimeSpan like '00:00:10'")
    days, hours, minutes, seconds, fraction = match.groups()
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
        microseconds=int((fraction or "0")[:6].ljust(6, "0")),
    )


def _interval(value: Any, what: str) -> timedelta | None:
    """maxPollingInterval may be milliseconds (a number) or a TimeSpan string."""
    if isinstance(value, int | float):
        return timedelta(milliseconds=float(value))
    return parse_timespan(value, what)


@dataclass(frozen=True)
class HostConfig:
    """The parts of host.json devhost honours; defaults are the real host's (storage extension 5.x)."""

    max_dequeue_count: int = 5
    visibility_timeout: timedelta = timedelta(0)
    batch_size: int = 16
    max_polling_interval: timedelta = timedelta(seconds=1)
    function_timeout: timedelta | None = timedelta(minutes=5)
    message_encoding: str = "base64"
    # extensions.blobs: None = not set (devhost then falls back to --workers; the real host uses 8 x cores)
    blob_parallelism: int | None = None
    poison_blob_threshold: int = 5
    # extensions.http.routePrefix, without slashes ("" = no prefix)
    http_route_prefix: str = "api"


def _positive(value: Any, what: str) -> int | None:
    """A positive integer setting, or None when absent."""
    if value is None:
        return None
    number = int(value)
    if number < 1:
        raise SettingsError(f"host.json {what}: must be at least 1, not {value!r}")
    return number


def _route_prefix(value: Any) -> str:
    if not isinstance(value, str):
        raise SettingsError(f"host.json extensions.http.routePrefix: must be a string, not {value!r}")
    return value.strip().strip("/")


def load_host_config(app_dir: Path) -> HostConfig:
    """Read host.json; a missing file gives the defaults (the real host would refuse to start)."""
    path = app_dir / "host.json"
    if not path.exists():
        return HostConfig()
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise SettingsError(f"{path} must hold a JSON object")
    queues = (document.get("extensions") or {}).get("queues") or {}
    blobs = (document.get("extensions") or {}).get("blobs") or {}
    http = (document.get("extensions") or {}).get("http") or {}
    defaults = HostConfig()
    try:
        return HostConfig(
            max_dequeue_count=int(queues.get("maxDequeueCount", defaults.max_dequeue_count)),
            visibility_timeout=parse_timespan(
                queues.get("visibilityTimeout", "00:00:00"), "extensions.queues.visibilityTimeout"
            )
            or timedelta(0),
            batch_size=max(1, min(32, int(queues.get("batchSize", defaults.batch_size)))),
            max_polling_interval=_interval(
                queues.get("maxPollingInterval", 1000), "extensions.queues.maxPollingInterval"
            )
            or defaults.max_polling_interval,
            function_timeout=parse_timespan(document.get("functionTimeout", "00:05:00"), "functionTimeout"),
            message_encoding=str(queues.get("messageEncoding", "base64")).lower(),
            blob_parallelism=_positive(
                blobs.get("maxDegreeOfParallelism"), "extensions.blobs.maxDegreeOfParallelism"
            ),
            poison_blob_threshold=_positive(
                blobs.get("poisonBlobThreshold"), "extensions.blobs.poisonBlobThreshold"
            )
            or defaults.poison_blob_threshold,
            http_route_prefix=_route_prefix(http.get("routePrefix", defaults.http_route_prefix)),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError(f"{path}: {exc}") from exc


def resolve_expression(text: str, environ: MutableMapping[str, str] | None = None) -> str:
    """Replace `%NAME%` with the app setting NAME, as the host does for binding properties."""
    env = os.environ if environ is None else environ

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise SettingsError(f"binding expression %{name}% refers to an app setting that is not set")
        return env[name]

    return _EXPRESSION.sub(setting, text)


def host_id(environ: MutableMapping[str, str] | None = None) -> str:
    """The id scoping receipts and timer status: the setting, else the machine name (like Core Tools)."""
    env = os.environ if environ is None else environ
    raw = env.get(HOST_ID_VARIABLE) or socket.gethostname()
    cleaned = re.sub(r"[^a-z0-9-]", "", raw.lower())[:32].strip("-")
    return cleaned or "devhost"


def function_disabled(function_name: str, environ: MutableMapping[str, str] | None = None) -> bool:
    """`AzureWebJobs.<name>.Disabled` = true/1 turns a function off, as in Azure."""
    env = os.environ if environ is None else environ
    return env.get(f"AzureWebJobs.{function_name}.Disabled", "").strip().lower() in {"1", "true"}


def _env_int(name: str, default: int, minimum: int, environ: MutableMapping[str, str] | None) -> int:
    env = os.environ if environ is None else environ
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


def http_port(environ: MutableMapping[str, str] | None = None) -> int:
    """The first port the HTTP front door tries: `DEVHOST_HTTP_PORT`, else 7071 (0 = any free port)."""
    port = _env_int(HTTP_PORT_VARIABLE, DEFAULT_HTTP_PORT, 0, environ)
    if port > 65535:
        raise SettingsError(f"{HTTP_PORT_VARIABLE}={port} is not a port number (0-65535)")
    return port


def http_max_body_bytes(environ: MutableMapping[str, str] | None = None) -> int:
    """The largest request body an HTTP function gets (`DEVHOST_HTTP_MAX_BODY_BYTES`, default 100 MB)."""
    return _env_int(HTTP_MAX_BODY_VARIABLE, DEFAULT_HTTP_MAX_BODY_BYTES, 0, environ)
