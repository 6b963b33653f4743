"""A folder's `fields.json`: the fields a person labels, created and edited on the page.

Written in the labeling tool's format (`fields: [{fieldKey, fieldType, fieldFormat}]`, `definitions`),
which training reads; conditional on the version the page loaded, like labels. Renaming or removing a
field leaves existing labels files as they are (they keep their old names until a person saves them
again). Table fields (`array`, `object`) already declared are written back exactly as they were, with
their definitions; a new table is made from its columns (shared/review/tables/fields.py). A scalar field
kept under its name and type keeps its entry (a date's `fieldFormat` set in the labeling tool stays).
"""

from __future__ import annotations

import json
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobClient, ContentSettings

from shared.clients.storage import blob_service
from shared.names import FIELDS_FILE, join
from shared.review.tables.fields import NAME, TABLE_TYPES, is_field_schema, page_fields, table_entries
from shared.review.web import ApiError
from shared.settings import Settings

__all__ = ["FIELDS_SCHEMA", "FIELD_TYPES", "save_schema"]

FIELD_TYPES = ("string", "number", "date", "time", "integer", "selectionMark", "signature")
FIELDS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/fields.json"
MAX_FIELDS = 200


def _current(blob: BlobClient) -> dict[str, Any]:
    """The file as it is now ({} when there is none or it is no JSON object: the page replaces it)."""
    try:
        data = json.loads(blob.download_blob().readall())
    except (ResourceNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_schema(settings: Settings, folder: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
        raise ApiError(400, "BadSchema", "the body is {\"etag\": ..., \"fields\": [{\"name\", \"type\"}]}")
    blob = blob_service(settings).get_blob_client(settings.forms_container, join(folder, FIELDS_FILE))
    current = _current(blob)
    if is_field_schema(current):
        raise ApiError(409, "FieldSchemaFile", "this folder's fields.json is in the 2024-11-30 form "
                                               "(fieldSchema); the page does not rewrite it: edit the file")
    scalars = {str(f["fieldKey"]): f for f in current.get("fields") or []
               if isinstance(f, dict) and f.get("fieldKey") and f.get("fieldType") not in TABLE_TYPES}
    order: list[tuple[str, dict[str, Any] | None]] = []  # (name, entry); None: a table, made below
    tables = []
    seen: set[str] = set()
    for item in body["fields"]:
        name = str((item or {}).get("name", "")).strip() if isinstance(item, dict) else ""
        ftype = str(item.get("type") or "string") if isinstance(item, dict) else ""
        if not NAME.match(name):
            raise ApiError(400, "BadFieldName", f"field name {name!r}: 1-64 characters, no '/' or '\\'")
        if ftype not in FIELD_TYPES + TABLE_TYPES:
            raise ApiError(400, "BadFieldType",
                           f"field {name!r}: type must be one of {', '.join(FIELD_TYPES + TABLE_TYPES)}")
        if name.casefold() in seen:
            raise ApiError(400, "DuplicateField", f"field {name!r} is there twice")
        seen.add(name.casefold())
        if ftype in TABLE_TYPES:
            tables.append({**item, "name": name, "type": ftype})
            order.append((name, None))
        else:
            old = scalars.get(name)
            keep = old is not None and old.get("fieldType") == ftype
            order.append((name, old if keep else {"fieldKey": name, "fieldType": ftype,
                                                  "fieldFormat": "not-specified"}))
    if not order or len(order) > MAX_FIELDS:
        raise ApiError(400, "BadSchema", f"a folder has 1 to {MAX_FIELDS} fields")
    made, definitions = table_entries(tables, current, FIELD_TYPES[:-1])
    fields = [entry if entry is not None else made[name] for name, entry in order]
    written = {"$schema": FIELDS_SCHEMA, "fields": fields, "definitions": definitions}
    raw = json.dumps(written, indent=1).encode()
    options: dict[str, Any] = {"content_settings": ContentSettings(content_type="application/json")}
    try:
        if body.get("etag"):
            result = blob.upload_blob(raw, overwrite=True, etag=str(body["etag"]),
                                      match_condition=MatchConditions.IfNotModified, **options)
        else:
            result = blob.upload_blob(raw, overwrite=False, **options)
    except (ResourceModifiedError, ResourceExistsError) as exc:
        raise ApiError(409, "Conflict", "the folder's fields were changed by someone else after you "
                                        "opened them; reload and make your change again") from exc
    return {"etag": str(result.get("etag")), "fields": page_fields(written)}
