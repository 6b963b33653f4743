"""A new model must earn its place: it becomes current only if it is not worse than the current one
on labeled forms neither model trained on.

How that evidence is kept apart: when a folder with a current model trains again, the newest labeled
forms the current model did not train on (at most PROMOTION_HOLDOUT_SHARE of the set, at most
PROMOTION_HOLDOUT_MAX, never all of them unless labels changed: training/holdout.py) are held back.
The candidate trains on a snapshot of the rest (copied to the
snapshot container under `<folder>/<runId>/`, since the service trains on everything under a
prefix), and when it is ready both models analyze the held-back forms; their answers are compared
with the labels, field by field. Accuracies of leave-one-out estimates from different training sets
are not comparable; this is one test set for both. Held-back forms are not lost to training: the
next retrain holds back only forms newer than what the then-current model trained on.

The folder's first model is promoted at once (`first`), as is one replacing a current model of another
API version (`switched`); a retrain with nothing to hold back (its new labels correct forms the current
model trained on) is promoted with that reason; the Models row says which comparison was made
(`comparison`). A person can override with `formloop promote` (`manual`).
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.clients.formrecognizer import FormRecognizerClient, FormRecognizerError, content_type_for
from shared.clients.queues import request_repredict
from shared.clients.records import FOLDER_STATE_KEY, Records
from shared.clients.sas import container_sas_url
from shared.clients.storage import blob_service
from shared.names import FIELDS_FILE, folder_prefix, join, labels_name, ocr_name
from shared.predictions.field_values import compare, labeled_values, predicted_fields
from shared.settings import Settings
from shared.training.holdout import Holdout
from shared.wording import counted

log = logging.getLogger(__name__)
SWITCHED = "switched"  # replaced a current model of another API version (FORM_RECOGNIZER_API changed)
HOLDOUT, NO_COMPARISON = "holdout", "none"  # how a model was compared with the current one (`comparison`)


@dataclass
class TrainingPlan:
    """Where the service reads the training set from, and what was held back from it."""

    source_url: str
    prefix: str
    baseline_model_id: str = ""
    holdout: list[str] = field(default_factory=list)

    @property
    def snapshot(self) -> bool:
        return bool(self.holdout)


def plan_training(settings: Settings, folder: str, run_id: str, labeled: list[str],
                  holdout: Holdout) -> TrainingPlan:
    """The whole folder when nothing is held back; else a snapshot without the held-back forms."""
    if not holdout.docs:
        return TrainingPlan(container_sas_url(settings), folder_prefix(folder), holdout.baseline)
    prefix = folder_prefix(join(folder, run_id))
    held = set(holdout.docs)
    _copy_set(settings, folder, prefix, [doc for doc in labeled if doc not in held])
    return TrainingPlan(container_sas_url(settings, container=settings.snapshot_container), prefix,
                        holdout.baseline, holdout.docs)


def _copy_set(settings: Settings, folder: str, prefix: str, docs: list[str]) -> None:
    service = blob_service(settings)
    source = service.get_container_client(settings.forms_container)
    target = service.get_container_client(settings.snapshot_container)
    names = [FIELDS_FILE] + [n for doc in docs for n in (doc, ocr_name(doc), labels_name(doc))]
    for name in names:
        try:
            data = source.get_blob_client(join(folder, name)).download_blob().readall()
        except ResourceNotFoundError:
            continue  # no fields.json: the service infers the fields from the labels
        target.get_blob_client(prefix + name).upload_blob(data, overwrite=True)


def drop_snapshot(settings: Settings, prefix: str) -> None:
    """The snapshot is only read while the model trains; remove it once the run ended."""
    container = blob_service(settings).get_container_client(settings.snapshot_container)
    for blob in container.list_blobs(name_starts_with=prefix):
        if "/" not in blob.name[len(prefix):]:
            with contextlib.suppress(ResourceNotFoundError):
                container.delete_blob(blob.name)


@dataclass
class Score:
    fields: int = 0
    agreed: int = 0
    documents: int = 0

    @property
    def accuracy(self) -> float | None:
        return round(self.agreed / self.fields, 4) if self.fields else None


def score_models(settings: Settings, client: FormRecognizerClient, folder: str, models: list[str],
                 docs: list[str]) -> tuple[list[Score], list[str]]:
    """Each model's agreement with the labels of the held-back forms, on the forms every model could
    analyze (one download of each form and its labels for all models), and why any form was left out."""
    container = blob_service(settings).get_container_client(settings.forms_container)
    scores = [Score() for _ in models]
    skipped: list[str] = []
    for doc in docs:
        name = join(folder, doc)
        try:
            content = container.get_blob_client(name).download_blob().readall()
            labels = labeled_values(container.get_blob_client(labels_name(name)).download_blob().readall())
            bodies = [client.analyze_custom(model, content, content_type_for(content[:8], name),
                                            settings.ocr_deadline_seconds)[0] for model in models]
        except ResourceNotFoundError:
            skipped.append(f"{doc}: deleted")
            continue
        except FormRecognizerError as exc:
            if exc.transient:
                raise  # the run is recorded again at the next poll
            skipped.append(f"{doc}: {exc.code}")
            continue
        for score, body in zip(scores, bodies, strict=True):
            result = compare(predicted_fields(body), labels, settings.review_confidence)
            score.documents += 1
            score.fields += result.fields
            score.agreed += len(result.agreed)
    return scores, skipped


def make_current(settings: Settings, records: Records, folder: str, model_id: str) -> None:
    """The model's row says current, the folder's state names it (and the API version it was trained
    for: predictions use it only with that version), and its folder is re-predicted."""
    api = str((records.model(folder, model_id) or {}).get("apiVersion") or "")
    records.set_current_model(folder, model_id)
    records.merge(records.runs, folder, FOLDER_STATE_KEY, folder=folder, currentModelId=model_id,
                  currentModelApi=api)
    request_repredict(settings, folder, model_id)


@dataclass
class Promotion:
    decision: str  # first | promoted | held | manual | switched
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def promoted(self) -> bool:
        return self.decision in ("first", "promoted", "manual", SWITCHED)


def _api_promotion(settings: Settings, run: dict[str, Any], current: str,
                   current_api: str) -> Promotion | None:
    """The decision when the candidate and the current model belong to different API versions (after
    FORM_RECOGNIZER_API changed): no service can analyze with both, so there is no comparison."""
    run_api = str(run.get("apiVersion") or settings.fr_api)
    if run_api != settings.fr_api:
        return Promotion("held", f"trained for API {run_api}, but FORM_RECOGNIZER_API is now "
                                 f"{settings.fr_api}, which cannot use it")
    if current_api and current_api != run_api:
        return Promotion(SWITCHED, f"the current model {current} was trained for API {current_api}, which "
                                   f"FORM_RECOGNIZER_API={run_api} cannot use: this model, trained for "
                                   f"{run_api} on the folder's labeled set, replaces it without a comparison")
    return None


def decide_promotion(settings: Settings, client: FormRecognizerClient, records: Records,
                     run: dict[str, Any], candidate: str) -> Promotion:
    """Whether the candidate becomes current; its figures say how it was compared (`comparison`:
    `holdout` on forms neither model trained on, or `none`) and on how many labeled forms it trained that
    the current model did not (`newTrainingForms`)."""
    promotion = _decide(settings, client, records, run, candidate)
    promotion.figures.setdefault("comparison", NO_COMPARISON)
    if run.get("newTrainingForms") is not None and promotion.decision != "first":
        promotion.figures["newTrainingForms"] = run["newTrainingForms"]
    return promotion


def _decide(settings: Settings, client: FormRecognizerClient, records: Records, run: dict[str, Any],
            candidate: str) -> Promotion:
    folder = str(run["folder"])
    current, current_api = records.current_model(folder)
    if not current or current == candidate:
        return Promotion("first", "the folder's first model")
    switch = _api_promotion(settings, run, current, current_api)
    if switch is not None:
        return switch
    holdout = [str(d) for d in json.loads(str(run.get("holdout") or "[]"))]
    if not holdout:
        why = str(run.get("holdoutNote") or "the new labels are on forms the current model trained on")
        return Promotion("promoted", f"nothing held back ({why}); promoted without a comparison")
    (new, old), skipped = score_models(settings, client, folder, [candidate, current], holdout)
    figures = {"holdoutDocuments": new.documents, "holdoutFields": new.fields,
               "candidateAccuracy": new.accuracy, "currentAccuracy": old.accuracy,
               "comparedWith": current}
    if new.documents == 0:
        return Promotion("promoted", f"no held-back form could be analyzed by both models "
                                     f"({'; '.join(skipped)}); promoted without a comparison", figures)
    verdict = "promoted" if (new.accuracy or 0) >= (old.accuracy or 0) else "held"
    worse = "not worse than" if verdict == "promoted" else "worse than"
    reason = (f"{new.agreed}/{new.fields} fields right on {counted(new.documents, 'held-back form')} against "
              f"{old.agreed}/{old.fields} for the current model {current}: {worse} it")
    if run.get("newTrainingForms") is not None:
        learned = counted(int(run["newTrainingForms"]), "labeled form")
        reason += f"; it trained on {learned} the current model did not"
    return Promotion(verdict, reason, {**figures, "comparison": HOLDOUT})
