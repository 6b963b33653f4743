"""The pipeline on Form Recognizer 3.x: `FORM_RECOGNIZER_API=2023-07-31` (or `2022-08-31`, `v3.1`, `v3.0`)
makes its client speak v4.0's calls under `/formrecognizer`, against a real engine: Layout, a build, its
operation, custom analysis."""

from __future__ import annotations

import time

import pytest

from formloop.stack import AzuriteInfo, EngineInfo
from shared.clients.formrecognizer import FormRecognizerClient, v4_model_id
from shared.clients.records import new_run_id
from shared.settings import SettingsError, load_settings
from tests.helpers.custom_models import PURCHASE_ORDERS, studio_files
from tests.helpers.engine import make_pdf, sas_container

BASE = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:1"}


@pytest.mark.parametrize(("given", "api"), [("2023-07-31", "2023-07-31"), ("v3.1", "2023-07-31"),
                                            ("2022-08-31", "2022-08-31"), ("3.0", "2022-08-31")])
def test_the_setting_takes_the_3x_versions(given: str, api: str) -> None:
    assert load_settings({**BASE, "FORM_RECOGNIZER_API": given}).fr_api == api


def test_other_versions_are_refused() -> None:
    with pytest.raises(SettingsError, match="2023-07-31"):
        load_settings({**BASE, "FORM_RECOGNIZER_API": "2023-10-31-preview"})


@pytest.mark.parametrize("api", ["2023-07-31", "2022-08-31"])
def test_layout_build_and_analysis(engine: EngineInfo, azurite: AzuriteInfo, api: str) -> None:
    client = FormRecognizerClient(engine.endpoint, engine.api_key, api, poll_interval=0.3)
    assert client._url(client._layout_path) == (
        f"{engine.endpoint}/formrecognizer/documentModels/prebuilt-layout:analyze?api-version={api}")
    body, raw = client.analyze_layout(make_pdf([["Invoice 42"]]), "application/pdf")
    assert body["analyzeResult"]["apiVersion"] == api and body["analyzeResult"]["content"] == "Invoice 42"
    assert b'"contentFormat"' not in raw

    name = f"po-{new_run_id()}"  # as the pipeline names a run's model
    url = client.begin_training(sas_container(azurite, studio_files("po/"), "pipe3x"), "po/", name)
    assert url.startswith(f"{engine.endpoint}/formrecognizer/operations/") and url.endswith(api)
    deadline = time.monotonic() + 120
    outcome = client.get_training(url)
    while not outcome.finished and time.monotonic() < deadline:
        time.sleep(0.3)
        outcome = client.get_training(url)
    assert outcome.state == "ready" and outcome.model_id == v4_model_id(name), outcome
    assert client.find_model_named(name).endswith(f"/documentModels/{outcome.model_id}?api-version={api}")
    prediction, _ = client.analyze_custom(outcome.model_id, (PURCHASE_ORDERS / "Form_4.jpg").read_bytes(),
                                          "image/jpeg")
    (document,) = prediction["analyzeResult"]["documents"]
    assert document["fields"]["PurchaseOrderNumber"]["valueString"] == "3929423"
