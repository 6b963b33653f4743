"""The pipeline's steps against the real Azurite and the real engine (no trigger involved)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from formgen.generate import generate
from shared.clients.formrecognizer import FormRecognizerClient
from shared.clients.queues import BURST_DEFER_SECONDS, Coalescer, FolderBursts
from shared.clients.storage import blob_service, queue_service
from shared.forms import labels as labels_step
from shared.forms.labels import process_labels
from shared.forms.ocr import process_source
from shared.names import BlobKind
from shared.training.poll import poll_training_runs
from shared.training.start import start_training_if_due
from shared.triggers.blob import on_blob
from tests.pipeline.conftest import FaultServer, Stack, error_reply, fast_client


class CountingClient(FormRecognizerClient):
    """The real client, counting the Layout POSTs it makes (to prove no repeated OCR)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.layout_posts = 0
        self.train_posts = 0

    def begin_layout(self, document, content_type):  # type: ignore[no-untyped-def]
        self.layout_posts += 1
        return super().begin_layout(document, content_type)

    def begin_training(self, source_url, prefix, model_name=""):  # type: ignore[no-untyped-def]
        self.train_posts += 1
        return super().begin_training(source_url, prefix, model_name)


def counting(stack: Stack) -> CountingClient:
    s = stack.settings
    return CountingClient(
        s.fr_endpoint, s.fr_key, s.fr_api, backoff=0.05, poll_interval=0.1, retry_budget=20.0
    )


def wait_for_messages(stack: Stack, count: int, timeout: float = 15.0) -> list[str]:
    """Receive until `count` messages came (delayed messages become visible later); then one more look."""
    client = queue_service(stack.settings).get_queue_client(stack.settings.training_queue)
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += [m.content for m in client.receive_messages(max_messages=32, visibility_timeout=30)]
        time.sleep(0.1)
    time.sleep(stack.settings.training_request_delay_seconds + 0.5)
    return got + [m.content for m in client.receive_messages(max_messages=32, visibility_timeout=30)]


def queue_messages(stack: Stack, queue: str | None = None) -> list[str]:
    client = queue_service(stack.settings).get_queue_client(queue or stack.settings.training_queue)
    return [m.content for m in client.receive_messages(max_messages=32, visibility_timeout=1)]


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> list:
    return generate("invoice", 12, tmp_path_factory.mktemp("forms"), kind="pdf")


def upload_form(stack: Stack, folder: str, path: Path) -> str:
    name = f"{folder}/{path.name}"
    stack.upload(name, path.read_bytes())
    return name


def test_ocr_writes_the_layout_beside_the_form_once_per_version(stack: Stack, forms: list) -> None:
    client = counting(stack)
    name = upload_form(stack, "inv", forms[0].path)
    first = process_source(stack.settings, name, client, stack.records)
    assert first.status == "succeeded" and first.pages == 1
    container = blob_service(stack.settings).get_container_client(stack.settings.forms_container)
    ocr = container.get_blob_client(name + ".ocr.json")
    body = json.loads(ocr.download_blob().readall())
    assert body["status"] == "succeeded" and body["analyzeResult"]["readResults"][0]["lines"]
    props = ocr.get_blob_properties()
    source_etag = container.get_blob_client(name).get_blob_properties().etag.strip('"')
    assert props.metadata["source_etag"] == source_etag and props.metadata["api_version"] == "v2.1"
    row = stack.records.document("inv", forms[0].path.name)
    assert row and row["status"] == "succeeded" and row["pages"] == 1 and row["ocrDurationSeconds"] > 0

    # the same event again, and a re-upload of identical bytes: no repeated OCR
    assert process_source(stack.settings, name, client, stack.records).status == "skipped"
    stack.upload(name, forms[0].path.read_bytes())
    assert process_source(stack.settings, name, client, stack.records).status == "skipped"
    assert client.layout_posts == 1 and ocr.get_blob_properties().etag == props.etag

    # a changed form gets a fresh OCR file
    stack.upload(name, forms[1].path.read_bytes())
    assert process_source(stack.settings, name, client, stack.records).status == "succeeded"
    assert client.layout_posts == 2
    assert ocr.get_blob_properties().metadata["source_etag"] != props.metadata["source_etag"]


def _huge_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (10050, 60), 255).save(buf, format="PNG")
    return buf.getvalue()


