"""Dynamic table fields in a custom model: split their cells from the scalar labels, train a table model
per field (with its leave-one-out accuracy per column), and answer them as v2.1 `valueArray`s of
`valueObject`s.
"""

from __future__ import annotations

from typing import Any

from engine.custom.matching import MatchedField
from engine.custom.ocr_file import OcrDocument, Word
from engine.custom.scoring.spans import norm_text
from engine.custom.scoring.values import typed_value
from engine.custom.table_fields.extract import Row, read_table
from engine.custom.table_fields.learn import Rows, TableExample, learn_table
from engine.custom.table_fields.paths import DYNAMIC, dynamic_cell, join_path, split_path

TableCells = dict[str, Rows]  # table -> row -> column -> matched cell


def split_cells(matched: dict[str, MatchedField]) -> tuple[dict[str, MatchedField], TableCells]:
    """Scalar fields (fixed-table cells among them) and the dynamic tables' cells."""
    scalars: dict[str, MatchedField] = {}
    tables: TableCells = {}
    for label, mf in matched.items():
        cell = dynamic_cell(label)
        if cell is None:
            scalars[label] = mf
        else:
            table, row, col = cell
            tables.setdefault(table, {}).setdefault(row, {})[col] = mf
    return scalars, tables


def _columns(table: str, field_types: dict[str, str], examples: list[TableExample]) -> list[str]:
    prefix = join_path(table, DYNAMIC) + "/"
    declared = [split_path(k[len(prefix):])[0] for k in field_types if k.startswith(prefix)]
    seen = [c for ex in examples for cells in ex.rows.values() for c in cells]
    return declared + [c for c in dict.fromkeys(seen) if c not in declared]


def cell_text(words: list[Word]) -> str:
    """The words as read: visual line by line, left to right within a line (extract keeps that order)."""
    return " ".join(w.text for w in words)


def _loo(columns: list[str], examples: list[TableExample]) -> tuple[dict[str, float], float]:
    """Per column: share of labeled cells read exactly on a form the model was not trained on; and the
    share of forms whose row count was right."""
    right = dict.fromkeys(columns, 0)
    total = dict.fromkeys(columns, 0)
    counts_right = 0
    for i, ex in enumerate(examples):
        model = learn_table(columns, [e for j, e in enumerate(examples) if j != i])
        rows = read_table(model, ex.ocr) if model else []
        truth = [ex.rows[k] for k in sorted(ex.rows)]
        counts_right += len(rows) == len(truth)
        for r, cells in enumerate(truth):
            for col, mf in cells.items():
                total[col] = total.get(col, 0) + 1
                got = cell_text(rows[r].cells.get(col, [])) if r < len(rows) else ""
                right[col] = right.get(col, 0) + (norm_text(got) == norm_text(mf.text))
    accuracy = {c: round(right[c] / total[c], 3) for c in total if total[c]}
    return accuracy, round(counts_right / len(examples), 3) if examples else 0.0


def train_tables(docs: list[tuple[OcrDocument, TableCells]], field_types: dict[str, str]) -> dict[str, Any]:
    """{table: its model, with `column_accuracy` and `row_count_accuracy` from leave-one-out}."""
    out: dict[str, Any] = {}
    for table in sorted({t for _, cells in docs for t in cells}):
        examples = [TableExample(ocr, cells[table]) for ocr, cells in docs if table in cells]
        columns = _columns(table, field_types, examples)
        model = learn_table(columns, examples)
        if model is None:
            continue
        if len(examples) >= 2:
            model["column_accuracy"], model["row_count_accuracy"] = _loo(columns, examples)
        model["types"] = {c: field_types.get(join_path(table, DYNAMIC, c), "string")
                          for c in model["columns"]}
        out[table] = model
    return out


def table_accuracy(model: dict[str, Any]) -> float:
    acc = model.get("column_accuracy") or {}
    return round(sum(acc.values()) / len(acc), 3) if acc else 0.0


def table_accuracy_fields(tables: dict[str, Any]) -> dict[str, float]:
    """trainResult `fields` entries of the tables: the table (mean of its columns) and each column as
    `Items/*/Description` (its share of cells read exactly, leave-one-out)."""
    out: dict[str, float] = {}
    for name, model in tables.items():
        out[join_path(name)] = table_accuracy(model)
        for col, acc in (model.get("column_accuracy") or {}).items():
            out[join_path(name, DYNAMIC, col)] = acc
    return out


def _polygon(words: list[Word]) -> list[float]:
    xs = [v for w in words for v in w.polygon[0::2]]
    ys = [v for w in words for v in w.polygon[1::2]]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return [round(v, 4) for v in (x0, y0, x1, y0, x1, y1, x0, y1)]


def _cell(model: dict[str, Any], col: str, row: Row, include_text: bool) -> dict[str, Any] | None:
    words = row.cells.get(col)
    if not words:
        return None
    text = cell_text(words)
    ftype = model["types"].get(col, "string")
    ftype = "string" if ftype == "selectionMark" else ftype
    confidence = round(min(0.99, (model.get("column_accuracy") or {}).get(col, 0.5) * row.fit), 3)
    out: dict[str, Any] = {"type": ftype, **typed_value(ftype, text), "text": text, "page": words[0].page,
                           "boundingBox": _polygon(words), "confidence": confidence}
    if include_text:
        out["elements"] = [w.ref for w in words]  # in reading order, as `text`
    return out


def table_fields(tables: dict[str, Any], ocr: OcrDocument, include_text: bool) -> dict[str, Any]:
    """v2.1 fields of the dynamic tables: `{type: array, valueArray: [{type: object, valueObject}]}`, keyed
    by escaped name like the scalar labels, for `paths.nest`."""
    out: dict[str, Any] = {}
    for name, model in sorted(tables.items()):
        rows = read_table(model, ocr)
        items = [{"type": "object",
                  "valueObject": {c: _cell(model, c, row, include_text) for c in model["columns"]}}
                 for row in rows]
        out[join_path(name)] = {"type": "array", "valueArray": items}  # nest() unescapes it
    return out
