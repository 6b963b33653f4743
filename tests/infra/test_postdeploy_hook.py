"""The postdeploy hook, run for real against a stand-in `az` (the Azure cloud is the only thing faked).

Its environment is what azd gives it: the outputs of infra/main.bicep, evaluated from the Bicep, with
stand-ins only for the values Azure assigns, and the subscription azd deployed to. So the Event Grid
subscription checked here is the one the deployed Bicep leads to, filters included.

The stand-in `az` answers as the Azure CLI does for a signed-in account: it knows some subscriptions, has a
default one (which need not be the one azd deployed to), finds the app and the topic only in the deployed
subscription, and fails with az's own messages (signed out, unknown subscription, missing resource group,
missing permission, a passing service error, a failed webhook handshake).
"""

from __future__ import annotations

import re
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
DEPLOYED = "11111111-1111-1111-1111-111111111111"  # the subscription azd deployed to
OTHER = "22222222-2222-2222-2222-222222222222"  # another subscription of the same account
AZD_SET = {"AZURE_SUBSCRIPTION_ID": DEPLOYED}  # set by azd itself, not a Bicep output
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
ENV = {**AZD_SET, **AZURE_ASSIGNED, **{name: OUTPUTS[name] for name in FROM_BICEP}}
# Event Grid limits per subscription (advanced filtering): filters, values across all filters, value length.
MAX_ADVANCED_FILTERS, MAX_FILTER_VALUES, MAX_VALUE_CHARS = 25, 25, 512
# A fake `az`: logs its arguments (one call per line, arguments separated by \x1f, so they can be split back
# exactly). It works in the subscription named by --subscription, else in its default one (AZ_DEFAULT);
# it knows the subscriptions in AZ_SUBSCRIPTIONS, and the app and topic exist only in AZ_DEPLOYED.
# `keys list` fails the first KEYS_FAILURES times with KEYS_ERROR, then prints the key from the Nth call on
# (KEY_FROM_CALL, 0 = never); `event-subscription create` fails the first CREATE_FAILURES times with
# CREATE_ERROR. Messages and exit codes are the Azure CLI's.
FAKE_AZ = """#!/bin/sh
for arg in "$@"; do printf '%s\037' "$arg" >> "$AZ_LOG"; done
printf '\n' >> "$AZ_LOG"
count() { n=$(cat "$1" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$1"; echo "$n"; }
if [ -n "$AZ_SIGNED_OUT" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
subscription=$AZ_DEFAULT
previous=""
for arg in "$@"; do
  if [ "$previous" = "--subscription" ]; then subscription=$arg; fi
  previous=$arg
done
case " $AZ_SUBSCRIPTIONS " in
  *" $subscription "*) ;;
  *) echo "ERROR: Subscription '$subscription' not found. Check the spelling and casing and try again." >&2
     exit 1 ;;
esac
if [ "$1" != "account" ] && [ "$subscription" != "$AZ_DEPLOYED" ]; then
  echo "ERROR: (ResourceGroupNotFound) Resource group '$RESOURCE_GROUP' could not be found." >&2
  echo "Code: ResourceGroupNotFound" >&2
  exit 3
fi
case "$*" in
  "account show"*) echo "$subscription" ;;
  "functionapp keys list"*)
    n=$(count "$AZ_STATE.keys")
    if [ "$n" -le "$KEYS_FAILURES" ]; then echo "$KEYS_ERROR" >&2; exit 1; fi
    if [ "$KEY_FROM_CALL" -gt 0 ] && [ "$n" -ge "$KEY_FROM_CALL" ]; then echo "s3cr3t-key"; fi ;;
  "eventgrid system-topic event-subscription create"*)
    n=$(count "$AZ_STATE.create")
    if [ "$n" -le "$CREATE_FAILURES" ]; then echo "$CREATE_ERROR" >&2; exit 1; fi ;;
esac
exit 0
"""
# What az writes when Event Grid's webhook handshake fails (a cold instance), and when the service is busy.
HANDSHAKE_FAILED = (
    "ERROR: (URL validation) Webhook validation handshake failed for https://func-abc.azurewebsites.net/"
    "runtime/webhooks/blobs. Http POST request failed with response code Unknown."
)
SERVICE_BUSY = "ERROR: Operation returned an invalid status 'Service Unavailable'"
NO_PERMISSION = (
    "ERROR: (AuthorizationFailed) The client 'dev@example.com' with object id '0000' does not have "
    "authorization to perform action 'Microsoft.Web/sites/host/listkeys/action' over scope "
    "'/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-dev/providers/Microsoft.Web/"
    "sites/func-abc/host/default' or the scope is invalid."
)


