"""Constants and small checks every v4 route shares: the api-version, URLs, model ids."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from engine.v4.errors import invalid_parameter, parameter_missing

if TYPE_CHECKING:
    from fastapi import Request

API_VERSION = "2024-11-30"
SUPPORTED_API_VERSIONS = (API_VERSION,)
PREFIX = "/documentintelligence"
PREBUILT_MODELS = ("prebuilt-layout", "prebuilt-read")
# The service's pattern for caller-chosen model ids (DocumentModelDetails.modelId).
MODEL_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}$")


def check_api_version(request: Request) -> str:
    """Every v4 call carries ?api-version=; a missing or unknown one is a 400, as on the service."""
    version = request.query_params.get("api-version")
    if not version:
        raise parameter_missing("api-version")
    if version not in SUPPORTED_API_VERSIONS:
        raise invalid_parameter("api-version", f"'{version}' is not supported by this engine; "
                                f"use {', '.join(SUPPORTED_API_VERSIONS)}.")
    return version


def base_url(request: Request) -> str:
    """Absolute endpoint as the client reached it (Operation-Location must be absolute)."""
    return str(request.base_url).rstrip("/") + PREFIX


def with_version(url: str) -> str:
    return f"{url}?api-version={API_VERSION}"