def test_bad_forms_get_a_failed_row_and_hold_nothing_up(stack: Stack, forms: list) -> None:
    client = counting(stack)
    bad = {
        "bad/corrupt.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage without xref",
        "bad/empty.pdf": b"",
        "bad/not-really.png": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "bad/huge.png": _huge_png(),
    }
    for name, data in bad.items():
        stack.upload(name, data)
    good = upload_form(stack, "bad", forms[2].path)
    for name in bad:
        outcome = on_blob(stack.settings, name, client, stack.records)
        assert outcome.kind is BlobKind.SOURCE and outcome.status == "failed", (name, outcome)
        row = stack.records.document("bad", name.split("/")[1])
        assert row and row["status"] == "failed" and row["errorCode"] and row["errorMessage"], row
        assert row["httpStatus"] in (400, 415)
    assert on_blob(stack.settings, good, client, stack.records).status == "succeeded"
    posts = client.layout_posts
    # a re-delivered event for a failed version is not retried
    for name in bad:
        assert on_blob(stack.settings, name, client, stack.records).status != "succeeded"
    assert client.layout_posts == posts
    assert on_blob(stack.settings, "bad/readme.txt", client, stack.records).status == "ignored"
    assert on_blob(stack.settings, good + ".ocr.json", client, stack.records).status == "ignored"
    names = stack.blob_names()
    assert [n for n in names if n.endswith(".ocr.json")] == [good + ".ocr.json"]


def test_labels_are_validated_recorded_and_queue_the_folder(stack: Stack, data_dir: Path) -> None:
    stack = stack.with_settings(TRAINING_REQUEST_DELAY_SECONDS="3")  # room for a slow machine
    good = (data_dir / "purchase-orders" / "Form_1.jpg.labels.json").read_bytes()
    v1 = (data_dir / "label-format-examples" / "Form_2.jpg.v1.labels.json").read_bytes()
    stack.upload("po/Form_1.jpg.labels.json", good)
    stack.upload("po/Form_2.jpg.labels.json", v1)
    stack.upload("po/Form_3.jpg.labels.json", b'{"document": "Form_3.jpg", "labels": [{"label": "A"}]}')
    checks = [
        process_labels(stack.settings, f"po/Form_{i}.jpg.labels.json", stack.records) for i in (1, 2, 3)
    ]
    assert [c.ok for c in checks if c] == [True, True, False]
    rows = stack.records.folder_documents("po")
    assert rows["Form_1.jpg"]["labeled"] is True and rows["Form_1.jpg"]["labelFormat"] == "labeling-tool"
    assert rows["Form_2.jpg"]["labelFormat"] == "v1.0" and rows["Form_2.jpg"]["labelCount"] == 15
    bad = rows["Form_3.jpg"]
    assert bad["labeled"] is False and bad["labelsStatus"] == "failed"
    assert bad["labelsErrorCode"] == "InvalidLabels" and "'value' must be a list" in bad["labelsErrorMessage"]
    # three label events, one training request: it stays invisible for TRAINING_REQUEST_DELAY_SECONDS,
    # which covers the later events of the burst
    assert queue_messages(stack) == []
    assert [json.loads(m) for m in wait_for_messages(stack, 1)] == [{"folder": "po"}]


