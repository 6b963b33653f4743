"""Blob → Layout → `<name>.ocr.json` beside it, exactly once per version of the source form.

Idempotence: the `.ocr.json` carries the source's ETag and MD5 and the API dialect in its metadata;
an event for a version already OCR'd does nothing. A Documents row claimed with a conditional write
stops two deliveries of the same event from OCR'ing in parallel. Bad inputs get a `failed` row with
the service's code and message and are not retried; transient faults re-raise so the host retries.
"""

from __future__ import annotations

import base64
import logging
import tempfile
import time
from dataclasses import dataclass

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, ContentSettings

from shared.formrecognizer import FormRecognizerClient, FormRecognizerError, content_type_for
from shared.names import basename, folder_of, labels_name, ocr_name
from shared.records import Records, now_iso, parse_iso
from shared.settings import Settings
from shared.storage import blob_service
from shared.training_queue import request_training

log = logging.getLogger(__name__)
SPOOL_BYTES = 16 * 1024 * 1024  # forms bigger than this are spooled to a temp file, not held in memory
CLAIM_ATTEMPTS = 5


@dataclass
class OcrOutcome:
    status: str  # succeeded | skipped | busy | failed | gone
    blob_name: str
    pages: int = 0
    error_code: str = ""
    error_message: str = ""


def _md5(props: object) -> str:
    settings = getattr(props, "content_settings", None)
    digest = getattr(settings, "content_md5", None)
    return base64.b64encode(bytes(digest)).decode() if digest else ""


def _is_conflict(exc: Exception) -> bool:
    return isinstance(exc, ResourceExistsError) or (
        isinstance(exc, HttpResponseError) and getattr(exc, "status_code", None) in (409, 412))


def claim_document(records: Records, folder: str, doc: str, blob_name: str, etag: str,
                   stale_after: float) -> bool:
    """Claim the OCR of one source version; False when it is done-and-failed or someone else is on it."""
    props = {"folder": folder, "document": doc, "blobName": blob_name, "status": "processing",
             "sourceEtag": etag, "claimedAt": now_iso(), "errorCode": "", "errorMessage": ""}
    try:  # a new form has no row yet: one insert is the whole claim
        records.conditional_write(records.documents, folder, doc, None, props)
        return True
    except HttpResponseError as exc:
        if not _is_conflict(exc):
            raise
    for _ in range(CLAIM_ATTEMPTS):
        row, row_etag = records.get_with_etag(records.documents, folder, doc)
        if row and row.get("sourceEtag") == etag:
            status = row.get("status")
            if status == "failed":
                return False
            claimed_at = parse_iso(str(row.get("claimedAt", "")))
            if status == "processing" and time.time() - claimed_at < stale_after:
                return False
        props["claimedAt"] = now_iso()
        try:
            records.conditional_write(records.documents, folder, doc, row_etag, props)
            return True
        except HttpResponseError as exc:
            if not _is_conflict(exc):
                raise
    return False


def _ocr_metadata(target: BlobClient) -> dict[str, str]:
    try:
        return target.get_blob_properties().metadata or {}
    except ResourceNotFoundError:
        return {}


def _done_already(settings: Settings, meta: dict[str, str], etag: str, md5: str) -> bool:
    return meta.get("api_version") == settings.fr_api and (
        meta.get("source_etag") == etag or bool(md5 and meta.get("source_md5") == md5))


def process_source(settings: Settings, blob_name: str, client: FormRecognizerClient,
                   records: Records) -> OcrOutcome:
    """OCR one source form unless its current version already has an `.ocr.json`.

    Storage calls for a new form: OCR-file metadata (absent), one download (which also gives the
    source's ETag/MD5), a one-call claim, the OCR-file upload with its metadata, the row, a labels
    check. Only when an `.ocr.json` exists is the source's version read first, so a duplicate event
    downloads nothing."""
    container = blob_service(settings).get_container_client(settings.forms_container)
    source = container.get_blob_client(blob_name)
    folder, doc = folder_of(blob_name), basename(blob_name)
    target = container.get_blob_client(ocr_name(blob_name))
    meta = _ocr_metadata(target)
    if meta:
        try:
            props = source.get_blob_properties()
        except ResourceNotFoundError:
            return OcrOutcome("gone", blob_name)
        if _done_already(settings, meta, str(props.etag).strip('"'), _md5(props)):
            return _record_skip(settings, records, blob_name, str(props.etag).strip('"'), meta)

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        try:
            downloader = source.download_blob()
            downloader.readinto(spool)
        except ResourceNotFoundError:
            return OcrOutcome("gone", blob_name)
        etag, md5 = str(downloader.properties.etag).strip('"'), _md5(downloader.properties)
        if meta and _done_already(settings, meta, etag, md5):  # it was replaced by identical bytes
            return _record_skip(settings, records, blob_name, etag, meta)
        if not claim_document(records, folder, doc, blob_name, etag, settings.ocr_deadline_seconds):
            return OcrOutcome("busy", blob_name)
        started = time.monotonic()
        size = spool.tell()
        spool.seek(0)
        ctype = content_type_for(spool.read(8), blob_name)
        spool.seek(0)
        try:
            body, raw = client.analyze_layout(spool, ctype, settings.ocr_deadline_seconds)
        except FormRecognizerError as exc:
            status = "retrying" if exc.transient else "failed"
            records.merge_document(folder, doc, status=status, errorCode=exc.code, errorMessage=exc.message,
                                   httpStatus=exc.status, failedAt=now_iso())
            if exc.transient:
                raise
            log.warning("OCR of %s failed: %s %s", blob_name, exc.code, exc.message)
            return OcrOutcome("failed", blob_name, error_code=exc.code, error_message=exc.message)

    result = body.get("analyzeResult") or {}
    pages = len(result.get("readResults") or [])
    target.upload_blob(raw, overwrite=True, content_settings=ContentSettings(content_type="application/json"),
                       metadata={"source_etag": etag, "source_md5": md5, "api_version": settings.fr_api,
                                 "engine_version": str(result.get("version", "")), "pages": str(pages)})
    duration = round(time.monotonic() - started, 3)
    records.merge_document(folder, doc, blobName=blob_name, status="succeeded", sourceEtag=etag,
                           sourceMd5=md5, size=size, contentType=ctype, pages=pages,
                           ocrDurationSeconds=duration, ocrBlob=ocr_name(blob_name),
                           ocrApiVersion=settings.fr_api, ocrAt=now_iso())
    if container.get_blob_client(labels_name(blob_name)).exists():
        request_training(settings, folder)  # its labels came first; the folder may now be trainable
    return OcrOutcome("succeeded", blob_name, pages=pages)


def _record_skip(settings: Settings, records: Records, blob_name: str, etag: str,
                 meta: dict[str, str]) -> OcrOutcome:
    folder, doc = folder_of(blob_name), basename(blob_name)
    row = records.document(folder, doc)
    if not row or row.get("status") != "succeeded":
        records.merge_document(folder, doc, blobName=blob_name, status="succeeded", sourceEtag=etag,
                               ocrBlob=ocr_name(blob_name), pages=int(meta.get("pages", "0") or 0))
    return OcrOutcome("skipped", blob_name)
