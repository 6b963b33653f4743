"""When a folder trains (shared/training/policy.py): the threshold, the fingerprint, new labels, a run in
flight, the labeled set in table-sized chunks, and labels on a page the document does not have."""

from __future__ import annotations

import json
from pathlib import Path

from shared.settings import load_settings
from shared.training.policy import LabeledSet, decide, pack_set, unpack_set
from shared.training.start import start_training_if_due
from tests.helpers.pipeline import Stack, fast_client, prepare_labeled_folder

BASE_ENV = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:1/"}


def _labeled(n: int, version: str = "a") -> LabeledSet:
    return LabeledSet(docs={f"f{i}.pdf": f"{version}{i}" for i in range(n)})


def test_policy_threshold_fingerprint_new_labels_and_in_flight() -> None:
    s = load_settings({**BASE_ENV, "TRAINING_THRESHOLD": "10", "RETRAIN_MIN_NEW_LABELS": "3"})
    assert not decide(s, _labeled(9), None, False).train
    first = decide(s, _labeled(10), None, False)
    assert first.train and first.labeled_count == 10 and first.new_labels == 10
    state = {"lastFingerprint": first.fingerprint, **pack_set(_labeled(10).docs)}
    assert "unchanged" in decide(s, _labeled(10), state, False).reason
    two_more = decide(s, _labeled(12), state, False)
    assert not two_more.train and two_more.new_labels == 2
    assert decide(s, _labeled(13), state, False).train
    assert "in flight" in decide(s, _labeled(13), state, True).reason
    # a changed label file counts as new
    changed = _labeled(10)
    for i in range(3):
        changed.docs[f"f{i}.pdf"] = "changed"
    assert decide(s, changed, state, False).new_labels == 3


def test_fingerprint_depends_on_names_and_contents_only() -> None:
    assert _labeled(5).fingerprint == _labeled(5).fingerprint
    assert _labeled(5).fingerprint != _labeled(5, "b").fingerprint
    assert _labeled(5).fingerprint != _labeled(6).fingerprint


def test_labeled_set_survives_table_property_chunking() -> None:
    docs = {f"folder-document-{i:05d}.pdf": f"{i:016x}" for i in range(3000)}
    props = pack_set(docs)
    assert props["lastLabeledSetChunks"] > 1
    assert all(len(v) <= 30000 for k, v in props.items() if k != "lastLabeledSetChunks")
    assert unpack_set(props) == docs


def test_labels_on_a_page_the_document_does_not_have_do_not_count(stack: Stack, data_dir: Path) -> None:
    """Labels naming page 2 of a one-page form were counted toward the threshold, and the engine then
    refused them (LabelPageNotFound). The verdict follows the OCR's page count, also when it changes."""
    s = stack.with_settings(TRAINING_THRESHOLD="2")
    prepare_labeled_folder(s, data_dir, "po", 2)
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