def _run(
    tmp_path: Path,
    *,
    key_from_call: int = 1,
    keys_failures: int = 0,
    keys_error: str = SERVICE_BUSY,
    create_failures: int = 0,
    create_error: str = HANDSHAKE_FAILED,
    default_subscription: str = OTHER,
    subscriptions: tuple[str, ...] = (DEPLOYED, OTHER),
    signed_out: bool = False,
    env: dict[str, str] | None = None,
    with_az: bool = True,
    shell: str = "sh",
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if with_az:
        (bin_dir / "az").write_text(FAKE_AZ)
        (bin_dir / "az").chmod(0o755)
    tools = tmp_path / "tools"  # only what the hook needs, so a real `az` on this machine is never found
    tools.mkdir(exist_ok=True)
    for tool in ("cat", "sleep", "mktemp", "rm"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "az.log"
    full_env = {
        "PATH": f"{bin_dir}:{tools}",
        "HOME": str(tmp_path),
        "AZ_LOG": str(log),
        "AZ_STATE": str(tmp_path / "state"),
        "KEY_FROM_CALL": str(key_from_call),
        "KEYS_FAILURES": str(keys_failures),
        "KEYS_ERROR": keys_error,
        "CREATE_FAILURES": str(create_failures),
        "CREATE_ERROR": create_error,
        "AZ_DEFAULT": default_subscription,
        "AZ_SUBSCRIPTIONS": " ".join(subscriptions),
        "AZ_DEPLOYED": DEPLOYED,
        "AZ_SIGNED_OUT": "1" if signed_out else "",
        "TMPDIR": str(tmp_path),
        "POSTDEPLOY_WAIT_SECONDS": "0",
        **(ENV if env is None else env),
    }
    done = subprocess.run(
        [shutil.which(shell), str(HOOK)], env=full_env, capture_output=True, text=True, timeout=60
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


# --- the subscription, and az's own errors ------------------------------------------------------------


def test_every_az_call_names_the_subscription_azd_deployed_to(tmp_path: Path) -> None:
    """The Azure CLI's default subscription is another one (the fake az finds nothing there): the hook
    still finds the app and creates the subscription, because it never relies on that default."""
    done, calls = _run(tmp_path, default_subscription=OTHER)
    assert done.returncode == 0, done.stderr
    assert calls and all(_option(call, "--subscription") == DEPLOYED for call in calls)
    assert _is(calls[0], "account", "show")


def test_without_the_subscription_the_lookup_would_fail_as_az_fails(tmp_path: Path) -> None:
    """The stand-in az is honest: called the way the hook used to call it (no --subscription, another
    default subscription), the key lookup fails with the Azure CLI's ResourceGroupNotFound."""
    az = tmp_path / "bin" / "az"
    _run(tmp_path)  # writes the fake az
    done = subprocess.run(
        [str(az), "functionapp", "keys", "list", "--name", "func-abc", "--resource-group", "rg-dev"],
        env={
            "PATH": str(tmp_path / "tools"),
            "AZ_LOG": str(tmp_path / "direct.log"),
            "AZ_STATE": str(tmp_path / "direct"),
            "AZ_DEFAULT": OTHER,
            "AZ_SUBSCRIPTIONS": f"{DEPLOYED} {OTHER}",
            "AZ_DEPLOYED": DEPLOYED,
            "AZ_SIGNED_OUT": "",
            "RESOURCE_GROUP": "rg-dev",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 3 and "(ResourceGroupNotFound)" in done.stderr


def test_a_subscription_the_cli_cannot_see_stops_at_once_with_azs_words(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, subscriptions=(OTHER,))
    assert done.returncode == 1
    assert len(calls) == 1 and _is(calls[0], "account", "show")  # no 3-minute wait
    assert f"Subscription '{DEPLOYED}' not found" in done.stderr  # az's own message, shown whole
    assert f"cannot use subscription {DEPLOYED}" in done.stderr and "az login" in done.stderr
    assert "blobs_extension" not in done.stderr  # the function is not blamed


def test_signed_out_stops_at_once_and_says_to_sign_in(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, signed_out=True)
    assert done.returncode == 1 and len(calls) == 1
    assert "Please run 'az login'" in done.stderr
    assert "blobs_extension" not in done.stderr


@pytest.mark.parametrize(
    "error",
    [
        NO_PERMISSION,
        "ERROR: (ResourceNotFound) The Resource 'Microsoft.Web/sites/func-abc' under resource group 'rg-dev' "
        "was not found.",
        "ERROR: AADSTS700082: The refresh token has expired due to inactivity. Interactive authentication is "
        "needed. Please run:\naz login --scope https://management.core.windows.net//.default",
    ],
    ids=["no-permission", "no-app", "sign-in-expired"],
)
def test_a_key_lookup_that_waiting_cannot_cure_stops_at_once_with_azs_words(
    tmp_path: Path, error: str
) -> None:
    done, calls = _run(tmp_path, keys_failures=99, keys_error=error)
    assert done.returncode == 1
    assert sum(_is(c, "functionapp", "keys", "list") for c in calls) == 1
    assert error.splitlines()[0] in done.stderr
    assert "func-abc" in done.stderr and DEPLOYED in done.stderr
    assert "no blobs_extension key" not in done.stderr and "waiting" not in done.stdout
    assert not any(_is(c, "eventgrid") for c in calls)


def test_a_passing_service_error_is_shown_and_tried_again(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, keys_failures=2, keys_error=SERVICE_BUSY)
    assert done.returncode == 0, done.stderr
    assert sum(_is(c, "functionapp", "keys", "list") for c in calls) == 3
    assert done.stderr.count(SERVICE_BUSY) == 2  # what az said, each time, not swallowed
    assert _is(calls[-1], *CREATE)


def test_when_az_keeps_failing_the_last_error_is_reported_not_a_missing_key(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, keys_failures=99, keys_error=SERVICE_BUSY)
    assert done.returncode == 1
    assert sum(_is(c, "functionapp", "keys", "list") for c in calls) == 18
    assert "az kept failing" in done.stderr and SERVICE_BUSY in done.stderr.splitlines()[-1]
    assert "no blobs_extension key" not in done.stderr


def test_the_subscription_create_shows_azs_error_and_stops_when_retrying_cannot_help(tmp_path: Path) -> None:
    error = NO_PERMISSION.replace("Microsoft.Web/sites/host/listkeys/action", "Microsoft.EventGrid/x/write")
    done, calls = _run(tmp_path, create_failures=99, create_error=error)
    assert done.returncode == 1
    assert sum(_is(c, *CREATE) for c in calls) == 1
    assert "(AuthorizationFailed)" in done.stderr
    assert "could not create the Event Grid subscription" in done.stderr
    assert "s3cr3t-key" not in done.stdout + done.stderr


def test_a_failed_handshake_is_shown_each_time(tmp_path: Path) -> None:
    done, _ = _run(tmp_path, create_failures=99)
    assert done.returncode == 1
    assert done.stderr.count("Webhook validation handshake failed") == 3


def _option(call: list[str], flag: str) -> str | None:
    return call[call.index(flag) + 1] if flag in call else None


# --- the Windows hook (PowerShell is not installed here: its text is checked against the sh hook's) -----

PS1 = (REPO / "infra" / "hooks" / "postdeploy.ps1").read_text()
SH = HOOK.read_text()


def test_the_windows_hook_calls_az_in_one_place_with_the_subscription() -> None:
    statement = re.compile(r"\s*(\$\w+\s*=\s*)?(&\s*)?az\s")  # a line that runs az (assigned or not)
    direct = [line.strip() for line in PS1.splitlines() if statement.match(line)]
    assert direct == ["$output = & az @args --subscription $env:AZURE_SUBSCRIPTION_ID 2> $errorFile.FullName"]
    assert "2>$null" not in PS1 and "2> $null" not in PS1  # az's errors are read, never discarded
    assert PS1.count("= Invoke-Az ") == 3  # account show, keys list, event-subscription create
    assert "'AZURE_SUBSCRIPTION_ID'" in PS1


def test_both_hooks_give_up_at_once_on_the_same_az_errors() -> None:
    sh_list = re.search(r'lasting_errors="(.*?)"', SH, re.S).group(1).splitlines()
    block = re.search(r"\$lasting = @\((.*?)\n\)", PS1, re.S).group(1)
    ps1_list = re.findall(r"^    '([^']+)'$", block, re.M)
    assert sh_list == ps1_list and len(sh_list) >= 10


def test_the_sh_hook_hides_no_error() -> None:
    assert "2>/dev/null ||" not in SH and "|| true" not in SH
    # the only call of az is the wrapper's, and it names the subscription
    assert [line.strip() for line in SH.splitlines() if re.search(r"\baz \"\$@\"", line)] == [
        'out=$(az "$@" --subscription "$AZURE_SUBSCRIPTION_ID" 2>"$errors") || status=$?'
    ]


def test_a_passing_error_creating_the_subscription_is_tried_again(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, create_failures=1, create_error=SERVICE_BUSY)
    assert done.returncode == 0, done.stderr
    assert sum(_is(c, *CREATE) for c in calls) == 2 and SERVICE_BUSY in done.stderr


@pytest.mark.parametrize("shell", [s for s in ("dash", "bash") if shutil.which(s)])
def test_the_hook_behaves_the_same_in_other_shells(tmp_path: Path, shell: str) -> None:
    """azd runs it with `sh`: dash on Debian and Ubuntu, bash (in POSIX mode) on macOS."""
    done, calls = _run(tmp_path / "ok", shell=shell, keys_failures=1, create_failures=1)
    assert done.returncode == 0, done.stderr
    assert all(_option(call, "--subscription") == DEPLOYED for call in calls)
    done, calls = _run(tmp_path / "denied", shell=shell, keys_failures=99, keys_error=NO_PERMISSION)
    assert done.returncode == 1 and "(AuthorizationFailed)" in done.stderr
    assert sum(_is(c, "functionapp", "keys", "list") for c in calls) == 1
