"""Parse label files in both formats in use, and `fields.json`.

Formats: the labeling tool's (`document`, `labels[{label, value[{page, text, boundingBoxes}]}]`, optional
`$schema`, `labelingState`, `labelType`), the 2019 "v1.0" one (`docName`, `labels[{fieldKey, fieldValue,
regions[{pageNumber, polygon}]}]`) and Document Intelligence 2024-11-30's (`fieldLabels: {name: {type,
content, boundingRegions[{pageNumber, polygon}]} | {valueArray} | {valueObject}}`, polygons in the page's
unit, tables nested). All become the same `LabelFile` (tables as cell paths, `Items/0/Description`) so
nothing downstream cares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.custom.table_fields.paths import DYNAMIC, join_path

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
    format: str = "labels"  # "labels" (labeling tool), "v1.0" or "2024-11-30"
    in_page_units: bool = False  # boxes in the page's unit (2024-11-30), normalised when matched

    def normalised(self, page_sizes: dict[int, tuple[float, float]]) -> LabelFile:
        """Boxes as fractions of their page (a no-op unless they are in page units)."""
        if not self.in_page_units:
            return self
        out = LabelFile(self.document, format=self.format)
        for lab in self.labels:
            regions = []
            for r in lab.regions:
                w, h = page_sizes.get(r.page, (1.0, 1.0))
                regions.append(LabelRegion(r.page, (r.box[0] / w, r.box[1] / h, r.box[2] / w, r.box[3] / h),
                                           r.text))
            out.labels.append(FieldLabel(lab.name, lab.text, regions, lab.label_type))
        return out


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


def _check_path(name: str) -> None:
    """A table cell's label is `Table/<row>/<Column>`: no empty part, and `~` only as `~0` or `~1`."""
    if "/" in name and any(not part for part in name.split("/")):
        raise LabelFormatError(f"label '{name}': a table cell is named Table/<row>/<Column>, no part empty")
    if re.search(r"~(?![01])", name):
        raise LabelFormatError(f"label '{name}': '~' in a name is written '~0' (and '/' as '~1')")


def _field_labels(data: dict[str, Any]) -> LabelFile:
    """The 2024-11-30 `fieldLabels`: nested values flattened into cell paths, boxes in page units."""
    out = LabelFile(document=str(data.get("document") or ""), format="2024-11-30", in_page_units=True)

    def walk(name: str, node: Any) -> None:
        if not isinstance(node, dict):
            raise LabelFormatError(f"fieldLabels '{name}' must be an object")
        if isinstance(node.get("valueArray"), list):
            for i, item in enumerate(node["valueArray"]):
                walk(f"{name}/{i}", item)
            return
        if isinstance(node.get("valueObject"), dict):
            for key, item in node["valueObject"].items():
                walk(f"{name}/{join_path(str(key))}", item)
            return
        regions = []
        text = str(node.get("content") or "")
        for j, reg in enumerate(node.get("boundingRegions") or []):
            where = f"fieldLabels '{name}' boundingRegions[{j}]"
            poly = reg.get("polygon") if isinstance(reg, dict) else None
            if not isinstance(poly, list) or len(poly) < 8 or len(poly) % 2 or \
                    not all(isinstance(v, int | float) and v >= 0 for v in poly):
                raise LabelFormatError(f"{where}: a polygon is 4 or more points of non-negative numbers")
            xs, ys = [float(v) for v in poly[0::2]], [float(v) for v in poly[1::2]]
            regions.append(LabelRegion(page=_page_of(reg.get("pageNumber"), where),
                                       box=(min(xs), min(ys), max(xs), max(ys)), text=text))
        out.labels.append(FieldLabel(name=name, text=text, regions=regions))

    for key, node in data["fieldLabels"].items():
        walk(join_path(str(key)), node)
    return out


