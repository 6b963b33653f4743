"""The blob function works from what the trigger delivered (bytes + version), not a second read."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import ClassVar

import pytest
from azure.functions.blob import InputStream  # what the Python worker hands the function

from formgen.generate import generate
from shared.clients.delivered import DeliveredBlob, delivered_blob
from shared.clients.formrecognizer import TrainingOutcome
from shared.clients.records import Records
from shared.clients.storage import blob_service
from shared.forms.labels import process_labels
from shared.forms.ocr import process_source
from shared.training.poll import record_outcome
from tests.helpers.pipeline import CountingClient, Stack, counting, queue_messages, wait_for_messages


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> list:
    return generate("invoice", 3, tmp_path_factory.mktemp("forms"), kind="pdf")


def version_of(stack: Stack, name: str, content: bytes | None = None) -> DeliveredBlob:
    """What the host would deliver for the blob as it is in storage now (or other bytes under its version)."""
    client = blob_service(stack.settings).get_blob_client(stack.settings.forms_container, name)
    props = client.get_blob_properties()
    md5 = base64.b64encode(bytes(props.content_settings.content_md5)).decode()
    data = content if content is not None else client.download_blob().readall()
    stream = InputStream(data=data, name=name, blob_properties={"ETag": props.etag, "ContentMD5": md5})
    delivered = delivered_blob(stream)
    assert delivered is not None
    return delivered


def words_of(stack: Stack, name: str) -> set[str]:
    client = blob_service(stack.settings).get_blob_client(stack.settings.forms_container, name + ".ocr.json")
    body = json.loads(client.download_blob().readall())
    return {w["text"] for page in body["analyzeResult"]["readResults"] for line in page["lines"]
            for w in line["words"]}


def test_trigger_properties_give_the_version_and_the_bytes_are_read_only_when_needed() -> None:
    reads: list[int] = []

    class Stream(io.BytesIO):
        blob_properties: ClassVar[dict[str, str]] = {"ETag": '"0x8DC1"', "ContentHash": "q83vEg=="}

        def read(self, size: int | None = -1) -> bytes:
            reads.append(1)
            return super().read(size)

    got = delivered_blob(Stream(b"%PDF-1.7"))
    assert got is not None and got.etag == "0x8DC1" and got.md5 == "q83vEg==" and reads == []
    assert got.content == b"%PDF-1.7" and got.content == b"%PDF-1.7" and reads == [1]
    # no properties, or properties without an ETag: the caller reads storage itself
    assert delivered_blob(InputStream(data=b"x")) is None
    assert delivered_blob(InputStream(data=b"x", blob_properties={"Length": 1})) is None


def test_the_python_workers_trigger_metadata_is_understood() -> None:
    """Decoded the way the Functions Python worker decodes a blob trigger (the host's Properties JSON)."""
    from azure.functions.blob import BlobConverter
    from azure.functions.meta import Datum

    properties = json.dumps({"ContentMD5": "B54d+wzLC8IlnxyyZxwPsw==", "ContentType": "application/pdf",
                             "ETag": "0x8D8989BC453467D", "BlobType": 2, "ContentLength": "8"})
    stream = BlobConverter.decode(data=Datum(b"%PDF-1.7", "bytes"), trigger_metadata={
        "Properties": Datum(properties, "json"), "BlobTrigger": Datum("forms/po/a.pdf", "string")})
    got = delivered_blob(stream)
    assert got is not None and got.etag == "0x8D8989BC453467D" and got.md5 == "B54d+wzLC8IlnxyyZxwPsw=="
    assert got.content == b"%PDF-1.7"


def test_ocr_uses_the_delivered_bytes_and_is_still_done_once_per_version(stack: Stack, forms: list) -> None:
    client = counting(stack)
    name = f"dl/{forms[0].path.name}"
    stack.upload(name, forms[0].path.read_bytes())
    # the event is about this version; the bytes handed over are what gets OCR'd (no second read)
    delivered = version_of(stack, name, content=forms[1].path.read_bytes())
    assert process_source(stack.settings, name, client, stack.records, delivered).status == "succeeded"
    assert forms[1].values["InvoiceNumber"] in words_of(stack, name)
    assert forms[0].values["InvoiceNumber"] not in words_of(stack, name)
    row = stack.records.document("dl", forms[0].path.name)
    assert row and row["status"] == "succeeded" and row["sourceEtag"] == delivered.etag

    # the same event delivered again, and identical bytes uploaded again: no repeated OCR
    assert process_source(stack.settings, name, client, stack.records, delivered).status == "skipped"
    stack.upload(name, forms[0].path.read_bytes())
    again = version_of(stack, name)
    assert again.etag != delivered.etag
    assert process_source(stack.settings, name, client, stack.records, again).status == "skipped"
    assert client.layout_posts == 1
    # a changed form: fresh OCR
    stack.upload(name, forms[2].path.read_bytes())
    changed = version_of(stack, name)
    assert process_source(stack.settings, name, client, stack.records, changed).status == "succeeded"
    assert client.layout_posts == 2 and forms[2].values["InvoiceNumber"] in words_of(stack, name)


def test_training_is_requested_after_ocr_only_when_the_form_is_labeled(stack: Stack, forms: list) -> None:
    stack = stack.with_settings(TRAINING_REQUEST_DELAY_SECONDS="1")
    client = counting(stack)
    # no labels: OCR asks for nothing
    stack.upload("nolabels/a.pdf", forms[0].path.read_bytes())
    assert process_source(stack.settings, "nolabels/a.pdf", client, stack.records,
                          version_of(stack, "nolabels/a.pdf")).status == "succeeded"
    assert wait_for_messages(stack, 1, timeout=2.5) == []

    # labels checked before the OCR: the OCR's end asks for training
    stack.upload("first/a.pdf", forms[0].path.read_bytes())
    stack.upload("first/a.pdf.labels.json", forms[0].labels_path.read_bytes().replace(
        forms[0].path.name.encode(), b"a.pdf"))
    label_check = process_labels(stack.settings, "first/a.pdf.labels.json", stack.records, enqueue=False)
    assert label_check is not None and label_check.ok
    assert process_source(stack.settings, "first/a.pdf", client, stack.records,
                          version_of(stack, "first/a.pdf")).status == "succeeded"
    assert [json.loads(m) for m in wait_for_messages(stack, 1)] == [{"folder": "first"}]

    # labels recorded while the OCR runs: the final (conditional) write notices, and asks too
    class LabelsDuringOcr(CountingClient):
        def begin_layout(self, document, content_type):  # type: ignore[no-untyped-def]
            stack.records.merge_document("during", "a.pdf", labeled=True, labelsStatus="valid")
            return super().begin_layout(document, content_type)

    s = stack.settings
    during = LabelsDuringOcr(s.fr_endpoint, s.fr_key, s.fr_api, backoff=0.05, poll_interval=0.1)
    stack.upload("during/a.pdf", forms[0].path.read_bytes())
    assert process_source(stack.settings, "during/a.pdf", during, stack.records,
                          version_of(stack, "during/a.pdf")).status == "succeeded"
    assert [json.loads(m) for m in wait_for_messages(stack, 1)] == [{"folder": "during"}]
    row = stack.records.document("during", "a.pdf")
    assert row and row["status"] == "succeeded" and row["labeled"] is True  # nothing of the labels lost
    assert queue_messages(stack) == []


def test_an_older_version_read_while_a_newer_one_was_claimed_does_not_overwrite_its_ocr(
    stack: Stack, forms: list
) -> None:
    name = "race/a.pdf"
    stack.upload(name, forms[0].path.read_bytes())
    old = version_of(stack, name)

    class NewerVersionArrives(CountingClient):
        """While version 1 is read, version 2 lands and its own OCR claims the row."""

        def begin_layout(self, document, content_type):  # type: ignore[no-untyped-def]
            stack.upload(name, forms[1].path.read_bytes())
            newer = version_of(stack, name)
            stack.records.merge_document("race", "a.pdf", status="processing", sourceEtag=newer.etag)
            return super().begin_layout(document, content_type)

    s = stack.settings
    racing = NewerVersionArrives(s.fr_endpoint, s.fr_key, s.fr_api, backoff=0.05, poll_interval=0.1)
    assert process_source(stack.settings, name, racing, stack.records, old).status == "superseded"
    container = blob_service(stack.settings).get_container_client(stack.settings.forms_container)
    assert not container.get_blob_client(name + ".ocr.json").exists()  # nothing stale written
    row = stack.records.document("race", "a.pdf")
    assert row and row["status"] == "processing" and row["sourceEtag"] != old.etag  # the newer claim stands

    # the newer version's own event then OCRs it (its claim is stale-free: re-claimed as a new version)
    newer = version_of(stack, name)
    stack.records.merge_document("race", "a.pdf", status="retrying")  # as if the newer attempt had failed
    assert process_source(stack.settings, name, counting(stack), stack.records, newer).status == "succeeded"
    assert forms[1].values["InvoiceNumber"] in words_of(stack, name)


def test_labels_step_checks_the_delivered_bytes(stack: Stack, data_dir: Path) -> None:
    good = (data_dir / "purchase-orders" / "Form_1.jpg.labels.json").read_bytes()
    stack.upload("dlabels/Form_1.jpg.labels.json", b"{not json")
    # the event's version had the good bytes; storage has moved on: the event's bytes are checked
    delivered = version_of(stack, "dlabels/Form_1.jpg.labels.json", content=good)
    check = process_labels(stack.settings, "dlabels/Form_1.jpg.labels.json", stack.records, enqueue=False,
                           delivered=delivered)
    assert check is not None and check.ok
    row = stack.records.document("dlabels", "Form_1.jpg")
    assert row and row["labeled"] is True and row["labelsEtag"] == delivered.etag
    too_big = DeliveredBlob(etag="0x1", md5="", reader=lambda: b" " * (9 * 1024 * 1024))
    big = process_labels(stack.settings, "dlabels/Form_1.jpg.labels.json", stack.records, enqueue=False,
                         delivered=too_big)
    assert big is not None and not big.ok and "larger than the limit" in big.message


def test_a_model_with_more_than_one_batch_of_documents_is_recorded_whole(stack: Stack) -> None:
    records: Records = stack.records
    docs = [{"documentName": f"f{i:03d}.pdf", "pages": 1, "status": "succeeded", "errors": []}
            for i in range(230)]
    docs[7] = {"documentName": "f007.pdf", "pages": 2, "status": "failed",
               "errors": [{"code": "LabelNotMatched", "message": "no words"}]}
    outcome = TrainingOutcome(
        state="ready", model_id="m-batch", model_name="", created="", updated="", average_accuracy=0.9,
        fields=[(f"F{i}", 0.5) for i in range(120)], documents=docs, errors=[])
    run = {"folder": "batch", "runId": "r1", "submittedAt": "", "labeledCount": 230}
    records.merge_run("batch", "r1", status="submitted")
    assert record_outcome(stack.settings, stack.client, records, run, outcome) == "succeeded"
    rows = {r["RowKey"]: r for r in records.training_documents.query_entities("PartitionKey eq 'm-batch'")}
    assert len(rows) == 230 and rows["f007.pdf"]["status"] == "failed" and rows["f007.pdf"]["errorCount"] == 1
    assert "LabelNotMatched" in rows["f007.pdf"]["errors"]
    fields = list(records.fields.query_entities("PartitionKey eq 'm-batch'"))
    assert len(fields) == 120 and {f["accuracy"] for f in fields} == {0.5}
