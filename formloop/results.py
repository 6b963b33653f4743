"""`formloop results --folder F`: what the models extracted from a folder's forms, as CSV or JSON.

This is the pipeline's product in the shape other tools take: one row per predicted form, one column
per field (the union of the fields of every model that predicted the folder, sorted), plus the form's
`document`, the `modelId` that read it, its `lowestConfidence` and `reviewStatus`, so a spreadsheet
can filter the forms a person should still check. Values are the text the model read (its typed
value when there is no text). Connection options as `formloop status`.

Dynamic tables (line items) do not fit one row per form: the JSON nests them (`"Items": [{"Description":
…}, …]`), the CSV leaves them out, and `--tables` writes one row per line item instead (document, table,
row, a column per table column).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Callable
from contextlib import nullcontext
from itertools import islice
from pathlib import Path
from typing import IO, Any

from formloop.status import add_connection_arguments, settings_or_report
from shared.names import dynamic_cell, unescape_label_name
from shared.predictions.field_values import stored_fields

FIXED_COLUMNS = ("document", "modelId", "lowestConfidence", "reviewStatus")
FIELD_PREFIX = "field:"  # for a field named like a fixed column; it must not overwrite it
ITEM_COLUMNS = ("document", "modelId", "table", "row")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", required=True, help="the folder (form type) whose forms to export")
    parser.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    parser.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    parser.add_argument("--tables", action="store_true",
                        help="one row per line item of the table fields (document, table, row, columns)")
    add_connection_arguments(parser)


def field_text(found: dict[str, Any]) -> str:
    """The text the model read; its typed value when it has no text (a check box's state)."""
    text = found.get("text")
    if text:
        return str(text)
    value = found.get("value")
    return "" if value is None else str(value)


def _per_form(predictions: list[dict[str, Any]], read_blob: Callable[[str], bytes] | None
              ) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    done = sorted((r for r in predictions if r.get("status") == "succeeded"),
                  key=lambda r: str(r.get("document", "")))
    return [(row, stored_fields(row, read_blob)) for row in done]


def _line_items(fields: dict[str, dict[str, Any]]) -> dict[str, dict[int, dict[str, str]]]:
    """{table: {row: {column: text}}} of the dynamic tables among a form's fields."""
    out: dict[str, dict[int, dict[str, str]]] = {}
    for name, found in fields.items():
        cell = dynamic_cell(name)
        if cell:
            table, row, col = cell
            out.setdefault(table, {}).setdefault(row, {})[col] = field_text(found)
    return out


def result_table(predictions: list[dict[str, Any]], read_blob: Callable[[str], bytes] | None = None,
                 nest_tables: bool = False) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) for the succeeded predictions, by document name: a column per field; dynamic
    tables left out, or with `nest_tables` (JSON) one list of row objects per table."""
    per_form = _per_form(predictions, read_blob)
    names = sorted({name for _, fields in per_form for name in fields if not dynamic_cell(name)})
    # a scalar's label name unescaped ("Date~1Time" is the field Date/Time); a fixed table's cell path stays
    shown = {name: unescape_label_name(name) if "/" not in name else name for name in names}
    column = {name: FIELD_PREFIX + shown[name] if shown[name] in FIXED_COLUMNS else shown[name]
              for name in names}
    rows: list[dict[str, Any]] = []
    for row, fields in per_form:
        low = row.get("lowestConfidence")
        out: dict[str, Any] = {
            "document": str(row.get("document", "")),
            "modelId": str(row.get("modelId", "")),
            "lowestConfidence": low if isinstance(low, int | float) else None,
            "reviewStatus": str(row.get("reviewStatus") or ""),
        }
        for name in names:
            out[column[name]] = field_text(fields[name]) if name in fields else ""
        if nest_tables:
            for table, items in sorted(_line_items(fields).items()):
                out[table] = [items[i] for i in sorted(items)]
        rows.append(out)
    return [*FIXED_COLUMNS, *(column[n] for n in names)], rows


def line_item_table(predictions: list[dict[str, Any]], read_blob: Callable[[str], bytes] | None = None
                    ) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) with one row per line item: document, modelId, table, row (from 0), and a column
    per table column (the union over the tables, in first-seen order)."""
    rows: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    for form, fields in _per_form(predictions, read_blob):
        for table, items in sorted(_line_items(fields).items()):
            for index in sorted(items):
                row = {"document": str(form.get("document", "")), "modelId": str(form.get("modelId", "")),
                       "table": table, "row": index}
                for col, text in items[index].items():
                    key = FIELD_PREFIX + col if col in ITEM_COLUMNS else col
                    columns.setdefault(key)
                    row[key] = text
                rows.append(row)
    names = list(columns)
    return [*ITEM_COLUMNS, *names], [{**dict.fromkeys(names, ""), **r} for r in rows]