def test_labels_files_that_are_empty_or_too_large_are_recorded_as_unusable(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(labels_step, "MAX_LABELS_BYTES", 64)
    stack.upload("po/a.pdf.labels.json", b"")
    stack.upload("po/b.pdf.labels.json", b'{"document": "b.pdf", "labels": []}' + b" " * 64)
    empty = process_labels(stack.settings, "po/a.pdf.labels.json", stack.records, enqueue=False)
    large = process_labels(stack.settings, "po/b.pdf.labels.json", stack.records, enqueue=False)
    assert empty is not None and not empty.ok
    assert large is not None and not large.ok and "larger than the limit of 64 bytes" in large.message
    rows = stack.records.folder_documents("po")
    assert rows["a.pdf"]["labelsStatus"] == "failed" and rows["b.pdf"]["labelsErrorCode"] == "InvalidLabels"
    assert process_labels(stack.settings, "po/missing.pdf.labels.json", stack.records) is None


def test_labels_naming_another_file_are_not_this_documents_labels(stack: Stack, data_dir: Path) -> None:
    """Form_1's labels copied beside Form_4: they were recorded valid and counted toward the threshold,
    while the boxes are another form's."""
    good = (data_dir / "purchase-orders" / "Form_1.jpg.labels.json").read_bytes()
    stack.upload("po/Form_4.jpg.labels.json", good)
    check = process_labels(stack.settings, "po/Form_4.jpg.labels.json", stack.records, enqueue=False)
    assert check is not None and not check.ok
    row = stack.records.folder_documents("po")["Form_4.jpg"]
    assert row["labeled"] is False and row["labelsStatus"] == "failed"
    assert "name 'Form_1.jpg', but lie beside 'Form_4.jpg'" in row["labelsErrorMessage"]


def test_labels_on_a_page_the_document_does_not_have_do_not_count(stack: Stack, data_dir: Path) -> None:
    """Labels naming page 2 of a one-page form were counted toward the threshold, and the engine then
    refused them (LabelPageNotFound). The verdict follows the OCR's page count, also when it changes."""
    s = stack.with_settings(TRAINING_THRESHOLD="2")
    _prepare_labeled_folder(s, data_dir, "po", 2)
    labels = json.loads((data_dir / "purchase-orders" / "Form_2.jpg.labels.json").read_text())
    labels["document"] = "Form_02.jpg"
    labels["labels"][0]["value"][0]["page"] = 2
    s.upload("po/Form_02.jpg.labels.json", json.dumps(labels).encode())
    for doc in ("Form_01.jpg", "Form_02.jpg"):
        s.records.merge_document("po", doc, pages=1)
    decision = start_training_if_due(s.settings, "po", fast_client(s.settings), s.records)
    assert not decision.train and decision.labeled_count == 1
    row = s.records.folder_documents("po")["Form_02.jpg"]
    assert row["labelsStatus"] == "failed" and row["labelsErrorCode"] == "LabelPageNotFound"
    assert "page 2; the document has 1 page(s)" in row["labelsErrorMessage"]
    s.records.merge_document("po", "Form_02.jpg", pages=2)  # a new two-page version was read
    decision = start_training_if_due(s.settings, "po", fast_client(s.settings), s.records)
    assert decision.labeled_count == 2
    assert s.records.folder_documents("po")["Form_02.jpg"]["labelsStatus"] == "valid"


def test_training_requests_are_coalesced_per_folder_and_process() -> None:
    clock = [100.0]
    sent: list[tuple[str, int]] = []
    coalescer = Coalescer(clock=lambda: clock[0])

    def sender(name: str) -> Callable[[int], None]:
        return lambda delay: sent.append((name, delay))

    assert coalescer.send(("q", "a"), 2, sender("a1"))
    clock[0] += 1.0
    assert not coalescer.send(("q", "a"), 2, sender("a2"))  # the first is still invisible: covers this
    assert coalescer.send(("q", "b"), 2, sender("b1"))  # another folder is independent
    clock[0] += 0.9  # 1.9 s after the first: within 10% of it becoming visible, send again
    assert coalescer.send(("q", "a"), 2, sender("a3"))
    assert coalescer.send(("q", "a"), 0, sender("a4")) and coalescer.send(("q", "a"), 0, sender("a5"))
    assert sent == [("a1", 2), ("b1", 2), ("a3", 2), ("a4", 0), ("a5", 0)]

    def failing(delay: int) -> None:
        raise RuntimeError("queue down")

    with pytest.raises(RuntimeError):
        coalescer.send(("q", "c"), 2, failing)
    assert coalescer.send(("q", "c"), 2, sender("c1"))  # a failed send suppressed nothing


def test_a_burst_of_ocrs_owes_one_training_request_sent_when_the_last_ends() -> None:
    clock = [0.0]
    bursts = FolderBursts(clock=lambda: clock[0])
    a, b = ("q", "a"), ("q", "b")
    for _ in range(3):
        bursts.started(a)
    bursts.started(b)
    assert bursts.finished(a, owes=True) == ""  # two more OCRs of the folder still run
    assert bursts.finished(a, owes=False) == ""
    assert bursts.finished(b, owes=False) == ""  # nothing owed: nothing to send
    assert bursts.finished(a, owes=False) == "ended"  # the last one ends: the owed request is due
    assert bursts.finished(a, owes=False) == ""  # ...once

    bursts.started(a)
    bursts.started(a)
    bursts.started(a)
    assert bursts.finished(a, owes=True) == ""
    clock[0] += BURST_DEFER_SECONDS  # a long burst still gets a decision every few seconds
    assert bursts.finished(a, owes=False) == "waited"
    assert bursts.finished(a, owes=False) == ""  # the last ended, but its request was already sent

    assert not bursts.defer(a)  # a labels file with no OCR of its folder running: send now
    bursts.started(a)
    assert bursts.defer(a)  # amid a burst: the running OCR sends it when it ends
    assert bursts.finished(a, owes=False) == "ended"
    bursts.started(a)
    assert bursts.defer(a)
    clock[0] += BURST_DEFER_SECONDS
    assert not bursts.defer(a)  # waited long enough: this one is sent now...
    assert bursts.finished(a, owes=False) == ""  # ...and the OCR owes nothing more


def _prepare_labeled_folder(stack: Stack, data_dir: Path, folder: str, count: int) -> None:
    """Forms with their OCR and labels, straight from the sample data (no engine needed)."""
    po = data_dir / "purchase-orders"
    for i in range(count):
        src = i % 5 + 1
        stem = f"Form_{i + 1:02d}.jpg"
        stack.upload(f"{folder}/{stem}", (po / f"Form_{src}.jpg").read_bytes())
        stack.upload(f"{folder}/{stem}.ocr.json", (po / f"Form_{src}.jpg.ocr.json").read_bytes())
        labels = json.loads((po / f"Form_{src}.jpg.labels.json").read_text())
        labels["document"] = stem
        stack.upload(f"{folder}/{stem}.labels.json", json.dumps(labels).encode())
    stack.upload(f"{folder}/fields.json", (po / "fields.json").read_bytes())


def test_many_concurrent_requests_start_exactly_one_run_which_is_recorded_when_done(
    stack: Stack, data_dir: Path
) -> None:
    _prepare_labeled_folder(stack, data_dir, "po", 10)
    client = counting(stack)
    stack = stack.with_settings(TRAINING_THRESHOLD="10")
    decisions: list = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(3):
            decisions.append(start_training_if_due(stack.settings, "po", client, stack.records))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(d.train for d in decisions) == 1 and client.train_posts == 1
    runs = stack.records.folder_runs("po")
    assert len(runs) == 1 and runs[0]["status"] == "submitted" and runs[0]["labeledCount"] == 10
    assert runs[0]["operationUrl"].startswith(stack.settings.fr_endpoint)

    deadline = time.monotonic() + 120
    while stack.records.folder_runs("po")[0]["status"] in ("submitted", "running"):
        assert time.monotonic() < deadline, "training did not finish"
        poll_training_runs(stack.settings, client, stack.records)
        time.sleep(0.5)
    run = stack.records.folder_runs("po")[0]
    assert (
        run["status"] == "succeeded" and run["modelStatus"] == "ready" and run["trainingDocumentCount"] == 10
    )
    model_id = run["modelId"]
    models = stack.records.folder_models("po")
    assert [(m["modelId"], m["status"], m["isCurrent"]) for m in models] == [(model_id, "ready", True)]
    assert 0 <= models[0]["averageModelAccuracy"] <= 1 and models[0]["fieldCount"] == 15
    fields = list(stack.records.fields.query_entities("PartitionKey eq @p", parameters={"p": model_id}))
    assert len(fields) == 15 and all(0 <= f["accuracy"] <= 1 for f in fields)
    docs = list(
        stack.records.training_documents.query_entities("PartitionKey eq @p", parameters={"p": model_id})
    )
    assert sorted(d["documentName"] for d in docs) == [f"Form_{i:02d}.jpg" for i in range(1, 11)]
    assert all(d["status"] == "succeeded" and d["pages"] == 1 for d in docs)
    state, _ = stack.records.get_folder_state("po")
    assert state and state["activeRunId"] == "" and state["currentModelId"] == model_id
    # the end of a run re-queues the folder; the same labeled set does not train again
    assert not start_training_if_due(stack.settings, "po", client, stack.records).train
    assert "unchanged" in stack.records.get_folder_state("po")[0]["lastDecision"]


def test_engine_throttling_for_a_while_still_processes_everything(
    stack: Stack, forms: list, fault_server: Callable[..., FaultServer]
) -> None:
    proxy = fault_server(target=stack.settings.fr_endpoint)
    faults = []
    for i in range(8):
        if i % 2:
            faults.append(error_reply(503, "ServiceUnavailable", "busy"))
        else:
            faults.append(error_reply(429, "429", "Rate limit is exceeded.", **{"Retry-After": "0"}))
    proxy.add_faults(*faults)
    client = fast_client(stack.settings, endpoint=proxy.url)
    names = [upload_form(stack, "busy", f.path) for f in forms[3:7]]
    results = [process_source(stack.settings, n, client, stack.records).status for n in names]
    assert results == ["succeeded"] * 4
    assert sum(1 for _, _, s in proxy.seen if s in (429, 503)) == 8
    assert all(n + ".ocr.json" in stack.blob_names() for n in names)


def test_a_timed_out_run_releases_the_folder(stack: Stack, fault_server: Callable[..., FaultServer]) -> None:
    creating = json.dumps({"modelInfo": {"modelId": "m-slow", "status": "creating"}}).encode()
    server = fault_server(fallback=lambda m, p, b: (200, {"Content-Type": "application/json"}, creating))
    stack = stack.with_settings(TRAINING_DEADLINE_SECONDS="1")
    stack.records.merge(stack.records.runs, "slow", "~folder", folder="slow", activeRunId="r1",
                        lastFingerprint="fp1", lastLabeledSetChunks=1, lastLabeledSet0='{"a.pdf": "x"}')
    stack.records.merge_run("slow", "r1", status="submitted", operationUrl=server.url + "/m",
                            submittedAt="2020-01-01T00:00:00Z", fingerprint="fp1")
    report = poll_training_runs(stack.settings, fast_client(stack.settings), stack.records)
    assert report.finished == ["r1"]
    run = stack.records.run("slow", "r1")
    assert run and run["status"] == "timedOut" and run["errorCode"] == "Timeout"
    state = stack.records.get_folder_state("slow")[0]
    assert state and state["activeRunId"] == "" and state["lastRunStatus"] == "timedOut"
    # the set never trained, so it is re-armed once and the folder asked for at once
    assert state["lastFingerprint"] == "" and state["retriedFingerprint"] == "fp1"
    assert [json.loads(m) for m in queue_messages(stack)] == [{"folder": "slow"}]

    # the retry of the same set times out too: no second re-arm (no endless retries)
    stack.records.merge(stack.records.runs, "slow", "~folder", activeRunId="r2", lastFingerprint="fp1")
    stack.records.merge_run("slow", "r2", status="submitted", operationUrl=server.url + "/m",
                            submittedAt="2020-01-01T00:00:00Z", fingerprint="fp1")
    assert poll_training_runs(stack.settings, fast_client(stack.settings), stack.records).finished == ["r2"]
    state = stack.records.get_folder_state("slow")[0]
    assert state and state["activeRunId"] == "" and state["lastFingerprint"] == "fp1"


def test_the_2019_preview_dialect_runs_the_loop_against_the_real_engine(
    stack: Stack, forms: list, data_dir: Path
) -> None:
    """FORM_RECOGNIZER_API=2.0-preview: readLayout/asyncAnalyze for OCR, custom/asyncTrain for training."""
    s = stack.with_settings(FORM_RECOGNIZER_API="2.0-preview", TRAINING_THRESHOLD="5")
    name = upload_form(s, "old", forms[0].path)
    assert process_source(s.settings, name, s.client, s.records).status == "succeeded"
    ocr = blob_service(s.settings).get_blob_client(s.settings.forms_container, name + ".ocr.json")
    body = json.loads(ocr.download_blob().readall())
    assert body["status"] == "succeeded" and body["analyzeResult"]["readResults"][0]["lines"]
    assert ocr.get_blob_properties().metadata["api_version"] == "2.0-preview"

    _prepare_labeled_folder(s, data_dir, "po", 5)
    decision = start_training_if_due(s.settings, "po", s.client, s.records)
    assert decision.train
    run = s.records.folder_runs("po")[0]
    assert "/formrecognizer/v2.0-preview/" in run["operationUrl"]
    deadline = time.monotonic() + 120
    while not poll_training_runs(s.settings, s.client, s.records).finished:
        assert time.monotonic() < deadline, "the preview-dialect run did not finish"
        time.sleep(0.5)
    run = s.records.run("po", run["runId"])
    assert run and run["status"] == "succeeded" and run["modelId"]
    assert s.records.folder_models("po")[0]["isCurrent"] is True
