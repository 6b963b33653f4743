"""`formloop upload PATH... --folder NAME`: put forms, labels and fields.json into a folder.

Files are streamed from disk (no whole-file reads), with a progress bar. A directory uploads the
files inside it; its sub-directories become sub-folders, and a sub-folder is a folder of its own (its
own fields.json, labels and model: one folder is one form type), so the upload says where such files
went. The pipeline takes it from there.
"""

from __future__ import annotations

import argparse
import contextlib
import mimetypes
from pathlib import Path
from typing import Any

from formloop.status import add_connection_arguments, settings_from_args
from shared.names import folder_problem
from shared.wording import counted, shell_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or directories to upload")
    parser.add_argument("--folder", required=True, help="target folder (one folder per form type)")
    add_connection_arguments(parser)


def collect(paths: list[Path]) -> list[tuple[Path, str]]:
    """(local file, name relative to the folder) for every file to upload, in a stable order."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                found.append((file, file.relative_to(path).as_posix()))
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return found


def run_upload(args: argparse.Namespace) -> int:
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContentSettings
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from shared.clients.storage import blob_service
    from shared.settings import SettingsError

    console = Console()
    try:
        settings = settings_from_args(args)
        files = collect(list(args.paths))
    except (SettingsError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    if not files:
        console.print("[yellow]nothing to upload[/yellow]")
        return 1
    folder = str(args.folder).strip("/")
    problem = folder_problem(folder)
    if problem:
        console.print(f"[red]--folder {args.folder!r}: {problem}[/red]", highlight=False)
        return 2
    container = blob_service(settings).get_container_client(settings.forms_container)
    with contextlib.suppress(ResourceExistsError):
        container.create_container()
    total = sum(f.stat().st_size for f, _ in files)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            f"uploading {counted(len(files), 'file')} to {settings.forms_container}/{folder}/", total=total
        )
        for path, relative in files:
            name = f"{folder}/{relative}" if folder else relative
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            with path.open("rb") as stream:
                container.upload_blob(
                    name,
                    stream,
                    overwrite=True,
                    length=path.stat().st_size,
                    content_settings=ContentSettings(content_type=ctype),
                )
            progress.advance(task, path.stat().st_size)
    target = f"{settings.forms_container}/{folder or '(root)'}/"
    hint = shell_command("formloop", "status", "--folder", folder)
    console.print(f"uploaded {counted(len(files), 'file')} to {target}; see progress with `{hint}`",
                  highlight=False, soft_wrap=True)  # a command to paste: never broken over lines
    warn_nested(console, folder, files)
    return 0


def nested_folders(folder: str, files: list[tuple[Path, str]]) -> dict[str, int]:
    """Sub-folders the upload created, with how many files each got."""
    out: dict[str, int] = {}
    for _path, relative in files:
        if "/" in relative:
            sub = f"{folder}/{relative.rsplit('/', 1)[0]}" if folder else relative.rsplit("/", 1)[0]
            out[sub] = out.get(sub, 0) + 1
    return out


def warn_nested(console: Any, folder: str, files: list[tuple[Path, str]]) -> None:
    nested = nested_folders(folder, files)
    if not nested:
        return
    where = ", ".join(f"{name}/ ({counted(n, 'file')})" for name, n in sorted(nested.items()))
    console.print(
        f"[yellow]note:[/yellow] sub-directories became folders of their own: {where}. Each folder is "
        f"one form type with its own fields.json, labels and model, so forms there are not predicted by "
        f"{folder or 'the root'}'s model. To keep them in {folder or 'the root'}, upload the files "
        f"themselves (e.g. `{shell_command('formloop', 'upload', '--folder', folder or '/')} DIR/*`); "
        f"`formloop status` lists every folder.", highlight=False, soft_wrap=True)
