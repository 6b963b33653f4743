"""Forms deleted from the container: their `.ocr.json` is removed and their Documents row says `deleted`.

Why the sweep does it: the Event Grid blob trigger delivers only BlobCreated (the scan source sees no
deletions at all), so the sweep, which lists the container anyway, notices them. Only our own outputs
are removed (an `.ocr.json` carrying the pipeline's metadata); a user's `.labels.json` or a labeling
tool's `.ocr.json` is left in place and the row says so.

Races: an output younger than SWEEP_GRACE_SECONDS may come from an OCR that was running when its form
was deleted, and a form may be uploaded again after the listing. So the form's absence is checked again
right before each change, the output is deleted only if unchanged (its ETag), and the row is written
only if unchanged since it was read (a new upload's claim wins).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobProperties, ContainerClient

from shared.clients.records import Records, lost_race, now_iso, parse_iso
from shared.clients.storage import blob_service
from shared.errors import one_line
from shared.names import basename, folder_of, join, labels_name, ocr_name, prediction_name
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.forms.inventory import FolderInventory

log = logging.getLogger(__name__)
OUTPUTS: tuple[Callable[[str], str], ...] = (ocr_name, prediction_name)  # what we write beside a form
OURS = "source_etag"  # metadata every output of ours carries (user and tool files do not)


@dataclass
class Deletions:
    deleted: list[str] = field(default_factory=list)  # forms whose deletion was reflected now
    errors: list[str] = field(default_factory=list)


def _container(settings: Settings) -> ContainerClient:
    return blob_service(settings).get_container_client(settings.forms_container)


def _properties(blob: BlobClient) -> BlobProperties | None:
    try:
        return blob.get_blob_properties()
    except ResourceNotFoundError:
        return None


def mark_deleted(settings: Settings, records: Records, blob_name: str, left: tuple[str, ...] = ()) -> bool:
    """Set the form's row to `deleted` if the form is really gone. False when there is nothing to mark:
    no row, a row the OCR step never wrote (labels alone), a row already `deleted`, or the form is back."""
    folder, doc = folder_of(blob_name), basename(blob_name)
    row, etag = records.get_with_etag(records.documents, folder, doc)
    if not row or not row.get("status") or row.get("status") == "deleted":
        return False
    container = _container(settings)
    if _properties(container.get_blob_client(blob_name)) is not None:
        return False  # checked after reading the row: a claim by a new upload shows up either way
    notes = []
    if _properties(container.get_blob_client(labels_name(blob_name))) is not None:
        notes.append(f"the user's labels file {basename(labels_name(blob_name))} was left in place")
    notes += [f"{basename(name)} was not written by the pipeline and was left in place" for name in left]
    props: dict[str, Any] = {"status": "deleted", "deletedAt": now_iso(), "labeled": False,
                             "deletedNote": "; ".join(notes)}
    try:
        records.conditional_write(records.documents, folder, doc, etag, props)
    except HttpResponseError as exc:
        if lost_race(exc):
            return False  # written meanwhile (a new version's claim?): the next sweep looks again
        raise
    if records.prediction(folder, doc):
        records.merge_prediction(folder, doc, status="deleted", deletedAt=props["deletedAt"])
    return True


def _remove_orphan(settings: Settings, records: Records, blob_name: str, now: float) -> bool:
    """The form of a listed `.ocr.json` was not listed: remove our outputs and mark the row."""
    container = _container(settings)
    if _properties(container.get_blob_client(blob_name)) is not None:
        return False  # uploaded again since the listing
    found: list[tuple[BlobClient, BlobProperties]] = []
    for output in (container.get_blob_client(out(blob_name)) for out in OUTPUTS):
        props = _properties(output)
        if props is None:
            continue
        if now - props.last_modified.timestamp() < settings.sweep_grace_seconds:
            return False  # (re)written since the listing: an OCR that was running; look again next sweep
        found.append((output, props))
    left = tuple(blob.blob_name for blob, props in found if OURS not in (props.metadata or {}))
    removed = False
    for blob, props in found:
        if blob.blob_name in left:
            continue
        try:
            blob.delete_blob(etag=props.etag, match_condition=MatchConditions.IfNotModified)
        except ResourceNotFoundError:
            continue
        except HttpResponseError as exc:
            if getattr(exc, "status_code", None) == 412:
                return removed  # replaced since we looked: it belongs to a new version of the form
            raise
        removed = True
        log.info("removed %s: its form was deleted", blob.blob_name)
    return mark_deleted(settings, records, blob_name, left) or removed


def reflect_deletions(settings: Settings, records: Records, folders: dict[str, FolderInventory],
                      modified: dict[str, float], now: float | None = None) -> Deletions:
    """What a sweep's listing says was deleted: `.ocr.json` files whose form is not listed (`modified`:
    their listed last-modified times), then rows whose form is not listed. Each item on its own: one
    that fails is logged and reported, and the others go on."""
    now = time.time() if now is None else now
    grace = settings.sweep_grace_seconds
    result = Deletions()

    def attempt(blob_name: str, step: Callable[[Settings, Records, str], bool]) -> None:
        try:
            if step(settings, records, blob_name):
                result.deleted.append(blob_name)
        except Exception as exc:  # one bad item must not stop the others
            line = one_line(exc)
            log.warning("deletion of %s not reflected: %s", blob_name, line)
            result.errors.append(f"{blob_name}: {line}")

    for folder, inv in sorted(folders.items()):
        for doc in sorted(inv.ocr - inv.sources):
            name = join(folder, doc)
            if now - modified.get(ocr_name(name), now) >= grace:
                attempt(name, lambda s, r, n: _remove_orphan(s, r, n, now))
    listed = {join(folder, doc) for folder, inv in folders.items() for doc in inv.sources}
    done = set(result.deleted)
    try:
        rows = records.live_documents()
    except Exception as exc:  # the table query failed: the orphan outputs above are still done
        log.warning("rows of deleted forms not checked: %s", exc)
        result.errors.append(f"Documents: {exc}")
        rows = []
    for row in sorted(rows, key=lambda r: str(r.get("blobName", ""))):
        name = str(row.get("blobName") or join(str(row.get("folder", "")), str(row.get("document", ""))))
        if name in listed or name in done or now - parse_iso(str(row.get("updatedAt", ""))) < grace:
            continue
        attempt(name, mark_deleted)
    return result
