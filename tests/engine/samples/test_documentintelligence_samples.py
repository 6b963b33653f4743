"""azure-ai-documentintelligence 1.0.2's samples (Document Intelligence v4.0, 2024-11-30), run unchanged
against a real engine and Azurite.

In scope: prebuilt-layout and prebuilt-read (with the `styleFont` and `ocrHighResolution` add-ons), building
a template model from a container, custom analysis, model management, resource details (`get_raw_response`,
`send_request`) and the result's dict round trip. Out of scope, with the reason: what the engine does not
serve, or needs the internet. The async twins (`async_samples/`) make the same calls through aiohttp, which
is not a dependency of this project.
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

PREBUILT = "a prebuilt model for one kind of document (invoice, receipt, ID, W-2): not served"
ADD_ON = "an add-on the engine does not compute; refused with InvalidArgument rather than ignored"
URL = "reads its document from a public URL (the tests have no internet; the engine fetches from its " \
      "allow-list only)"
SAMPLES = SampleSet(
    "azure-ai-documentintelligence", "",
    in_scope=("sample_analyze_read.py", "sample_analyze_addon_fonts.py", "sample_analyze_addon_highres.py",
              "sample_analyze_custom_documents.py", "sample_manage_models.py", "sample_get_raw_response.py",
              "sample_send_request.py", "sample_convert_to_and_from_dict.py"),
    out_of_scope={
        "sample_analyze_layout.py": "opens a Word document (.docx); the engine reads PDF and images only",
        "sample_analyze_addon_barcodes.py": ADD_ON,
        "sample_analyze_addon_formulas.py": ADD_ON,
        "sample_analyze_addon_languages.py": ADD_ON,
        "sample_analyze_general_documents.py": ADD_ON + " (keyValuePairs)",
        "sample_analyze_addon_query_fields.py": ADD_ON + " (queryFields); " + URL,
        "sample_analyze_documents_output_in_markdown.py": "markdown output: not served; " + URL,
        "sample_analyze_batch_documents.py": "batch analysis: not served",
        "sample_analyze_result_figures.py": "figure images of a result: not served",
        "sample_analyze_result_pdf.py": "the searchable PDF of a result: not served",
        "sample_analyze_identity_documents.py": PREBUILT,
        "sample_analyze_invoices.py": PREBUILT,
        "sample_analyze_invoices_from_bytes_source.py": PREBUILT,
        "sample_analyze_receipts.py": PREBUILT,
        "sample_analyze_receipts_from_url.py": PREBUILT + "; " + URL,
        "sample_analyze_tax_us_w2.py": PREBUILT,
        "sample_classify_document.py": "document classifiers: not served",
        "sample_manage_classifiers.py": "document classifiers: not served",
        "sample_compose_model.py": "composed models: not served",
        "sample_copy_model_to.py": "copying models between resources: not served",
    })
EXPECT = {
    "sample_analyze_read.py": ("text 'Hero Limited'", "Found paragraph with role"),
    # it stops before the fonts when nothing is handwritten (the engine reports no font styles either)
    "sample_analyze_addon_fonts.py": ("Document does not contain handwritten content",),
    "sample_analyze_addon_highres.py": ("Word 'Item' has a confidence", "Word '8.' has a confidence"),
    "sample_analyze_custom_documents.py": ("with value '948284'", "with value 'Hero Limited'"),
    "sample_manage_models.py": ("Description: my model description", "Successfully deleted model with ID"),
    "sample_get_raw_response.py": ("Response status code is: 200",
                                   "The quota limit for custom neural document models is 5000"),
    "sample_send_request.py": ("The quota limit for custom neural document models is 5000",),
    "sample_convert_to_and_from_dict.py": ("Model ID: 'prebuilt-layout'", "API version used: 2024-11-30"),
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    return run_folder(SAMPLES.package, tmp_path_factory.mktemp("documentintelligence"))


@pytest.fixture(scope="module")
def env(engine: EngineInfo, azurite: AzuriteInfo) -> dict[str, str]:
    url = sas_container(azurite, studio_files(), "samples4")
    return {"DOCUMENTINTELLIGENCE_ENDPOINT": engine.endpoint, "DOCUMENTINTELLIGENCE_API_KEY": engine.api_key,
            "DOCUMENTINTELLIGENCE_STORAGE_CONTAINER_SAS_URL": url,
            "DOCUMENTINTELLIGENCE_STORAGE_ADVANCED_CONTAINER_SAS_URL": url}


def test_every_sample_is_run_or_says_why_not() -> None:
    assert_every_sample_listed(SAMPLES, EXPECT)


@pytest.mark.parametrize("name", SAMPLES.in_scope)
def test_sample_runs_unchanged(name: str, samples: RunFolder, env: dict[str, str]) -> None:
    assert_sample_prints(samples, SAMPLES, name, env, EXPECT)
