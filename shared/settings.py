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

CONNECTION = "FORMS_STORAGE"

SETTINGS_SPEC: dict[str, str | None] = {
    # storage connection: a connection string, or the identity-based settings below
    CONNECTION: "",
    f"{CONNECTION}__blobServiceUri": "",
    f"{CONNECTION}__queueServiceUri": "",
    f"{CONNECTION}__tableServiceUri": "",
    f"{CONNECTION}__credential": "",
    f"{CONNECTION}__clientId": "",
    # names (the trigger bindings use %FORMS_CONTAINER%, %TRAINING_QUEUE%, %POLL_SCHEDULE%)
    "FORMS_CONTAINER": "forms",
    "TRAINING_QUEUE": "training-requests",
    "DOCUMENTS_TABLE": "Documents",
    "TRAINING_RUNS_TABLE": "TrainingRuns",
    "MODELS_TABLE": "Models",
    "FIELDS_TABLE": "Fields",
    "TRAINING_DOCUMENTS_TABLE": "TrainingDocuments",
    "PREDICTIONS_TABLE": "Predictions",
    "REVIEWS_TABLE": "Reviews",
    "PREDICTION_QUEUE": "prediction-requests",
    "SNAPSHOT_CONTAINER": "training-sets",
    # the Form Recognizer endpoint; an empty key means Entra ID tokens from the same identity
    "FORM_RECOGNIZER_ENDPOINT": None,
    "FORM_RECOGNIZER_KEY": "",
    "FORM_RECOGNIZER_API": "v2.1",
    # training policy
    "TRAINING_THRESHOLD": "10",
    "RETRAIN_MIN_NEW_LABELS": "1",
    # the closed loop: predictions, reviews, promotion
    "REVIEW_CONFIDENCE": "0.8",
    "REPREDICT_LIMIT": "200",
    "PROMOTION_HOLDOUT_SHARE": "0.2",
    "PROMOTION_HOLDOUT_MAX": "10",
    # triggers and deadlines
    "POLL_SCHEDULE": "*/30 * * * * *",
    "BLOB_TRIGGER_SOURCE": "LogsAndContainerScan",
    "QUEUE_MAX_DEQUEUE_COUNT": "5",
    "OCR_DEADLINE_SECONDS": "300",
    "OCR_CLAIM_SECONDS": "60",
    "OCR_MAX_ATTEMPTS": "10",
    "TRAINING_DEADLINE_SECONDS": "3600",
    "SAS_EXPIRY_MINUTES": "120",
    "HTTP_TIMEOUT_SECONDS": "30",
    "HTTP_RETRY_BUDGET_SECONDS": "120",
    "SWEEP_INTERVAL_SECONDS": "60",
    "SWEEP_GRACE_SECONDS": "60",
    "TRAINING_REQUEST_DELAY_SECONDS": "1",
}

API_DIALECTS = ("v2.1", "2.0-preview", "2024-11-30")
MAX_SAS_MINUTES = 120


class SettingsError(ValueError):
    """A setting is missing or has a value the app cannot use."""


