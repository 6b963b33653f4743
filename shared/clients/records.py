"""Table rows: Documents, TrainingRuns, Models, Fields, TrainingDocuments (schema in docs/pipeline.md).

Keys are chosen for the questions users ask: a folder's documents/runs/models are one partition each;
a model's fields and training documents are one partition each. `TrainingRuns` also holds one
folder-state row per folder (RowKey `~folder`), the row training claims are made on with ETags.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.clients.storage import table_service
from shared.names import encode_key
from shared.settings import Settings

FOLDER_STATE_KEY = "~folder"  # sorts after the run ids (digits), so "newest first" stays simple
BATCH_ROWS = 100  # the most operations one entity-group transaction may hold
MAX_TEXT = 8000  # table strings are limited to 64 KiB (32 K UTF-16 chars); keep rows well under
# Names are never cut (rows are matched to blobs by them): up to 16,000 characters, which fits 64 KiB
# even in 4-byte characters; Azure blob names have at most 1024, Azurite's URLs fail before 16,000.
NAME_COLUMNS = frozenset({"folder", "document", "blobName", "ocrBlob", "documentName"})
MAX_NAME = 16000


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str) -> float:
    """Seconds since the epoch for the timestamps this module writes (0.0 when absent/unreadable)."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return 0.0


def lost_race(exc: Exception) -> bool:
    """Whether a `conditional_write` failed because someone else wrote first (409 insert, 412 update)."""
    return isinstance(exc, ResourceExistsError) or getattr(exc, "status_code", None) in (409, 412)


def new_run_id() -> str:
    """Sortable newest-first (inverted milliseconds) and unique (random tail)."""
    inverted = 10**13 - int(time.time() * 1000)
    return f"{inverted:013d}-{secrets.token_hex(3)}"


def run_model_name(folder: str, run_id: str) -> str:
    """The name a run's training request gives its model: how a request whose worker died before
    recording it is found again (v2.1 `modelName`; the v4.0 model id is derived from it)."""
    return f"{folder}-{run_id}"


