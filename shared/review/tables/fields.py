"""Table fields of a folder's `fields.json` as the page shows them, kept or made when the page saves the
fields, and the label names of their cells.

The labeling tool declares a dynamic table as an `array` field whose `itemType` names a definition listing
the columns, and a fixed table as an `object` field whose members (its rows) are typed by such a
definition; the 2024-11-30 `fieldSchema` nests the same (read here, never written). The page edits scalar
fields only, so a table already declared is written back exactly as it was, with the definitions it
uses; a new one is made from its columns. A cell is labeled by its path, `Items/0/Description` or
`T/Row1/Col`, each name escaped as the labeling tool does (`~` -> `~0`, `/` -> `~1`), and a dynamic
table's rows are numbered from 0 with no gaps, so the pipeline compares them row by row with a prediction.
"""

from __future__ import annotations

import re
from typing import Any

from shared.names import join_label_path, split_label_path
from shared.review.web import ApiError

__all__ = ["TABLE_TYPES", "label_names", "page_fields", "table_entries"]

TABLE_TYPES = ("array", "object")
NAME = re.compile(r"^[^\x00-\x1f/\\]{1,64}$")
MAX_COLUMNS = 50
_ROW_INDEX = re.compile(r"^(0|[1-9][0-9]{0,5})$")




def _columns(definitions: dict[str, Any], name: Any) -> list[dict[str, str]] | None:
    """The columns a definition lists; None when `name` is no definition (a scalar type)."""
    definition = definitions.get(name) if isinstance(name, str) else None
    members = definition.get("fields") if isinstance(definition, dict) else None
    if not isinstance(members, list):
        return None
    return [{"name": str(c["fieldKey"]), "type": str(c.get("fieldType") or "string")}
            for c in members if isinstance(c, dict) and c.get("fieldKey")]


def _union(columns: list[dict[str, str]], more: list[dict[str, str]]) -> None:
    names = {c["name"] for c in columns}
    columns.extend(c for c in more if c["name"] not in names)