_FORMULA = re.compile(r"^[=+@\t\r]|^-(?![\d.,])")  # what a spreadsheet would run; "-5.00" is a number


def csv_cell(value: Any) -> Any:
    """A value read off a form must not become a spreadsheet formula when the CSV is opened ("=HYPERLINK(…)"
    typed into a field): such text is written with a leading apostrophe, as spreadsheets expect."""
    if value is None:
        return ""
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def write_csv(stream: IO[str], columns: list[str], rows: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(stream, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})


def write_json(stream: IO[str], rows: list[dict[str, Any]]) -> None:
    json.dump(rows, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def _no_folder_message(container: Any, folder: str) -> str:
    """'' when the folder holds blobs; else what the container does hold (a typo reads as a typo, not as
    a folder still waiting for its model)."""
    prefix = f"{folder}/" if folder else None
    if next(iter(container.list_blobs(name_starts_with=prefix, results_per_page=1)), None) is not None:
        return ""
    names = {b.name.rsplit("/", 1)[0] for b in islice(container.list_blobs(), 2000) if "/" in b.name}
    known = ", ".join(sorted(names)[:10]) or "none"
    return f"there is no folder {folder!r} in container {container.container_name!r} (its folders: {known})"


def _no_results_message(folder: str, predictions: list[dict[str, Any]]) -> str:
    if not predictions:
        return (f"no predictions in folder {folder!r}: its forms are predicted once it has a current "
                f"model (see `formloop status --folder {folder}`)")
    counts: dict[str, int] = {}
    for row in predictions:
        status = str(row.get("status") or "unknown")
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"no prediction of folder {folder!r} succeeded yet ({summary})"


def run_results(args: argparse.Namespace) -> int:
    from azure.core.exceptions import AzureError, ResourceNotFoundError
    from rich.console import Console

    from shared.clients.records import Records
    from shared.clients.storage import blob_service

    console = Console(stderr=True)  # stdout carries the data
    settings = settings_or_report(args, console)
    if settings is None:
        return 2
    folder = str(args.folder).strip("/")
    records = Records(settings)
    container = blob_service(settings).get_container_client(settings.forms_container)

    def read_blob(name: str) -> bytes:
        return bytes(container.get_blob_client(name).download_blob().readall())

    try:
        try:
            predictions = list(records.folder_predictions(folder).values())
        except ResourceNotFoundError:  # the table appears with its first row
            predictions = []
        if args.tables:
            columns, rows = line_item_table(predictions, read_blob)
        else:
            columns, rows = result_table(predictions, read_blob, nest_tables=args.format == "json")
    except AzureError as exc:
        console.print(f"[red]storage error:[/red] {exc}", highlight=False)
        return 1
    if not rows:
        message = (_no_folder_message(container, folder) if not predictions else "") or \
            _no_results_message(folder, predictions)
        if args.tables and any(r.get("status") == "succeeded" for r in predictions):
            message = f"no line items in folder {folder!r}: its models extract no table field with rows"
        console.print(f"[red]{message}[/red]", highlight=False)
        return 1
    target = args.out.open("w", encoding="utf-8", newline="") if args.out else nullcontext(sys.stdout)
    with target as stream:
        if args.format == "json":
            write_json(stream, rows)
        else:
            write_csv(stream, columns, rows)
        stream.flush()
    if args.out and args.tables:
        width = len(columns) - len(ITEM_COLUMNS)
        console.print(f"wrote {len(rows)} line items × {width} columns to {args.out}", highlight=False)
    elif args.out:
        console.print(f"wrote {len(rows)} forms × {len(columns) - len(FIXED_COLUMNS)} fields to {args.out}",
                      highlight=False)
    return 0
