"""Settings read from the environment: the defaults, values refused with the reason, the storage-name
rules, the API dialects' spellings (tests/shared/test_settings.py checks the declarations themselves)."""

from __future__ import annotations

import pytest

from shared.settings import SETTINGS_SPEC, SettingsError, load_settings

BASE_ENV = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:1/"}


def test_settings_defaults_follow_the_spec() -> None:
    s = load_settings(BASE_ENV)
    assert s.forms_container == "forms" and s.training_queue == "training-requests"
    assert s.poison_queue == "training-requests-poison"
    assert s.table_names == ("Documents", "TrainingRuns", "Models", "Fields", "TrainingDocuments",
                             "Predictions", "Reviews")
    assert s.prediction_queue == "prediction-requests" and s.review_confidence == 0.8
    assert s.training_threshold == 10 and s.retrain_min_new_labels == 1
    assert s.fr_api == "v2.1" and s.fr_endpoint == "http://127.0.0.1:1"
    assert s.poll_schedule == "*/30 * * * * *"
    assert not s.uses_identity
    # every default in the spec is what the parsed settings use
    assert SETTINGS_SPEC["TRAINING_THRESHOLD"] == "10" and SETTINGS_SPEC["FORM_RECOGNIZER_ENDPOINT"] is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FORMS_STORAGE": "x"}, "FORM_RECOGNIZER_ENDPOINT is required"),
        ({"FORM_RECOGNIZER_ENDPOINT": "http://e"}, "storage is not configured"),
        ({**BASE_ENV, "TRAINING_THRESHOLD": "ten"}, "TRAINING_THRESHOLD must be an integer"),
        ({**BASE_ENV, "TRAINING_THRESHOLD": "0"}, "at least 1"),
        ({**BASE_ENV, "FORM_RECOGNIZER_API": "v9.0"}, "FORM_RECOGNIZER_API must be one of"),
        ({**BASE_ENV, "SAS_EXPIRY_MINUTES": "600"}, "at most 120"),
        ({**BASE_ENV, "FORMS_CONTAINER": "t"}, "FORMS_CONTAINER must be 3-63 lowercase"),
        ({**BASE_ENV, "FORMS_CONTAINER": "My_Forms"}, "FORMS_CONTAINER must be 3-63 lowercase"),
        ({**BASE_ENV, "FORMS_CONTAINER": "a--b"}, "single hyphens"),
        ({**BASE_ENV, "TRAINING_QUEUE": "-queue"}, "TRAINING_QUEUE must be"),
        ({**BASE_ENV, "MODELS_TABLE": "1models"}, "MODELS_TABLE must be 3-63 letters and digits"),
        ({**BASE_ENV, "FIELDS_TABLE": "field-s"}, "FIELDS_TABLE must be"),
    ],
)
def test_settings_reject_unusable_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_settings_accept_storage_names_within_the_rules() -> None:
    ok = load_settings({**BASE_ENV, "FORMS_CONTAINER": "forms-2026", "TRAINING_QUEUE": "abc",
                        "DOCUMENTS_TABLE": "DocsV2"})
    assert (ok.forms_container, ok.training_queue, ok.documents_table) == ("forms-2026", "abc", "DocsV2")


def test_settings_accept_dialect_spellings() -> None:
    assert load_settings({**BASE_ENV, "FORM_RECOGNIZER_API": "2.1"}).fr_api == "v2.1"
    assert load_settings({**BASE_ENV, "FORM_RECOGNIZER_API": "v2.0-preview"}).fr_api == "2.0-preview"


def test_settings_accept_the_v4_dialect_by_its_date_or_version() -> None:
    base = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:1"}
    for value in ("2024-11-30", "v4.0", "4.0"):
        assert load_settings({**base, "FORM_RECOGNIZER_API": value}).fr_api == "2024-11-30"
    for value, dialect in (("2023-07-31", "2023-07-31"), ("v3.1", "2023-07-31"), ("3.0", "2022-08-31")):
        assert load_settings({**base, "FORM_RECOGNIZER_API": value}).fr_api == dialect  # Form Recognizer 3.x
    with pytest.raises(SettingsError, match="2024-11-30"):
        load_settings({**base, "FORM_RECOGNIZER_API": "2025-01-01"})
