"""azure-ai-formrecognizer 3.3.3's `samples/v3.1` (Form Recognizer v2.1: FormRecognizerClient and
FormTrainingClient at their default API version), run unchanged against a real engine and Azurite.

In scope: Layout, training with and without labels, custom analysis, model management. Out of scope, with
the reason: what the engine does not serve, or needs the internet. The async twins (`async_samples/`) make
the same calls through aiohttp, which is not a dependency of this project.
"""

from __future__ import annotations

import pytest

from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.custom_models import purchase_orders
from tests.helpers.engine import sas_container
from tests.helpers.sdk_samples import (
    RunFolder,
    SampleSet,
    assert_every_sample_listed,
    assert_sample_prints,
    run_folder,
)

PREBUILT = "a prebuilt model (receipts, invoices, business cards, ID documents): not served"
URL = "reads its document from a public URL (the tests have no internet; the engine fetches from its " \
      "allow-list only)"
SAMPLES = SampleSet(
    "azure-ai-formrecognizer", "v3.1",
    in_scope=("sample_recognize_content.py", "sample_train_model_with_labels.py",
              "sample_train_model_without_labels.py", "sample_recognize_custom_forms.py",
              "sample_get_bounding_boxes.py", "sample_manage_custom_models.py",
              "sample_differentiate_output_models_trained_with_and_without_labels.py"),
    out_of_scope={
        "sample_authentication_v3_1.py": URL + " and signs in with Entra ID",
        "sample_convert_to_and_from_dict_v3_1.py": PREBUILT,
        "sample_copy_model.py": "copying models between resources: not served",
        "sample_create_composed_model.py": "composed models: not served",
        "sample_differentiate_output_labeled_tables.py": "labeled tables (fixed and dynamic rows): the "
                                                          "engine's models learn fields, not tables",
        "sample_recognize_business_cards.py": PREBUILT,
        "sample_recognize_identity_documents.py": PREBUILT,
        "sample_recognize_invoices.py": PREBUILT,
        "sample_recognize_receipts.py": PREBUILT,
        "sample_recognize_receipts_from_url.py": PREBUILT,
        "sample_strongly_typing_recognized_form.py": PREBUILT,
    })
# What each sample prints when the engine answered what it asked for.
EXPECT = {
    "sample_recognize_content.py": ("Vehicle Inspection Form", "Selection mark is 'selected'",
                                    "Selection mark is 'unselected'", "has text 'Filter'"),
    "sample_train_model_with_labels.py": ("Model name: mymodel", "Is this a composed model?: False",
                                          "Document name: Form_5.jpg"),
    "sample_train_model_without_labels.py": ("Model ID:", "Document name: Form_1.jpg"),
    "sample_recognize_custom_forms.py": ("...Label 'PurchaseOrderNumber' has value '948284'",),
    "sample_get_bounding_boxes.py": ("Form has type: form-0",
                                     "has label 'Vendor Name:' with value 'Balozi Khamisi'"),
    "sample_manage_custom_models.py": ("Successfully deleted model with id",),
    "sample_differentiate_output_models_trained_with_and_without_labels.py": (
        "...Field 'PurchaseOrderNumber' has value '948284'",),
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    return run_folder(SAMPLES.package, tmp_path_factory.mktemp("formrecognizer-v21"))


@pytest.fixture(scope="module")
def env(engine: EngineInfo, azurite: AzuriteInfo) -> dict[str, str]:
    labeled = sas_container(azurite, purchase_orders(), "samples21")
    return {"AZURE_FORM_RECOGNIZER_ENDPOINT": engine.endpoint, "AZURE_FORM_RECOGNIZER_KEY": engine.api_key,
            "CONTAINER_SAS_URL_V2": labeled, "CONTAINER_SAS_URL_WITH_LABELS_V2": labeled,
            "CONTAINER_SAS_URL_WITHOUT_LABELS_V2": labeled}


def test_every_sample_is_run_or_says_why_not() -> None:
    assert_every_sample_listed(SAMPLES, EXPECT)


@pytest.mark.parametrize("name", SAMPLES.in_scope)
def test_sample_runs_unchanged(name: str, samples: RunFolder, env: dict[str, str]) -> None:
    assert_sample_prints(samples, SAMPLES, name, env, EXPECT)
