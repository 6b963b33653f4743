"""Where Tesseract's language data lives, and which models are there.

The in-process library (tesserocr's wheel) was built with its own default data path, which does not
exist on this system; the data the `tesseract` command uses (Debian: /usr/share/tesseract-ocr/5/tessdata)
is the one the packages install, so we find that directory and hand it to every API explicitly.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path

_LIST_RE = re.compile(r'"([^"]+)"')


def _has_models(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.traineddata"))


@functools.cache
def tessdata_dir() -> str | None:
    """TESSDATA_PREFIX (the directory itself or its `tessdata/`), else what `tesseract --list-langs` names."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        for cand in (Path(prefix), Path(prefix) / "tessdata"):
            if _has_models(cand):
                return str(cand) + "/"
    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = _LIST_RE.search(out.stdout + out.stderr)
    if m and _has_models(Path(m.group(1))):
        return m.group(1).rstrip("/") + "/"
    return None


@functools.cache
def installed_models() -> frozenset[str]:
    """Model names as Tesseract takes them: `eng`, `osd`, `Latin` or `script/Latin` (upstream's layout)."""
    base = tessdata_dir()
    if base is None:
        return frozenset()
    root = Path(base)
    return frozenset(str(p.relative_to(root))[: -len(".traineddata")] for p in root.rglob("*.traineddata"))
