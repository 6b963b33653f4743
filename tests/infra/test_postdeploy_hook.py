"""The postdeploy hook, run for real against a stand-in `az` (the Azure cloud is the only thing faked).

Its environment is what azd gives it: the outputs of infra/main.bicep, evaluated from the Bicep, with
stand-ins only for the values Azure assigns. So the Event Grid subscription checked here is the one the
deployed Bicep leads to, filters included.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from shared.names import OCR_SUFFIX, PREDICTION_SUFFIX, BlobKind, classify
from tests.helpers.bicep_eval import UNKNOWN, BicepFile

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "infra" / "hooks" / "postdeploy.sh"
MAIN = BicepFile.load(REPO / "infra" / "main.bicep")
OUTPUTS = {name: MAIN.value(output["value"]) for name, output in MAIN.doc["outputs"].items()}
APP_SETTINGS: dict = MAIN.var("appSettings")
AZURE_ASSIGNED = {  # outputs only known after provisioning
    "AZURE_FUNCTION_APP_NAME": "func-abc",
    "RESOURCE_GROUP": "rg-dev",
    "SERVICE_PIPELINE_BASE_URL": "https://func-abc.azurewebsites.net",
    "FORMS_SYSTEM_TOPIC_NAME": "evgst-forms-abc",
}
FROM_BICEP = (
    "FORMS_CONTAINER_NAME",
    "BLOB_FUNCTION_NAME",
    "BLOB_EVENT_SUBJECT_PREFIX",
    "BLOB_EVENT_SKIP_SUFFIXES",
)
ENV = {**AZURE_ASSIGNED, **{name: OUTPUTS[name] for name in FROM_BICEP}}
# Event Grid limits per subscription (advanced filtering): filters, values across all filters, value length.
MAX_ADVANCED_FILTERS, MAX_FILTER_VALUES, MAX_VALUE_CHARS = 25, 25, 512
# A fake `az`: logs its arguments (one call per line, arguments separated by \x1f, so they can be split back
# exactly); `keys list` prints the key from the Nth call on (KEY_FROM_CALL, 0 = never);
# `event-subscription create` fails the first CREATE_FAILURES times.
FAKE_AZ = """#!/bin/sh
for arg in "$@"; do printf '%s\037' "$arg" >> "$AZ_LOG"; done
printf '\n' >> "$AZ_LOG"
count() { n=$(cat "$1" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$1"; echo "$n"; }
case "$*" in
  "functionapp keys list"*)
    n=$(count "$AZ_STATE.keys")
    if [ "$KEY_FROM_CALL" -gt 0 ] && [ "$n" -ge "$KEY_FROM_CALL" ]; then echo "s3cr3t-key"; fi ;;
  "eventgrid system-topic event-subscription create"*)
    n=$(count "$AZ_STATE.create")
    if [ "$n" -le "$CREATE_FAILURES" ]; then echo "webhook validation handshake failed" >&2; exit 1; fi ;;
