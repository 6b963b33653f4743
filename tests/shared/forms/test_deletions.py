"""Issue 12 item 6: a deleted form leaves no `.ocr.json` of ours behind and its row says `deleted`.

The blob trigger delivers only creations, so the sweep reflects deletions. A form deleted 1-3 s after
upload used to leave its `.ocr.json` and a `succeeded` row for ever; a form deleted while an earlier
attempt held its claim left the row `processing`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from shared.clients.records import parse_iso
from shared.clients.storage import blob_service
from shared.forms.deletions import reflect_deletions
from shared.forms.inventory import FolderInventory, inventory
from shared.forms.ocr import claim_document, process_source
from shared.training.policy import labeled_set
from shared.triggers.blob import on_blob
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import Stack, prepare_labeled_folder

PO = "purchase-orders"


def _form(data_dir: Path, i: int = 1) -> bytes:
    return (data_dir / PO / f"Form_{i}.jpg").read_bytes()


def _delete(stack: Stack, name: str) -> None:
    blob_service(stack.settings).get_blob_client(stack.settings.forms_container, name).delete_blob()


def _ocr_now(stack: Stack, name: str, data: bytes) -> None:
    stack.upload(name, data)
    assert on_blob(stack.settings, name, stack.client, stack.records).status == "succeeded"


def test_a_form_deleted_after_its_ocr_loses_its_output_and_its_row_says_deleted(
    stack: Stack, data_dir: Path
) -> None:
    s = stack.with_settings(SWEEP_GRACE_SECONDS="0.5")
    _ocr_now(s, "del/Form_1.jpg", _form(data_dir, 1))
    _ocr_now(s, "del/Form_2.jpg", _form(data_dir, 2))
    labels = json.loads((data_dir / PO / "Form_2.jpg.labels.json").read_text())
    s.upload("del/Form_2.jpg.labels.json", json.dumps(labels).encode())
    assert on_blob(s.settings, "del/Form_2.jpg.labels.json", s.client, s.records).status == "valid"
    _ocr_now(s, "del/Form_3.jpg", _form(data_dir, 3))  # stays
    _delete(s, "del/Form_1.jpg")
    _delete(s, "del/Form_2.jpg")
    time.sleep(0.6)
    report = sweep(s.settings, s.client, s.records)
    assert report.deleted == ["del/Form_1.jpg", "del/Form_2.jpg"] and not report.errors
    assert s.blob_names() == ["del/Form_2.jpg.labels.json", "del/Form_3.jpg", "del/Form_3.jpg.ocr.json"]
    rows = s.records.folder_documents("del")
    for doc in ("Form_1.jpg", "Form_2.jpg"):
        assert rows[doc]["status"] == "deleted" and time.time() - parse_iso(rows[doc]["deletedAt"]) < 60
    # the user's labels file is left in place, and the row says so; the form no longer counts as labeled
    labeled = rows["Form_2.jpg"]
    assert labeled["labeled"] is False and "Form_2.jpg.labels.json" in labeled["deletedNote"]
    assert rows["Form_3.jpg"]["status"] == "succeeded"
    assert sweep(s.settings, s.client, s.records).deleted == []  # reflected once


def test_a_just_written_output_of_a_deleted_form_waits_for_the_grace(stack: Stack, data_dir: Path) -> None:
    """An OCR that was running when its form was deleted writes its output late: not removed at once."""
    patient = stack.with_settings(SWEEP_GRACE_SECONDS="60")
    _ocr_now(patient, "late/Form_1.jpg", _form(data_dir))
    _delete(patient, "late/Form_1.jpg")
    assert sweep(patient.settings, patient.client, patient.records).deleted == []
    assert patient.blob_names() == ["late/Form_1.jpg.ocr.json"]
    assert patient.records.document("late", "Form_1.jpg")["status"] == "succeeded"  # type: ignore[index]
    quick = patient.with_settings(SWEEP_GRACE_SECONDS="0.5")
    time.sleep(0.6)
    assert sweep(quick.settings, quick.client, quick.records).deleted == ["late/Form_1.jpg"]
    assert quick.blob_names() == []


def test_a_form_uploaded_again_after_the_listing_keeps_its_output(stack: Stack, data_dir: Path) -> None:
    """The listing said the form was gone; it is back before the delete: nothing is removed."""
    s = stack.with_settings(SWEEP_GRACE_SECONDS="0.5")
    _ocr_now(s, "back/Form_1.jpg", _form(data_dir))
    stale = {"back": FolderInventory("back", ocr={"Form_1.jpg"})}  # listed while it was away
    time.sleep(0.6)
    done = reflect_deletions(s.settings, s.records, stale, {"back/Form_1.jpg.ocr.json": time.time() - 5})
    assert done.deleted == [] and not done.errors
    assert s.blob_names() == ["back/Form_1.jpg", "back/Form_1.jpg.ocr.json"]
    assert s.records.document("back", "Form_1.jpg")["status"] == "succeeded"  # type: ignore[index]


def test_an_ocr_file_the_pipeline_did_not_write_is_never_deleted(stack: Stack, data_dir: Path) -> None:
    """A labeling tool's `.ocr.json` (no metadata of ours) for a form that is not there stays."""
    s = stack.with_settings(SWEEP_GRACE_SECONDS="0.5")
    s.upload("tool/Form_1.jpg.ocr.json", (data_dir / PO / "Form_1.jpg.ocr.json").read_bytes())
    time.sleep(0.6)
    report = sweep(s.settings, s.client, s.records)
    assert report.deleted == [] and not report.errors
    assert s.blob_names() == ["tool/Form_1.jpg.ocr.json"] and s.records.document("tool", "Form_1.jpg") is None


