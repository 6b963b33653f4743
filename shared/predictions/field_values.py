"""Field values on both sides of a review: what a model extracted and what a person labeled.

Values are compared as the engine scores its own accuracy: whitespace collapsed, case folded (a
model that reads "ACME  Corp" where the label says "Acme Corp" agreed). Check boxes compare their
state (`selected`/`unselected`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.names import dynamic_cell, escape_label_name, prediction_name

_VALUE_KEYS = ("valueString", "valueNumber", "valueInteger", "valueDate", "valueTime", "valuePhoneNumber",
               "valueSelectionMark", "valueCountryRegion")


def norm(text: str | None) -> str:
    return " ".join(str(text or "").split()).casefold()


def _cells(name: str, found: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A table field as its cells, named like their labels: `Items/0/Description` for a row of a dynamic
    table (`valueArray`), `Table/Row/Column` for a fixed one (`valueObject`); a scalar as itself."""
    if found.get("type") == "array" and isinstance(found.get("valueArray"), list):
        return [cell for i, item in enumerate(found["valueArray"])
                for cell in _cells(f"{name}/{i}", item or {})]
    if found.get("type") == "object" and isinstance(found.get("valueObject"), dict):
        return [cell for key, item in found["valueObject"].items()
                for cell in _cells(f"{name}/{escape_label_name(str(key))}", item or {})]
    return [(name, found)]


def predicted_fields(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{name: {value, text, confidence, page, boundingBox}}` from a custom analyze result (v2.1, and
    the 2019 preview's `understandingResults`). A field the model did not find has `text` ''. Table
    fields come as one entry per cell, named as the cell's label (see `_cells`)."""
    result = body.get("analyzeResult") or {}
    out: dict[str, dict[str, Any]] = {}
    for doc in result.get("documentResults") or []:
        for top, whole in (doc.get("fields") or {}).items():
            for name, found in _cells(escape_label_name(str(top)), whole or {}):
                value = next((found[k] for k in _VALUE_KEYS if found.get(k) is not None), found.get("text"))
                out[name] = {"value": value, "text": str(found.get("text") or ""),
                             "confidence": found.get("confidence"), "page": found.get("page"),
                             "boundingBox": found.get("boundingBox")}
    for doc in result.get("documents") or []:  # v4.0: typed fields with content and bounding regions
        for top, whole in (doc.get("fields") or {}).items():
            for name, found in _cells(escape_label_name(str(top)), whole or {}):
                value = next((found[k] for k in _VALUE_KEYS if found.get(k) is not None),
                             found.get("content"))
                region = (found.get("boundingRegions") or [{}])[0]
                out[name] = {"value": value, "text": str(found.get("content") or ""),
                             "confidence": found.get("confidence"), "page": region.get("pageNumber"),
                             "boundingBox": region.get("polygon")}
    for item in result.get("understandingResults") or []:  # 2.0-preview
        for name, found in (item.get("fields") or {}).items():
            found = found or {}
            elements = [e for e in found.get("elements") or [] if isinstance(e, dict)]
            text = " ".join(str(e.get("text", "")) for e in elements)
            out[str(name)] = {"value": found.get("value", text), "text": str(found.get("value") or text),
                              "confidence": found.get("confidence"), "page": found.get("page"),
                              "boundingBox": None}
    return out


def stored_fields(row: dict[str, Any],
                  read_blob: Callable[[str], bytes] | None = None) -> dict[str, dict[str, Any]]:
    """A Predictions row's fields. The row keeps a slimmed copy when they are large (no values, texts
    cut at 80 characters, the last fields dropped: see predict.fields_property), so then the
    `.prediction.json` beside the form is read: `read_blob(name)` returns a blob's bytes."""
    fields: dict[str, dict[str, Any]] = {}
    try:
        parsed = json.loads(str(row.get("fields") or "{}"))
        if isinstance(parsed, dict):
            fields = {str(k): v for k, v in parsed.items() if isinstance(v, dict)}
    except ValueError:
        parsed = None
    complete = isinstance(parsed, dict) and all("value" in v for v in fields.values())
    if complete or read_blob is None or not row.get("blobName"):
        return fields
    try:
        return predicted_fields(json.loads(read_blob(prediction_name(str(row["blobName"])))))
    except (ResourceNotFoundError, ValueError):
        return fields  # the file is gone or unreadable: what the row has is better than nothing


def labeled_values(raw: bytes) -> dict[str, str]:
    """`{field: text}` from a labels file in any accepted format (already validated); tables as cells
    named like their labels (`Items/0/Description`)."""
    data = json.loads(raw)
    out: dict[str, str] = {}
    for top, node in (data.get("fieldLabels") or {}).items():  # 2024-11-30
        for name, leaf in _cells(escape_label_name(str(top)), node if isinstance(node, dict) else {}):
            out[name] = str(leaf.get("content") or "")
    for item in data.get("labels") or []:
        if not isinstance(item, dict):
            continue
        if "label" in item:
            parts = [str(v.get("text", "")) for v in item.get("value") or [] if isinstance(v, dict)]
            out[str(item["label"])] = " ".join(p for p in parts if p)
        elif "fieldKey" in item:
            out[str(item["fieldKey"])] = str(item.get("fieldValue") or "")
    return out


@dataclass
class Comparison:
    """A form's predicted fields against its labels, field by field."""

    agreed: list[str] = field(default_factory=list)
    corrected: list[dict[str, Any]] = field(default_factory=list)  # field, predicted, labeled, confidence
    missed: list[str] = field(default_factory=list)  # labeled, not found by the model
    spurious: list[str] = field(default_factory=list)  # found by the model, not labeled
    confident_fields: int = 0  # predicted at or above the review confidence...
    confident_agreed: int = 0  # ...and of those, right
    # per dynamic table: {"predictedRows", "labeledRows", "rowsRight"} (its cells are fields above)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def fields(self) -> int:
        return len(self.agreed) + len(self.corrected) + len(self.missed) + len(self.spurious)


def table_rows(names: list[str]) -> dict[str, int]:
    """{table: rows} counted from cell names (a row counts when any of its cells is there)."""
    rows: dict[str, set[int]] = {}
    for name in names:
        cell = dynamic_cell(name)
        if cell:
            rows.setdefault(cell[0], set()).add(cell[1])
    return {t: len(r) for t, r in rows.items()}


def compare(predicted: dict[str, dict[str, Any]], labeled: dict[str, str], confident_at: float) -> Comparison:
    result = Comparison()
    found = table_rows([n for n, f in predicted.items() if str((f or {}).get("text") or "").strip()])
    truth = table_rows([n for n, t in labeled.items() if t.strip()])
    for table in sorted(set(found) | set(truth)):
        n, m = found.get(table, 0), truth.get(table, 0)
        result.tables[table] = {"predictedRows": n, "labeledRows": m, "rowsRight": n == m}
    for name in sorted(set(predicted) | set(labeled)):
        found = predicted.get(name) or {}
        text = str(found.get("text") or "")
        confidence = found.get("confidence")
        truth = labeled.get(name)
        sure = bool(text) and isinstance(confidence, int | float) and confidence >= confident_at
        if truth is None or not truth.strip():
            if text:
                result.spurious.append(name)
                result.confident_fields += int(sure)
            continue
        if not text:
            result.missed.append(name)
            continue
        result.confident_fields += int(sure)
        if norm(text) == norm(truth):
            result.agreed.append(name)
            result.confident_agreed += int(sure)
        else:
            result.corrected.append({"field": name, "predicted": text, "labeled": truth,
                                     "confidence": confidence})
    return result
