"""A model's field schema as v4.0 `docTypes[].fieldSchema` describes it: tables nested (`array` of
`object` for a dynamic table, `object` of `object` for a fixed one), with one confidence per top-level
field (a table's is the mean leave-one-out accuracy of its cells)."""

from __future__ import annotations

from typing import Any

from engine.custom.table_fields.model import table_accuracy
from engine.custom.table_fields.paths import DYNAMIC, join_path, split_path


def field_schema(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """(fieldSchema, fieldConfidence) of a trained model's params."""
    types: dict[str, str] = params.get("field_types", {})
    accuracy: dict[str, float] = params.get("field_accuracy", {})
    schema: dict[str, Any] = {}
    cells: dict[str, list[float]] = {}
    for label, ftype in sorted(types.items()):
        parts = split_path(label)
        node = schema
        for part in parts[:-1]:
            node = node.setdefault(part, {"type": "object", "properties": {}})["properties"]
        node[parts[-1]] = {"type": ftype}
        cells.setdefault(parts[0], []).append(accuracy.get(label, 0.0))
    confidence = {name: round(sum(v) / len(v), 3) for name, v in cells.items()}
    for name, model in sorted((params.get("tables") or {}).items()):
        columns = {c: {"type": model["types"].get(c, "string")} for c in model["columns"]}
        schema[name] = {"type": "array", "items": {"type": "object", "properties": columns}}
        confidence[name] = table_accuracy(model)
    return dict(sorted(schema.items())), dict(sorted(confidence.items()))


def cell_types(params: dict[str, Any]) -> dict[str, str]:
    """Every field's type by label path, the dynamic tables' columns as `Items/*/Amount`."""
    out = dict(params.get("field_types", {}))
    for name, model in (params.get("tables") or {}).items():
        out.update({join_path(name, DYNAMIC, c): t for c, t in model.get("types", {}).items()})
    return out
