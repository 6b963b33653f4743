"""Unit tests: settings precedence, host.json, binding expressions, host id."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from devhost.settings import (
    HostConfig,
    SettingsError,
    function_disabled,
    host_id,
    load_host_config,
    load_local_settings,
    parse_timespan,
    resolve_expression,
)


def test_local_settings_fill_missing_but_never_override(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"IsEncrypted": False, "Values": {"A": "from-file", "B": "from-file", "N": 5}})
    )
    env = {"A": "from-env"}
    applied = load_local_settings(tmp_path, env)
    assert env == {"A": "from-env", "B": "from-file", "N": "5"}
    assert sorted(applied) == ["B", "N"]


def test_missing_local_settings_is_fine(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    assert load_local_settings(tmp_path, env) == []
    assert env == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"IsEncrypted": true, "Values": {}}', "encrypted"),
        ('{"Values": ["x"]}', "'Values' must be an object"),
    ],
)
def test_bad_local_settings_get_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "local.settings.json").write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_local_settings(tmp_path, {})


def test_host_json_values_are_read(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "functionTimeout": "00:10:00",
                "extensions": {
                    "queues": {
                        "maxDequeueCount": 3,
                        "visibilityTimeout": "00:00:10",
                        "batchSize": 64,
                        "maxPollingInterval": 500,
                        "messageEncoding": "None",
                    },
                    "blobs": {"maxDegreeOfParallelism": 4, "poisonBlobThreshold": 2},
                },
            }
        )
    )
    config = load_host_config(tmp_path)
    assert config == HostConfig(
        max_dequeue_count=3,
        visibility_timeout=timedelta(seconds=10),
        batch_size=32,  # the storage service's cap per receive
        max_polling_interval=timedelta(milliseconds=500),
        function_timeout=timedelta(minutes=10),
        message_encoding="none",
        blob_parallelism=4,
        poison_blob_threshold=2,
    )


def test_host_json_defaults_and_errors(tmp_path: Path) -> None:
    assert load_host_config(tmp_path) == HostConfig()
    (tmp_path / "host.json").write_text('{"functionTimeout": "ten minutes"}')
    with pytest.raises(SettingsError, match="functionTimeout"):
        load_host_config(tmp_path)
    (tmp_path / "host.json").write_text('{"extensions": {"blobs": {"maxDegreeOfParallelism": 0}}}')
    with pytest.raises(SettingsError, match="maxDegreeOfParallelism"):
        load_host_config(tmp_path)
    (tmp_path / "host.json").write_text("{oops")
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_host_config(tmp_path)


def test_timespans() -> None:
    assert parse_timespan("00:00:10", "x") == timedelta(seconds=10)
    assert parse_timespan("1.02:03:04.5", "x") == timedelta(days=1, hours=2, minutes=3, seconds=4.5)
    assert parse_timespan("-1", "x") is None


def test_binding_expressions_resolve_from_settings() -> None:
    env = {"FORMS_CONTAINER": "forms", "Q": "training-requests"}
    assert resolve_expression("%FORMS_CONTAINER%/{name}", env) == "forms/{name}"
    assert resolve_expression("%Q%", env) == "training-requests"
    assert resolve_expression("plain/{name}", env) == "plain/{name}"
    with pytest.raises(SettingsError, match="%MISSING%"):
        resolve_expression("%MISSING%/{name}", env)


def test_host_id_and_disabled_functions() -> None:
    assert host_id({"AzureFunctionsWebHost__hostid": "My_Host.Name-1"}) == "myhostname-1"
    assert len(host_id({"AzureFunctionsWebHost__hostid": "x" * 50})) == 32
    assert host_id({}) != ""
    assert function_disabled("on_blob", {"AzureWebJobs.on_blob.Disabled": "true"})
    assert not function_disabled("on_blob", {"AzureWebJobs.on_blob.Disabled": "false"})


def test_blob_parallelism_precedence(tmp_path: Path) -> None:
    from devhost.host import Options, blob_parallelism

    options = Options(app_dir=tmp_path, workers=2)
    assert blob_parallelism(HostConfig(), options) == 2  # nothing set: --workers
    assert blob_parallelism(HostConfig(blob_parallelism=6), options) == 6  # host.json
    assert blob_parallelism(HostConfig(blob_parallelism=6), Options(tmp_path, 2, blob_workers=3)) == 3
