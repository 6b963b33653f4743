"""What a retrain holds back to compare with the current model, and when it must wait instead.

A retrain has to train on something the current model did not: a labeled form it did not train on, or
new labels on one it did. The comparison needs forms neither model trained on, which can only be such
new forms. So when holding back every new form would leave the training set as the current model's
(the same forms with the same labels: "a retrain that learns nothing"), one new form fewer is held back;
and when that leaves none (a single new form, no changed labels), the retrain waits for another new
labeled form: holding the form back trains the same model again, training on it leaves nothing to
compare on. What the current model trained on is its TrainingDocuments rows, with the label hash each
form was trained with (rows written before the hash was kept: by name, labels assumed unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.clients.records import Records
from shared.settings import Settings

__all__ = ["Holdout", "choose_holdout"]


@dataclass
class Holdout:
    """The forms a retrain holds back from its training set, or why it waits for more labels."""

    baseline: str = ""  # the current model it is compared with ('' for none)
    docs: list[str] = field(default_factory=list)
    new: int = 0  # labeled forms it trains on that the baseline did not (new forms, or new labels)
    note: str = ""  # why nothing is held back, when nothing is
    wait: str = ""  # set: the retrain waits for more labels, and this says why


def choose_holdout(settings: Settings, records: Records, folder: str, labeled: dict[str, str]) -> Holdout:
    """The newest labeled forms the current model did not train on, within PROMOTION_HOLDOUT_SHARE and
    PROMOTION_HOLDOUT_MAX, leaving at least TRAINING_THRESHOLD forms to train on, and at least one form
    the current model did not train on (`labeled`: document -> short label hash)."""
    baseline, api = records.current_model(folder)
    if not baseline or (api and api != settings.fr_api):
        return Holdout()  # the first model, or one of another API version: no comparison
    if settings.promotion_holdout_max <= 0:
        return Holdout(baseline, note="PROMOTION_HOLDOUT_MAX=0")
    trained, hashed = _trained_set(records, baseline)
    fresh = [doc for doc in labeled if doc not in trained]
    changed = [doc for doc, digest in labeled.items() if trained.get(doc) not in (None, "", digest)]
    share = int(len(labeled) * settings.promotion_holdout_share)
    count = min(len(fresh), settings.promotion_holdout_max, share, len(labeled) - settings.training_threshold)
    if count and count == len(fresh) and not changed:
        count -= 1  # holding back every new form would train on the current model's set again
        if not count:
            return Holdout(baseline, wait=_single_new_form(baseline, fresh[0]))
    if hashed and not fresh and not changed:
        return Holdout(baseline, wait=f"the labeled set holds nothing the current model {baseline} did not "
                                      f"train on; waiting for new labels")
    held = _newest(records, folder, fresh, count)
    note = "" if held else _why_none(fresh, len(labeled), share)
    return Holdout(baseline, held, len(fresh) - len(held) + len(changed), note)


def _trained_set(records: Records, model_id: str) -> tuple[dict[str, str], bool]:
    """The forms the model trained on, with their label hashes, and whether the hashes are known. A
    service may list forms it read but did not train on (no labels): rows with a hash are the set."""
    rows = records.model_training_set(model_id)
    hashed = any(rows.values())
    return ({doc: digest for doc, digest in rows.items() if digest} if hashed else rows), hashed


def _newest(records: Records, folder: str, fresh: list[str], count: int) -> list[str]:
    if count <= 0:
        return []
    rows = records.folder_documents(folder, select=["labelsCheckedAt"])
    fresh = sorted(fresh, key=lambda doc: (str((rows.get(doc) or {}).get("labelsCheckedAt") or ""), doc),
                   reverse=True)
    return sorted(fresh[:count])


def _single_new_form(baseline: str, doc: str) -> str:
    return (f"1 labeled form the current model {baseline} did not train on ({doc!r}): held back to compare, "
            f"the retrain would train on the same forms again; trained on, nothing would be left to compare "
            f"on. Waiting for another new labeled form (PROMOTION_HOLDOUT_MAX=0 trains without a comparison)")


def _why_none(fresh: list[str], labeled: int, share: int) -> str:
    if not fresh:
        return "the new labels are on forms the current model trained on"
    return (f"{labeled} labeled forms leave none to hold back (at most PROMOTION_HOLDOUT_SHARE of them: "
            f"{share}, keeping TRAINING_THRESHOLD to train on)")
