"""Issue 21 item 5: a retrain trains on something the current model did not (real Azurite, real engine).
Holding back every new form would train the current model's set again; with one new form the retrain
waits for another, and the Models row says how the model that trains was compared."""

from __future__ import annotations

import json
from pathlib import Path

from shared.forms.inventory import inventory
from shared.training.policy import labeled_set
from shared.training.start import due, start_training_if_due
from shared.triggers.sweep import sweep
from tests.helpers.pipeline import Stack, prepare_labeled_folder
from tests.helpers.training import train_to_end

PO = "purchase-orders"
FOLDER = "grow"


def _add_labeled(stack: Stack, data_dir: Path, number: int, drop: str = "") -> str:
    """One more labeled form (a copy of a sample, with its OCR and labels; `drop` leaves a field out)."""
    src, doc = (number - 1) % 5 + 1, f"Form_{number:02d}.jpg"
    stack.upload(f"{FOLDER}/{doc}", (data_dir / PO / f"Form_{src}.jpg").read_bytes())
    stack.upload(f"{FOLDER}/{doc}.ocr.json", (data_dir / PO / f"Form_{src}.jpg.ocr.json").read_bytes())
    labels = json.loads((data_dir / PO / f"Form_{src}.jpg.labels.json").read_text())
    labels["document"] = doc
    labels["labels"] = [item for item in labels["labels"] if item["label"] != drop]
    stack.upload(f"{FOLDER}/{doc}.labels.json", json.dumps(labels).encode())
    return doc


def _trained_on(stack: Stack, model_id: str) -> set[str]:
    return {doc for doc, digest in stack.records.model_training_set(model_id).items() if digest}


def test_a_retrain_never_trains_on_the_current_models_set_again(stack: Stack, data_dir: Path) -> None:
    prepare_labeled_folder(stack, data_dir, FOLDER, 6)
    _, first = train_to_end(stack, FOLDER)
    assert first["promotion"] == "first" and first["comparison"] == "none"
    assert len(_trained_on(stack, str(first["modelId"]))) == 6

    # one new labeled form: holding it back would train the same six forms again, so the retrain waits
    seventh = _add_labeled(stack, data_dir, 7)
    decision = start_training_if_due(stack.settings, FOLDER, stack.client, stack.records)
    assert not decision.train and decision.labeled_count == 7
    assert decision.reason.startswith(f"1 labeled form the current model {first['modelId']} did not train on "
                                      f"({seventh!r}): held back to compare, the retrain would train on the "
                                      f"same forms again"), decision.reason
    assert sweep(stack.settings, stack.client, stack.records).folders_requested == []  # the sweep agrees
    # without a comparison (PROMOTION_HOLDOUT_MAX=0) there is nothing to wait for
    direct = stack.with_settings(PROMOTION_HOLDOUT_MAX="0")
    state, _ = direct.records.get_folder_state(FOLDER)
    labeled = labeled_set(direct.settings, direct.records, inventory(direct.settings, FOLDER))
    decided, holdout = due(direct.settings, direct.records, FOLDER, labeled, state, False)
    assert decided.train and holdout.docs == [] and holdout.note == "PROMOTION_HOLDOUT_MAX=0"

    # a second new form: one is held back, the other is trained on
    eighth = _add_labeled(stack, data_dir, 8)
    run, second = train_to_end(stack, FOLDER)
    assert json.loads(run["holdout"]) == [eighth] and run["trainingCount"] == 7
    assert run["newTrainingForms"] == 1
    assert _trained_on(stack, str(second["modelId"])) == _trained_on(stack, str(first["modelId"])) | {seventh}
    assert second["comparison"] == "holdout" and second["newTrainingForms"] == 1
    assert second["holdoutDocuments"] == 1 and second["comparedWith"] == first["modelId"]
    assert second["promotionReason"].endswith("; it trained on 1 labeled form the current model did not")

    # changed labels on a form the current model trained on are something new: then every new form may be
    # held back (here the eighth, still new to whichever model is current)
    promoted = stack.records.current_model_id(FOLDER) == second["modelId"]
    _add_labeled(stack, data_dir, 1, drop="Tax")
    run, third = train_to_end(stack, FOLDER)
    assert json.loads(run["holdout"]) == [eighth] and third["comparison"] == "holdout"
    assert third["newTrainingForms"] == (1 if promoted else 2)  # Form_01's new labels (and the seventh)
    hashes = [stack.records.model_training_set(str(m["modelId"]))["Form_01.jpg"] for m in (second, third)]
    assert hashes[0] and hashes[1] and hashes[0] != hashes[1]  # it trained on the new labels
