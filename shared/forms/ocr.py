"""Blob → Layout → `<name>.ocr.json` beside it, exactly once per version of the source form.

Idempotence: the `.ocr.json` carries the source's ETag and MD5 and the API dialect in its metadata;
an event for a version already OCR'd does nothing. A Documents row claimed with a conditional write
stops two deliveries of the same event from OCR'ing in parallel. When the trigger delivered the
form's bytes and version (the usual case), the form is not read from storage again, and a new form's
first claim (an insert) proves that no earlier output of ours exists, so its metadata is not read.
Bad inputs get a `failed` row with the service's code and message and are not retried; transient
faults re-raise so the host retries. An `.ocr.json` the pipeline did not write (no source ETag in its
metadata: a labeling tool's, uploaded with the form) is the user's and is never replaced: the row says
`ocrSource=user`.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobClient, ContentSettings

from shared.clients.delivered import DeliveredBlob
from shared.clients.formrecognizer import FormRecognizerClient, FormRecognizerError, content_type_for
from shared.clients.queues import ocr_finished, ocr_started
from shared.clients.records import Records, lost_race, now_iso, parse_iso
from shared.clients.storage import blob_service
from shared.forms.deletions import mark_deleted
from shared.names import basename, folder_of, ocr_name, output_name_problem
from shared.settings import Settings

log = logging.getLogger(__name__)
SPOOL_BYTES = 16 * 1024 * 1024  # forms bigger than this are spooled to a temp file, not held in memory
CLAIM_ATTEMPTS = 5
NAME_TOO_LONG = "NameTooLong"


@dataclass
class OcrOutcome:
    status: str  # succeeded | skipped | busy | failed | gone | superseded
    blob_name: str
    pages: int = 0
    error_code: str = ""
    error_message: str = ""


def _md5(props: object) -> str:
    settings = getattr(props, "content_settings", None)
    digest = getattr(settings, "content_md5", None)
    return base64.b64encode(bytes(digest)).decode() if digest else ""


@dataclass
class Claim:
    """The outcome of claiming one source version's OCR."""

    won: bool
    etag: str = ""  # the Documents row's ETag after our claim (for the final conditional write)
    labeled: bool = False  # the row said the labels were already checked and valid
    done: bool = False  # the row and the output say this version is OCR'd already
    attempts: int = 1  # OCR attempts of this source version, this one included
    claim_id: str = ""  # written with the claim: tells our claim from a takeover after a write by others
    touched: bool = False  # someone else (the labels step) wrote the row while we held the claim


def claim_document(records: Records, folder: str, doc: str, blob_name: str, etag: str,
                   stale_after: float, done: Callable[[], bool] | None = None) -> Claim:
    """Claim the OCR of one source version; not won when it is done, done-and-failed, or someone
    else is on it. `done` is asked (once) when an existing row says the document was OCR'd."""
    props: dict[str, object] = {"folder": folder, "document": doc, "blobName": blob_name,
                                "status": "processing", "sourceEtag": etag, "claimedAt": now_iso(),
                                "errorCode": "", "errorMessage": "", "attempts": 1,
                                "claimId": secrets.token_hex(6)}
    claim_id = str(props["claimId"])
    try:  # a new form has no row yet: one insert is the whole claim
        return Claim(True, records.conditional_write(records.documents, folder, doc, None, props),
                     claim_id=claim_id)
    except HttpResponseError as exc:
        if not lost_race(exc):
            raise
    asked = False
    for _ in range(CLAIM_ATTEMPTS):
        row, row_etag = records.get_with_etag(records.documents, folder, doc)
        if row and row.get("status") == "succeeded" and done is not None and not asked:
            asked = True
            if done():
                return Claim(False, done=True)
        if row and row.get("sourceEtag") == etag:
            status = row.get("status")
            if status == "failed":
                return Claim(False)
            claimed_at = parse_iso(str(row.get("claimedAt", "")))
            if status == "processing" and time.time() - claimed_at < stale_after:
                return Claim(False)
            if status == "succeeded" and time.time() - parse_iso(str(row.get("ocrAt", ""))) < stale_after:
                return Claim(False)  # just read: its `.ocr.json` is being written (row first, then output)
        attempts = int((row or {}).get("attempts") or 0) + 1 if row and row.get("sourceEtag") == etag else 1
        props.update(claimedAt=now_iso(), attempts=attempts)
        try:
            new_etag = records.conditional_write(records.documents, folder, doc, row_etag, props)
            return Claim(True, new_etag, labeled=bool(row and row.get("labeled")), attempts=attempts,
                         claim_id=claim_id)
        except HttpResponseError as exc:
            if not lost_race(exc):
                raise
    return Claim(False)


