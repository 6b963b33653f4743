"""Each setting is declared once in shared/settings.py; the README table and the parser follow it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from shared.settings import SETTINGS, SETTINGS_SPEC, Settings, SettingsError, load_settings, markdown_rows

README = Path(__file__).resolve().parents[2] / "README.md"
BASE = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:1"}


def test_readme_app_rows_are_the_declarations() -> None:
    rows = [line for line in README.read_text().splitlines()
            if line.startswith("| `") and line.split("|")[2].strip() == "app"]
    assert rows == markdown_rows(), "regenerate with: .venv/bin/python -m shared.settings"


def test_every_settings_attribute_is_declared_once() -> None:
    attrs = [s.attr for s in SETTINGS]
    names = [s.env for s in SETTINGS]
    assert len(set(attrs)) == len(attrs) and len(set(names)) == len(names)
    assert set(attrs) == {f.name for f in fields(Settings)}
    assert {s.env: s.default for s in SETTINGS} == SETTINGS_SPEC


def test_defaults_parse_and_bounds_are_enforced() -> None:
    settings = load_settings(BASE)
    assert settings.sas_expiry_minutes == 120 and settings.fr_api == "v2.1"
    for s in SETTINGS:
        if s.kind == "int":
            with pytest.raises(SettingsError, match=s.env):
                load_settings({**BASE, s.env: str(s.minimum - 1)})
        if s.maximum is not None:
            with pytest.raises(SettingsError, match=f"at most {s.maximum}"):
                load_settings({**BASE, s.env: str(s.maximum + 1)})
        if s.kind in ("positive", "fraction"):
            with pytest.raises(SettingsError, match=s.env):
                load_settings({**BASE, s.env: "-1"})
