"""The deployment files are well-formed: Bicep parses, modules resolve, azd and its hook fit together."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from pycep import BicepParser

from tests.helpers.bicep_eval import parse

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
HOOKS = INFRA / "hooks"
AZD_OUTPUT_ENV = {"AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_SUBSCRIPTION_ID", "AZURE_PRINCIPAL_ID"}
HOOK_OWN_ENV = {"POSTDEPLOY_WAIT_SECONDS"}  # optional pause between attempts (shortened by the tests)
SHELL_VARIABLES = {"IFS"}  # the shell's own, not the environment's


def test_there_is_a_main_template_and_modules() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in BICEP_FILES}
    assert {
        "main.bicep",
        "app/function.bicep",
        "app/storage.bicep",
        "app/monitoring.bicep",
        "app/document-intelligence.bicep",
    } <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_every_bicep_file_parses(path: Path) -> None:
    tree = parse(path)
    assert tree.get("parameters") or tree.get("modules") or tree.get("resources")


def test_the_parser_rejects_broken_bicep() -> None:
    """The syntax check has teeth: an unclosed object is refused."""
    broken = (INFRA / "app" / "function.bicep").read_text().replace("runtime: {", "runtime: {{", 1)
    with pytest.raises(Exception):  # noqa: B017 - pycep raises lark or ValueError depending on where it fails
        BicepParser().parse(text=broken)


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_modules_are_pinned_verified_modules_or_local_files(path: Path) -> None:
    for name, module in parse(path).get("modules", {}).items():
        detail = module["detail"]
        if module["type"] == "bicep_registry_alias":
            assert detail["alias"] == "public" and detail["path"].startswith("avm/"), name
            assert re.fullmatch(r"\d+\.\d+\.\d+", detail["tag"]), f"{name}: pin an exact version"
        else:
            assert (path.parent / detail["path"]).is_file(), f"{name}: {detail['path']} is missing"


def test_parameters_file_fills_the_required_parameters() -> None:
    main = parse(INFRA / "main.bicep")["parameters"]
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(given) <= set(main), "main.parameters.json names a parameter main.bicep does not have"
    required = {name for name, spec in main.items() if spec.get("default") is None}
    assert required <= set(given)
    assert given["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert given["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"


def _yaml_value(text: str, key: str) -> str:
    match = re.search(rf"^\s*{key}:\s*(\S+)\s*$", text, re.MULTILINE)
    assert match, f"azure.yaml has no {key}"
    return match.group(1)


def test_azure_yaml_deploys_the_repo_root_as_the_pipeline_function() -> None:
    text = (REPO / "azure.yaml").read_text()
    assert re.search(r"^services:\n  pipeline:\n", text, re.MULTILINE)
    assert _yaml_value(text, "project") == "."
    assert _yaml_value(text, "language") == "python"
    assert _yaml_value(text, "host") == "function"
    assert _yaml_value(text, "path") == "infra"
    for hook in re.findall(r"run:\s*(\S+)", text):
        assert (REPO / hook).is_file(), hook
    assert os.access(HOOKS / "postdeploy.sh", os.X_OK)
    # The function app must carry the tag azd uses to find the service's deployment target.
    function = (INFRA / "app" / "function.bicep").read_text()
    assert "'azd-service-name': 'pipeline'" in function


def test_the_app_package_holds_the_function_app_and_nothing_heavy() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".funcignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "node_modules", "engine", "devhost", "tests", "bench", "infra"} <= ignored
    assert not {"shared", "function_app.py", "host.json", "requirements.txt"} & ignored


def test_postdeploy_shell_hook_is_valid_sh() -> None:
    subprocess.run(["sh", "-n", str(HOOKS / "postdeploy.sh")], check=True)


@pytest.mark.parametrize("script", ["postdeploy.sh", "postdeploy.ps1"])
def test_hooks_read_only_what_the_deployment_outputs(script: str) -> None:
    outputs = set(parse(INFRA / "main.bicep")["outputs"]) | AZD_OUTPUT_ENV | HOOK_OWN_ENV | SHELL_VARIABLES
    text = (HOOKS / script).read_text()
    if script.endswith(".sh"):
        used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", text)) | set(
            re.search(r"for name in (.*?); do", text, re.S).group(1).replace("\\", " ").split()
        )
    else:
        used = set(re.findall(r"\$env:([A-Z][A-Z0-9_]+)", text))
    assert used, script
    assert used <= outputs, f"{script} reads {sorted(used - outputs)}, which main.bicep does not output"
    # every az call names the subscription azd deployed to (the CLI's default may be another one)
    assert "AZURE_SUBSCRIPTION_ID" in used
    assert "systemKeys.blobs_extension" in text
    assert "Microsoft.Storage.BlobCreated" in text
    # The filters come from main.bicep (the .sh hook is run in test_postdeploy_hook.py; pwsh is not here).
    sh = script.endswith(".sh")
    prefix = '"$BLOB_EVENT_SUBJECT_PREFIX"' if sh else "$env:BLOB_EVENT_SUBJECT_PREFIX"
    assert f"--subject-begins-with {prefix}" in text
    skip = (
        "--advanced-filter subject StringNotEndsWith"
        if sh
        else "'--advanced-filter', 'subject', 'StringNotEndsWith'"
    )
    assert skip in text and "BLOB_EVENT_SKIP_SUFFIXES" in text
