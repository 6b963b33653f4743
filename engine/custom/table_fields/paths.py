"""Label names as paths: the labeling tool writes a table cell as `Table/<row>/<Column>`, escaping a `/`
or `~` inside a name as `~1` / `~0` (JSON-pointer style), so a path is split before it is unescaped."""

from __future__ import annotations

from typing import Any

DYNAMIC = "*"  # the row part of a dynamic table's column key: `Items/*/Description`


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def join_path(*parts: str) -> str:
    """A cell's label name from its parts (each escaped), as the labeling tool writes it."""
    return "/".join(escape(p) for p in parts)


def split_path(label: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in label.split("/")]


def dynamic_cell(label: str) -> tuple[str, int, str] | None:
    """(table, row index, column) for a dynamic table's cell label, else None."""
    parts = split_path(label)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1]), parts[2]
    return None


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{'T/Row/Col': field} -> {'T': {type: object, valueObject: {'Row': {type: object, valueObject: ...}}}}:
    fixed tables and objects, labeled cell by cell, answered the way the service nests them."""
    out: dict[str, Any] = {}
    for label, value in sorted(flat.items()):
        parts = split_path(label)
        if len(parts) == 1:
            out[parts[0]] = value
            continue
        node = out.setdefault(parts[0], {"type": "object", "valueObject": {}})
        if node is None or node.get("type") != "object":
            continue  # a scalar of the same name was labeled too: the scalar wins
        for part in parts[1:-1]:
            node = node["valueObject"].setdefault(part, {"type": "object", "valueObject": {}})
        node["valueObject"][parts[-1]] = value
    return out
