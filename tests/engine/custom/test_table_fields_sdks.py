"""Table fields (issue 18) through the official SDKs against a real engine process and a real Azurite: one
training folder of six generated line-item invoices (labels `Items/<row>/<Column>`, fields.json `array` +
`definitions`), trained once per API — v2.1 with azure-ai-formrecognizer's FormTrainingClient, v4.0 with
azure-ai-documentintelligence, the 3.x dialect with azure-ai-formrecognizer's
DocumentModelAdministrationClient at its default version — and a seventh form, which no model trained on,
read back row by row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient, DocumentIntelligenceClient
from azure.ai.formrecognizer import (
    DocumentAnalysisClient,
    DocumentModelAdministrationClient,
    FormRecognizerClient,
    FormTrainingClient,
    ModelBuildMode,
)
from azure.core.credentials import AzureKeyCredential

from formgen import GeneratedForm, generate
from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.engine import sas_container

PREFIX = "items/"
TRAINING_FORMS = 6
COLUMNS = ("Description", "Quantity", "UnitPrice", "Amount")


def collapse(text: str | None) -> str:
    return " ".join(str(text or "").split())


@dataclass
class Folder:
    url: str  # read + list SAS of the container
    forms: list[GeneratedForm]  # the six trained on
    new: GeneratedForm  # the seventh, not in the container
    column_types: dict[str, str]  # Items column -> fieldType, from the fields.json the generator wrote

    @property
    def truth(self) -> list[dict[str, str]]:
        return self.new.tables["Items"]


@pytest.fixture(scope="module")
def folder(azurite: AzuriteInfo, tmp_path_factory: pytest.TempPathFactory) -> Folder:
    out = tmp_path_factory.mktemp("invoice_items")
    forms = generate("invoice_items", TRAINING_FORMS + 1, out, seed=0, kind="pdf")
    files: dict[str, bytes] = {}
    for form in forms[:TRAINING_FORMS]:
        files[PREFIX + form.path.name] = form.path.read_bytes()
        files[PREFIX + form.labels_path.name] = form.labels_path.read_bytes()
    files[PREFIX + "fields.json"] = (out / "fields.json").read_bytes()
    fields_json = json.loads(files[PREFIX + "fields.json"])
    (items,) = (f for f in fields_json["fields"] if f["fieldKey"] == "Items")
    assert items["fieldType"] == "array"
    row_type = fields_json["definitions"][items["itemType"]]
    column_types = {c["fieldKey"]: c["fieldType"] for c in row_type["fields"]}
    assert column_types == {"Description": "string", "Quantity": "number", "UnitPrice": "number",
                            "Amount": "number"}
    new = forms[TRAINING_FORMS]
    # more rows than any training form had, one description wrapped onto a second line
    assert len(new.tables["Items"]) > max(len(f.tables["Items"]) for f in forms[:TRAINING_FORMS])
    assert any(len(row["Description"]) > 40 for row in new.tables["Items"])
    return Folder(sas_container(azurite, files, "items"), forms[:TRAINING_FORMS], new, column_types)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


# -- v2.1: FormTrainingClient / FormRecognizerClient -------------------------------------------------
def test_v21_sdk_trains_and_recognizes_the_line_items(engine: EngineInfo, folder: Folder) -> None:
    credential = AzureKeyCredential(engine.api_key)
    trainer = FormTrainingClient(engine.endpoint, credential, api_version="2.1")
    model = trainer.begin_training(folder.url, use_training_labels=True, prefix=PREFIX,
                                   model_name="items-v21", polling_interval=0.3).result()
    assert model.status == "ready"
    assert [d.name for d in model.training_documents] == [f.path.name for f in folder.forms]
    assert all(d.status == "succeeded" for d in model.training_documents)
    sub = model.submodels[0]
    assert "Items" in sub.fields and sub.fields["Items"].accuracy is not None
    assert 0.5 <= sub.fields["Items"].accuracy <= 1
    # beside the table, its columns (never one field per cell of a training form)
    assert {name for name in sub.fields if "/" in name} == {f"Items/*/{c}" for c in COLUMNS}
    assert all(f.accuracy is not None for f in sub.fields.values())

    client = FormRecognizerClient(engine.endpoint, credential, api_version="2.1")
    with folder.new.path.open("rb") as fh:
        (form,) = client.begin_recognize_custom_forms(model.model_id, fh, include_field_elements=True,
                                                      polling_interval=0.3).result()
    items = form.fields["Items"]
    assert items.value_type == "list" and isinstance(items.value, list)
    assert len(items.value) == len(folder.truth)
    got = []
    for row in items.value:
        assert row.value_type == "dictionary" and isinstance(row.value, dict)
        assert set(row.value) == set(COLUMNS)
        got.append({c: collapse(cell.value_data.text) for c, cell in row.value.items()})
    assert got == folder.truth
    for row, truth in zip(items.value, folder.truth, strict=True):
        for column, kind in folder.column_types.items():
            cell = row.value[column]
            if kind == "number":
                assert cell.value_type == "float" and cell.value == pytest.approx(_number(truth[column]))
            else:
                assert cell.value_type == "string" and collapse(cell.value) == truth[column]
            assert 0 < cell.confidence <= 1 and cell.value_data.page_number == 1
            assert len(cell.value_data.bounding_box) == 4 and cell.value_data.field_elements
    trainer.delete_model(model.model_id)


# -- v4.0: DocumentIntelligenceAdministrationClient / DocumentIntelligenceClient ----------------------
def test_v40_sdk_builds_the_table_schema_and_analyzes_the_line_items(engine: EngineInfo,
                                                                     folder: Folder) -> None:
    credential = AzureKeyCredential(engine.api_key)
    admin = DocumentIntelligenceAdministrationClient(engine.endpoint, credential)
    model = admin.begin_build_document_model(
        {"modelId": "items-v40", "buildMode": "template",
         "azureBlobSource": {"containerUrl": folder.url, "prefix": PREFIX}}, polling_interval=0.3).result()
    schema = model.doc_types["items-v40"].field_schema["Items"]
    assert schema.type == "array" and schema.items_schema.type == "object"  # `items` on the wire
    assert list(schema.items_schema.properties) == list(COLUMNS)
    assert {c: p.type for c, p in schema.items_schema.properties.items()} == folder.column_types
    assert 0.5 <= model.doc_types["items-v40"].field_confidence["Items"] <= 1

    client = DocumentIntelligenceClient(engine.endpoint, credential)
    result = client.begin_analyze_document("items-v40", folder.new.path.read_bytes(),
                                           polling_interval=0.3).result()
    (doc,) = result.documents
    items = doc.fields["Items"]
    assert items.type == "array" and len(items.value_array) == len(folder.truth)
    for row, truth in zip(items.value_array, folder.truth, strict=True):
        assert row.type == "object" and set(row.value_object) == set(COLUMNS)
        cells = row.value_object
        assert collapse(cells["Description"].value_string) == truth["Description"]
        for column in ("Quantity", "UnitPrice", "Amount"):
            assert cells[column].type == "number"
            assert cells[column].value_number == pytest.approx(_number(truth[column]))
            assert collapse(cells[column].content) == truth[column]
        for cell in cells.values():
            (region,) = cell.bounding_regions
            assert region.page_number == 1 and len(region.polygon) == 8
            assert cell.spans, cell
            spanned = " ".join(result.content[s.offset:s.offset + s.length] for s in cell.spans)
            assert collapse(spanned) == collapse(cell.content), (cell.spans, cell.content)
            assert 0 < cell.confidence <= 1
    admin.delete_model("items-v40")


# -- 3.x: DocumentModelAdministrationClient / DocumentAnalysisClient at their default version ----------
def test_3x_sdk_builds_and_analyzes_the_line_items(engine: EngineInfo, folder: Folder) -> None:
    credential = AzureKeyCredential(engine.api_key)
    admin = DocumentModelAdministrationClient(engine.endpoint, credential)
    model = admin.begin_build_document_model(ModelBuildMode.TEMPLATE, blob_container_url=folder.url,
                                             prefix=PREFIX, model_id="items-3x",
                                             polling_interval=0.3).result()
    assert model.api_version == "2023-07-31"
    schema: dict[str, Any] = model.doc_types["items-3x"].field_schema["Items"]
    assert schema["type"] == "array" and schema["items"]["type"] == "object"
    assert {c: p["type"] for c, p in schema["items"]["properties"].items()} == folder.column_types

    client = DocumentAnalysisClient(engine.endpoint, credential)
    result = client.begin_analyze_document("items-3x", folder.new.path.read_bytes(),
                                           polling_interval=0.3).result()
    assert result.api_version == "2023-07-31"
    (doc,) = result.documents
    items = doc.fields["Items"]
    assert items.value_type == "list" and len(items.value) == len(folder.truth)
    for row, truth in zip(items.value, folder.truth, strict=True):
        assert row.value_type == "dictionary" and set(row.value) == set(COLUMNS)
        assert {c: collapse(cell.content) for c, cell in row.value.items()} == truth
        assert collapse(row.value["Description"].value) == truth["Description"]
        for column in ("Quantity", "UnitPrice", "Amount"):
            cell = row.value[column]
            assert cell.value_type == "float" and cell.value == pytest.approx(_number(truth[column]))
        for cell in row.value.values():
            assert cell.bounding_regions[0].page_number == 1 and cell.spans
    admin.delete_document_model("items-3x")

