"""`POST /documentModels:build`: the request, and the build job that trains with engine.custom.

v4 builds are labeled template models trained by engine.custom.training.run_training on the container's
Studio files (engine.v4.training_source); `buildMode: neural` is accepted and trained the same way. A
build that succeeds stores the model (engine.v4.model_store) and its operation carries the
DocumentModelDetails; one that fails carries the service's error, with a detail per document problem.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.custom.source import ContainerSource
from engine.custom.table_fields.schema import field_schema
from engine.custom.training import TrainingOutcome, run_training
from engine.errors import ApiError
from engine.layout.analyze import page_image
from engine.operations import utc_now
from engine.v4.build_ops import BuildOperations
from engine.v4.errors import V4Error, error_from_v2_code, error_object, invalid_parameter, parameter_missing
from engine.v4.model_store import V4Models
from engine.v4.protocol import API_VERSION, MODEL_ID_RE
from engine.v4.training_source import StudioSource, read_file_list
from engine.v4.url_check import check_url, without_query

log = logging.getLogger("engine.v4.build")
BUILD_MODES = ("template", "neural")
OcrFn = Callable[[bytes], dict[str, Any]]


@dataclass
class BuildRequest:
    model_id: str
    build_mode: str
    container_url: str
    prefix: str = ""
    file_list: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    allow_overwrite: bool = False
    api_version: str = API_VERSION  # the request's: the model's details carry it


def _string(body: dict[str, Any], key: str, max_len: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise invalid_parameter(key, f"must be a string of at most {max_len} characters.")
    return value


def _source(body: dict[str, Any], allowed_hosts: tuple[str, ...]) -> tuple[str, str, str | None]:
    blob, listed = body.get("azureBlobSource"), body.get("azureBlobFileListSource")
    if (blob is None) == (listed is None):
        raise parameter_missing("azureBlobSource or azureBlobFileListSource (exactly one)")
    src = blob if blob is not None else listed
    name = "azureBlobSource" if blob is not None else "azureBlobFileListSource"
    if not isinstance(src, dict):
        raise invalid_parameter(name, "must be an object.")
    if not src.get("containerUrl"):
        raise parameter_missing(f"{name}.containerUrl")
    url = check_url(src["containerUrl"], allowed_hosts, f"{name}.containerUrl")
    if blob is not None:
        prefix = _string(src, "prefix", 1024) or ""
        return url, prefix, None
    file_list = _string(src, "fileList", 1024)
    if not file_list:
        raise parameter_missing(f"{name}.fileList")
    return url, "", file_list


def parse_build_request(body: Any, allowed_hosts: tuple[str, ...],
                        api_version: str = API_VERSION) -> BuildRequest:
    """Validate a BuildDocumentModelRequest; every problem is the service's 400 (403 for a host off the
    allow-list)."""
    if not isinstance(body, dict):
        raise V4Error(400, "InvalidRequest", "InvalidContent", "The request body must be a JSON object.")
    model_id = body.get("modelId")
    if not model_id:
        raise parameter_missing("modelId")
    if not isinstance(model_id, str) or not MODEL_ID_RE.match(model_id):
        raise invalid_parameter("modelId", "use 2-64 letters, digits, '.', '_', '~' or '-', starting with a "
                                "letter or digit.")
    if model_id.lower().startswith("prebuilt-"):
        raise invalid_parameter("modelId", "ids starting with 'prebuilt-' are reserved.")
    mode = body.get("buildMode")
    if not mode:
        raise parameter_missing("buildMode")
    if not isinstance(mode, str) or mode.lower() not in BUILD_MODES:
        raise invalid_parameter("buildMode", f"must be one of {', '.join(BUILD_MODES)}.")
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise invalid_parameter("tags", "must be an object of string values.")
    overwrite = body.get("allowOverwrite", False)
    if not isinstance(overwrite, bool):
        raise invalid_parameter("allowOverwrite", "must be true or false.")
    url, prefix, file_list = _source(body, allowed_hosts)
    return BuildRequest(model_id=model_id, build_mode=mode.lower(), container_url=url, prefix=prefix,
                        file_list=file_list, description=_string(body, "description", 4096), tags=tags,
                        allow_overwrite=overwrite, api_version=api_version)


def model_details(req: BuildRequest, outcome: TrainingOutcome, created: str) -> dict[str, Any]:
    """DocumentModelDetails of a successful build: one docType named after the model, its field schema
    (fields.json types; tables nested) and per-field leave-one-out accuracy as fieldConfidence."""
    schema, confidence = field_schema(outcome.params or {})
    details: dict[str, Any] = {"modelId": req.model_id}
    if req.description is not None:
        details["description"] = req.description
    details.update({"createdDateTime": created, "apiVersion": req.api_version, "tags": req.tags,
                    "buildMode": req.build_mode})
    if req.file_list is None:
        details["azureBlobSource"] = {"containerUrl": without_query(req.container_url), "prefix": req.prefix}
    else:
        details["azureBlobFileListSource"] = {"containerUrl": without_query(req.container_url),
                                              "fileList": req.file_list}
    details["docTypes"] = {req.model_id: {
        "buildMode": req.build_mode,
        "fieldSchema": schema, "fieldConfidence": confidence}}
    warnings = _document_problems(outcome.train_result)
    warnings += [{"code": e["code"], "message": e["message"]} for e in outcome.train_result.get("errors", [])]
    if warnings:
        details["warnings"] = warnings
    return details


def _document_problems(train_result: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"code": e["code"], "message": e["message"], "target": d["documentName"]}
            for d in train_result.get("trainingDocuments", []) for e in d.get("errors", [])]


def build_failure(train_result: dict[str, Any]) -> dict[str, Any]:
    """The operation's `error` when training made no model."""
    errors = train_result.get("errors") or []
    message = errors[0]["message"] if errors else "No labeled document could be used."
    if not train_result.get("trainingDocuments"):
        return error_object("InvalidRequest", "TrainingContentMissing",
                            f"Training data is missing: {message}")
    return error_object("InvalidRequest", "ModelBuildError", f"Could not build the model: {message}",
                        _document_problems(train_result))


