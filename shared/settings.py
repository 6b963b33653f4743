"""The one place the function app reads environment variables.

`SETTINGS_SPEC` maps every variable name the app reads to its default (``None`` = required), so the
deployment test can check each one is either set by the Bicep app settings or has a default.

Storage follows the Functions convention for the connection prefix ``FORMS_STORAGE``: either a
connection string in ``FORMS_STORAGE`` (Azurite, or an account with shared keys), or identity-based
settings ``FORMS_STORAGE__blobServiceUri`` / ``__queueServiceUri`` / ``__tableServiceUri`` with
``__credential=managedidentity`` and ``__clientId`` (a user-assigned identity).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

CONNECTION = "FORMS_STORAGE"
MAX_SAS_MINUTES = 120  # the longest a training SAS may live
TRAINING_SOURCE_AUTH_MODES = ("sas", "service-identity")
# Hosts of Azure AI services endpoints (public cloud, regional, US Government, China): they no longer serve
# the 2019 `2.0-preview` routes (Form Recognizer v2.0 was retired on 2026-08-31).
AZURE_AI_HOST_SUFFIXES = (".cognitiveservices.azure.com", ".api.cognitive.microsoft.com",
                          ".cognitiveservices.azure.us", ".cognitiveservices.azure.cn")


@dataclass(frozen=True)
class Setting:
    """One app setting: its variable, the `Settings` attribute it fills, how it is parsed and checked,
    its default (``None`` = required) and what it means. The README's settings table is generated from
    these (`python -m shared.settings`), and a test fails when the two differ."""

    env: str
    attr: str
    kind: str  # text | int | positive | fraction | container | table | api | auth | choice
    default: str | None
    meaning: str
    minimum: int = 0
    maximum: int | None = None
    choices: tuple[str, ...] = ()  # kind `choice`: the values it accepts (lower case)


SETTINGS: tuple[Setting, ...] = (
    Setting(CONNECTION, "connection_string", "text", "",
            "storage connection string (Azurite locally); leave empty to use the identity-based settings"),
    Setting(f"{CONNECTION}__blobServiceUri", "blob_service_uri", "text", "",
            "identity-based blob endpoint (Azure)"),
    Setting(f"{CONNECTION}__queueServiceUri", "queue_service_uri", "text", "",
            "identity-based queue endpoint (Azure)"),
    Setting(f"{CONNECTION}__tableServiceUri", "table_service_uri", "text", "",
            "identity-based table endpoint (Azure)"),
    Setting(f"{CONNECTION}__credential", "credential_kind", "text", "",
            "`managedidentity` → managed identity; otherwise `DefaultAzureCredential`"),
    Setting(f"{CONNECTION}__clientId", "client_id", "text", "", "client id of the user-assigned identity"),
    Setting("FORMS_CONTAINER", "forms_container", "container", "forms",
            "container the blob trigger watches (binding expression: must be set)"),
    Setting("TRAINING_QUEUE", "training_queue", "container", "training-requests",
            "training queue; poison queue `<name>-poison` (binding expression: must be set)"),
    Setting("PREDICTION_QUEUE", "prediction_queue", "container", "prediction-requests",
            "re-prediction queue after a promotion; poison queue `<name>-poison`"),
    Setting("SNAPSHOT_CONTAINER", "snapshot_container", "container", "training-sets",
            "where a retrain's training set is copied when forms are held back"),
    Setting("DOCUMENTS_TABLE", "documents_table", "table", "Documents", "one row per form"),
    Setting("TRAINING_RUNS_TABLE", "training_runs_table", "table", "TrainingRuns", "one row per run"),
    Setting("MODELS_TABLE", "models_table", "table", "Models", "one row per model"),
    Setting("FIELDS_TABLE", "fields_table", "table", "Fields", "per-field accuracy of each model"),
    Setting("TRAINING_DOCUMENTS_TABLE", "training_documents_table", "table", "TrainingDocuments",
            "per-document training outcome"),
    Setting("PREDICTIONS_TABLE", "predictions_table", "table", "Predictions", "one row per prediction"),
    Setting("REVIEWS_TABLE", "reviews_table", "table", "Reviews", "labels compared with a prediction"),
    Setting("FORM_RECOGNIZER_ENDPOINT", "fr_endpoint", "text", None,
            "the local engine or an Azure Form Recognizer / Document Intelligence endpoint"),
    Setting("FORM_RECOGNIZER_KEY", "fr_key", "text", "",
            "API key (generated at first `make run` for the local engine); empty → Entra ID token from "
            "the app's identity"),
    Setting("FORM_RECOGNIZER_API", "fr_api", "api", "v2.1",
            "`v2.1`; `2024-11-30` (also `v4.0`) for Document Intelligence v4.0, which Azure keeps after v2.1 "
            "retires on 2027-09-15 (`FORM_RECOGNIZER_API=2024-11-30 make run` runs the whole loop on it); "
            "`2023-07-31` or `2022-08-31` (also `v3.1`, `v3.0`) for Form Recognizer 3.x; "
            "or `2.0-preview` for the 2019 Feedback Loop routes (local engine only: Azure retired v2.0 on "
            "2026-08-31: refused with an Azure endpoint)"),
    Setting("TRAINING_THRESHOLD", "training_threshold", "int", "10",
            "labeled documents a folder needs before training (`make run` uses 5)", minimum=1),
    Setting("RETRAIN_MIN_NEW_LABELS", "retrain_min_new_labels", "int", "1",
            "new or changed labels needed to train again"),
    Setting("REVIEW_CONFIDENCE", "review_confidence", "fraction", "0.8",
            "a predicted field below this confidence marks the form `needsReview`"),
    Setting("REPREDICT_LIMIT", "repredict_limit", "int", "200",
            "forms one re-prediction request (after a promotion) predicts"),
    Setting("PROMOTION_HOLDOUT_SHARE", "promotion_holdout_share", "fraction", "0.2",
            "largest share of the labeled set held back to compare a retrained model with the current "
            "one"),
    Setting("PROMOTION_HOLDOUT_MAX", "promotion_holdout_max", "int", "10",
            "most forms held back (`0`: every ready model is promoted without a comparison)"),
    Setting("POLL_SCHEDULE", "poll_schedule", "text", "*/30 * * * * *",
            "6-field NCRONTAB of the polling timer (binding expression: must be set; `make run` uses "
            "every 5 s)"),
    Setting("BLOB_TRIGGER_SOURCE", "blob_trigger_source", "text", "LogsAndContainerScan",
            "`EventGrid` in Azure (Flex Consumption supports only the Event Grid blob trigger)"),
    Setting("QUEUE_MAX_DEQUEUE_COUNT", "queue_max_dequeue_count", "int", "5",
            "keep equal to host.json `maxDequeueCount`: the last attempt records why before poisoning",
            minimum=1),
    Setting("OCR_DEADLINE_SECONDS", "ocr_deadline_seconds", "positive", "300",
            "longest wait for one Layout or custom analysis (a prediction)"),
    Setting("OCR_CLAIM_SECONDS", "ocr_claim_seconds", "positive", "60",
            "an OCR claim lasts this long unless its holder renews it: how soon a crashed worker's form is "
            "taken over"),
    Setting("OCR_MAX_ATTEMPTS", "ocr_max_attempts", "int", "10",
            "OCR attempts of one form version that the service failed on its side before it is `failed` "
            "for good", minimum=1),
    Setting("TRAINING_DEADLINE_SECONDS", "training_deadline_seconds", "positive", "3600",
            "a run not finished by then is marked `timedOut` (and its labeled set retried once)"),
    Setting("SAS_EXPIRY_MINUTES", "sas_expiry_minutes", "int", "120",
            "lifetime of the training SAS (read + list only)", minimum=5, maximum=MAX_SAS_MINUTES),
    Setting("TRAINING_SOURCE_AUTH", "training_source_auth", "choice", "sas",
            "how Document Intelligence reads the training set: `sas` (a short read + list SAS in the URL) or "
            "`service-identity` (the plain container URL, read with the Document Intelligence account's own "
            "system-assigned identity, which needs Storage Blob Data Reader; Azure only: the local engine "
            "reads only a SAS)", choices=TRAINING_SOURCE_AUTH_MODES),
    Setting("TIMER_RUN_ON_STARTUP", "timer_run_on_startup", "choice", "true",
            "run the polling timer as soon as the host starts (locally); `false` in Azure, where every "
            "scale-out would run it again (read at start-up)", choices=("true", "false")),
    Setting("HTTP_TIMEOUT_SECONDS", "http_timeout_seconds", "positive", "30",
            "per-request timeout to the Form Recognizer endpoint"),
    Setting("HTTP_RETRY_BUDGET_SECONDS", "http_retry_budget_seconds", "positive", "120",
            "time spent retrying one call on 429/5xx (honouring `Retry-After`)"),
    Setting("SWEEP_INTERVAL_SECONDS", "sweep_interval_seconds", "positive", "60",
            "how often the timer sweeps for missed events (the last sweep's time is kept in storage)"),
    Setting("SWEEP_GRACE_SECONDS", "sweep_grace_seconds", "positive", "60",
            "forms younger than this are left to their own event"),
    Setting("TRAINING_REQUEST_DELAY_SECONDS", "training_request_delay_seconds", "int", "1",
            "training requests are sent invisible this long, at most one per folder per window per process "
            "(`0` = one message per event)"),
)
SETTINGS += (
    Setting("REVIEW_AUTH", "review_auth", "auth", "token",
            "who may open the review page: `token` (the random token `formloop up` prints; local) or `entra` "
            "(Microsoft Entra ID sign-in with an app role; Azure)"),
    Setting("REVIEW_TOKEN", "review_token", "text", "",
            "the review page's token in `token` mode (`formloop up` makes a new one per start); empty: "
            "the page refuses everyone"),
    Setting("REVIEW_ROLE", "review_role", "text", "Reviewer",
            "the app role a person needs in `entra` mode"),
    Setting("ENTRA_TENANT_ID", "entra_tenant_id", "text", "", "the tenant people sign in with (`entra`)"),
    Setting("ENTRA_CLIENT_ID", "entra_client_id", "text", "",
            "the app registration's client id: the audience of the ID tokens (`entra`)"),
    Setting("ENTRA_CLIENT_SECRET", "entra_client_secret", "text", "",
            "the app registration's secret for the code exchange (a Key Vault reference in Azure) (`entra`)"),
    Setting("REVIEW_SESSION_KEY", "review_session_key", "text", "",
            "key that signs the sign-in session cookie, 32+ characters (`entra`; a Key Vault reference)"),
    Setting("ENTRA_AUTHORITY", "entra_authority", "text", "https://login.microsoftonline.com",
            "the sign-in authority (`entra`)"),
)
SETTINGS_SPEC: dict[str, str | None] = {s.env: s.default for s in SETTINGS}

API_DIALECTS = ("v2.1", "2.0-preview", "2024-11-30", "2023-07-31", "2022-08-31")
REVIEW_AUTH_MODES = ("token", "entra")


class SettingsError(ValueError):
    """A setting is missing or has a value the app cannot use."""


@dataclass(frozen=True)
class Settings:
    """Every setting the app uses, parsed and checked once (frozen, so clients can be cached on it). Built by
    `load_settings` only: the defaults live in `SETTINGS`, nowhere else."""

    connection_string: str
    blob_service_uri: str
    queue_service_uri: str
    table_service_uri: str
    credential_kind: str
    client_id: str
    forms_container: str
    training_queue: str
    documents_table: str
    training_runs_table: str
    models_table: str
    fields_table: str
    training_documents_table: str
    fr_endpoint: str
    fr_key: str
    fr_api: str
    training_threshold: int
    retrain_min_new_labels: int
    poll_schedule: str
    blob_trigger_source: str
    queue_max_dequeue_count: int
    ocr_deadline_seconds: float
    training_deadline_seconds: float
    sas_expiry_minutes: int
    http_timeout_seconds: float
    http_retry_budget_seconds: float
    sweep_interval_seconds: float
    sweep_grace_seconds: float
    training_request_delay_seconds: int
    ocr_claim_seconds: float
    ocr_max_attempts: int
    predictions_table: str
    reviews_table: str
    prediction_queue: str
    snapshot_container: str
    review_confidence: float
    repredict_limit: int
    promotion_holdout_share: float
    promotion_holdout_max: int
    review_auth: str
    review_token: str
    review_role: str
    entra_tenant_id: str
    entra_client_id: str
    entra_client_secret: str
    review_session_key: str
    entra_authority: str
    training_source_auth: str
    timer_run_on_startup: str

    @property
    def submission_deadline_seconds(self) -> float:
        """How long a training claim may wait for its submission: the request's whole retry budget
        plus a slow last attempt and a margin. A claim older than this with no submission recorded
        belongs to a worker that died; the timer releases it."""
        return self.http_retry_budget_seconds + 2 * self.http_timeout_seconds

    @property
    def uses_identity(self) -> bool:
        """True when storage is reached with a token credential instead of a connection string."""
        return not self.connection_string

    @property
    def poison_queue(self) -> str:
        return f"{self.training_queue}-poison"

    @property
    def table_names(self) -> tuple[str, ...]:
        return (self.documents_table, self.training_runs_table, self.models_table,
                self.fields_table, self.training_documents_table, self.predictions_table,
                self.reviews_table)

    @property
    def prediction_poison_queue(self) -> str:
        return f"{self.prediction_queue}-poison"


def _value(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        default = SETTINGS_SPEC[name]
        if default is None:
            raise SettingsError(f"setting {name} is required")
        return default
    return raw.strip()


def _int(env: Mapping[str, str], name: str, minimum: int = 0) -> int:
    raw = _value(env, name)
    try:
        number = int(raw)
    except ValueError as exc:
        raise SettingsError(f"setting {name} must be an integer, got {raw!r}") from exc
    if number < minimum:
        raise SettingsError(f"setting {name} must be at least {minimum}, got {number}")
    return number


def _float(env: Mapping[str, str], name: str) -> float:
    raw = _value(env, name)
    try:
        number = float(raw)
    except ValueError as exc:
        raise SettingsError(f"setting {name} must be a number, got {raw!r}") from exc
    if number <= 0:
        raise SettingsError(f"setting {name} must be positive, got {number}")
    return number


def _fraction(env: Mapping[str, str], name: str) -> float:
    number = _float(env, name)
    if number > 1:
        raise SettingsError(f"setting {name} must be between 0 and 1, got {number}")
    return number


# Azure's naming rules: a wrong name otherwise surfaces as a storage error on the first call.
_CONTAINER_OR_QUEUE = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_TABLE = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,62}$")


def _named(env: Mapping[str, str], name: str, pattern: re.Pattern[str], rule: str) -> str:
    value = _value(env, name)
    if not pattern.match(value):
        raise SettingsError(f"setting {name} must be {rule}, got {value!r}")
    return value


def _container_or_queue(env: Mapping[str, str], name: str) -> str:
    return _named(env, name, _CONTAINER_OR_QUEUE, "3-63 lowercase letters, digits and single hyphens, "
                  "starting and ending with a letter or digit")


def _table(env: Mapping[str, str], name: str) -> str:
    return _named(env, name, _TABLE, "3-63 letters and digits, starting with a letter")


def _parse(env: Mapping[str, str], s: Setting) -> object:
    if s.kind == "int":
        number = _int(env, s.env, minimum=s.minimum)
        if s.maximum is not None and number > s.maximum:
            raise SettingsError(f"setting {s.env} must be at most {s.maximum}, got {number}")
        return number
    if s.kind == "positive":
        return _float(env, s.env)
    if s.kind == "fraction":
        return _fraction(env, s.env)
    if s.kind == "container":
        return _container_or_queue(env, s.env)
    if s.kind == "table":
        return _table(env, s.env)
    if s.kind == "api":
        return api_dialect(_value(env, s.env))
    if s.kind == "choice":
        value = _value(env, s.env).lower()
        if value not in s.choices:
            raise SettingsError(f"setting {s.env} must be one of {s.choices}, got {value!r}")
        return value
    if s.kind == "auth":
        mode = _value(env, s.env).lower()
        if mode not in REVIEW_AUTH_MODES:
            raise SettingsError(f"setting {s.env} must be one of {REVIEW_AUTH_MODES}, got {mode!r}")
        return mode
    return _value(env, s.env)


def api_dialect(api: str) -> str:
    """The dialect a value names (a leading `v` optional; 4.0, 3.1 and 3.0 name the dated versions)."""
    aliases = {"2.1": "v2.1", "4.0": "2024-11-30", "3.1": "2023-07-31", "3.0": "2022-08-31"}
    bare = api.lower().lstrip("v")
    if aliases.get(bare, bare) in API_DIALECTS:
        return aliases.get(bare, bare)
    raise SettingsError(f"FORM_RECOGNIZER_API must be one of {API_DIALECTS}, got {api!r}")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings (from `os.environ` unless a mapping is given)."""
    env = os.environ if env is None else env
    values = {s.attr: _parse(env, s) for s in SETTINGS}
    if not values["connection_string"] and not values["blob_service_uri"]:
        raise SettingsError(
            f"storage is not configured: set {CONNECTION} (connection string) or "
            f"{CONNECTION}__blobServiceUri/__queueServiceUri/__tableServiceUri (identity)")
    values["fr_endpoint"] = str(values["fr_endpoint"]).rstrip("/")
    host = (urlsplit(values["fr_endpoint"]).hostname or "").lower()
    if values["fr_api"] == "2.0-preview" and host.endswith(AZURE_AI_HOST_SUFFIXES):
        raise SettingsError(
            "FORM_RECOGNIZER_API=2.0-preview is the 2019 preview dialect, served only by the local engine: "
            f"Azure retired Form Recognizer v2.0 on 2026-08-31 ({host}); use v2.1 or 2024-11-30")
    return Settings(**values)  # type: ignore[arg-type]


