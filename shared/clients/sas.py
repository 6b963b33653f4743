"""A read+list SAS for the forms container, the `source` a Train request needs.

With an account key (Azurite, or a key-enabled account) the SAS is signed with it; with a managed
identity it is a user-delegation SAS (the identity's Storage Blob Data Owner role allows it). Expiry is
short. With TRAINING_SOURCE_AUTH=service-identity there is no SAS: the source is the plain container
URL, which Document Intelligence reads with its own system-assigned identity (Azure only; infra/ grants
it Storage Blob Data Reader on the forms account when `trainingSourceAuth` is `service-identity`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from shared.clients.storage import blob_service
from shared.settings import MAX_SAS_MINUTES, Settings

CLOCK_SKEW = timedelta(minutes=5)


def container_sas_url(settings: Settings, service: BlobServiceClient | None = None,
                      now: datetime | None = None, container: str = "") -> str:
    """A read+list SAS URL of the forms container (or of `container`, e.g. the training snapshots); the
    plain container URL when the service reads with its own identity."""
    service = service or blob_service(settings)
    container = container or settings.forms_container
    if settings.training_source_auth == "service-identity":
        return f"{service.url.rstrip('/')}/{container}"
    now = now or datetime.now(UTC)
    start = now - CLOCK_SKEW
    expiry = now + timedelta(minutes=min(settings.sas_expiry_minutes, MAX_SAS_MINUTES))
    permission = ContainerSasPermissions(read=True, list=True)
    account_key = getattr(service.credential, "account_key", None)
    if account_key:
        token = generate_container_sas(service.account_name, container,
                                       account_key=account_key, permission=permission,
                                       start=start, expiry=expiry)
    else:
        delegation_key = service.get_user_delegation_key(key_start_time=start, key_expiry_time=expiry)
        token = generate_container_sas(service.account_name, container,
                                       user_delegation_key=delegation_key, permission=permission,
                                       start=start, expiry=expiry)
    return f"{service.url.rstrip('/')}/{container}?{token}"