def _ocr_metadata(target: BlobClient) -> dict[str, str]:
    try:
        return target.get_blob_properties().metadata or {}
    except ResourceNotFoundError:
        return {}


def _done_already(settings: Settings, meta: dict[str, str], etag: str, md5: str) -> bool:
    return meta.get("api_version") == settings.fr_api and (
        meta.get("source_etag") == etag or bool(md5 and meta.get("source_md5") == md5))


def process_source(settings: Settings, blob_name: str, client: FormRecognizerClient,
                   records: Records, delivered: DeliveredBlob | None = None) -> OcrOutcome:
    """OCR one source form unless its current version already has an `.ocr.json`.

    Storage calls for a new form delivered by the trigger: a one-call claim, the row, and the OCR-file
    upload with its metadata. Without `delivered` (the sweep), the output's metadata and the form's
    properties are read first, so a duplicate, or a version whose row says it failed for good,
    downloads nothing.
    Training is asked for when the labels were already valid at the claim, or when someone (the
    labels step) wrote the row while we were OCR'ing: the final write is conditional on our claim.
    If a newer version of the form claimed the row meanwhile, this reading is dropped (`superseded`)."""
    problem = output_name_problem(blob_name)
    if problem:  # its `.ocr.json` could not be stored: say so in a row, spend no OCR on it
        return _name_refused(records, blob_name, problem)
    container = blob_service(settings).get_container_client(settings.forms_container)
    source = container.get_blob_client(blob_name)
    folder, doc = folder_of(blob_name), basename(blob_name)
    target = container.get_blob_client(ocr_name(blob_name))
    meta: dict[str, str] | None = None
    if delivered is None:
        meta = _ocr_metadata(target)
        try:
            props = source.get_blob_properties()
        except ResourceNotFoundError:
            return _gone(settings, records, blob_name)
        if meta and _done_already(settings, meta, str(props.etag).strip('"'), _md5(props)):
            return _record_skip(settings, records, blob_name, str(props.etag).strip('"'), meta)
        final = _failed_for_good(records, blob_name, str(props.etag).strip('"'))
        if final is not None:  # a verdict on this very version: reading it again would change nothing
            return final

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        document: IO[bytes] = spool
        if delivered is not None:
            document = io.BytesIO(delivered.content)  # shares the trigger's bytes: no second copy
            etag, md5 = delivered.etag, delivered.md5
        else:
            try:
                downloader = source.download_blob()
                downloader.readinto(spool)
            except ResourceNotFoundError:
                return _gone(settings, records, blob_name)
            etag, md5 = str(downloader.properties.etag).strip('"'), _md5(downloader.properties)
            if meta and _done_already(settings, meta, etag, md5):  # it was replaced by identical bytes
                return _record_skip(settings, records, blob_name, etag, meta)

        def done() -> bool:  # read now: the output may have landed since the sweep's first look
            nonlocal meta
            meta = _ocr_metadata(target)
            return bool(meta) and _done_already(settings, meta, etag, md5)

        claim = claim_document(records, folder, doc, blob_name, etag, settings.ocr_claim_seconds, done=done)
        if claim.done and meta is not None:
            return _record_skip(settings, records, blob_name, etag, meta)
        if not claim.won:
            return OcrOutcome("busy", blob_name)
        ocr_started(settings, folder)
        owes_training = False
        try:
            outcome, owes_training = _ocr_and_record(settings, blob_name, client, records, document, claim,
                                                     etag, md5, target)
        finally:
            ocr_finished(settings, folder, owes_training)
        return outcome