@dataclass(frozen=True)
class Settings:
    """Every setting the app uses, parsed and checked once (frozen, so clients can be cached on it)."""

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
    training_request_delay_seconds: int = 1
    ocr_claim_seconds: float = 60.0
    ocr_max_attempts: int = 10
    predictions_table: str = "Predictions"
    reviews_table: str = "Reviews"
    prediction_queue: str = "prediction-requests"
    snapshot_container: str = "training-sets"
    review_confidence: float = 0.8
    repredict_limit: int = 200
    promotion_holdout_share: float = 0.2
    promotion_holdout_max: int = 10

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


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings (from `os.environ` unless a mapping is given)."""
    env = os.environ if env is None else env
    connection_string = _value(env, CONNECTION)
    blob_uri = _value(env, f"{CONNECTION}__blobServiceUri")
    if not connection_string and not blob_uri:
        raise SettingsError(
            f"storage is not configured: set {CONNECTION} (connection string) or "
            f"{CONNECTION}__blobServiceUri/__queueServiceUri/__tableServiceUri (identity)")
    api = _value(env, "FORM_RECOGNIZER_API")
    if api.lower().lstrip("v") == "2.1":
        api = "v2.1"
    elif api.lower().lstrip("v") == "2.0-preview":
        api = "2.0-preview"
    elif api.lower().lstrip("v") in ("2024-11-30", "4.0"):
        api = "2024-11-30"  # Document Intelligence v4.0
    else:
        raise SettingsError(f"FORM_RECOGNIZER_API must be one of {API_DIALECTS}, got {api!r}")
    sas_minutes = _int(env, "SAS_EXPIRY_MINUTES", minimum=5)
    if sas_minutes > MAX_SAS_MINUTES:
        raise SettingsError(f"SAS_EXPIRY_MINUTES must be at most {MAX_SAS_MINUTES}, got {sas_minutes}")
    return Settings(
        connection_string=connection_string,
        blob_service_uri=blob_uri,
        queue_service_uri=_value(env, f"{CONNECTION}__queueServiceUri"),
        table_service_uri=_value(env, f"{CONNECTION}__tableServiceUri"),
        credential_kind=_value(env, f"{CONNECTION}__credential"),
        client_id=_value(env, f"{CONNECTION}__clientId"),
        forms_container=_container_or_queue(env, "FORMS_CONTAINER"),
        training_queue=_container_or_queue(env, "TRAINING_QUEUE"),
        documents_table=_table(env, "DOCUMENTS_TABLE"),
        training_runs_table=_table(env, "TRAINING_RUNS_TABLE"),
        models_table=_table(env, "MODELS_TABLE"),
        fields_table=_table(env, "FIELDS_TABLE"),
        training_documents_table=_table(env, "TRAINING_DOCUMENTS_TABLE"),
        fr_endpoint=_value(env, "FORM_RECOGNIZER_ENDPOINT").rstrip("/"),
        fr_key=_value(env, "FORM_RECOGNIZER_KEY"),
        fr_api=api,
        training_threshold=_int(env, "TRAINING_THRESHOLD", minimum=1),
        retrain_min_new_labels=_int(env, "RETRAIN_MIN_NEW_LABELS", minimum=0),
        poll_schedule=_value(env, "POLL_SCHEDULE"),
        blob_trigger_source=_value(env, "BLOB_TRIGGER_SOURCE"),
        queue_max_dequeue_count=_int(env, "QUEUE_MAX_DEQUEUE_COUNT", minimum=1),
        ocr_deadline_seconds=_float(env, "OCR_DEADLINE_SECONDS"),
        training_deadline_seconds=_float(env, "TRAINING_DEADLINE_SECONDS"),
        sas_expiry_minutes=sas_minutes,
        http_timeout_seconds=_float(env, "HTTP_TIMEOUT_SECONDS"),
        http_retry_budget_seconds=_float(env, "HTTP_RETRY_BUDGET_SECONDS"),
        sweep_interval_seconds=_float(env, "SWEEP_INTERVAL_SECONDS"),
        sweep_grace_seconds=_float(env, "SWEEP_GRACE_SECONDS"),
        training_request_delay_seconds=_int(env, "TRAINING_REQUEST_DELAY_SECONDS", minimum=0),
        ocr_claim_seconds=_float(env, "OCR_CLAIM_SECONDS"),
        ocr_max_attempts=_int(env, "OCR_MAX_ATTEMPTS", minimum=1),
        predictions_table=_table(env, "PREDICTIONS_TABLE"),
        reviews_table=_table(env, "REVIEWS_TABLE"),
        prediction_queue=_container_or_queue(env, "PREDICTION_QUEUE"),
        snapshot_container=_container_or_queue(env, "SNAPSHOT_CONTAINER"),
        review_confidence=_fraction(env, "REVIEW_CONFIDENCE"),
        repredict_limit=_int(env, "REPREDICT_LIMIT", minimum=0),
        promotion_holdout_share=_fraction(env, "PROMOTION_HOLDOUT_SHARE"),
        promotion_holdout_max=_int(env, "PROMOTION_HOLDOUT_MAX", minimum=0),
    )


def uses_event_grid_source(env: Mapping[str, str] | None = None) -> bool:
    """Whether the blob trigger should be declared with the Event Grid source (read at import time)."""
    env = os.environ if env is None else env
    return env.get("BLOB_TRIGGER_SOURCE", "").strip().lower() == "eventgrid"
