"""A person makes a ready model the folder's current one (`formloop promote`, the review page's "make
current").

The pipeline promotes a retrained model only when it is not worse on held-back forms; a person may
know better (the held-back forms were few, or the new model reads the field that matters). This is
that override: the same `make_current` the pipeline uses (the folder's state names the model, its
unreviewed forms are predicted again by it), and the model's row says `promotion=manual`, so the
decision is on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.clients.queues import request_repredict
from shared.clients.records import Records
from shared.clients.storage import queue_service
from shared.settings import Settings
from shared.training.promotion import make_current

__all__ = ["MANUAL", "Promoted", "promote"]

MANUAL = "manual"
MANUAL_REASON = "promoted by hand (formloop promote)"



def _describe(models: list[dict[str, Any]]) -> str:
    if not models:
        return "it has no models yet"
    listed = ", ".join(
        f"{m.get('modelId')} ({m.get('status', '?')}{', current' if m.get('isCurrent') else ''})"
        for m in sorted(models, key=lambda m: str(m.get("createdDateTime", "")), reverse=True)
    )
    return f"its models: {listed}"


@dataclass
class Promoted:
    previous: str  # the model it replaced ('' when the folder had none)
    changed: bool  # False: it was current already, and nothing was written


def promote(settings: Settings, records: Records, folder: str, model_id: str,
            reason: str = MANUAL_REASON) -> Promoted:
    """Make the model current and record the manual decision. Raises ValueError with a message for a
    person when the model cannot be made current."""
    row = records.model(folder, model_id)
    if row is None:
        try:
            models = records.folder_models(folder)
        except ResourceNotFoundError:  # no Models table yet: nothing ever trained
            models = []
        raise ValueError(f"no model {model_id!r} in folder {folder!r}; {_describe(models)}")
    status = str(row.get("status") or "")
    if status != "ready":
        raise ValueError(f"model {model_id!r} of folder {folder!r} is {status or 'without a status'}: "
                         f"only a ready model can predict, so only a ready model can be current")
    previous = records.current_model_id(folder)
    if previous == model_id and row.get("isCurrent"):
        return Promoted(previous, changed=False)  # keep the decision that made it current on record
    try:
        make_current(settings, records, folder, model_id)
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) != "QueueNotFound":
            raise
        # the function app creates its queues when it starts; a CLI run before that creates this one
        queue_service(settings).create_queue(settings.prediction_queue)
        request_repredict(settings, folder, model_id)
    records.merge_model(folder, model_id, promotion=MANUAL, promotionReason=reason)
    return Promoted(previous, changed=True)
