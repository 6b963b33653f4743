"""Blob trigger paths (`container/prefix/{name}.ext`): which blobs match and what `{name}` binds to."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class BlobPathError(ValueError):
    """The trigger path is not `container/<blob pattern>`."""


@dataclass(frozen=True)
class BlobPath:
    """A parsed trigger path: container, the literal prefix to list with, and a matcher."""

    container: str
    prefix: str
    pattern: re.Pattern[str]

    def match(self, blob_name: str) -> dict[str, str] | None:
        """The bound parameters when the blob matches, else None."""
        found = self.pattern.fullmatch(blob_name)
        return found.groupdict() if found else None


def parse_blob_path(path: str) -> BlobPath:
    """Parse a resolved trigger path; `{x}` may span '/' (so `forms/{name}` sees every folder)."""
    container, _, blob_pattern = path.strip().lstrip("/").partition("/")
    if not container or "{" in container or "%" in container:
        raise BlobPathError(f"blob trigger path {path!r} must start with a literal container name")
    blob_pattern = blob_pattern or "{name}"
    regex: list[str] = []
    position = 0
    for found in _PARAMETER.finditer(blob_pattern):
        regex.append(re.escape(blob_pattern[position : found.start()]))
        regex.append(f"(?P<{found.group(1)}>.+?)")
        position = found.end()
    regex.append(re.escape(blob_pattern[position:]))
    first = _PARAMETER.search(blob_pattern)
    prefix = blob_pattern[: first.start()] if first else blob_pattern
    try:
        pattern = re.compile("".join(regex))
    except re.error as exc:
        raise BlobPathError(f"blob trigger path {path!r}: {exc}") from exc
    return BlobPath(container=container, prefix=prefix, pattern=pattern)