def _brief(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_build(req: BuildRequest, op_id: str, models: V4Models, ops: BuildOperations,
              allowed_hosts: tuple[str, ...], ocr_fn: OcrFn) -> None:
    """The build job (on the trainer thread): train, store the model, record the outcome."""
    started = time.perf_counter()
    ops.update(op_id, status="running")
    error: dict[str, Any] | None = None
    try:
        container = ContainerSource(req.container_url, allowed_hosts)
        file_list = read_file_list(container, req.file_list) if req.file_list else None
        source = StudioSource(container, file_list)
        outcome = run_training(source, req.prefix, True, True, ocr_fn, req.model_id,
                               image_fn=lambda data, n: page_image(data, None, n))
        if outcome.status == "ready" and outcome.params is not None:
            details = model_details(req, outcome, utc_now())
            models.save(details, outcome.params, outcome.train_result)
            ops.update(op_id, status="succeeded", percentCompleted=100, result=details)
        else:
            error = build_failure(outcome.train_result)
    except V4Error as exc:
        error = exc.error()
    except ApiError as exc:
        error = error_from_v2_code(exc.code, exc.message)
    except Exception as exc:  # storage unreachable, bad SAS, ...: the operation says why
        log.warning("build failed", exc_info=True, extra={"model_id": req.model_id})
        error = error_object("InvalidRequest", "ContentSourceNotAccessible",
                             f"Content is not accessible: {_brief(exc)}")
    if error is not None:
        ops.update(op_id, status="failed", percentCompleted=100, error=error)
    log.info("operation finished", extra={"model_id": req.model_id, "kind": "build",
                                          "status": "failed" if error else "succeeded",
                                          "seconds": round(time.perf_counter() - started, 3)})
