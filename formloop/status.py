"""`formloop status`: the pipeline's tables (documents, training runs, predictions, models, fields).

Also home of the CLI's storage connection rules, shared with `formloop upload`: `--connection-string`,
else `--account-name` (Entra ID via DefaultAzureCredential), else `FORMS_STORAGE` from the environment,
else from `local.settings.json` in the current directory or the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connection-string",
        help="storage connection string (default: FORMS_STORAGE from the environment or local.settings.json)",
    )
    parser.add_argument(
        "--account-name",
        help="storage account name; signs in with Entra ID "
        "(DefaultAzureCredential) instead of a connection string",
    )
    parser.add_argument("--container", help="forms container (default: FORMS_CONTAINER or 'forms')")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", help="only this folder (form type)")
    parser.add_argument("--limit", type=int, default=50, help="rows per table (default 50)")
    parser.add_argument("--full", action="store_true",
                        help="show every text whole (errors, names) instead of cutting it to fit the table")
    add_connection_arguments(parser)


def _local_settings_values() -> dict[str, str]:
    for directory in (Path.cwd(), REPO_ROOT):
        path = directory / "local.settings.json"
        if path.exists():
            try:
                values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
            except (OSError, ValueError):
                continue
            return {str(k): str(v) for k, v in values.items() if v is not None}
    return {}


def settings_from_args(args: argparse.Namespace) -> Any:
    """Pipeline settings for the CLI: local.settings.json < environment < command-line flags."""
    from shared.settings import load_settings

    env: dict[str, str] = {**_local_settings_values(), **os.environ}
    connection_string = getattr(args, "connection_string", None)
    account = getattr(args, "account_name", None)
    if connection_string:
        env["FORMS_STORAGE"] = connection_string
    elif account:
        env["FORMS_STORAGE"] = ""
        for service in ("blob", "queue", "table"):
            env[f"FORMS_STORAGE__{service}ServiceUri"] = f"https://{account}.{service}.core.windows.net"
        env["FORMS_STORAGE__credential"] = ""  # DefaultAzureCredential: the developer's own login
    if getattr(args, "container", None):
        env["FORMS_CONTAINER"] = args.container
    env.setdefault("FORM_RECOGNIZER_ENDPOINT", "http://not-used-by-the-cli")
    if not env.get("FORM_RECOGNIZER_ENDPOINT"):
        env["FORM_RECOGNIZER_ENDPOINT"] = "http://not-used-by-the-cli"
    return load_settings(env)


def settings_or_report(args: argparse.Namespace, console: Any) -> Any:
    """The settings, or None after printing why they cannot be had (the command then exits 2)."""
    from shared.settings import SettingsError

    try:
        return settings_from_args(args)
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        return None


def _whole(value: Any, width: int = 0) -> str:
    return "" if value is None else str(value)


def _nested_documents(records: Any, folder: str) -> list[dict[str, Any]]:
    """Documents rows of the folders inside `folder` (their partitions are its key + an encoded '/')."""
    from azure.core.exceptions import ResourceNotFoundError

    from shared.names import encode_key

    low = encode_key(f"{folder}/")
    high = low[:-1] + chr(ord(low[-1]) + 1)
    try:
        return [dict(r) for r in records.documents.query_entities(
            "PartitionKey ge @low and PartitionKey lt @high", parameters={"low": low, "high": high})]
    except ResourceNotFoundError:
        return []


def _print_folders(console: Any, records: Any, folder: str | None, limit: int) -> None:
    """One line per folder: its forms, how many are read and labeled, its model and last decision; a
    folder inside another is a folder of its own, and the table says so."""
    from rich.table import Table

    from shared.clients.records import FOLDER_STATE_KEY

    rows = _query(records.documents, folder, 10 * limit)
    if folder is not None:
        rows += _nested_documents(records, folder)
    counts: dict[str, list[int]] = {}
    for row in rows:
        if row.get("status") == "deleted":
            continue
        c = counts.setdefault(str(row.get("folder", "")), [0, 0, 0])
        c[0] += 1
        c[1] += row.get("status") == "succeeded"
        c[2] += row.get("labelsStatus") == "valid"
    if not counts:
        return
    states = {name: records.get(records.runs, name, FOLDER_STATE_KEY) or {} for name in counts}
    table = Table(title=f"Folders ({len(counts)})")
    for col in ("folder", "forms", "read", "labeled", "current model", "last decision"):
        table.add_column(col)
    for name in sorted(counts)[:limit]:
        forms, read, labeled = counts[name]
        parent = next((p for p in sorted(counts, key=len, reverse=True) if name.startswith(f"{p}/")), None)
        shown = f"{name or '(root)'}" + (f" (inside {parent}: a folder of its own)" if parent else "")
        state = states.get(name) or {}
        table.add_row(shown, str(forms), str(read), str(labeled), str(state.get("currentModelId") or "-"),
                      _short(state.get("lastDecision") or "-", 70))
    console.print(table)


def _short(value: Any, width: int = 60) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _accuracy(value: Any) -> str:
    return f"{float(value):.3f}" if isinstance(value, int | float) else ""


def _production(row: dict[str, Any]) -> str:
    """A model's accuracy on the forms people reviewed after it predicted them: the figure that says
    how it does on real traffic (its training accuracy is an estimate on its own training set)."""
    documents = int(row.get("reviewedDocuments") or 0)
    if not documents or not isinstance(row.get("reviewedAccuracy"), int | float):
        return ""
    return f"{_accuracy(row['reviewedAccuracy'])} on {documents} form{'s' if documents != 1 else ''}"


def _api_note(state: dict[str, Any], model_id: str, model_api: str) -> str:
    """What a folder waits for when its current model belongs to another API version than the one the
    app spoke at its last decision (FORM_RECOGNIZER_API changed): '' when they agree or are unknown."""
    app_api = str(state.get("decisionApiVersion") or "")
    if not model_id or not model_api or not app_api or model_api == app_api:
        return ""
    if state.get("activeRunId") and state.get("lastApiVersion") == app_api:
        doing = f"a model for {app_api} is training now (run {state['activeRunId']})"
    else:
        doing = (f"a model for {app_api} is trained from the labeled set once its forms are read with "
                 f"{app_api} (the last decision says what it waits for)")
    return (f"its current model {model_id} was trained for API {model_api}, which the app "
            f"(FORM_RECOGNIZER_API={app_api}) cannot use: new forms are not predicted until a model for "
            f"{app_api} is current; {doing}. Earlier predictions stay as they were.")


def _fields_found(row: dict[str, Any]) -> str:
    """`found/asked`: fields with a value out of the fields the model knows (from the row's fields)."""
    found = row.get("fieldCount")
    try:
        asked = len(json.loads(str(row.get("fields") or "")))
    except ValueError:
        asked = 0
    if found is None:
        return ""
    return f"{found}/{asked}" if asked else str(found)


def _query(table: Any, folder: str | None, limit: int) -> list[dict[str, Any]]:
    from azure.core.exceptions import ResourceNotFoundError

    from shared.names import encode_key

    try:
        if folder is None:
            rows = table.list_entities()
        else:
            rows = table.query_entities("PartitionKey eq @pk", parameters={"pk": encode_key(folder)})
        out = []
        for row in rows:
            out.append(dict(row))
            if len(out) >= 10 * limit:
                break
        return out
    except ResourceNotFoundError:  # the table appears with its first row
        return []


def run_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from shared.clients.records import FOLDER_STATE_KEY, Records
    from shared.triggers.timer import SWEEP_PARTITION

    console = Console()
    settings = settings_or_report(args, console)
    if settings is None:
        return 2
    folder: str | None = getattr(args, "folder", None)
    limit: int = int(getattr(args, "limit", 50) or 50)
    short = _whole if getattr(args, "full", False) else _short
    records = Records(settings)
    _print_folders(console, records, folder, limit)

    docs = sorted(
        _query(records.documents, folder, limit), key=lambda r: (r.get("folder", ""), r.get("document", ""))
    )
    table = Table(title=f"Documents ({len(docs)})")
    for col in ("folder", "document", "status", "pages", "OCR s", "labels", "error"):
        table.add_column(col)
    for row in docs[:limit]:
        error = row.get("errorMessage") or row.get("labelsErrorMessage") or ""
        code = row.get("errorCode") or row.get("labelsErrorCode") or ""
        labels = row.get("labelsStatus") or ""
        table.add_row(
            short(row.get("folder"), 24),
            short(row.get("document"), 40),
            str(row.get("status", "")),
            str(row.get("pages", "")),
            str(row.get("ocrDurationSeconds", "")),
            labels,
            short(f"{code}: {error}" if code else error),
        )
    console.print(table)

    all_runs = _query(records.runs, folder, limit)
    states = [r for r in all_runs if r["RowKey"] == FOLDER_STATE_KEY]
    runs = sorted((r for r in all_runs if r["RowKey"] != FOLDER_STATE_KEY), key=lambda r: r["RowKey"])
    table = Table(title=f"Training runs ({len(runs)}, newest first)")
    for col in ("folder", "run", "status", "labeled", "model", "accuracy", "submitted", "finished", "error"):
        table.add_column(col)
    for row in runs[:limit]:
        error = f"{row.get('errorCode')}: {row.get('errorMessage')}" if row.get("errorCode") else ""
        table.add_row(
            short(row.get("folder"), 24),
            str(row.get("runId", "")),
            str(row.get("status", "")),
            str(row.get("labeledCount", "")),
            short(row.get("modelId"), 36),
            _accuracy(row.get("averageModelAccuracy")),
            str(row.get("submittedAt", "")),
            str(row.get("finishedAt", "")),
            short(error),
        )
    console.print(table)
    for state in states:
        if state.get("folder") == SWEEP_PARTITION:
            console.print(f"sweep for missed events: last at {state.get('lastSweptAt', '-')}")
            continue
        model_id, model_api = records.current_model(str(state.get("folder", "")), state)
        console.print(
            f"folder [bold]{state.get('folder', '')}[/bold]: last decision: "
            f"{state.get('lastDecision', '-')} ({state.get('lastDecisionAt', '')}); "
            f"current model: {model_id or '-'}" + (f" (API {model_api})" if model_api else "")
        )
        note = _api_note(state, model_id, model_api)
        if note:
            console.print(f"  [yellow]{note}[/yellow]", highlight=False)

    predictions = sorted(
        _query(records.predictions, folder, limit), key=lambda r: (r.get("folder", ""), r.get("document", ""))
    )
    if predictions:  # none until a folder has a current model: no empty table before that
        table = Table(title=f"Predictions ({len(predictions)})")
        for col in ("folder", "document", "model", "status", "fields found", "lowest conf.", "review",
                    "error"):
            table.add_column(col)
        for row in predictions[:limit]:
            low = int(row.get("lowConfidenceFields") or 0)
            review = str(row.get("reviewStatus") or "")
            if review == "needsReview" and low:
                review += f" ({low} low)"
            error = f"{row.get('errorCode')}: {row.get('errorMessage')}" if row.get("errorCode") else ""
            table.add_row(
                short(row.get("folder"), 24),
                short(row.get("document"), 40),
                short(row.get("modelId"), 36),
                str(row.get("status", "")),
                _fields_found(row),
                _accuracy(row.get("lowestConfidence")),
                review,
                short(error, 40),
            )
        console.print(table)
    else:
        console.print("Predictions: none yet (a folder's forms are predicted once it has a current model)")

    models = sorted(
        _query(records.models, folder, limit), key=lambda r: str(r.get("createdDateTime", "")), reverse=True
    )
    table = Table(title=f"Models ({len(models)})")
    for col in ("folder", "model", "API", "status", "current", "accuracy", "fields", "documents", "promotion",
                "in production", "created"):
        table.add_column(col)
    for row in models[:limit]:
        table.add_row(
            short(row.get("folder"), 24),
            str(row.get("modelId", "")),
            str(row.get("apiVersion") or ""),
            str(row.get("status", "")),
            "yes" if row.get("isCurrent") else "",
            _accuracy(row.get("averageModelAccuracy")),
            str(row.get("fieldCount", "")),
            str(row.get("trainingDocumentCount", "")),
            str(row.get("promotion") or ""),
            _production(row),
            str(row.get("createdDateTime", "")),
        )
    console.print(table)
    for row in models[:limit]:  # the why of each decision: too long for a column
        if row.get("promotionReason"):
            console.print(f"model {row.get('modelId', '')}: {row.get('promotion', '')}: "
                          f"{row['promotionReason']}", highlight=False)

    current = [m for m in models if m.get("isCurrent")]
    for model in current[:limit]:
        fields = _query(records.fields, str(model["modelId"]), limit)
        table = Table(
            title=f"Fields of the current model of {model.get('folder', '')!r} ({model['modelId']})"
        )
        table.add_column("field")
        table.add_column("accuracy")
        for row in sorted(fields, key=lambda r: str(r.get("fieldName", "")))[:limit]:
            table.add_row(str(row.get("fieldName", "")), _accuracy(row.get("accuracy")))
        console.print(table)
    return 0