def clean(props: dict[str, Any]) -> dict[str, Any]:
    """Drop None, serialise lists/dicts as JSON, and cap long strings: tables take scalars only."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if value is None:
            continue
        if isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        limit = MAX_NAME if key in NAME_COLUMNS else MAX_TEXT
        if isinstance(value, str) and len(value) > limit:
            value = value[: limit - 3] + "..."
        out[key] = value
    return out


def entity(pk: str, rk: str, props: dict[str, Any], stamp: str | None = None) -> dict[str, Any]:
    """A table entity: encoded keys (hashed when too long: the names stay in the columns), the time of
    the write, and the properties made table-safe."""
    return {"PartitionKey": encode_key(pk), "RowKey": encode_key(rk), "updatedAt": stamp or now_iso(),
            **clean(props)}


class Records:
    """Typed access to the five tables of one deployment."""

    def __init__(self, settings: Settings):
        self.settings = settings
        service = table_service(settings)
        self.documents: TableClient = service.get_table_client(settings.documents_table)
        self.runs: TableClient = service.get_table_client(settings.training_runs_table)
        self.models: TableClient = service.get_table_client(settings.models_table)
        self.fields: TableClient = service.get_table_client(settings.fields_table)
        self.training_documents: TableClient = service.get_table_client(settings.training_documents_table)
        self.predictions: TableClient = service.get_table_client(settings.predictions_table)
        self.reviews: TableClient = service.get_table_client(settings.reviews_table)

    # -- generic ----------------------------------------------------------------------------------------
    @staticmethod
    def get(table: TableClient, pk: str, rk: str) -> dict[str, Any] | None:
        try:
            return dict(table.get_entity(encode_key(pk), encode_key(rk)))
        except ResourceNotFoundError:
            return None

    @staticmethod
    def get_with_etag(table: TableClient, pk: str, rk: str) -> tuple[dict[str, Any] | None, str | None]:
        try:
            entity = table.get_entity(encode_key(pk), encode_key(rk))
        except ResourceNotFoundError:
            return None, None
        return dict(entity), entity.metadata["etag"]

    @staticmethod
    def merge(table: TableClient, pk: str, rk: str, **props: Any) -> None:
        table.upsert_entity(entity(pk, rk, props), mode=UpdateMode.MERGE)

    @staticmethod
    def conditional_write(table: TableClient, pk: str, rk: str, etag: str | None, props: dict[str, Any],
                          mode: UpdateMode = UpdateMode.MERGE) -> str:
        """Insert when `etag` is None (fails if the row exists), else update only if the row is unchanged.

        Returns the row's new ETag; raises ResourceExistsError / HttpResponseError 412 on a lost race.
        """
        row = entity(pk, rk, props)
        if etag is None:
            meta = table.create_entity(row)
        else:
            meta = table.update_entity(row, mode=mode, etag=etag,
                                       match_condition=MatchConditions.IfNotModified)
        return str(meta.get("etag", ""))

    # -- Documents --------------------------------------------------------------------------------------
    def document(self, folder: str, name: str) -> dict[str, Any] | None:
        return self.get(self.documents, folder, name)

    def merge_document(self, folder: str, name: str, **props: Any) -> None:
        self.merge(self.documents, folder, name, folder=folder, document=name, **props)

    def folder_documents(self, folder: str, select: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """The folder's rows by document name; `select` names the only properties to fetch (less to
        send and decode: a training decision needs 5 of a row's ~20 properties)."""
        rows = self.documents.query_entities("PartitionKey eq @pk", parameters={"pk": encode_key(folder)},
                                             select=["document", *select] if select else None)
        return {str(row.get("document")): dict(row) for row in rows}

    def live_documents(self) -> list[dict[str, Any]]:
        """Rows of every folder that the OCR step wrote (they have a status) and that are not `deleted`,
        with only the columns the sweep needs to find those whose form is gone."""
        rows = self.documents.query_entities("status ne 'deleted'",
                                             select=["folder", "document", "blobName", "status", "updatedAt"])
        return [dict(row) for row in rows if row.get("status") and row.get("status") != "deleted"]

    # -- TrainingRuns -----------------------------------------------------------------------------------
    def get_folder_state(self, folder: str) -> tuple[dict[str, Any] | None, str | None]:
        return self.get_with_etag(self.runs, folder, FOLDER_STATE_KEY)

    def merge_run(self, folder: str, run_id: str, **props: Any) -> None:
        self.merge(self.runs, folder, run_id, folder=folder, runId=run_id, **props)

    def run(self, folder: str, run_id: str) -> dict[str, Any] | None:
        return self.get(self.runs, folder, run_id)

    def unfinished_runs(self) -> list[dict[str, Any]]:
        rows = self.runs.query_entities("status eq 'claimed' or status eq 'submitted' or status eq 'running'")
        return [dict(r) for r in rows if r["RowKey"] != FOLDER_STATE_KEY]

    def folder_runs(self, folder: str) -> list[dict[str, Any]]:
        rows = self.runs.query_entities("PartitionKey eq @pk", parameters={"pk": encode_key(folder)})
        return [dict(r) for r in rows if r["RowKey"] != FOLDER_STATE_KEY]

    # -- Models, Fields, TrainingDocuments --------------------------------------------------------------
    def merge_model(self, folder: str, model_id: str, **props: Any) -> None:
        self.merge(self.models, folder, model_id, folder=folder, modelId=model_id, **props)

    def model(self, folder: str, model_id: str) -> dict[str, Any] | None:
        return self.get(self.models, folder, model_id)

    def current_model_id(self, folder: str) -> str:
        state = self.get(self.runs, folder, FOLDER_STATE_KEY) or {}
        return str(state.get("currentModelId") or "")

    def current_model(self, folder: str, state: dict[str, Any] | None = None) -> tuple[str, str]:
        """The folder's current model and the API version it was trained for ('' when unknown): a
        model of another version cannot be used after FORM_RECOGNIZER_API changed. `state` is the
        folder-state row when the caller has read it already."""
        if state is None:
            state = self.get(self.runs, folder, FOLDER_STATE_KEY) or {}
        model_id = str(state.get("currentModelId") or "")
        api = str(state.get("currentModelApi") or "")
        if model_id and not api:  # made current before the state kept its API: its Models row has it
            api = str((self.model(folder, model_id) or {}).get("apiVersion") or "")
        return model_id, api

    def folder_models(self, folder: str) -> list[dict[str, Any]]:
        rows = self.models.query_entities("PartitionKey eq @pk", parameters={"pk": encode_key(folder)})
        return [dict(r) for r in rows]

    def set_current_model(self, folder: str, model_id: str) -> None:
        """Mark one model current for its folder and every other model of the folder not current."""
        for row in self.folder_models(folder):
            if row.get("isCurrent") and row.get("modelId") != model_id:
                self.merge_model(folder, str(row["modelId"]), isCurrent=False)
        self.merge_model(folder, model_id, isCurrent=True)

    @staticmethod
    def merge_many(table: TableClient, pk: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """Upsert rows of one partition in entity-group transactions: one call per 100 rows, not per row
        (a model's fields and training documents are written together when its training ends)."""
        stamp = now_iso()
        ops: list[Any] = [("upsert", entity(pk, rk, props, stamp), {"mode": UpdateMode.MERGE})
                          for rk, props in rows]
        for start in range(0, len(ops), BATCH_ROWS):
            table.submit_transaction(ops[start:start + BATCH_ROWS])

    def trained_on(self, model_id: str, document: str) -> bool:
        """Whether a model's training set held the document (its TrainingDocuments row)."""
        return self.get(self.training_documents, model_id, document) is not None

    def model_training_set(self, model_id: str) -> dict[str, str]:
        """The documents a model's training listed, each with the label hash it was trained with ('' when
        not known: no labels, or a row written before the hash was kept)."""
        rows = self.training_documents.query_entities("PartitionKey eq @pk", parameters={
            "pk": encode_key(model_id)}, select=["documentName", "labelsHash"])
        return {str(r.get("documentName")): str(r.get("labelsHash") or "") for r in rows}

    # -- Predictions, Reviews ---------------------------------------------------------------------------
    def prediction(self, folder: str, document: str) -> dict[str, Any] | None:
        return self.get(self.predictions, folder, document)

    def merge_prediction(self, folder: str, document: str, **props: Any) -> None:
        self.merge(self.predictions, folder, document, folder=folder, document=document, **props)

    def folder_predictions(self, folder: str) -> dict[str, dict[str, Any]]:
        rows = self.predictions.query_entities("PartitionKey eq @pk", parameters={"pk": encode_key(folder)})
        return {str(row.get("document")): dict(row) for row in rows}

    def model_reviews(self, model_id: str) -> list[dict[str, Any]]:
        rows = self.reviews.query_entities("PartitionKey eq @pk", parameters={"pk": encode_key(model_id)})
        return [dict(r) for r in rows]

    def write_fields(self, model_id: str, folder: str, fields: list[tuple[str, float | None]]) -> None:
        self.merge_many(self.fields, model_id, [
            (name, {"modelId": model_id, "folder": folder, "fieldName": name, "accuracy": accuracy})
            for name, accuracy in fields])

    def write_training_documents(self, model_id: str, folder: str, documents: list[dict[str, Any]]) -> None:
        rows = []
        for doc in documents:
            errors = doc.get("errors") or []
            rows.append((doc["documentName"], {
                "modelId": model_id, "folder": folder, "documentName": doc["documentName"],
                "status": doc.get("status"), "pages": doc.get("pages"), "errorCount": len(errors),
                "errors": errors, "labelsHash": doc.get("labelsHash")}))
        self.merge_many(self.training_documents, model_id, rows)