def test_rows_of_forms_deleted_before_or_during_their_ocr_are_marked_deleted(
    stack: Stack, data_dir: Path
) -> None:
    s = stack.with_settings(SWEEP_GRACE_SECONDS="0.5")
    s.upload("gone/corrupt.pdf", b"%PDF-1.4 garbage")
    assert on_blob(s.settings, "gone/corrupt.pdf", s.client, s.records).status == "failed"
    s.upload("gone/Form_1.jpg", _form(data_dir))  # an attempt claimed it, then died
    assert claim_document(s.records, "gone", "Form_1.jpg", "gone/Form_1.jpg", "0xdead", 300).won
    s.upload("gone/Form_2.jpg.labels.json", b"{}")  # labels alone: no form was ever there; not touched
    process_labels_row = on_blob(s.settings, "gone/Form_2.jpg.labels.json", s.client, s.records)
    assert process_labels_row.status == "invalid"
    _delete(s, "gone/corrupt.pdf")
    _delete(s, "gone/Form_1.jpg")
    time.sleep(0.6)
    report = sweep(s.settings, s.client, s.records)
    assert report.deleted == ["gone/Form_1.jpg", "gone/corrupt.pdf"] and not report.errors
    rows = s.records.folder_documents("gone")
    assert rows["corrupt.pdf"]["status"] == "deleted" and rows["Form_1.jpg"]["status"] == "deleted"
    assert "status" not in rows["Form_2.jpg"]


def test_a_form_gone_when_its_retry_reads_it_does_not_stay_processing(stack: Stack, data_dir: Path) -> None:
    stack.upload("retry/Form_1.jpg", _form(data_dir))
    assert claim_document(stack.records, "retry", "Form_1.jpg", "retry/Form_1.jpg", "0x1", 300).won
    _delete(stack, "retry/Form_1.jpg")
    assert process_source(stack.settings, "retry/Form_1.jpg", stack.client, stack.records).status == "gone"
    row = stack.records.document("retry", "Form_1.jpg")
    assert row and row["status"] == "deleted" and row["deletedAt"]


def test_a_deleted_labeled_form_drops_out_of_the_labeled_set(stack: Stack, data_dir: Path) -> None:
    s = stack.with_settings(SWEEP_GRACE_SECONDS="0.5")
    prepare_labeled_folder(s, data_dir, "ls", 3)
    assert sorted(labeled_set(s.settings, s.records, inventory(s.settings, "ls")).docs) == [
        "Form_01.jpg", "Form_02.jpg", "Form_03.jpg"]
    _delete(s, "ls/Form_01.jpg")
    time.sleep(0.6)
    sweep(s.settings, s.client, s.records)
    labeled = labeled_set(s.settings, s.records, inventory(s.settings, "ls"))
    assert sorted(labeled.docs) == ["Form_02.jpg", "Form_03.jpg"] and "Form_01.jpg" in labeled.invalid
    assert "ls/Form_01.jpg.labels.json" in s.blob_names()
