"""`formloop promote --folder F MODEL_ID`: a person makes a ready model the folder's current one.

The pipeline promotes a retrained model only when it is not worse on held-back forms; a person may
know better (the held-back forms were few, or the new model reads the field that matters). This is
that override: the same `make_current` the pipeline uses (the folder's state names the model, its
unreviewed forms are predicted again by it), and the model's row says `promotion=manual`, so the
decision is on record. Connection options as `formloop status`.
"""

from __future__ import annotations

import argparse

from formloop.status import add_connection_arguments, settings_or_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_id", metavar="MODEL_ID", help="the model to make current (`formloop status`)")
    parser.add_argument("--folder", required=True, help="the folder (form type) the model was trained for")
    add_connection_arguments(parser)


def run_promote(args: argparse.Namespace) -> int:
    from azure.core.exceptions import AzureError
    from rich.console import Console

    from shared.clients.records import Records
    from shared.training.manual import promote

    console = Console()
    settings = settings_or_report(args, console)
    if settings is None:
        return 2
    folder, model_id = str(args.folder).strip("/"), str(args.model_id)
    try:
        done = promote(settings, Records(settings), folder, model_id)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    except AzureError as exc:
        console.print(f"[red]storage error:[/red] {exc}", highlight=False)
        return 1
    if not done.changed:
        console.print(f"{model_id} is the current model of {folder!r} already; nothing changed.",
                      highlight=False)
        return 0
    replaced = f" (instead of {done.previous})" if done.previous and done.previous != model_id else ""
    console.print(
        f"[green]✓[/] {model_id} is the current model of {folder!r}{replaced}; recorded as promoted by "
        f"hand. The folder's forms without labels are predicted again by it.",
        highlight=False,
    )
    return 0
