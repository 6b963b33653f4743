"""Storage clients for a binding's `connection` name, resolved the way the Functions host resolves it.

`connection="FORMS_STORAGE"` means: the app setting `FORMS_STORAGE` (a connection string), else
`AzureWebJobsFORMS_STORAGE`, else the identity-based form `FORMS_STORAGE__blobServiceUri` /
`__queueServiceUri` (or `__accountName`) with an Azure credential. An empty name means
`AzureWebJobsStorage`, the host's own storage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

HOST_STORAGE = "AzureWebJobsStorage"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def client_options(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Transport options that read the proxy/CA environment once, not on every request.

    Why: with `trust_env` on, `requests` scans the environment and looks for `~/.netrc` per call
    (~0.2 ms of CPU each; devhost makes thousands). Without a proxy variable the answer cannot change,
    so `trust_env` goes off and the CA bundle, if set, is passed explicitly (as the app's
    `shared/clients/http_env.py` does; devhost may not import the app's packages)."""
    env = os.environ if env is None else env
    if any(name.lower() in PROXY_VARIABLES for name, value in env.items() if value):
        return {}
    bundle = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE")
    return {"use_env_settings": False, **({"connection_verify": bundle} if bundle else {})}


class ConnectionSettingError(LookupError):
    """No usable setting for a binding's connection."""


@dataclass(frozen=True)
class Connection:
    """Either a connection string or service URIs plus a credential."""

    name: str
    connection_string: str | None = None
    blob_uri: str | None = None
    queue_uri: str | None = None
    client_id: str | None = None

    def blob_service(self) -> BlobServiceClient:
        if self.connection_string:
            return BlobServiceClient.from_connection_string(self.connection_string, **client_options())
        if not self.blob_uri:
            raise ConnectionSettingError(f"connection {self.name!r} has no blob service URI")
        return BlobServiceClient(self.blob_uri, credential=self._credential(), **client_options())

    def queue_service(self) -> QueueServiceClient:
        if self.connection_string:
            return QueueServiceClient.from_connection_string(self.connection_string, **client_options())
        if not self.queue_uri:
            raise ConnectionSettingError(f"connection {self.name!r} has no queue service URI")
        return QueueServiceClient(self.queue_uri, credential=self._credential(), **client_options())

    def _credential(self) -> Any:
        from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

        if self.client_id:
            return ManagedIdentityCredential(client_id=self.client_id)
        return DefaultAzureCredential()


def resolve_connection(name: str | None, environ: Mapping[str, str] | None = None) -> Connection:
    """Find the settings behind a connection name; raise with the names tried when none is set."""
    env = os.environ if environ is None else environ
    name = name or HOST_STORAGE
    for candidate in (name, f"AzureWebJobs{name}"):
        value = env.get(candidate, "").strip()
        if value:
            return Connection(name=name, connection_string=value)
    prefix = f"{name}__"
    account = env.get(prefix + "accountName", "").strip()
    blob_uri = env.get(prefix + "blobServiceUri", "").strip() or (
        f"https://{account}.blob.core.windows.net" if account else ""
    )
    queue_uri = env.get(prefix + "queueServiceUri", "").strip() or (
        f"https://{account}.queue.core.windows.net" if account else ""
    )
    if blob_uri or queue_uri:
        return Connection(
            name=name,
            blob_uri=blob_uri or None,
            queue_uri=queue_uri or None,
            client_id=env.get(prefix + "clientId") or None,
        )
    raise ConnectionSettingError(
        f"storage connection {name!r} is not configured: set {name} (a connection string) "
        f"or {name}__blobServiceUri/{name}__queueServiceUri, in the environment or local.settings.json"
    )
