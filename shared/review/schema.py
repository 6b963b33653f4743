"""A folder's `fields.json`: the fields a person labels, created and edited on the page.

Written in the labeling tool's format (`fields: [{fieldKey, fieldType, fieldFormat}]`), which training
reads; conditional on the version the page loaded, like labels. Renaming or removing a field leaves
existing labels files as they are (they keep their old names until a person saves them again).
"""

from __future__ import annotations

import json
import re
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob import ContentSettings

from shared.clients.storage import blob_service
from shared.names import FIELDS_FILE, join
from shared.review.web import ApiError
from shared.settings import Settings

__all__ = ["FIELDS_SCHEMA", "FIELD_TYPES", "save_schema"]

FIELD_TYPES = ("string", "number", "date", "time", "integer", "selectionMark", "signature")
FIELDS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/fields.json"
MAX_FIELDS = 200
_NAME = re.compile(r"^[^\x00-\x1f/\\]{1,64}$")


def save_schema(settings: Settings, folder: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
        raise ApiError(400, "BadSchema", "the body is {\"etag\": ..., \"fields\": [{\"name\", \"type\"}]}")
    fields = []
    seen: set[str] = set()
    for item in body["fields"]:
        name = str((item or {}).get("name", "")).strip() if isinstance(item, dict) else ""
        ftype = str(item.get("type") or "string") if isinstance(item, dict) else ""
        if not _NAME.match(name):
            raise ApiError(400, "BadFieldName", f"field name {name!r}: 1-64 characters, no '/' or '\\'")
        if ftype not in FIELD_TYPES:
            raise ApiError(400, "BadFieldType",
                           f"field {name!r}: type must be one of {', '.join(FIELD_TYPES)}")
        if name.casefold() in seen:
            raise ApiError(400, "DuplicateField", f"field {name!r} is there twice")
        seen.add(name.casefold())
        fields.append({"fieldKey": name, "fieldType": ftype, "fieldFormat": "not-specified"})
    if not fields or len(fields) > MAX_FIELDS:
        raise ApiError(400, "BadSchema", f"a folder has 1 to {MAX_FIELDS} fields")
    raw = json.dumps({"$schema": FIELDS_SCHEMA, "fields": fields, "definitions": {}}, indent=1).encode()
    blob = blob_service(settings).get_blob_client(settings.forms_container, join(folder, FIELDS_FILE))
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
    return {"etag": str(result.get("etag")), "fields": [{"name": f["fieldKey"], "type": f["fieldType"]}
                                                        for f in fields]}