def timer_runs_on_startup(env: Mapping[str, str] | None = None) -> bool:
    """Whether the polling timer runs as soon as the host starts (read at import time, like the blob
    source): yes locally, no in Azure, where each new instance of a scale-out would run it again."""
    env = os.environ if env is None else env
    return (env.get("TIMER_RUN_ON_STARTUP") or "true").strip().lower() != "false"


def uses_event_grid_source(env: Mapping[str, str] | None = None) -> bool:
    """Whether the blob trigger should be declared with the Event Grid source (read at import time)."""
    env = os.environ if env is None else env
    return env.get("BLOB_TRIGGER_SOURCE", "").strip().lower() == "eventgrid"


def _bounds(s: Setting) -> str:
    if s.kind == "choice":
        return " or ".join(f"`{c}`" for c in s.choices)
    if s.kind == "int":
        return f"integer ≥ {s.minimum}" + (f", ≤ {s.maximum}" if s.maximum is not None else "")
    return {"positive": "seconds > 0" if s.env.endswith("_SECONDS") else "number > 0",
            "fraction": "0–1", "container": "3-63 lowercase letters, digits, single hyphens",
            "table": "3-63 letters and digits, starting with a letter",
            "api": "`v2.1`, `2024-11-30`, `2023-07-31`, `2022-08-31`, `2.0-preview`",
            "auth": "`token` or `entra`", "text": ""}[s.kind]


def markdown_rows() -> list[str]:
    """The app's rows of the README settings table, as `python -m shared.settings` prints them."""
    rows = []
    for s in SETTINGS:
        default = "required" if s.default is None else (f"`{s.default}`" if s.default else "–")
        bounds = _bounds(s)
        meaning = f"{s.meaning} ({bounds})" if bounds else s.meaning
        rows.append(f"| `{s.env}` | app | {default} | {meaning} |")
    return rows


if __name__ == "__main__":
    print("\n".join(markdown_rows()))
