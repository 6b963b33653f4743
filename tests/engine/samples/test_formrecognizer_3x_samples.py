"""azure-ai-formrecognizer 3.3.3's `samples/v3.2_and_later` (DocumentAnalysisClient and
DocumentModelAdministrationClient at their default API version, 2023-07-31, under `/formrecognizer`), run
unchanged against a real engine and Azurite.

In scope: prebuilt-layout and prebuilt-read (with the `styleFont` and `ocrHighResolution` add-ons), building
a template model from a container, custom analysis, model management, operations, resource details and
`send_request` (which also calls 2022-08-31 and v2.1). Out of scope, with the reason: what the engine does
not serve, or needs the internet. The async twins (`async_samples/`) make the same calls through aiohttp,
which is not a dependency of this project.
"""

from __future__ import annotations

import pytest

from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.custom_models import studio_files
from tests.helpers.engine import sas_container
from tests.helpers.sdk_samples import (
    RunFolder,
    SampleSet,
    assert_every_sample_listed,
    assert_sample_prints,
    run_folder,
)

PREBUILT = "a prebuilt model for one kind of document (invoice, receipt, ID, business card, W-2): not served"
DOCUMENT = "prebuilt-document (key-value pairs): not served"
ADD_ON = "an add-on the engine does not compute; refused with InvalidArgument rather than ignored"
CLASSIFIERS = "document classifiers: not served"
URL = "reads its document from a public URL (the tests have no internet; the engine fetches from its " \
      "allow-list only)"
SAMPLES = SampleSet(
    "azure-ai-formrecognizer", "v3.2_and_later",
    in_scope=("sample_analyze_layout.py", "sample_analyze_read.py", "sample_analyze_addon_fonts.py",
              "sample_analyze_addon_highres.py", "sample_build_model.py",
              "sample_analyze_custom_documents.py", "sample_manage_models.py", "sample_get_operations.py",
              "sample_send_request.py"),
    out_of_scope={
        "sample_analyze_addon_barcodes.py": ADD_ON,
        "sample_analyze_addon_formulas.py": ADD_ON,
        "sample_analyze_addon_languages.py": ADD_ON,
        "sample_analyze_business_cards.py": PREBUILT,
        "sample_analyze_identity_documents.py": PREBUILT,
        "sample_analyze_invoices.py": PREBUILT,
        "sample_analyze_receipts.py": PREBUILT,
        "sample_analyze_receipts_from_url.py": PREBUILT,
        "sample_analyze_tax_us_w2.py": PREBUILT,
        "sample_analyze_general_documents.py": DOCUMENT,
        "sample_convert_to_and_from_dict.py": DOCUMENT,
        "sample_get_elements_with_spans.py": DOCUMENT,
        "sample_get_words_on_document_line.py": DOCUMENT,
        "sample_authentication.py": URL + " and signs in with Entra ID",
        "sample_build_classifier.py": CLASSIFIERS,
        "sample_classify_document.py": CLASSIFIERS,
        "sample_classify_document_from_url.py": CLASSIFIERS,
        "sample_manage_classifiers.py": CLASSIFIERS,
        "sample_compose_model.py": "composed models: not served",
        "sample_copy_model_to.py": "copying models between resources: not served",
    })
EXPECT = {
    "sample_analyze_layout.py": ("Line # 0 has word count 3 and text 'Vehicle Inspection Form'",
                                 "Selection mark is 'selected'", "Selection mark is 'unselected'",
                                 "Table # 0 has 3 rows and 3 columns", "...Cell[1][0] has text 'Filter'"),
    "sample_analyze_read.py": ("text 'Hero Limited'", "Found paragraph with role"),
    "sample_analyze_addon_fonts.py": ("Detected 0 font families", "Document does not contain handwritten"),
    "sample_analyze_addon_highres.py": ("Word 'Item' has a confidence", "Word 'small' has a confidence",
                                        "Word '8.' has a confidence"),
    "sample_build_model.py": ("Description: my model description", "Field: 'PurchaseOrderNumber' has type "
                              "'string'"),
    "sample_analyze_custom_documents.py": ("with value '948284'", "with value 'Hero Limited'"),
    "sample_manage_models.py": ("Successfully deleted model with ID",),
    "sample_get_operations.py": ("Operation kind: documentModelBuild", "operation is completed."),
    "sample_send_request.py": ("The quota limit for custom neural document models is 5000",  # 3.x /info
                               "Our account has "),  # v2.1's custom/models?op=summary
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    return run_folder(SAMPLES.package, tmp_path_factory.mktemp("formrecognizer-3x"))


@pytest.fixture(scope="module")
def env(engine: EngineInfo, azurite: AzuriteInfo) -> dict[str, str]:
    return {"AZURE_FORM_RECOGNIZER_ENDPOINT": engine.endpoint, "AZURE_FORM_RECOGNIZER_KEY": engine.api_key,
            "CONTAINER_SAS_URL": sas_container(azurite, studio_files(), "samples3x")}


def test_every_sample_is_run_or_says_why_not() -> None:
    assert_every_sample_listed(SAMPLES, EXPECT)


@pytest.mark.parametrize("name", SAMPLES.in_scope)
def test_sample_runs_unchanged(name: str, samples: RunFolder, env: dict[str, str]) -> None:
    assert_sample_prints(samples, SAMPLES, name, env, EXPECT)
