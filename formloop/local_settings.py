"""The git-ignored `local.settings.json`: created from the example, engine key generated once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from formloop.stack import new_api_key

KEY_SETTING = "FORM_RECOGNIZER_KEY"


def ensure_local_settings(app_dir: Path) -> dict[str, Any]:
    """Create local.settings.json from the example if absent and give it an engine API key.

    The key is generated here, at first start, so that no key ever lives in the repository.
    """
    path = app_dir / "local.settings.json"
    example = app_dir / "local.settings.example.json"
    if not path.exists():
        if not example.exists():
            raise FileNotFoundError(f"neither {path} nor {example} exists")
        shutil.copyfile(example, path)
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); fix it or delete it to start afresh") from exc
    values = settings.setdefault("Values", {})
    if not values.get(KEY_SETTING):
        values[KEY_SETTING] = new_api_key()
        path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return settings
