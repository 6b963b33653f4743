"""The Form Recognizer 3.x routes: engine.v4's, under `/formrecognizer`, with the 3.x bodies.

azure-ai-formrecognizer 3.2+ speaks `2023-07-31` by default (`2022-08-31` on request) to
`{endpoint}/formrecognizer/documentModels/...`, `/operations/...` and `/info`. Those APIs' bodies are
v4.0's minus what v4.0 added: an analyzeResult has no `contentFormat`, DocumentModelDetails carries no
`buildMode`, `azureBlobSource`, `azureBlobFileListSource` or `warnings` (the 2023-07-31 schema), and a model
list entry is the DocumentModelSummary. Models are the v4 ones: a model built here is listed and usable
under `/documentintelligence` too, and the reverse, as on one cloud resource.
"""

from __future__ import annotations

from typing import Any

from engine.v4.protocol import Dialect
from engine.v4.routes import make_router

VERSIONS = ("2023-07-31", "2022-08-31")
PREFIX = "/formrecognizer"
# The 2023-07-31 schema's keys; anything else the v4 code writes is left out.
DETAILS_KEYS = ("modelId", "description", "createdDateTime", "expirationDateTime", "apiVersion", "tags",
                "docTypes")
SUMMARY_KEYS = DETAILS_KEYS[:-1]
# First path segments under /formrecognizer that belong to 3.x (v2.x has a version segment there).
SEGMENTS = ("documentmodels", "documentclassifiers", "operations", "info")


def model_details(details: dict[str, Any]) -> dict[str, Any]:
    return {k: details[k] for k in DETAILS_KEYS if k in details}


def model_summary(details: dict[str, Any]) -> dict[str, Any]:
    return {k: details[k] for k in SUMMARY_KEYS if k in details}


def analyze_result(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "contentFormat"}


def owns(path: str) -> bool:
    """Whether a (lowercased) path is in the 3.x URL space, so its errors take the 3.x/v4 shape."""
    parts = path.split("/")
    return len(parts) > 2 and parts[1] == "formrecognizer" and parts[2].split(":")[0] in SEGMENTS


FORM_RECOGNIZER_3 = Dialect("Form Recognizer 3.x", PREFIX, VERSIONS, "v3analyze", model_details=model_details,
                            model_summary=model_summary, analyze_result=analyze_result,
                            elsewhere=" (2024-11-30 is served under /documentintelligence, v2.1 under "
                            "/formrecognizer/v2.1.)")
router = make_router(FORM_RECOGNIZER_3)