def _ocr_and_record(settings: Settings, blob_name: str, client: FormRecognizerClient, records: Records,
                    document: IO[bytes], claim: Claim, etag: str, md5: str,
                    target: BlobClient) -> tuple[OcrOutcome, bool]:
    """Layout, then the row (conditional on the claim), then the `.ocr.json`; also whether the folder
    is owed a training request (its labels came first, or were recorded while we read)."""
    folder, doc = folder_of(blob_name), basename(blob_name)
    started = time.monotonic()
    size = document.seek(0, io.SEEK_END)
    document.seek(0)
    ctype = content_type_for(document.read(8), blob_name)
    document.seek(0)
    try:
        body, raw = client.analyze_layout(document, ctype, settings.ocr_deadline_seconds,
                                          on_poll=_lease_renewer(settings, records, blob_name, claim))
    except FormRecognizerError as exc:
        retry = exc.transient and claim.attempts < settings.ocr_max_attempts
        message = exc.message if not exc.transient or retry else (
            f"gave up after {claim.attempts} attempts (OCR_MAX_ATTEMPTS); last: {exc.message}")
        failure = {"status": "retrying" if retry else "failed", "errorCode": exc.code,
                   "errorMessage": message, "httpStatus": exc.status, "failedAt": now_iso()}
        if not _write_if_ours(records, folder, doc, claim, failure):
            log.info("OCR of %s failed (%s) after its claim was taken over", blob_name, exc.code)
            return OcrOutcome("busy", blob_name), False
        if retry:
            raise
        log.warning("OCR of %s failed: %s %s", blob_name, exc.code, message)
        return OcrOutcome("failed", blob_name, error_code=exc.code, error_message=message), False

    result = body.get("analyzeResult") or {}
    pages = len(result.get("readResults") or result.get("pages") or [])  # v2.x | v4.0
    done_props = {"folder": folder, "document": doc, "blobName": blob_name, "status": "succeeded",
                  "sourceEtag": etag, "sourceMd5": md5, "size": size, "contentType": ctype, "pages": pages,
                  "ocrDurationSeconds": round(time.monotonic() - started, 3), "ocrBlob": ocr_name(blob_name),
                  "ocrApiVersion": settings.fr_api, "ocrAt": now_iso()}
    # The row first, conditional on our claim, then the output: a newer version of the form claimed
    # while this one was read must not have its `.ocr.json` overwritten by this older reading.
    touched = claim.touched
    try:
        records.conditional_write(records.documents, folder, doc, claim.etag or "*", done_props)
    except HttpResponseError as exc:
        if not lost_race(exc) and getattr(exc, "status_code", None) != 404:
            raise
        row = records.document(folder, doc) or {}
        if row.get("sourceEtag") not in (None, "", etag):
            log.info("OCR of %s (%s) superseded by version %s", blob_name, etag, row.get("sourceEtag"))
            return OcrOutcome("superseded", blob_name, pages=pages), False
        touched = True  # the row changed since our claim: its labels were recorded meanwhile
        records.merge(records.documents, folder, doc, **done_props)
    metadata = {"source_etag": etag, "source_md5": md5, "api_version": settings.fr_api,
                "engine_version": str(result.get("version", "")), "pages": str(pages)}
    user_pages = _write_ocr(target, raw, metadata)
    if user_pages is not None:
        records.merge(records.documents, folder, doc, ocrSource="user", pages=user_pages,
                      ocrNote="kept the .ocr.json that came with the form (the labels were drawn on it)")
        log.info("OCR of %s: kept the user's %s", blob_name, ocr_name(blob_name))
        return OcrOutcome("succeeded", blob_name, pages=user_pages), claim.labeled or touched
    return OcrOutcome("succeeded", blob_name, pages=pages), claim.labeled or touched


def is_ours(metadata: dict[str, str] | None) -> bool:
    """An `.ocr.json` the pipeline wrote carries the source's ETag in its metadata; any other is the
    user's (a labeling tool's folder brings its own, and the labels were drawn on that one)."""
    return bool((metadata or {}).get("source_etag"))


def _write_ocr(target: BlobClient, raw: bytes, metadata: dict[str, str]) -> int | None:
    """Write our reading unless the user's `.ocr.json` is there: created only if absent, or replacing
    only our own earlier reading (conditional on its ETag, so a user's file landing meanwhile wins).
    Returns the user's file's page count when it was kept, else None."""
    settings = ContentSettings(content_type="application/json")
    try:
        target.upload_blob(raw, overwrite=True, content_settings=settings, metadata=metadata,
                           match_condition=MatchConditions.IfMissing)
        return None
    except (ResourceExistsError, ResourceModifiedError):
        pass
    for _ in range(CLAIM_ATTEMPTS):
        try:
            props = target.get_blob_properties()
        except ResourceNotFoundError:
            return _write_ocr(target, raw, metadata)
        if not is_ours(props.metadata):
            return _page_count(target)
        try:
            target.upload_blob(raw, overwrite=True, content_settings=settings, metadata=metadata,
                               etag=props.etag, match_condition=MatchConditions.IfNotModified)
            return None
        except (ResourceModifiedError, ResourceExistsError):
            continue
    return None


