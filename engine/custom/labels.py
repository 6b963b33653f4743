"""Parse label files in both formats in use, and `fields.json`.

Formats: the labeling tool's (`document`, `labels[{label, value[{page, text, boundingBoxes}]}]`, optional
`$schema`, `labelingState`, `labelType`) and the 2019 "v1.0" one (`docName`, `labels[{fieldKey, fieldValue,
regions[{pageNumber, polygon}]}]`). Both become the same `LabelFile` so nothing downstream cares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = ("string", "number", "integer", "date", "time", "selectionMark")


class LabelFormatError(ValueError):
    """A label or fields file that cannot be read; the message says what is wrong."""


@dataclass
class LabelRegion:
    page: int
    box: tuple[float, float, float, float]  # normalised left, top, right, bottom
    text: str = ""


@dataclass
class FieldLabel:
    name: str
    text: str
    regions: list[LabelRegion]
    label_type: str | None = None


@dataclass
class LabelFile:
    document: str
    labels: list[FieldLabel] = field(default_factory=list)
    format: str = "labels"  # "labels" (labeling tool) or "v1.0"


def _box_of(poly: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(poly, list) or len(poly) != 8:
        raise LabelFormatError(f"{where}: a box must be 8 numbers")
    try:
        vals = [float(v) for v in poly]
    except (TypeError, ValueError) as exc:
        raise LabelFormatError(f"{where}: a box must be 8 numbers") from exc
    xs, ys = vals[0::2], vals[1::2]
    if min(vals) < -0.05 or max(vals) > 1.05:
        raise LabelFormatError(f"{where}: box coordinates must be normalised to 0-1")
    return (min(xs), min(ys), max(xs), max(ys))


def _page_of(value: Any, where: str) -> int:
    try:
        page = int(value)
    except (TypeError, ValueError) as exc:
        raise LabelFormatError(f"{where}: page must be a number") from exc
    if page < 1:
        raise LabelFormatError(f"{where}: page must be 1 or more")
    return page


def _parse_tool_format(data: dict[str, Any]) -> LabelFile:
    out = LabelFile(document=str(data.get("document") or ""), format="labels")
    for i, lab in enumerate(data["labels"]):
        if not isinstance(lab, dict) or not isinstance(lab.get("label"), str):
            raise LabelFormatError(f"labels[{i}] has no 'label' name")
        regions: list[LabelRegion] = []
        texts: list[str] = []
        for j, val in enumerate(lab.get("value") or []):
            where = f"labels[{i}] ({lab['label']}) value[{j}]"
            if not isinstance(val, dict):
                raise LabelFormatError(f"{where} must be an object")
            page = _page_of(val.get("page"), where)
            text = str(val.get("text") or "")
            if text:
                texts.append(text)
            boxes = val.get("boundingBoxes") or []
            if not isinstance(boxes, list) or not boxes:
                raise LabelFormatError(f"{where} has no boundingBoxes")
            for k, poly in enumerate(boxes):
                regions.append(LabelRegion(page=page, box=_box_of(poly, f"{where} box[{k}]"), text=text))
        out.labels.append(FieldLabel(name=lab["label"], text=" ".join(texts), regions=regions,
                                     label_type=lab.get("labelType")))
    return out


def _parse_v1_format(data: dict[str, Any]) -> LabelFile:
    out = LabelFile(document=str(data.get("docName") or data.get("document") or ""), format="v1.0")
    for i, lab in enumerate(data["labels"]):
        if not isinstance(lab, dict) or not isinstance(lab.get("fieldKey"), str):
            raise LabelFormatError(f"labels[{i}] has no 'fieldKey'")
        values = lab.get("fieldValues") or []
        regions: list[LabelRegion] = []
        for j, reg in enumerate(lab.get("regions") or []):
            where = f"labels[{i}] ({lab['fieldKey']}) regions[{j}]"
            if not isinstance(reg, dict):
                raise LabelFormatError(f"{where} must be an object")
            text = str(values[j]) if j < len(values) and len(values) == len(lab.get("regions") or []) else ""
            regions.append(LabelRegion(page=_page_of(reg.get("pageNumber"), where),
                                       box=_box_of(reg.get("polygon"), where), text=text))
        text = lab.get("fieldValue")
        if not isinstance(text, str):
            text = " ".join(str(v) for v in values)
        out.labels.append(FieldLabel(name=lab["fieldKey"], text=text, regions=regions))
    return out


def parse_labels(data: Any) -> LabelFile:
    """Parse a decoded label JSON of either format; raise LabelFormatError with a reason."""
    if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
        raise LabelFormatError("a label file must be an object with a 'labels' list")
    first = next((lab for lab in data["labels"] if isinstance(lab, dict)), None)
    is_v1 = str(data.get("version", "")).lower().startswith("v1") or (
        first is not None and "fieldKey" in first and "label" not in first)
    return _parse_v1_format(data) if is_v1 else _parse_tool_format(data)


def parse_fields(data: Any) -> dict[str, str]:
    """`fields.json` -> {field name: type}; types the model cannot extract map to string."""
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise LabelFormatError("fields.json must be an object with a 'fields' list")
    out: dict[str, str] = {}
    for i, f in enumerate(data["fields"]):
        if not isinstance(f, dict) or not isinstance(f.get("fieldKey"), str):
            raise LabelFormatError(f"fields[{i}] has no 'fieldKey'")
        ftype = str(f.get("fieldType") or "string")
        if ftype == "checkbox":
            ftype = "selectionMark"
        out[f["fieldKey"]] = ftype if ftype in FIELD_TYPES else "string"
    return out
