"""`formloop up` says which protocol the app will speak: the environment wins over local.settings.json."""

from __future__ import annotations

from formloop.local_stack import api_banner


def test_the_banner_names_the_api_the_app_uses() -> None:
    assert api_banner({"Values": {}}, {}) == "the app speaks Form Recognizer v2.1"
    v4 = {"Values": {"FORM_RECOGNIZER_API": "2024-11-30"}}
    assert "Document Intelligence v4.0" in api_banner(v4, {})
    assert "Document Intelligence v4.0" in api_banner({"Values": {}}, {"FORM_RECOGNIZER_API": "v4.0"})
    assert api_banner(v4, {"FORM_RECOGNIZER_API": "v2.1"}) == "the app speaks Form Recognizer v2.1"


def test_the_banner_names_the_3x_versions_and_refuses_nonsense() -> None:
    assert api_banner({"Values": {}}, {"FORM_RECOGNIZER_API": "2023-07-31"}) == (
        "the app speaks Form Recognizer 3.x (2023-07-31)")
    assert "is not an API the app speaks" in api_banner({"Values": {}}, {"FORM_RECOGNIZER_API": "v9"})
