"""The deployment's options, from the Bicep to what the function does with them: the Document Intelligence
API version (no retired v2.0 in Azure), the timer's run-on-startup (not on every scale-out in Azure), and the
SAS-free training source (Document Intelligence reads the forms account with its own identity)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from azure.storage.blob import BlobServiceClient

from shared.clients.formrecognizer import FormRecognizerClient
from shared.clients.sas import container_sas_url
from shared.settings import (
    SETTINGS_SPEC,
    TRAINING_SOURCE_AUTH_MODES,
    SettingsError,
    load_settings,
    timer_runs_on_startup,
)
from tests.helpers.bicep_eval import UNKNOWN, BicepFile
from tests.helpers.pipeline import Reply, serve_faults

REPO = Path(__file__).resolve().parents[2]
MAIN = BicepFile.load(REPO / "infra" / "main.bicep")
APP_SETTINGS: dict = MAIN.var("appSettings")
PARAMETERS = json.loads((REPO / "infra" / "main.parameters.json").read_text())["parameters"]
ROLE_IDS = MAIN.var("roles")
ACCOUNT = "stforms"
AZURE_ENV = {  # the deployed app settings, with stand-ins for what only Azure knows
    "FORMS_STORAGE__blobServiceUri": f"https://{ACCOUNT}.blob.core.windows.net",
    "FORMS_STORAGE__queueServiceUri": f"https://{ACCOUNT}.queue.core.windows.net",
    "FORMS_STORAGE__tableServiceUri": f"https://{ACCOUNT}.table.core.windows.net",
    "FORMS_STORAGE__credential": "managedidentity",
    "FORMS_STORAGE__clientId": "00000000-0000-0000-0000-000000000123",
    "FORM_RECOGNIZER_ENDPOINT": "https://cog-fr-abc.cognitiveservices.azure.com/",
}
LOCAL_ENV = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:7071"}


def _allowed(param: str) -> list:
    [allowed] = [d["argument"] for d in MAIN.params[param]["decorators"] if d["type"] == "allowed"]
    return allowed


def _description(param: str) -> str:
    [text] = [d["argument"] for d in MAIN.params[param]["decorators"] if d["type"] == "description"]
    return text


def _with(**params: object) -> BicepFile:
    return BicepFile(MAIN.path, MAIN.doc, dict(params))


# --- FORM_RECOGNIZER_API ----------------------------------------------------------------------------------


def test_azure_is_offered_only_the_api_versions_it_still_serves() -> None:
    assert _allowed("formRecognizerApi") == ["v2.1", "2024-11-30"]
    assert "2.0-preview" not in _allowed("formRecognizerApi")  # Azure retired v2.0 on 2026-08-31
    description = _description("formRecognizerApi")
    assert "v2.1" in description and "2024-11-30" in description and "2.0" not in description.replace(
        "2024-11-30", ""
    )
    assert APP_SETTINGS["FORM_RECOGNIZER_API"] == "v2.1"
    for api in _allowed("formRecognizerApi"):
        assert load_settings({**AZURE_ENV, "FORM_RECOGNIZER_API": api}).fr_api == api


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://cog-fr-abc.cognitiveservices.azure.com/",
        "https://westeurope.api.cognitive.microsoft.com",
        "https://x.COGNITIVESERVICES.AZURE.COM",
        "https://x.cognitiveservices.azure.us/",
    ],
)
def test_the_retired_preview_dialect_is_refused_with_an_azure_endpoint(endpoint: str) -> None:
    env = {**AZURE_ENV, "FORM_RECOGNIZER_ENDPOINT": endpoint, "FORM_RECOGNIZER_API": "2.0-preview"}
    with pytest.raises(SettingsError, match=r"2\.0-preview.*only by the local engine.*2026-08-31"):
        load_settings(env)


def test_the_preview_dialect_still_works_with_the_local_engine() -> None:
    assert load_settings({**LOCAL_ENV, "FORM_RECOGNIZER_API": "2.0-preview"}).fr_api == "2.0-preview"


# --- the timer's run on startup ---------------------------------------------------------------------------


def test_azure_does_not_run_the_timer_on_every_start() -> None:
    assert APP_SETTINGS["TIMER_RUN_ON_STARTUP"] == "false"
    assert SETTINGS_SPEC["TIMER_RUN_ON_STARTUP"] == "true"  # locally the first sweep stays immediate
    assert load_settings({**AZURE_ENV, "TIMER_RUN_ON_STARTUP": "false"}).timer_run_on_startup == "false"
    assert not timer_runs_on_startup({"TIMER_RUN_ON_STARTUP": "false"})
    assert not timer_runs_on_startup({"TIMER_RUN_ON_STARTUP": " FALSE "})
    assert timer_runs_on_startup({}) and timer_runs_on_startup({"TIMER_RUN_ON_STARTUP": "true"})
    with pytest.raises(SettingsError, match="TIMER_RUN_ON_STARTUP"):
        load_settings({**LOCAL_ENV, "TIMER_RUN_ON_STARTUP": "flase"})


INDEX = """
import json, sys
from pathlib import Path
from devhost.app_loader import load_functions
specs = {s.name: s for s in load_functions(Path(sys.argv[1]))}
print(json.dumps(specs["poll_training_runs"].binding.get("runOnStartup")))
"""


@pytest.mark.parametrize(("env", "expected"), [({}, True), ({"TIMER_RUN_ON_STARTUP": "false"}, False)])
def test_the_function_app_declares_the_timer_as_the_setting_says(env: dict[str, str], expected: bool) -> None:
    """function_app.py read as the host indexes it (in a fresh process: it reads the setting on import)."""
    base = {k: v for k, v in os.environ.items() if k != "TIMER_RUN_ON_STARTUP"}
    done = subprocess.run(
        [sys.executable, "-c", INDEX, str(REPO)],
        env={**base, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) is expected


# --- the training source: a SAS, or Document Intelligence's own identity ----------------------------------


def test_the_training_source_option_is_a_parameter_an_app_setting_and_an_azd_value() -> None:
    assert _allowed("trainingSourceAuth") == list(TRAINING_SOURCE_AUTH_MODES) == ["sas", "service-identity"]
    assert MAIN.params["trainingSourceAuth"]["default"] == "sas" == SETTINGS_SPEC["TRAINING_SOURCE_AUTH"]
    assert PARAMETERS["trainingSourceAuth"]["value"] == "${TRAINING_SOURCE_AUTH=sas}"
    for mode in TRAINING_SOURCE_AUTH_MODES:
        assert _with(trainingSourceAuth=mode).var("appSettings")["TRAINING_SOURCE_AUTH"] == mode
        assert load_settings({**AZURE_ENV, "TRAINING_SOURCE_AUTH": mode}).training_source_auth == mode
    with pytest.raises(SettingsError, match="TRAINING_SOURCE_AUTH"):
        load_settings({**AZURE_ENV, "TRAINING_SOURCE_AUTH": "identity"})


def test_with_a_sas_document_intelligence_has_no_identity_and_no_storage_role() -> None:
    main = _with(trainingSourceAuth="sas")
    account = main.child("documentIntelligence").module_params("account")
    assert account["managedIdentities"] is None  # no identity at all
    assert main.module_params("storage")["documentIntelligencePrincipalId"] == ""
    forms = main.child("storage").module_params("forms")["roleAssignments"]
    assert ROLE_IDS["storageBlobDataReader"] not in {a["roleDefinitionIdOrName"] for a in forms}
    assert main.child("documentIntelligence").value(
        main.child("documentIntelligence").doc["outputs"]["systemAssignedPrincipalId"]["value"]
    ) == ""


def test_with_its_own_identity_document_intelligence_may_read_the_forms_account() -> None:
    """The Document Intelligence docs ("Managed identities for Document Intelligence"): the service reads
    storage only with a system-assigned identity, which needs Storage Blob Data Reader on the account."""
    main = _with(trainingSourceAuth="service-identity")
    account = main.child("documentIntelligence").module_params("account")
    assert account["managedIdentities"] == {"systemAssigned": True}  # system-assigned only
    # the storage module gets the account's identity (known only once deployed) ...
    assert main.module_params("storage")["documentIntelligencePrincipalId"] is UNKNOWN
    source = main.modules["storage"]["config"]["params"]["documentIntelligencePrincipalId"]
    assert "systemAssignedPrincipalId" in json.dumps(source)
    # ... and grants it read and list on the whole forms account (both containers), nothing more
    params = {**main.module_params("storage"), "documentIntelligencePrincipalId": "di-principal"}
    storage = BicepFile.load(main.child("storage").path, params)
    forms = storage.module_params("forms")["roleAssignments"]
    readers = [a for a in forms if a["principalId"] == "di-principal"]
    assert readers == [
        {
            "principalId": "di-principal",
            "principalType": "ServicePrincipal",
            "roleDefinitionIdOrName": ROLE_IDS["storageBlobDataReader"],
        }
    ]
    host = storage.module_params("host")["roleAssignments"]
    assert all(a["principalId"] != "di-principal" for a in host)


@pytest.mark.parametrize("mode", TRAINING_SOURCE_AUTH_MODES)
def test_document_intelligence_may_reach_only_the_forms_blob_endpoint(mode: str) -> None:
    """The Verified Module turns on the account's outbound restriction (data loss prevention); the only host
    it may reach is the one training sets are read from, with a SAS or with its identity."""
    main = _with(trainingSourceAuth=mode)
    account = main.child("documentIntelligence").module_params("account")
    assert account["restrictOutboundNetworkAccess"] is True
    [host] = account["allowedFqdnList"]  # `st<token>.blob.<suffix>`: the token is known only in Azure
    assert f"https://{host}" == main.var("appSettings")["FORMS_STORAGE__blobServiceUri"]


class NoDelegationKeys(BlobServiceClient):
    def get_user_delegation_key(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("no SAS, so no user-delegation key")


@pytest.mark.parametrize("container", ["", "training-sets"])
def test_with_the_service_identity_the_source_is_the_plain_container_url(container: str) -> None:
    settings = load_settings({**AZURE_ENV, "TRAINING_SOURCE_AUTH": "service-identity"})
    service = NoDelegationKeys(AZURE_ENV["FORMS_STORAGE__blobServiceUri"])
    url = container_sas_url(settings, service=service, container=container)
    assert url == f"https://{ACCOUNT}.blob.core.windows.net/{container or 'forms'}"


def test_the_local_stack_keeps_its_sas() -> None:
    from formloop.stack import AZURITE_KEY

    conn = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
        "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"
    )
    url = container_sas_url(load_settings({"FORMS_STORAGE": conn, "FORM_RECOGNIZER_ENDPOINT": "http://e"}))
    assert "sig=" in urlsplit(url).query


@pytest.mark.parametrize("api", ["v2.1", "2024-11-30"])
def test_the_train_request_carries_the_plain_container_url(api: str) -> None:
    """What goes over the wire to Document Intelligence (a loopback stand-in records it)."""
    bodies: list[bytes] = []

    def answer(method: str, path: str, body: bytes) -> Reply:
        bodies.append(body)
        return 202, {"Location": "/m/1", "Operation-Location": "/operations/1"}, b""

    server, httpd = serve_faults(fallback=answer)
    try:
        settings = load_settings({**AZURE_ENV, "TRAINING_SOURCE_AUTH": "service-identity"})
        service = NoDelegationKeys(AZURE_ENV["FORMS_STORAGE__blobServiceUri"])
        source = container_sas_url(settings, service=service)
        client = FormRecognizerClient(server.url, "key", api, retry_budget=5.0, timeout=5.0)
        client.begin_training(source, "invoices/", model_name="invoices-run1")
    finally:
        httpd.shutdown()
        httpd.server_close()
    [body] = [json.loads(b) for b in bodies]
    sent = body["source"] if api == "v2.1" else body["azureBlobSource"]["containerUrl"]
    assert sent == f"https://{ACCOUNT}.blob.core.windows.net/forms" and "?" not in sent


def test_every_training_plan_takes_its_source_from_the_one_url_function() -> None:
    """The training source URL is made in one place, so the option covers the whole folder and the
    snapshots alike (shared/training/promotion.py builds a plan for each)."""
    tree = ast.parse((REPO / "shared" / "training" / "promotion.py").read_text())
    plans = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "TrainingPlan"
    ]
    assert len(plans) >= 2
    for plan in plans:
        source = plan.args[0] if plan.args else next(k.value for k in plan.keywords if k.arg == "source_url")
        assert isinstance(source, ast.Call) and getattr(source.func, "id", "") == "container_sas_url"
