"""Issue 12 item 4: long names and deep paths get rows, and one bad item never stops the sweep.

Azure Tables limit PartitionKey and RowKey to 1 KiB each, counted in UTF-16 (Azurite enforces the same:
512 ASCII characters pass, 513 fail with 400). Percent-encoding makes a folder key grow (`/` → `%2F`), so
a 150-level path fails too. These names used to fail the row write on every attempt: the blob was
poisoned with no row, and every later sweep stopped at it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from shared.clients.storage import blob_service
from shared.forms.labels import process_labels
from shared.names import MAX_KEY_BYTES, decode_key, encode_key, is_hashed_key
from shared.training.start import start_training_if_due
from shared.triggers.blob import on_blob
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import Stack, counting


def _utf16_bytes(key: str) -> int:
    return len(key.encode("utf-16-le", "surrogatepass"))


def _form(data_dir: Path, i: int = 1) -> bytes:
    return (data_dir / "purchase-orders" / f"Form_{i}.jpg").read_bytes()


def _labels_for(data_dir: Path, document: str) -> bytes:
    labels = json.loads((data_dir / "purchase-orders" / "Form_1.jpg.labels.json").read_text())
    labels["document"] = document
    return json.dumps(labels).encode()


def _named(folder: str, total: int) -> str:
    """A form name of exactly `total` characters in `folder`."""
    stem = total - len(folder) - 1 - len(".jpg")
    return f"{folder}/{'n' * stem}.jpg"


@pytest.mark.parametrize("value", ["x" * 600, "/".join(["d"] * 150), "😀" * 257, "中" * 513, "ü/" * 400])
def test_keys_too_long_for_a_table_become_short_deterministic_hashed_keys(value: str) -> None:
    key = encode_key(value)
    assert _utf16_bytes(key) <= MAX_KEY_BYTES and not any(c in key for c in "/\\#?")
    assert encode_key(value) == key and is_hashed_key(key)
    assert encode_key(value + "y") != key  # the same readable prefix, another name: another key
    with pytest.raises(ValueError, match="hashed"):
        decode_key(key)  # never "decoded" into a wrong name: the name is in the row's columns


def test_keys_that_fit_are_unchanged_and_never_look_hashed() -> None:
    for value in ("a" * 512, "😀" * 256, "/" * 170, "x%~" + "0" * 64, ""):
        key = encode_key(value)
        assert _utf16_bytes(key) <= MAX_KEY_BYTES and not is_hashed_key(key)
        assert decode_key(key) == value
    assert encode_key("a" * 512) == "a" * 512  # rows written before keep their keys
    assert is_hashed_key(encode_key("a" * 513))


def test_a_600_character_form_name_gets_its_row_its_ocr_and_its_labels(stack: Stack, data_dir: Path) -> None:
    name = _named("long", 600)
    doc = name.split("/", 1)[1]
    stack.upload(name, _form(data_dir))
    assert on_blob(stack.settings, name, stack.client, stack.records).status == "succeeded"
    row = stack.records.document("long", doc)
    assert row and row["status"] == "succeeded" and row["document"] == doc and row["blobName"] == name
    assert is_hashed_key(row["RowKey"]) and name + ".ocr.json" in stack.blob_names()
    # read back by key and by the document column; a duplicate event finds the row
    assert stack.records.folder_documents("long")[doc]["status"] == "succeeded"
    assert on_blob(stack.settings, name, stack.client, stack.records).status == "skipped"
    stack.upload(name + ".labels.json", _labels_for(data_dir, doc))
    check = process_labels(stack.settings, name + ".labels.json", stack.records, enqueue=False)
    assert check is not None and check.ok, check and check.errors
    assert stack.records.document("long", doc)["labeled"] is True  # type: ignore[index]


def test_a_150_level_path_gets_its_rows_and_a_training_decision(stack: Stack, data_dir: Path) -> None:
    folder = "/".join(["d"] * 150)  # the folder key was 597 UTF-16 units once encoded
    name = f"{folder}/Form_1.jpg"
    stack.upload(name, _form(data_dir))
    assert on_blob(stack.settings, name, stack.client, stack.records).status == "succeeded"
    stack.upload(name + ".labels.json", _labels_for(data_dir, "Form_1.jpg"))
    assert on_blob(stack.settings, name + ".labels.json", stack.client, stack.records).status == "valid"
    row = stack.records.document(folder, "Form_1.jpg")
    assert row and row["status"] == "succeeded" and row["labeled"] is True and row["folder"] == folder
    assert is_hashed_key(row["PartitionKey"]) and not is_hashed_key(row["RowKey"])
    decision = start_training_if_due(stack.settings, folder, stack.client, stack.records)
    assert not decision.train and decision.labeled_count == 1  # threshold 5
    state, _ = stack.records.get_folder_state(folder)
    assert state and state["folder"] == folder and state["labeledCount"] == 1


def test_a_form_whose_ocr_file_name_could_not_exist_gets_a_failed_row_without_ocr(
    stack: Stack, data_dir: Path
) -> None:
    """Azure allows 1024 characters per blob name: a 1020-character form is fine, its `.ocr.json` is not."""
    client = counting(stack)
    for total in (1020, 9000):  # 9000: Azurite takes it, Azure would not; no name column is cut
        name = _named("toolong", total)
        stack.upload(name, _form(data_dir))
        outcome = on_blob(stack.settings, name, client, stack.records)
        assert outcome.status == "failed" and "NameTooLong" in outcome.detail
        row = stack.records.document("toolong", name.split("/", 1)[1])
        assert row and row["status"] == "failed" and row["errorCode"] == "NameTooLong"
        assert row["blobName"] == name and "1024" in row["errorMessage"]
        assert f"would be {total + 9} characters" in row["errorMessage"]
    assert client.layout_posts == 0 and not [n for n in stack.blob_names() if n.endswith(".ocr.json")]
    assert len(stack.records.folder_documents("toolong")) == 2


def test_one_bad_item_never_stops_the_sweep_of_the_folders_after_it(stack: Stack, data_dir: Path) -> None:
    s = stack.with_settings(SWEEP_GRACE_SECONDS="0.5")
    archived = "a-archived/Form_1.jpg"  # storage refuses to read it (409): not a service error
    s.upload(archived, _form(data_dir))
    blob_service(s.settings).get_blob_client(s.settings.forms_container, archived).set_standard_blob_tier(
        "Archive"
    )
    long_name = _named("b-long", 600)  # the item that used to stop every sweep
    s.upload(long_name, _form(data_dir, 2))
    s.upload("c-good/Form_3.jpg", _form(data_dir, 3))
    time.sleep(0.6)
    report = sweep(s.settings, s.client, s.records)
    assert report.ocr_started == [long_name, "c-good/Form_3.jpg"]
    assert len(report.errors) == 1 and report.errors[0].startswith(f"{archived}: ")
    assert s.records.document("c-good", "Form_3.jpg")["status"] == "succeeded"  # type: ignore[index]
