"""What the code reads and what the Bicep sets agree: settings, names, identity, security, roles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared.names import FIELDS_FILE, LABELS_SUFFIX, OCR_SUFFIX, PREDICTION_SUFFIX, SOURCE_EXTENSIONS
from shared.settings import SETTINGS_SPEC, load_settings, uses_event_grid_source
from tests.helpers.bicep_eval import UNKNOWN, BicepFile

REPO = Path(__file__).resolve().parents[2]
MAIN = BicepFile.load(REPO / "infra" / "main.bicep")
APP_SETTINGS: dict = MAIN.var("appSettings")
STORAGE = MAIN.child("storage")
# Settings the Functions host and the Azure SDK read (not shared/settings.py).
PLATFORM_SETTINGS = {
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "AZURE_CLIENT_ID",
}
# Built-in Azure role definition ids (public, identical in every tenant).
ROLE_IDS = {
    "storageAccountContributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "storageBlobDataContributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "storageBlobDataReader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "cognitiveServicesUser": "a97b65f3-24c7-4388-baec-2e87135dc908",
    "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
TABLE_SETTINGS = (
    "DOCUMENTS_TABLE",
    "TRAINING_RUNS_TABLE",
    "MODELS_TABLE",
    "FIELDS_TABLE",
    "TRAINING_DOCUMENTS_TABLE",
    "PREDICTIONS_TABLE",
    "REVIEWS_TABLE",
)
NAME_SETTINGS = (
    "FORMS_CONTAINER",
    "SNAPSHOT_CONTAINER",
    "TRAINING_QUEUE",
    "PREDICTION_QUEUE",
    *TABLE_SETTINGS,
)
OUTPUTS = {name: MAIN.value(output["value"]) for name, output in MAIN.doc["outputs"].items()}
FUNCTION_APP = ast.parse((REPO / "function_app.py").read_text())


def _deployed_environment() -> dict[str, str]:
    """The app settings as the function will see them; values only Azure knows get plausible stand-ins."""
    stand_ins = {"FORM_RECOGNIZER_ENDPOINT": "https://cog-fr-x.cognitiveservices.azure.com/"}
    env = {}
    for name, value in APP_SETTINGS.items():
        env[name] = stand_ins.get(name, "00000000-0000-0000-0000-000000000000") if value is UNKNOWN else value
    return env


def test_every_setting_the_code_reads_is_set_by_bicep_or_has_a_default() -> None:
    missing = [
        name for name, default in SETTINGS_SPEC.items() if default is None and name not in APP_SETTINGS
    ]
    assert not missing, f"required settings not set in infra/main.bicep: {missing}"
    assert all(name in APP_SETTINGS or SETTINGS_SPEC[name] is not None for name in SETTINGS_SPEC)


def test_every_bicep_app_setting_is_read_by_someone() -> None:
    """A misspelt setting (e.g. FORMS_STORAGE__blobServiceURI) would be silently ignored at runtime."""
    unknown = set(APP_SETTINGS) - set(SETTINGS_SPEC) - PLATFORM_SETTINGS
    assert not unknown, f"app settings nobody reads: {sorted(unknown)}"


def test_the_deployed_settings_load_as_identity_based_event_grid_settings() -> None:
    env = _deployed_environment()
    settings = load_settings(env)
    assert settings.uses_identity and not settings.connection_string
    assert settings.credential_kind == "managedidentity"
    assert settings.blob_service_uri.startswith("https://") and ".blob." in settings.blob_service_uri
    assert ".queue." in settings.queue_service_uri and ".table." in settings.table_service_uri
    assert settings.fr_key == ""  # Entra ID tokens, no key in the app settings
    assert uses_event_grid_source(env)
    # The same user-assigned identity is used for the data, the host storage and the SDK's default credential.
    identity = MAIN.value(MAIN.variables["appSettings"]["value"]["FORMS_STORAGE__clientId"])
    assert identity is UNKNOWN  # a module output, not a literal
    for name in ("FORMS_STORAGE__clientId", "AzureWebJobsStorage__clientId", "AZURE_CLIENT_ID"):
        assert (
            MAIN.variables["appSettings"]["value"][name]
            == MAIN.variables["appSettings"]["value"]["FORMS_STORAGE__clientId"]
        )


def test_binding_expressions_in_function_app_are_app_settings() -> None:
    """`%NAME%` is resolved by the Functions host from app settings; a Python default does not help it."""
    used = set(re.findall(r"%([A-Za-z_][A-Za-z0-9_]*)%", (REPO / "function_app.py").read_text()))
    assert {"FORMS_CONTAINER", "TRAINING_QUEUE", "PREDICTION_QUEUE", "POLL_SCHEDULE"} <= used
    assert used <= set(APP_SETTINGS), (
        f"binding expressions without an app setting: {sorted(used - set(APP_SETTINGS))}"
    )


def _trigger_arguments(trigger: str) -> list[dict[str, str]]:
    """The string keyword arguments of every `@app.<trigger>(...)` decorator in function_app.py."""
    return [
        {k.arg: k.value.value for k in d.keywords if isinstance(k.value, ast.Constant)}
        for node in ast.walk(FUNCTION_APP)
        if isinstance(node, ast.FunctionDef)
        for d in node.decorator_list
        if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == trigger
    ]


def _setting_of(expression: str) -> str:
    match = re.fullmatch(r"%([A-Za-z_][A-Za-z0-9_]*)%", expression)
    assert match, f"{expression!r}: bind to an app setting, not a literal name"
    return match.group(1)


def test_every_queue_trigger_listens_on_a_queue_the_bicep_creates_with_its_poison_queue() -> None:
    queues = [q["name"] for q in STORAGE.module_params("forms")["queueServices"]["queues"]]
    triggers = _trigger_arguments("queue_trigger")
    assert {_setting_of(t["queue_name"]) for t in triggers} == {"TRAINING_QUEUE", "PREDICTION_QUEUE"}
    for trigger in triggers:
        queue = APP_SETTINGS[_setting_of(trigger["queue_name"])]
        assert trigger["connection"] == "FORMS_STORAGE"
        assert queue in queues and f"{queue}-poison" in queues, queue


def test_the_blob_trigger_watches_a_container_the_bicep_creates() -> None:
    containers = [c["name"] for c in STORAGE.module_params("forms")["blobServices"]["containers"]]
    [trigger] = _trigger_arguments("blob_trigger")
    container, _, _ = trigger["path"].partition("/")
    assert _setting_of(container) == "FORMS_CONTAINER"
    assert APP_SETTINGS["FORMS_CONTAINER"] in containers


def test_blob_trigger_connection_is_the_identity_based_prefix() -> None:
    source = (REPO / "function_app.py").read_text()
    connections = set(re.findall(r'connection="([^"]+)"', source))
    assert connections == {"FORMS_STORAGE"}
    for suffix in ("blobServiceUri", "queueServiceUri", "tableServiceUri", "credential", "clientId"):
        assert f"FORMS_STORAGE__{suffix}" in APP_SETTINGS


def test_container_queue_and_table_names_match_what_the_storage_module_creates() -> None:
    forms = STORAGE.module_params("forms")
    containers = [c["name"] for c in forms["blobServices"]["containers"]]
    queues = [q["name"] for q in forms["queueServices"]["queues"]]
    tables = [t["name"] for t in forms["tableServices"]["tables"]]
    settings = load_settings(_deployed_environment())
    assert containers == [APP_SETTINGS["FORMS_CONTAINER"], APP_SETTINGS["SNAPSHOT_CONTAINER"]]
    assert containers == [settings.forms_container, settings.snapshot_container]
    assert queues == [
        APP_SETTINGS["TRAINING_QUEUE"],
        f"{APP_SETTINGS['TRAINING_QUEUE']}-poison",
        APP_SETTINGS["PREDICTION_QUEUE"],
        f"{APP_SETTINGS['PREDICTION_QUEUE']}-poison",
    ]
    assert queues == [
        settings.training_queue,
        settings.poison_queue,
        settings.prediction_queue,
        settings.prediction_poison_queue,
    ]
    assert tables == [APP_SETTINGS[name] for name in TABLE_SETTINGS] == list(settings.table_names)
    # ... and they are the names the local stack uses, so one set of docs fits both.
    assert [APP_SETTINGS[name] for name in NAME_SETTINGS] == [SETTINGS_SPEC[name] for name in NAME_SETTINGS]
    # Every name setting of the code is set by the Bicep: a name the Bicep does not create must not be
    # left to a Python default.
    name_like = {n for n in SETTINGS_SPEC if n.endswith(("_CONTAINER", "_QUEUE", "_TABLE"))}
    assert name_like == set(NAME_SETTINGS)


def test_snapshots_live_in_their_own_container_of_the_forms_account() -> None:
    """Document Intelligence trains from a SAS of the snapshot container: it must not be the forms container
    (whose events trigger the function), nor share its name as a prefix in a way the subscription's
    subject prefix would not tell apart (the prefix ends with '/')."""
    forms, snapshots = APP_SETTINGS["FORMS_CONTAINER"], APP_SETTINGS["SNAPSHOT_CONTAINER"]
    assert snapshots != forms
    prefix = OUTPUTS["BLOB_EVENT_SUBJECT_PREFIX"]
    assert prefix == f"/blobServices/default/containers/{forms}/"
    assert not f"/blobServices/default/containers/{snapshots}/blobs/folder/a.pdf".startswith(prefix)


def test_event_grid_topic_watches_the_forms_account_and_the_webhook_targets_the_blob_trigger() -> None:
    topic = MAIN.module_params("eventGridTopic")
    assert topic["topicType"] == "Microsoft.Storage.StorageAccounts"
    assert MAIN.modules["eventGridTopic"]["config"]["params"]["source"] == {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": "storage",
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {"operand_1": "outputs", "operand_2": "formsStorageId"},
                    }
                },
            },
        }
    }
    assert OUTPUTS["FORMS_CONTAINER_NAME"] == APP_SETTINGS["FORMS_CONTAINER"]
    blob_functions = [
        node.name
        for node in ast.walk(FUNCTION_APP)
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "blob_trigger"
            for d in node.decorator_list
        )
    ]
    assert blob_functions == [OUTPUTS["BLOB_FUNCTION_NAME"]]


def test_the_event_subscription_filters_are_the_forms_container_minus_the_pipelines_outputs() -> None:
    """The hook builds the subscription from these outputs (tests/infra/test_postdeploy_hook.py runs it)."""
    assert (
        OUTPUTS["BLOB_EVENT_SUBJECT_PREFIX"]
        == f"/blobServices/default/containers/{APP_SETTINGS['FORMS_CONTAINER']}/"
    )
    suffixes = OUTPUTS["BLOB_EVENT_SKIP_SUFFIXES"].split(" ")
    assert suffixes == [OCR_SUFFIX, PREDICTION_SUFFIX]
    assert MAIN.var("pipelineOutputSuffixes") == suffixes
    # Nothing the function acts on ends with a skipped suffix (Event Grid compares case-insensitively).
    for name in (*(f"a{ext}" for ext in SOURCE_EXTENSIONS), f"a.pdf{LABELS_SUFFIX}", FIELDS_FILE):
        assert not name.lower().endswith(tuple(s.lower() for s in suffixes)), name


def test_function_app_is_flex_consumption_python_311_with_the_user_assigned_identity() -> None:
    function = MAIN.child("functionApp")
    plan = function.module_params("plan")
    site = function.module_params("site")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"} and plan["reserved"] is True
    assert site["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}
    assert site["httpsOnly"] is True
    storage = site["functionAppConfig"]["deployment"]["storage"]
    assert storage["authentication"]["type"] == "UserAssignedIdentity"
    host_container = STORAGE.module_params("host")["blobServices"]["containers"][0]["name"]
    assert storage["value"] == f"{APP_SETTINGS['AzureWebJobsStorage__blobServiceUri']}/{host_container}"
    # Flex takes the runtime from functionAppConfig and rejects these settings.
    assert not {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE"} & set(
        site["appSettingsKeyValuePairs"]
    )
    assert site["appSettingsKeyValuePairs"] == APP_SETTINGS


@pytest.mark.parametrize("account", ["forms", "host"])
def test_storage_accounts_are_secure_by_default(account: str) -> None:
    params = STORAGE.module_params(account)
    assert params["allowSharedKeyAccess"] is False
    assert params["allowBlobPublicAccess"] is False
    assert params["minimumTlsVersion"] == "TLS1_2"
    assert params["supportsHttpsTrafficOnly"] is True
    assert all(c["publicAccess"] == "None" for c in params["blobServices"]["containers"])


def test_no_secret_or_key_reaches_the_app_settings() -> None:
    assert "FORM_RECOGNIZER_KEY" not in APP_SETTINGS
    assert not [n for n in APP_SETTINGS if n == "FORMS_STORAGE" or n == "AzureWebJobsStorage"]
    for path in (REPO / "infra").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "AccountKey=" not in text and "listKeys(" not in text, path


def test_document_intelligence_is_a_form_recognizer_account_reached_with_entra_id() -> None:
    account = MAIN.child("documentIntelligence").module_params("account")
    assert account["kind"] == "FormRecognizer"
    assert account["customSubDomainName"] == account["name"]  # required for token authentication
    assert MAIN.params["documentIntelligenceDisableLocalAuth"]["default"] is True


@pytest.mark.parametrize("principal", ["", "00000000-0000-0000-0000-00000000beef"])
def test_the_identitys_data_roles_are_on_the_whole_forms_account(principal: str) -> None:
    """Account scope covers both containers (read, write, delete: the snapshots are deleted after training),
    the new queue and tables, and the user-delegation key behind the SAS of the forms and snapshots (which
    Azure grants only at account scope or above)."""
    main = BicepFile(MAIN.path, MAIN.doc, {"principalId": principal})
    forms = main.child("storage").module_params("forms")
    # The identity's principal id is a module output (unknown here); the deploying user's is the parameter.
    identity_assignments = [a for a in forms["roleAssignments"] if a["principalId"] is UNKNOWN]
    assert all(a["principalType"] == "ServicePrincipal" for a in identity_assignments)
    identity = {a["roleDefinitionIdOrName"] for a in identity_assignments}
    assert identity == {
        ROLE_IDS["storageBlobDataOwner"],
        ROLE_IDS["storageQueueDataContributor"],
        ROLE_IDS["storageTableDataContributor"],
    }
    assert all("roleAssignments" not in container for container in forms["blobServices"]["containers"])
    users = [a for a in forms["roleAssignments"] if a["principalId"] is not UNKNOWN]
    assert [a["principalId"] for a in users] == ([principal] * 3 if principal else [])
    if principal:  # `formloop` writes forms and reads the tables with the user's own sign-in
        assert ROLE_IDS["storageBlobDataContributor"] in {a["roleDefinitionIdOrName"] for a in users}


def test_roles_are_the_builtin_ids_and_the_identity_gets_what_the_pipeline_needs() -> None:
    """The roles the Azure Functions docs list for an identity-based blob trigger ("Grant permission to the
    identity", functions-reference.md): on the trigger's connection (the forms account) Storage Blob Data
    Owner and Storage Queue Data Contributor; on AzureWebJobsStorage (the host account), where the trigger
    keeps its receipts and queues, Storage Blob Data Owner, Storage Queue Data Contributor and Storage
    Account Contributor ("Connecting to host storage with an identity"), and Table Data Contributor for
    the host's diagnostic events."""
    assert MAIN.var("roles") == ROLE_IDS
    identity_roles = {a["roleDefinitionIdOrName"] for a in STORAGE.var("identityAssignments")}
    assert identity_roles == {
        ROLE_IDS["storageBlobDataOwner"],
        ROLE_IDS["storageQueueDataContributor"],
        ROLE_IDS["storageTableDataContributor"],
    }
    assert all(a["principalType"] == "ServicePrincipal" for a in STORAGE.var("identityAssignments"))
    host = STORAGE.module_params("host")["roleAssignments"]
    assert all(a["principalId"] is UNKNOWN and a["principalType"] == "ServicePrincipal" for a in host)
    assert sorted(a["roleDefinitionIdOrName"] for a in host) == sorted(
        ROLE_IDS[name]
        for name in (
            "storageAccountContributor",
            "storageBlobDataOwner",
            "storageQueueDataContributor",
            "storageTableDataContributor",
        )
    )
    forms = {a["roleDefinitionIdOrName"] for a in STORAGE.module_params("forms")["roleAssignments"]}
    assert ROLE_IDS["storageAccountContributor"] not in forms  # only the host account needs it
    user_roles = {a["roleDefinitionIdOrName"] for a in STORAGE.var("userAssignments")}
    assert ROLE_IDS["storageTableDataContributor"] in user_roles  # `formloop status` reads the tables
    assert ROLE_IDS["storageBlobDataContributor"] in user_roles  # `formloop upload` writes blobs
    cognitive = MAIN.child("documentIntelligence")
    assert [a["roleDefinitionIdOrName"] for a in cognitive.var("identityAssignment")] == [
        ROLE_IDS["cognitiveServicesUser"]
    ]
    monitoring = MAIN.child("monitoring").module_params("applicationInsights")
    assert [a["roleDefinitionIdOrName"] for a in monitoring["roleAssignments"]] == [
        ROLE_IDS["monitoringMetricsPublisher"]
    ]
    assert monitoring["disableLocalAuth"] is True


def test_the_pipeline_and_the_engine_refuse_labels_files_over_one_size_limit() -> None:
    """A labels file the pipeline records as unusable must not train in the engine either."""
    from engine.custom.training import MAX_LABELS_BYTES as engine_limit
    from shared.forms.labels import MAX_LABELS_BYTES as pipeline_limit

    assert engine_limit == pipeline_limit == 8 * 1024 * 1024


@pytest.mark.parametrize("folder", ["invoices", "a/b c/ünïcode", "x" * 200, "--", ""])
def test_the_pipelines_run_ids_make_model_ids_the_engine_accepts(folder: str) -> None:
    """The run-id format is the pipeline's (records.new_run_id); the v4 model id derived from it must
    keep the run id whole (found again after a lost submission) and pass the engine's (the service's)
    model-id pattern."""
    from engine.v4.protocol import MODEL_ID_RE
    from shared.clients.formrecognizer import _RUN_SUFFIX, v4_model_id
    from shared.clients.records import new_run_id, run_model_name

    run_id = new_run_id()
    name = run_model_name(folder, run_id)
    assert _RUN_SUFFIX.search(name) and _RUN_SUFFIX.search(name).group(1) == run_id
    model_id = v4_model_id(name)
    assert MODEL_ID_RE.match(model_id) and model_id.endswith(run_id)
