"""Training data as Document Intelligence Studio writes it, seen through engine.custom's TrainingSource.

Its `<doc>.ocr.json` may be a v3/v4 Layout result: engine.custom reads both shapes (for v2.1 training
too), so nothing is converted here. What is handled here:
- `azureBlobFileListSource`: only the documents named in the JSONL file list (`{"file": "<path>"}` per
  line), their `.labels.json` / `.ocr.json`, and the `fields.json` beside them take part.
"""

from __future__ import annotations

import json
import posixpath

from engine.custom.source import TrainingSource
from engine.v4.errors import V4Error


def read_file_list(source: TrainingSource, path: str) -> list[str]:
    """The document paths of a file list; a missing or malformed list is the service's
    `InvalidRequest` / `TrainingContentMissing`."""
    try:
        raw = source.read(path).decode("utf-8-sig")
    except Exception as exc:
        raise V4Error(400, "InvalidRequest", "TrainingContentMissing",
                      f"Training data is missing: the file list '{path}' could not be read "
                      f"({type(exc).__name__}).") from exc
    files = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not entry["file"]:
            raise V4Error(400, "InvalidRequest", "TrainingContentMissing",
                          f"Training data is missing: line {n} of '{path}' is not {{\"file\": \"<path>\"}}.")
        files.append(entry["file"].lstrip("/"))
    return files


class StudioSource:
    """Wraps a TrainingSource (a container); see the module docstring."""

    def __init__(self, inner: TrainingSource, file_list: list[str] | None = None) -> None:
        self.inner = inner
        self.allowed: set[str] | None = None
        if file_list is not None:
            self.allowed = set()
            for doc in file_list:
                folder = posixpath.dirname(doc)
                self.allowed |= {doc, doc + ".labels.json", doc + ".ocr.json",
                                 posixpath.join(folder, "fields.json")}

    def names(self, prefix: str) -> list[str]:
        names = self.inner.names(prefix)
        return names if self.allowed is None else [n for n in names if n in self.allowed]

    def read(self, name: str) -> bytes:
        return self.inner.read(name)