def _tool_field(entry: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    name, ftype = str(entry["fieldKey"]), str(entry.get("fieldType") or "string")
    if ftype == "array":
        return {"name": name, "type": "array", "columns": _columns(definitions, entry.get("itemType")) or []}
    if ftype == "object":  # a fixed table: its members are the rows; a scalar member is no row of it
        rows: list[str] = []
        columns: list[dict[str, str]] = []
        for member in entry.get("fields") or []:
            found = _columns(definitions, member.get("fieldType")) if isinstance(member, dict) else None
            if found is not None and member.get("fieldKey"):
                rows.append(str(member["fieldKey"]))
                _union(columns, found)
        return {"name": name, "type": "object", "rows": rows, "columns": columns}
    return {"name": name, "type": ftype}


def _properties(spec: Any) -> dict[str, Any]:
    props = spec.get("properties") if isinstance(spec, dict) else None
    return props if isinstance(props, dict) else {}


def _schema_field(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A field of the 2024-11-30 `fieldSchema` ({type, items: {properties}} | {type: object, properties})."""
    ftype = str(spec.get("type") or "string")
    if ftype == "array":
        return {"name": name, "type": "array", "columns": [
            {"name": str(k), "type": str((v or {}).get("type") or "string")}
            for k, v in _properties(spec.get("items")).items()]}
    if ftype == "object":
        rows: list[str] = []
        columns: list[dict[str, str]] = []
        for row, row_spec in _properties(spec).items():
            if isinstance(row_spec, dict) and row_spec.get("type") == "object":
                rows.append(str(row))
                _union(columns, [{"name": str(k), "type": str((v or {}).get("type") or "string")}
                                 for k, v in _properties(row_spec).items()])
        return {"name": name, "type": "object", "rows": rows, "columns": columns}
    return {"name": name, "type": ftype}


def is_field_schema(data: Any) -> bool:
    """A 2024-11-30 `fields.json` (`fieldSchema`, no labeling-tool `fields` list)."""
    return isinstance(data, dict) and isinstance(data.get("fieldSchema"), dict) and \
        not isinstance(data.get("fields"), list)


def page_fields(data: Any) -> list[dict[str, Any]]:
    """`fields.json` as the page shows it: `{name, type}` per field; a dynamic table adds its `columns`
    (`[{name, type}]`), a fixed one its `rows` (names) and `columns`."""
    if not isinstance(data, dict):
        return []
    if is_field_schema(data):
        return [_schema_field(str(k), v if isinstance(v, dict) else {})
                for k, v in data["fieldSchema"].items()]
    definitions = data.get("definitions") if isinstance(data.get("definitions"), dict) else {}
    return [_tool_field(f, definitions) for f in data.get("fields") or []
            if isinstance(f, dict) and f.get("fieldKey")]


# ---- label names of cells ------------------------------------------------------------------------
def _cell(table: dict[str, Any], name: str) -> tuple[str, int | str, str]:
    parts = split_label_path(name)
    columns = [c["name"] for c in table.get("columns") or []]
    where = f"{table['name']}/<row from 0>" if table["type"] == "array" else f"{table['name']}/<row name>"
    if len(parts) != 3 or parts[2] not in columns:
        raise ApiError(400, "UnknownField", f"{name!r}: a cell of table {table['name']!r} is named "
                                            f"{where}/<column>, its columns {', '.join(columns) or 'none'}")
    if table["type"] == "array":
        if not _ROW_INDEX.match(parts[1]):
            raise ApiError(400, "UnknownField", f"{name!r}: a row of a dynamic table is a number from 0")
        return parts[0], int(parts[1]), parts[2]
    if parts[1] not in (table.get("rows") or []):
        raise ApiError(400, "UnknownField", f"{name!r}: table {table['name']!r} has no row {parts[1]!r}")
    return parts[0], parts[1], parts[2]


def label_names(schema: list[dict[str, Any]] | None, names: list[str]) -> dict[str, str]:
    """Each name as the labels file is to say it: a scalar field's own name, a table cell's path escaped,
    a dynamic table's rows renumbered from 0 in their order with no gaps (a row left empty is no row).
    A name the folder's fields do not declare is refused; with no `fields.json` every name is taken."""
    if schema is None:
        return {n: n for n in names}
    scalars = {f["name"] for f in schema if f.get("type") not in TABLE_TYPES}
    tables = {f["name"]: f for f in schema if f.get("type") in TABLE_TYPES}
    cells: dict[str, tuple[str, int | str, str]] = {}
    for name in names:
        if name in scalars:
            continue
        table = tables.get(split_label_path(name)[0])
        if table is None:
            raise ApiError(400, "UnknownField", f"the folder's fields.json has no field {name!r}")
        cells[name] = _cell(table, name)
    rows: dict[str, set[int]] = {}
    for table_name, row, _column in cells.values():
        if isinstance(row, int):
            rows.setdefault(table_name, set()).add(row)
    number = {t: {r: i for i, r in enumerate(sorted(found))} for t, found in rows.items()}
    out = {}
    for name in names:
        if name not in cells:
            out[name] = name
            continue
        table_name, row, column = cells[name]
        out[name] = join_label_path(table_name, str(number[table_name][row]) if isinstance(row, int) else row,
                              column)
    if len(set(out.values())) < len(out):
        twice = next(v for v in out.values() if list(out.values()).count(v) > 1)
        raise ApiError(400, "DuplicateLabel", f"{twice!r} is labeled twice (under two spellings)")
    return out


# ---- tables kept or made when the page saves the fields -------------------------------------------
def _reachable(entries: list[dict[str, Any]], definitions: dict[str, Any]) -> set[str]:
    """The definitions `entries` use, directly or through other definitions."""
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        node = todo.pop()
        for ref in (node.get("itemType"), node.get("fieldType")):
            if isinstance(ref, str) and ref in definitions and ref not in seen and \
                    isinstance(definitions[ref], dict):
                seen.add(ref)
                todo.append(definitions[ref])
        todo.extend(m for m in node.get("fields") or [] if isinstance(m, dict))
    return seen


def _names_of(items: Any, what: str, table: str, types: tuple[str, ...] | None) -> list[dict[str, str]]:
    if not isinstance(items, list) or not items or len(items) > MAX_COLUMNS:
        shape = '{"name", "type"}' if types else '{"name"}'
        raise ApiError(400, "BadTable", f"table {table!r}: 1 to {MAX_COLUMNS} {what}s, each {shape}")
    out: list[dict[str, str]] = []
    for item in items:
        item = item if isinstance(item, dict) else {"name": item}
        name, ftype = str(item.get("name") or "").strip(), str(item.get("type") or "string")
        if not NAME.match(name):
            raise ApiError(400, "BadFieldName", f"table {table!r}: {what} name {name!r}: 1-64 characters, "
                                                "no '/' or '\\'")
        if types is not None and ftype not in types:
            raise ApiError(400, "BadFieldType", f"table {table!r}: {what} {name!r}: type must be one of "
                                                f"{', '.join(types)}")
        if name.casefold() in {o["name"].casefold() for o in out}:
            raise ApiError(400, "DuplicateField", f"table {table!r}: {what} {name!r} is there twice")
        out.append({"name": name, "type": ftype})
    return out


def _member(name: str, ftype: str, item_type: str | None = None) -> dict[str, Any]:
    return {"fieldKey": name, "fieldType": ftype, "fieldFormat": "not-specified", "itemType": item_type,
            "fields": None}


def _made(item: dict[str, Any], taken: dict[str, Any], types: tuple[str, ...]) -> tuple[dict[str, Any],
                                                                                      dict[str, Any]]:
    """A new table's entry and its columns' definition, as the labeling tool writes them."""
    name = item["name"]
    columns = _names_of(item.get("columns"), "column", name, types)
    kind = f"{name}_object"
    n = 2
    while kind in taken:
        kind, n = f"{name}_object_{n}", n + 1
    definition = {**_member(kind, "object"), "fields": [_member(c["name"], c["type"]) for c in columns]}
    if item["type"] == "array":
        return _member(name, "array", kind), definition
    rows = _names_of(item.get("rows"), "row", name, None)
    return {**_member(name, "object"), "fields": [_member(r["name"], kind) for r in rows]}, definition


def table_entries(wanted: list[dict[str, Any]], current: dict[str, Any],
                  types: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The `fields.json` entries of the tables the page saves (by name) and the `definitions` to write.

    A table the file already declares under that name and type is kept exactly as it is, with the
    definitions it uses; columns sent for it must be the declared ones (the page does not change a
    table). Any other is made from its `columns` (and, a fixed one, its `rows`); definitions nothing uses
    any more are dropped."""
    definitions = current.get("definitions") if isinstance(current.get("definitions"), dict) else {}
    declared = {str(f["fieldKey"]): f for f in current.get("fields") or []
                if isinstance(f, dict) and f.get("fieldKey") and f.get("fieldType") in TABLE_TYPES}
    entries: dict[str, dict[str, Any]] = {}
    new = []
    for item in wanted:
        old = declared.get(item["name"])
        if old is None or old.get("fieldType") != item["type"]:
            new.append(item)
            continue
        if item.get("columns") is not None:
            shown = _tool_field(old, definitions)["columns"]
            sent = [str((c if isinstance(c, dict) else {"name": c}).get("name")) for c in item["columns"]]
            if sent != [c["name"] for c in shown]:
                raise ApiError(400, "TableChanged", f"table {item['name']!r} is kept as fields.json declares "
                                                    "it; change its columns in the file")
        entries[item["name"]] = old
    used = _reachable(list(entries.values()), definitions)
    keep = {k: v for k, v in definitions.items() if k in used}
    for item in new:
        entry, definition = _made(item, keep, types)
        entries[item["name"]] = entry
        keep[definition["fieldKey"]] = definition
    return entries, keep
