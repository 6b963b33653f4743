"""The labels step (shared/forms/labels.py) against the real Azurite: labels validated, recorded and the
folder queued once per burst; empty, oversized and misplaced label files recorded as unusable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.forms import labels as labels_step
from shared.forms.labels import process_labels
from tests.helpers.pipeline import Stack, queue_messages, wait_for_messages


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