esac
exit 0
"""


def _run(
    tmp_path: Path,
    *,
    key_from_call: int = 1,
    create_failures: int = 0,
    env: dict[str, str] | None = None,
    with_az: bool = True,
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if with_az:
        (bin_dir / "az").write_text(FAKE_AZ)
        (bin_dir / "az").chmod(0o755)
    tools = tmp_path / "tools"  # only what the hook needs, so a real `az` on this machine is never found
    tools.mkdir(exist_ok=True)
    for tool in ("cat", "sleep"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "az.log"
    full_env = {
        "PATH": f"{bin_dir}:{tools}",
        "HOME": str(tmp_path),
        "AZ_LOG": str(log),
        "AZ_STATE": str(tmp_path / "state"),
        "KEY_FROM_CALL": str(key_from_call),
        "CREATE_FAILURES": str(create_failures),
        "POSTDEPLOY_WAIT_SECONDS": "0",
        **(ENV if env is None else env),
    }
    done = subprocess.run(
        [shutil.which("sh"), str(HOOK)], env=full_env, capture_output=True, text=True, timeout=60
    )
    calls = [line.split("\x1f")[:-1] for line in log.read_text().splitlines()] if log.exists() else []
    return done, calls


def _is(call: list[str], *command: str) -> bool:
    return call[: len(command)] == list(command)


CREATE = ("eventgrid", "system-topic", "event-subscription", "create")


def _options(call: list[str]) -> dict[str, list[list[str]]]:
    """`--flag value...` groups of an az call: flag -> the value lists of each occurrence."""
    options: dict[str, list[list[str]]] = {}
    flag = None
    for arg in call[len(CREATE) :]:
        if arg.startswith("--"):
            flag = arg
            options.setdefault(flag, []).append([])
        else:
            assert flag is not None, f"{arg!r} before any option"
            options[flag][-1].append(arg)
    return options


def _delivers(options: dict[str, list[list[str]]], event_type: str, subject: str) -> bool:
    """Event Grid's decision for one event, from the subscription's filters (string matching is
    case-insensitive; the subject filter is too unless made case-sensitive, which the hook does not do)."""
    assert "--subject-case-sensitive" not in options
    [included] = options["--included-event-types"]
    [[prefix]] = options["--subject-begins-with"]
    if event_type not in included or not subject.lower().startswith(prefix.lower()):
        return False
    for key, operator, *values in options.get("--advanced-filter", []):
        assert key == "subject" and operator == "StringNotEndsWith", (key, operator)
        if any(subject.lower().endswith(value.lower()) for value in values):
            return False
    return True


def _subject(container: str, blob: str) -> str:
    return f"/blobServices/default/containers/{container}/blobs/{blob}"


def test_the_environment_is_what_the_bicep_outputs() -> None:
    for name in FROM_BICEP:
        assert isinstance(OUTPUTS[name], str) and "<?>" not in OUTPUTS[name], name
    for name in AZURE_ASSIGNED:
        assert OUTPUTS[name] is UNKNOWN or "<?>" in OUTPUTS[name], f"{name} is known: use the Bicep value"


def test_creates_the_subscription_for_blob_created_in_the_forms_container(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, key_from_call=3)
    assert done.returncode == 0, done.stderr
    assert sum(_is(c, "functionapp", "keys", "list") for c in calls) == 3
    create = calls[-1]
    assert _is(create, *CREATE)
    options = _options(create)
    expected_endpoint = (
        "https://func-abc.azurewebsites.net/runtime/webhooks/blobs"
        "?functionName=Host.Functions.on_blob&code=s3cr3t-key"
    )
    assert options["--endpoint"] == [[expected_endpoint]]
    assert options["--endpoint-type"] == [["webhook"]]
    assert options["--included-event-types"] == [["Microsoft.Storage.BlobCreated"]]
    assert options["--subject-begins-with"] == [["/blobServices/default/containers/forms/"]]
    assert options["--system-topic-name"] == [["evgst-forms-abc"]] and options["--resource-group"] == [
        ["rg-dev"]
    ]
    assert options["--name"] == [["forms-blob-created"]]
    assert "s3cr3t-key" not in done.stdout + done.stderr  # the key is never printed


def test_the_subscription_skips_the_pipelines_own_outputs_with_two_subject_filters(tmp_path: Path) -> None:
    done, calls = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    filters = _options(calls[-1])["--advanced-filter"]
    assert filters == [
        ["subject", "StringNotEndsWith", OCR_SUFFIX],
        ["subject", "StringNotEndsWith", PREDICTION_SUFFIX],
    ]
    values = [value for _, _, *filter_values in filters for value in filter_values]
    assert len(filters) <= MAX_ADVANCED_FILTERS and len(values) <= MAX_FILTER_VALUES
    assert all(len(value) <= MAX_VALUE_CHARS for value in values)


FORMS_BLOBS = [
    "invoices/a.pdf",
    "invoices/B.JPG",
    "invoices/a.pdf.labels.json",
    "invoices/fields.json",
    "invoices/a.pdf.ocr.json",
    "invoices/a.pdf.prediction.json",
    "invoices/A.PDF.OCR.JSON",
    "invoices/A.PDF.Prediction.Json",
    "invoices/notes.txt",
    "ocr.json/prediction.json.pdf",
]


@pytest.mark.parametrize("blob", FORMS_BLOBS)
def test_a_blob_in_the_forms_container_reaches_the_function_unless_the_pipeline_wrote_it(
    tmp_path: Path, blob: str
) -> None:
    done, calls = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    options = _options(calls[-1])
    forms = APP_SETTINGS["FORMS_CONTAINER"]
    delivered = _delivers(options, "Microsoft.Storage.BlobCreated", _subject(forms, blob))
    assert delivered == (classify(blob) not in (BlobKind.OCR, BlobKind.PREDICTION)), blob
    assert not _delivers(options, "Microsoft.Storage.BlobDeleted", _subject(forms, blob))


def test_everything_the_function_acts_on_is_delivered(tmp_path: Path) -> None:
    done, calls = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    options = _options(calls[-1])
    delivered = {
        classify(blob)
        for blob in FORMS_BLOBS
        if _delivers(
            options, "Microsoft.Storage.BlobCreated", _subject(APP_SETTINGS["FORMS_CONTAINER"], blob)
        )
    }
    assert {BlobKind.SOURCE, BlobKind.LABELS, BlobKind.FIELDS} <= delivered


@pytest.mark.parametrize(
    "blob",
    ["invoices/snapshot-1/a.pdf", "invoices/snapshot-1/a.pdf.labels.json", "invoices/snapshot-1/fields.json"],
)
def test_snapshots_and_other_containers_never_reach_the_function(tmp_path: Path, blob: str) -> None:
    done, calls = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    options = _options(calls[-1])
    forms, snapshots = APP_SETTINGS["FORMS_CONTAINER"], APP_SETTINGS["SNAPSHOT_CONTAINER"]
    # the snapshot container, and a container whose name merely begins with the forms container's
    for container in (snapshots, f"{forms}-archive", f"{forms}x"):
        assert not _delivers(options, "Microsoft.Storage.BlobCreated", _subject(container, blob)), container
    assert _delivers(options, "Microsoft.Storage.BlobCreated", _subject(forms, blob))


def test_without_skip_suffixes_the_hook_refuses_rather_than_subscribing_to_everything(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, env={**ENV, "BLOB_EVENT_SKIP_SUFFIXES": ""})
    assert done.returncode == 1
    assert "BLOB_EVENT_SKIP_SUFFIXES is not set" in done.stderr
    assert calls == []


def test_retries_when_the_webhook_validation_fails_once(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, create_failures=1)
    assert done.returncode == 0, done.stderr
    creates = [c for c in calls if _is(c, *CREATE)]
    assert len(creates) == 2 and creates[0] == creates[1]  # the retry sends the same filters
    assert "retrying" in done.stdout


def test_gives_up_with_a_clear_message_when_validation_keeps_failing(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, create_failures=99)
    assert done.returncode == 1
    assert sum(_is(c, *CREATE) for c in calls) == 3
    assert "re-run 'azd deploy'" in done.stderr


def test_fails_clearly_when_the_blob_trigger_never_registers(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, key_from_call=0)
    assert done.returncode == 1
    assert sum(_is(c, "functionapp", "keys", "list") for c in calls) == 18
    assert "no blobs_extension key" in done.stderr and "on_blob" in done.stderr
    assert not any(_is(c, "eventgrid") for c in calls)


@pytest.mark.parametrize("missing", sorted(ENV))
def test_refuses_to_run_before_provisioning(tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    done, calls = _run(tmp_path, env=env)
    assert done.returncode == 1
    assert f"{missing} is not set" in done.stderr
    assert calls == []


def test_needs_the_azure_cli(tmp_path: Path) -> None:
    done, _ = _run(tmp_path, with_az=False)
    assert done.returncode == 1
    assert "Azure CLI (az) is required" in done.stderr
