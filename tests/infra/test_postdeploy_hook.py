"""The postdeploy hook, run for real against a stand-in `az` (the Azure cloud is the only thing faked)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[2] / "infra" / "hooks" / "postdeploy.sh"
ENV = {
    "AZURE_FUNCTION_APP_NAME": "func-abc",
    "RESOURCE_GROUP": "rg-dev",
    "SERVICE_PIPELINE_BASE_URL": "https://func-abc.azurewebsites.net",
    "FORMS_SYSTEM_TOPIC_NAME": "evgst-forms-abc",
    "FORMS_CONTAINER_NAME": "forms",
    "BLOB_FUNCTION_NAME": "on_blob",
}
# A fake `az`: logs its arguments; `keys list` prints the key from the Nth call on (KEY_FROM_CALL, 0 = never);
# `event-subscription create` fails the first CREATE_FAILURES times.
FAKE_AZ = """#!/bin/sh
echo "$*" >> "$AZ_LOG"
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
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
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
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls


def test_creates_the_subscription_for_blob_created_in_the_forms_container(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, key_from_call=3)
    assert done.returncode == 0, done.stderr
    assert [c.split()[:3] for c in calls].count(["functionapp", "keys", "list"]) == 3
    create = calls[-1]
    assert create.startswith("eventgrid system-topic event-subscription create")
    expected_endpoint = (
        "https://func-abc.azurewebsites.net/runtime/webhooks/blobs"
        "?functionName=Host.Functions.on_blob&code=s3cr3t-key"
    )
    assert f"--endpoint {expected_endpoint} " in create
    assert "--included-event-types Microsoft.Storage.BlobCreated" in create
    assert "--subject-begins-with /blobServices/default/containers/forms/" in create
    assert "--system-topic-name evgst-forms-abc" in create and "--resource-group rg-dev" in create
    assert "s3cr3t-key" not in done.stdout + done.stderr  # the key is never printed


def test_retries_when_the_webhook_validation_fails_once(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, create_failures=1)
    assert done.returncode == 0, done.stderr
    assert sum("event-subscription create" in c for c in calls) == 2
    assert "retrying" in done.stdout


def test_gives_up_with_a_clear_message_when_validation_keeps_failing(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, create_failures=99)
    assert done.returncode == 1
    assert sum("event-subscription create" in c for c in calls) == 3
    assert "re-run 'azd deploy'" in done.stderr


def test_fails_clearly_when_the_blob_trigger_never_registers(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, key_from_call=0)
    assert done.returncode == 1
    assert sum("keys list" in c for c in calls) == 18
    assert "no blobs_extension key" in done.stderr and "on_blob" in done.stderr
    assert not any("event-subscription" in c for c in calls)


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