def _page_count(target: BlobClient) -> int:
    try:
        data = json.loads(target.download_blob().readall())
    except (ResourceNotFoundError, ValueError):
        return 0
    result = data.get("analyzeResult") or data
    return len(result.get("readResults") or result.get("pages") or []) if isinstance(result, dict) else 0


def _write_if_ours(records: Records, folder: str, doc: str, claim: Claim, props: dict[str, object]) -> bool:
    """Write the row only while the claim is ours: a worker that took it over (or a newer version of the
    form) keeps its row. Another writer's merge (the labels step) changes the ETag but not the claim
    id: the claim is then still ours, and `claim.touched` notes that the row was written meanwhile."""
    etag = claim.etag or "*"
    for _ in range(CLAIM_ATTEMPTS):
        try:
            claim.etag = records.conditional_write(records.documents, folder, doc, etag, props)
            return True
        except HttpResponseError as exc:
            if not lost_race(exc):
                raise
        row, row_etag = records.get_with_etag(records.documents, folder, doc)
        if not row or row.get("claimId") != claim.claim_id or not row_etag:
            return False
        claim.touched = True
        etag = row_etag
    return False


def _lease_renewer(settings: Settings, records: Records, blob_name: str, claim: Claim) -> Callable[[], None]:
    """Keeps the claim alive while Layout runs: `claimedAt` moves every third of OCR_CLAIM_SECONDS,
    so a claim expires soon after its holder dies (a short recovery bound) while a slow document is
    never taken over mid-read. Once the claim is no longer ours the renewals end (this reading will be
    dropped at the final write)."""
    folder, doc = folder_of(blob_name), basename(blob_name)
    every = settings.ocr_claim_seconds / 3
    last = time.monotonic()
    stopped = False

    def renew() -> None:
        nonlocal last, stopped
        if stopped or time.monotonic() - last < every:
            return
        last = time.monotonic()
        try:
            stopped = not _write_if_ours(records, folder, doc, claim, {"claimedAt": now_iso()})
        except HttpResponseError as exc:  # a failed renewal must not fail the OCR; the next poll retries
            log.info("OCR claim of %s not renewed: %s", blob_name, getattr(exc, "message", exc))

    return renew


def _gone(settings: Settings, records: Records, blob_name: str) -> OcrOutcome:
    """The form was deleted before it could be read: a row an earlier attempt left `processing` or
    `retrying` must not stay so; it says `deleted` (shared/forms/deletions.py)."""
    mark_deleted(settings, records, blob_name)
    return OcrOutcome("gone", blob_name)


def _failed_for_good(records: Records, blob_name: str, etag: str) -> OcrOutcome | None:
    """The row's `failed` verdict when it is about this version of the form; None otherwise. Checked
    before a download: a 50 MB form that failed for good must not be read again at every sweep."""
    row = records.document(folder_of(blob_name), basename(blob_name)) or {}
    if row.get("status") != "failed" or row.get("sourceEtag") != etag:
        return None
    return OcrOutcome("failed", blob_name, error_code=str(row.get("errorCode") or ""),
                      error_message=str(row.get("errorMessage") or ""))


def _name_refused(records: Records, blob_name: str, problem: str) -> OcrOutcome:
    """A `failed` row for a form whose output name Azure would refuse (long keys are hashed: it fits)."""
    records.merge_document(folder_of(blob_name), basename(blob_name), blobName=blob_name, status="failed",
                           errorCode=NAME_TOO_LONG, errorMessage=problem, failedAt=now_iso())
    log.warning("%s... not OCR'd: %s", blob_name[:80], problem)
    return OcrOutcome("failed", blob_name, error_code=NAME_TOO_LONG, error_message=problem)


def _record_skip(settings: Settings, records: Records, blob_name: str, etag: str,
                 meta: dict[str, str]) -> OcrOutcome:
    folder, doc = folder_of(blob_name), basename(blob_name)
    row = records.document(folder, doc)
    if not row or row.get("status") != "succeeded":
        records.merge_document(folder, doc, blobName=blob_name, status="succeeded", sourceEtag=etag,
                               ocrBlob=ocr_name(blob_name), pages=int(meta.get("pages", "0") or 0))
    return OcrOutcome("skipped", blob_name)
