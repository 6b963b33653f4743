"""Per-process plumbing the function bodies share: settings, table records and engine clients.

Built lazily and cached so a warm worker reuses connections; the Form Recognizer client is cached per
thread because a `requests.Session` is not guaranteed safe across threads.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from azure.core.exceptions import HttpResponseError

from shared.clients.formrecognizer import FormRecognizerClient, client_from_settings
from shared.clients.records import Records
from shared.clients.storage import ensure_resources
from shared.settings import Settings, load_settings

log = logging.getLogger(__name__)
_local = threading.local()


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=8)
def records_for(config: Settings) -> Records:
    """Table access; the first call also creates missing containers/queues/tables (local stacks)."""
    try:
        ensure_resources(config)
    except HttpResponseError as exc:  # in Azure the Bicep created them and the identity may not create
        log.warning("could not ensure storage resources: %s", exc.message)
    return Records(config)


def fr_client_for(config: Settings) -> FormRecognizerClient:
    clients: dict[Settings, FormRecognizerClient] = _local.__dict__.setdefault("clients", {})
    if config not in clients:
        clients[config] = client_from_settings(config)
    return clients[config]
