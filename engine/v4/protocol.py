"""What every v4 route shares: the dialect it answers in (URL prefix, api-versions, body shapes), URLs,
model ids.

The v4.0 routes (engine.v4.routes) also serve the Form Recognizer 3.x API versions (engine.v3), whose paths
and bodies differ from v4.0's only in their prefix and a few keys: a Dialect names those differences, so
one implementation answers both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.v4.errors import invalid_parameter, parameter_missing

if TYPE_CHECKING:
    from fastapi import Request

API_VERSION = "2024-11-30"
PREFIX = "/documentintelligence"
PREBUILT_MODELS = ("prebuilt-layout", "prebuilt-read")
# The service's pattern for caller-chosen model ids (DocumentModelDetails.modelId).
MODEL_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}$")

Shape = Callable[[dict[str, Any]], dict[str, Any]]


def _same(body: dict[str, Any]) -> dict[str, Any]:
    return body


@dataclass(frozen=True)
class Dialect:
    """One URL space of the v4 code: its prefix, the api-versions it takes (newest first) and how its
    bodies differ from the v4.0 ones the code builds (the shapes get v4.0 bodies and return this
    dialect's)."""

    name: str
    prefix: str
    versions: tuple[str, ...]
    analyze_kind: str  # the OperationStore kind of its analyze jobs: results stay in their own dialect
    model_details: Shape = _same  # DocumentModelDetails (GET a model, an operation's result)
    model_summary: Shape = _same  # one entry of GET /documentModels
    analyze_result: Shape = _same  # analyzeResult
    elsewhere: str = ""  # where the other API versions are served, for the error message

    def check_version(self, request: Request) -> str:
        """Every call carries ?api-version=; a missing or unknown one is a 400, as on the service."""
        version = request.query_params.get("api-version")
        if not version:
            raise parameter_missing("api-version")
        if version not in self.versions:
            raise invalid_parameter("api-version", f"'{version}' is not served under {self.prefix} by this "
                                    f"engine; use {' or '.join(self.versions)}.{self.elsewhere}")
        return version

    def base_url(self, request: Request) -> str:
        """Absolute endpoint as the client reached it (Operation-Location must be absolute)."""
        return str(request.base_url).rstrip("/") + self.prefix

    @staticmethod
    def with_version(url: str, version: str) -> str:
        return f"{url}?api-version={version}"


V4 = Dialect("Document Intelligence v4.0", PREFIX, (API_VERSION,), "v4analyze",
             elsewhere=" (2023-07-31 and 2022-08-31 are served under /formrecognizer.)")
