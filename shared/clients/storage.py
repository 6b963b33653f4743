"""Storage clients (blob, queue, table) built from the settings: connection string or managed identity.

Clients are cached per `Settings` value so a warm Functions worker reuses its HTTP connections.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from shared.clients.http_env import sdk_client_options
from shared.settings import Settings, SettingsError


@lru_cache(maxsize=8)
def token_credential(settings: Settings) -> TokenCredential:
    """The identity used for storage (and Form Recognizer when no key is set).

    `__credential=managedidentity` with a `__clientId` selects that user-assigned identity, as the
    Functions host does; otherwise DefaultAzureCredential (developer logins, environment, identity).
    """
    client_id = settings.client_id or None
    if settings.credential_kind.lower() == "managedidentity":
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


def _require(uri: str, name: str) -> str:
    if not uri:
        raise SettingsError(f"identity-based storage needs FORMS_STORAGE__{name}")
    return uri


@lru_cache(maxsize=8)
def blob_service(settings: Settings) -> BlobServiceClient:
    if settings.connection_string:
        return BlobServiceClient.from_connection_string(settings.connection_string, **sdk_client_options())
    return BlobServiceClient(_require(settings.blob_service_uri, "blobServiceUri"),
                             credential=token_credential(settings), **sdk_client_options())


@lru_cache(maxsize=8)
def queue_service(settings: Settings) -> QueueServiceClient:
    """Queue client that writes base64 text, the encoding the Functions queue trigger expects."""
    policies = {"message_encode_policy": TextBase64EncodePolicy(),
                "message_decode_policy": TextBase64DecodePolicy(), **sdk_client_options()}
    if settings.connection_string:
        return QueueServiceClient.from_connection_string(settings.connection_string, **policies)
    return QueueServiceClient(_require(settings.queue_service_uri, "queueServiceUri"),
                              credential=token_credential(settings), **policies)


@lru_cache(maxsize=8)
def table_service(settings: Settings) -> TableServiceClient:
    if settings.connection_string:
        return TableServiceClient.from_connection_string(settings.connection_string, **sdk_client_options())
    return TableServiceClient(endpoint=_require(settings.table_service_uri, "tableServiceUri"),
                              credential=token_credential(settings), **sdk_client_options())


def ensure_resources(settings: Settings) -> None:
    """Create the container, queues and tables when missing (locally; in Azure the Bicep made them)."""
    for container in (settings.forms_container, settings.snapshot_container):
        with contextlib.suppress(ResourceExistsError):
            blob_service(settings).create_container(container)
    for queue in (settings.training_queue, settings.poison_queue, settings.prediction_queue,
                  settings.prediction_poison_queue):
        with contextlib.suppress(ResourceExistsError):
            queue_service(settings).create_queue(queue)
    for table in settings.table_names:
        table_service(settings).create_table_if_not_exists(table)
