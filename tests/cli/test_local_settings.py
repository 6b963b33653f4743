"""local.settings.json: created from the example, key generated once, bad JSON reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from formloop.local_settings import KEY_SETTING, ensure_local_settings
from formloop.stack import REPO_ROOT


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    shutil.copyfile(REPO_ROOT / "local.settings.example.json", tmp_path / "local.settings.example.json")
    return tmp_path


def test_example_ships_no_key() -> None:
    example = json.loads((REPO_ROOT / "local.settings.example.json").read_text())
    assert example["Values"][KEY_SETTING] == ""


def test_first_start_creates_settings_with_a_fresh_key(app_dir: Path) -> None:
    settings = ensure_local_settings(app_dir)
    key = settings["Values"][KEY_SETTING]
    assert len(key) == 32 and int(key, 16) >= 0
    on_disk = json.loads((app_dir / "local.settings.json").read_text())
    assert on_disk["Values"][KEY_SETTING] == key


def test_key_is_kept_across_starts(app_dir: Path) -> None:
    first = ensure_local_settings(app_dir)["Values"][KEY_SETTING]
    second = ensure_local_settings(app_dir)["Values"][KEY_SETTING]
    assert first == second


def test_user_values_are_not_overwritten(app_dir: Path) -> None:
    (app_dir / "local.settings.json").write_text(json.dumps({"Values": {"TRAINING_THRESHOLD": "3"}}))
    values = ensure_local_settings(app_dir)["Values"]
    assert values["TRAINING_THRESHOLD"] == "3"
    assert values[KEY_SETTING]


def test_broken_settings_file_gives_a_clear_error_and_is_left_alone(app_dir: Path) -> None:
    path = app_dir / "local.settings.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ensure_local_settings(app_dir)
    assert path.read_text() == "{not json"


def test_missing_example_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"local\.settings\.example\.json"):
        ensure_local_settings(tmp_path)


def test_local_settings_is_git_ignored() -> None:
    assert "local.settings.json" in (REPO_ROOT / ".gitignore").read_text().splitlines()


def test_the_environment_wins_over_local_settings_when_formloop_up_starts_the_host() -> None:
    """`TRAINING_THRESHOLD=7 formloop up`: the host must see 7, not local.settings.json's value (as `func
    start` does); the live endpoints of the stack always win."""
    from formloop.local_stack import host_environment
    from formloop.stack import AzuriteInfo, EngineInfo

    settings = {"Values": {"TRAINING_THRESHOLD": "10", "POLL_SCHEDULE": "*/30 * * * * *",
                           "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:5050"}}
    azurite = AzuriteInfo(blob_port=1, queue_port=2, table_port=3)
    engine = EngineInfo(endpoint="http://127.0.0.1:6060", api_key="k", data_dir=Path("."), port=6060)
    env = host_environment(settings, azurite, engine, environ={"TRAINING_THRESHOLD": "7"})
    assert "TRAINING_THRESHOLD" not in env  # the child inherits the outer 7
    assert env["POLL_SCHEDULE"] == "*/30 * * * * *"
    assert env["FORM_RECOGNIZER_ENDPOINT"] == "http://127.0.0.1:6060" and env["FORM_RECOGNIZER_KEY"] == "k"
