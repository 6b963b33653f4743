"""A `.labels.json` landed: validate it, record the verdict on the document's row, ask for training."""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.clients.delivered import DeliveredBlob
from shared.clients.queues import request_training_after_burst
from shared.clients.records import Records, now_iso
from shared.clients.storage import blob_service
from shared.forms.label_format import LabelCheck, check_document_name, validate_labels
from shared.names import basename, folder_of, source_of_labels
from shared.settings import Settings

MAX_LABELS_BYTES = 8 * 1024 * 1024


def check_content(raw: bytes) -> LabelCheck:
    """The size limit, then the format: what every labels file must pass, from any writer."""
    if len(raw) > MAX_LABELS_BYTES:
        return LabelCheck(ok=False, errors=[f"labels file is larger than the limit of {MAX_LABELS_BYTES} "
                                            "bytes"])
    return validate_labels(raw)


def read_and_check(settings: Settings, labels_blob: str,
                   delivered: DeliveredBlob | None = None) -> tuple[LabelCheck, str] | None:
    """The check of one labels blob (its content, and that it names the file it lies beside) and its
    ETag, or None when the blob is gone."""
    found = _read_and_check(settings, labels_blob, delivered)
    if found is None:
        return None
    check, etag = found
    return check_document_name(check, basename(source_of_labels(labels_blob))), etag


def _read_and_check(settings: Settings, labels_blob: str,
                    delivered: DeliveredBlob | None = None) -> tuple[LabelCheck, str] | None:
    """The content check and the ETag: the trigger's bytes when it delivered them; otherwise one ranged
    download (at most the limit + 1 byte) gives the content and the ETag in one call."""
    if delivered is not None:
        return check_content(delivered.content), delivered.etag
    client = blob_service(settings).get_blob_client(settings.forms_container, labels_blob)
    try:
        downloader = client.download_blob(offset=0, length=MAX_LABELS_BYTES + 1)
        raw = downloader.readall()
    except ResourceNotFoundError:
        return None
    except HttpResponseError as exc:
        if getattr(exc, "status_code", None) != 416:  # an empty blob has no byte 0 to range over
            raise
        try:
            return validate_labels(b""), str(client.get_blob_properties().etag).strip('"')
        except ResourceNotFoundError:
            return None
    return check_content(raw), str(downloader.properties.etag).strip('"')  # the range is limit + 1


def record_check(records: Records, labels_blob: str, check: LabelCheck, etag: str) -> None:
    source = source_of_labels(labels_blob)
    records.merge_document(
        folder_of(source), basename(source), blobName=source, labeled=check.ok,
        labelsStatus="valid" if check.ok else "failed", labelsEtag=etag, labelsHash=check.sha256,
        labelFormat=check.format, labelCount=check.label_count, labelFields=check.field_names,
        labelMaxPage=check.max_page,
        labelsErrorCode="" if check.ok else "InvalidLabels", labelsErrorMessage=check.message,
        labelsCheckedAt=now_iso())


def process_labels(settings: Settings, labels_blob: str, records: Records,
                   enqueue: bool = True, delivered: DeliveredBlob | None = None) -> LabelCheck | None:
    """Validate and record one labels file; then the folder is (re)considered for training."""
    found = read_and_check(settings, labels_blob, delivered)
    if found is None:
        return None
    check, etag = found
    record_check(records, labels_blob, check, etag)
    if enqueue:
        request_training_after_burst(settings, folder_of(source_of_labels(labels_blob)))
    return check
