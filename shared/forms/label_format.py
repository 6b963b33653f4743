"""Validation of `.labels.json` files in both formats the service accepts.

- labeling tool (2020+, `$schema` .../2021-03-01/labels.json optional):
  ``{"document", "labels": [{"label", "key", "value": [{"page", "text", "boundingBoxes": [[8]]}]}]}``
- early "v1.0" (the 2019 Feedback Loop docs):
  ``{"version": "v1.0", "docName", "labels": [{"fieldKey", "fieldValue", "regions": [{"pageNumber",
  "polygon"}]}]}``
- Document Intelligence 2024-11-30 (custom generative models): ``{"fieldLabels": {name: {"type",
  "content", "boundingRegions": [{"pageNumber", "polygon"}]} | {"valueArray": [...]} | {"valueObject":
  {...}}}}``, polygons in the page's unit, tables nested.

A table cell's label (labeling tool) is a path, `Items/0/Description` or `Table/Row/Column`: no part may be
empty and a `~` inside a name is written `~0` (`/` as `~1`), as the labeling tool escapes them.

Checking here, before training, is what lets a malformed file get a clear row of its own instead of
failing (or silently weakening) a training run later.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.names import escape_label_name

# Normalised coordinates are 0..1; labeling tools round a hair past the edges, so allow a small slack.
_SLACK = 0.05
MAX_ERRORS = 5


@dataclass
class LabelCheck:
    ok: bool
    format: str = ""  # "labeling-tool" | "v1.0" | ""
    document: str = ""
    label_count: int = 0
    field_names: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sha256: str = ""
    max_page: int = 0  # the highest page a value is placed on (checked against the OCR's page count)

    @property
    def message(self) -> str:
        return "; ".join(self.errors)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_polygon(points: Any, where: str, errors: list[str]) -> None:
    if not isinstance(points, list) or len(points) != 8 or not all(_is_number(p) for p in points):
        errors.append(f"{where}: a box must be a list of 8 numbers")
        return
    if any(p < -_SLACK or p > 1 + _SLACK for p in points):
        errors.append(f"{where}: box coordinates must be normalised to 0..1 of the page")


def _check_page(page: Any, where: str, errors: list[str]) -> None:
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        errors.append(f"{where}: page must be a whole number from 1")


def _check_tool_item(value: dict[str, Any], where: str, errors: list[str]) -> None:
    _check_page(value.get("page"), where, errors)
    if not isinstance(value.get("text", ""), str):
        errors.append(f"{where}: 'text' must be a string")
    boxes = value.get("boundingBoxes")
    if not isinstance(boxes, list) or not boxes:
        errors.append(f"{where}: 'boundingBoxes' must be a non-empty list")
        return
    for k, box in enumerate(boxes):
        _check_polygon(box, f"{where} box[{k}]", errors)


def _check_v1_item(region: dict[str, Any], where: str, errors: list[str]) -> None:
    _check_page(region.get("pageNumber"), where, errors)
    _check_polygon(region.get("polygon"), where, errors)


@dataclass(frozen=True)
class _Format:
    """Where one label format keeps what both formats have: the document, field names, placed values."""

    name: str
    document_key: str
    name_key: str
    noun: str  # how an error names one label: "label 'Total'" / "field 'Total'"
    items_key: str
    item_noun: str
    check_item: Callable[[dict[str, Any], str, list[str]], None]


_TOOL = _Format("labeling-tool", "document", "label", "label", "value", "value", _check_tool_item)
_V1 = _Format("v1.0", "docName", "fieldKey", "field", "regions", "region", _check_v1_item)


def _check_name(name: str, where: str, errors: list[str]) -> None:
    if "/" in name and any(not part for part in name.split("/")):
        errors.append(f"{where}: a table cell is named Table/<row>/<Column>, with no part empty")
    elif re.search(r"~(?![01])", name):
        errors.append(f"{where}: a '~' in a name is written '~0' (and a '/' as '~1')")


def _check_field_labels(data: dict[str, Any], check: LabelCheck) -> None:
    """The 2024-11-30 format: every leaf has a content and regions on pages with absolute polygons."""
    check.format = "2024-11-30"
    check.document = str(data.get("document") or "")
    errors = check.errors

    def walk(name: str, node: Any) -> None:
        if not isinstance(node, dict):
            errors.append(f"field {name!r}: must be an object")
        elif isinstance(node.get("valueArray"), list):
            for i, item in enumerate(node["valueArray"]):
                walk(f"{name}/{i}", item)
        elif isinstance(node.get("valueObject"), dict):
            for key, item in node["valueObject"].items():
                walk(f"{name}/{escape_label_name(str(key))}", item)
        else:
            regions = node.get("boundingRegions") or []
            for j, region in enumerate(regions if isinstance(regions, list) else [None]):
                where = f"field {name!r} boundingRegions[{j}]"
                if not isinstance(region, dict):
                    errors.append(f"{where}: must be an object")
                    continue
                _check_page(region.get("pageNumber"), where, errors)
                poly = region.get("polygon")
                if not isinstance(poly, list) or len(poly) < 8 or len(poly) % 2 or \
                        not all(_is_number(v) and v >= 0 for v in poly):
                    errors.append(f"{where}: a polygon is 4 or more points of non-negative numbers")
            if regions:
                check.field_names.append(name)

    for key, node in data["fieldLabels"].items():
        walk(escape_label_name(str(key)), node)


def _check_format(data: dict[str, Any], check: LabelCheck, fmt: _Format) -> None:
    check.format = fmt.name
    errors = check.errors
    document = data.get(fmt.document_key)
    if not isinstance(document, str) or not document:
        errors.append(f"'{fmt.document_key}' must name the labeled file")
    else:
        check.document = document
    labels = data.get("labels")
    if not isinstance(labels, list):
        errors.append("'labels' must be a list")
        return
    for i, label in enumerate(labels):
        where = f"labels[{i}]"
        if not isinstance(label, dict):
            errors.append(f"{where}: must be an object")
            continue
        name = label.get(fmt.name_key)
        if not isinstance(name, str) or not name.strip():
            errors.append(f"{where}: '{fmt.name_key}' (the field name) is missing")
            continue
        where = f"{fmt.noun} {name!r}"
        _check_name(name, where, errors)
        items = label.get(fmt.items_key)
        if not isinstance(items, list):
            errors.append(f"{where}: '{fmt.items_key}' must be a list")
            continue
        for j, item in enumerate(items):
            item_where = f"{where} {fmt.item_noun}[{j}]"
            if not isinstance(item, dict):
                errors.append(f"{item_where}: must be an object")
                continue
            fmt.check_item(item, item_where, errors)
        if items:
            check.field_names.append(name)


def _max_page(data: Any) -> int:
    """Highest page of a file that passed the checks (any format: `page` of a labeling-tool value,
    `pageNumber` of a v1.0 region or a 2024-11-30 bounding region)."""
    if isinstance(data, list):
        return max((_max_page(v) for v in data), default=0)
    if not isinstance(data, dict):
        return 0
    own = [v for k, v in data.items() if k in ("page", "pageNumber") and isinstance(v, int)]
    return max([*own, *(_max_page(v) for v in data.values() if isinstance(v, dict | list))], default=0)


def check_document_name(check: LabelCheck, file_name: str) -> LabelCheck:
    """A labels file describes the file it lies beside: naming another one means its boxes are that
    other file's (copied labels), so it must not count as this document's labels."""
    if check.ok and check.document and check.document.rsplit("/", 1)[-1] != file_name:
        check.errors.append(f"the labels name '{check.document}', but lie beside '{file_name}'; "
                            f"rename the labels file or fix its document name")
        check.ok = False
    return check


def validate_labels(raw: bytes) -> LabelCheck:
    """Parse and check one labels file; never raises on bad content (the errors are the result)."""
    check = LabelCheck(ok=False, sha256=hashlib.sha256(raw).hexdigest())
    if not raw.strip():
        check.errors.append("the labels file is empty")
        return check
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        check.errors.append(f"not valid JSON: {exc}")
        return check
    if not isinstance(data, dict):
        check.errors.append("the top level must be a JSON object")
        return check
    if isinstance(data.get("fieldLabels"), dict):
        _check_field_labels(data, check)
    elif "docName" in data or ("version" in data and "document" not in data):
        _check_format(data, check, _V1)
    elif "document" in data or "labels" in data:
        _check_format(data, check, _TOOL)
    else:
        check.errors.append("no label format: expected 'document' + 'labels' (labeling tool), "
                            "'version' + 'docName' + 'labels' (v1.0) or 'fieldLabels' (2024-11-30)")
        return check
    check.label_count = len(check.field_names)
    if not check.errors:
        check.max_page = _max_page(data)
    if not check.errors and check.label_count == 0:
        check.errors.append("the file holds no labeled values")
    if len(check.errors) > MAX_ERRORS:
        extra = len(check.errors) - MAX_ERRORS
        check.errors = [*check.errors[:MAX_ERRORS], f"... and {extra} more"]
    check.ok = not check.errors
    return check