def parse_labels(data: Any) -> LabelFile:
    """Parse a decoded label JSON of any accepted format; raise LabelFormatError with a reason."""
    if isinstance(data, dict) and isinstance(data.get("fieldLabels"), dict):
        return _field_labels(data)
    if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
        raise LabelFormatError("a label file must be an object with a 'labels' list (or 'fieldLabels')")
    for lab in data["labels"]:
        if isinstance(lab, dict) and isinstance(lab.get("label"), str):
            _check_path(lab["label"])
    first = next((lab for lab in data["labels"] if isinstance(lab, dict)), None)
    is_v1 = str(data.get("version", "")).lower().startswith("v1") or (
        first is not None and "fieldKey" in first and "label" not in first)
    return _parse_v1_format(data) if is_v1 else _parse_tool_format(data)


def _scalar_type(ftype: Any) -> str:
    ftype = str(ftype or "string")
    if ftype == "checkbox":
        ftype = "selectionMark"
    return ftype if ftype in FIELD_TYPES else "string"


def _definition_fields(data: dict[str, Any], name: Any, where: str) -> list[dict[str, Any]]:
    definition = (data.get("definitions") or {}).get(name) if isinstance(name, str) else None
    fields = definition.get("fields") if isinstance(definition, dict) else None
    if not isinstance(fields, list):
        raise LabelFormatError(f"{where}: its item type '{name}' is not in 'definitions'")
    return [f for f in fields if isinstance(f, dict) and isinstance(f.get("fieldKey"), str)]


def _tool_fields(data: dict[str, Any]) -> dict[str, str]:
    """The labeling tool's `fields` list: scalars, `array` tables (columns in `definitions[itemType]`) and
    `object` tables (rows in `fields`, each row's type a definition listing the columns)."""
    out: dict[str, str] = {}
    for i, f in enumerate(data["fields"]):
        if not isinstance(f, dict) or not isinstance(f.get("fieldKey"), str):
            raise LabelFormatError(f"fields[{i}] has no 'fieldKey'")
        key, ftype = f["fieldKey"], f.get("fieldType")
        where = f"fields[{i}] ({key})"
        if ftype == "array":
            out[join_path(key)] = "array"
            for col in _definition_fields(data, f.get("itemType"), where):
                out[join_path(key, DYNAMIC, col["fieldKey"])] = _scalar_type(col.get("fieldType"))
        elif ftype == "object":
            out[join_path(key)] = "object"
            for row in f.get("fields") or []:
                if not isinstance(row, dict) or not isinstance(row.get("fieldKey"), str):
                    continue
                if row.get("fieldType") in (data.get("definitions") or {}):
                    for col in _definition_fields(data, row["fieldType"], where):
                        cell = join_path(key, row["fieldKey"], col["fieldKey"])
                        out[cell] = _scalar_type(col.get("fieldType"))
                else:
                    out[join_path(key, row["fieldKey"])] = _scalar_type(row.get("fieldType"))
        else:
            out[join_path(key)] = _scalar_type(ftype)
    return out


def _schema_fields(schema: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The 2024-11-30 `fieldSchema` ({name: {type, items: {properties}} | {type: object, properties}})."""
    out: dict[str, str] = {}
    for key, spec in schema.items():
        spec = spec if isinstance(spec, dict) else {}
        ftype, name = spec.get("type"), prefix + join_path(key)
        if ftype == "array":
            out[name] = "array"
            props = (spec.get("items") or {}).get("properties") or {}
            out.update({f"{name}/{DYNAMIC}/{join_path(col)}": _scalar_type((c or {}).get("type"))
                        for col, c in props.items()})
        elif ftype == "object":
            out[name] = "object"
            out.update(_schema_fields(spec.get("properties") or {}, name + "/"))
        else:
            out[name] = _scalar_type(ftype)
    return out


def parse_fields(data: Any) -> dict[str, str]:
    """`fields.json` -> {field name: type}; types the model cannot extract map to string. Tables add their
    cells' types by path: `Items/*/Description` for a dynamic table's column, `Table/Row/Column` for a
    fixed one (the table itself is `array` or `object`)."""
    if isinstance(data, dict) and isinstance(data.get("fieldSchema"), dict):
        return _schema_fields(data["fieldSchema"])
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise LabelFormatError("fields.json must be an object with a 'fields' list (or a 'fieldSchema')")
    return _tool_fields(data)
