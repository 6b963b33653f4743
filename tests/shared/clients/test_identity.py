"""The identity-based path (no network: the Azure cloud cannot exist here, so only its token and
user-delegation-key calls are stubbed, at the client methods)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.credentials import AccessToken, TokenCredential
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient, UserDelegationKey

from shared.clients import storage
from shared.clients.formrecognizer import COGNITIVE_SCOPE, client_from_settings
from shared.clients.sas import container_sas_url
from shared.settings import load_settings

ACCOUNT = "formsacct"
IDENTITY_ENV = {
    "FORMS_STORAGE__blobServiceUri": f"https://{ACCOUNT}.blob.core.windows.net",
    "FORMS_STORAGE__queueServiceUri": f"https://{ACCOUNT}.queue.core.windows.net",
    "FORMS_STORAGE__tableServiceUri": f"https://{ACCOUNT}.table.core.windows.net",
    "FORMS_STORAGE__credential": "managedidentity",
    "FORMS_STORAGE__clientId": "00000000-0000-0000-0000-000000000123",
    "FORM_RECOGNIZER_ENDPOINT": "https://fr.cognitiveservices.azure.com/",
}


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken("token-123", 4102444800)


def test_identity_settings_give_token_credential_clients() -> None:
    settings = load_settings(IDENTITY_ENV)
    assert settings.uses_identity
    blob, queue, table = (
        storage.blob_service(settings),
        storage.queue_service(settings),
        storage.table_service(settings),
    )
    credential = storage.token_credential(settings)
    assert isinstance(credential, ManagedIdentityCredential)
    assert isinstance(credential, TokenCredential)
    assert blob.credential is credential and queue.credential is credential
    assert blob.account_name == ACCOUNT and blob.url.startswith("https://formsacct.blob.")
    assert queue.url.startswith("https://formsacct.queue.")
    assert table.url.startswith("https://formsacct.table.")
    assert table.credential is credential


def test_without_managedidentity_kind_the_default_chain_is_used() -> None:
    env = {**IDENTITY_ENV, "FORMS_STORAGE__credential": ""}
    assert isinstance(storage.token_credential(load_settings(env)), DefaultAzureCredential)


def test_identity_needs_every_service_uri() -> None:
    env = {k: v for k, v in IDENTITY_ENV.items() if k != "FORMS_STORAGE__tableServiceUri"}
    with pytest.raises(ValueError, match="tableServiceUri"):
        storage.table_service(load_settings(env))


def test_sas_uses_a_user_delegation_key_without_an_account_key(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(IDENTITY_ENV)
    service = BlobServiceClient(IDENTITY_ENV["FORMS_STORAGE__blobServiceUri"], credential=FakeCredential())
    asked: list[tuple[datetime, datetime]] = []

    def fake_delegation_key(
        key_start_time: datetime, key_expiry_time: datetime, **kw: object
    ) -> UserDelegationKey:
        asked.append((key_start_time, key_expiry_time))
        key = UserDelegationKey()
        key.signed_oid, key.signed_tid = "oid-1", "tid-1"
        key.signed_start, key.signed_expiry = "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z"
        key.signed_service, key.signed_version = "b", "2021-08-06"
        key.value = "a2V5LWJ5dGVzLWZvci10ZXN0aW5n"
        return key

    monkeypatch.setattr(service, "get_user_delegation_key", fake_delegation_key)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    url = container_sas_url(settings, service=service, now=now)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.netloc == f"{ACCOUNT}.blob.core.windows.net" and parts.path == "/forms"
    assert query["skoid"] == ["oid-1"] and query["sp"] == ["rl"] and query["sr"] == ["c"]
    assert len(asked) == 1 and asked[0][1] - now <= timedelta(hours=2)
    expiry = datetime.fromisoformat(query["se"][0].replace("Z", "+00:00"))
    assert expiry - now <= timedelta(hours=2)


def test_sas_uses_the_account_key_when_there_is_one() -> None:
    from formloop.stack import AZURITE_KEY

    conn = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
        "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"
    )
    settings = load_settings(
        {"FORMS_STORAGE": conn, "FORM_RECOGNIZER_ENDPOINT": "http://e", "SAS_EXPIRY_MINUTES": "30"}
    )
    now = datetime.now(UTC)
    url = container_sas_url(settings, now=now)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("http://127.0.0.1:1/devstoreaccount1/forms?")
    assert "skoid" not in query and query["sp"] == ["rl"] and "sig" in query
    expiry = datetime.fromisoformat(query["se"][0].replace("Z", "+00:00"))
    assert timedelta(minutes=29) <= expiry - now <= timedelta(minutes=31)


def test_engine_calls_use_entra_tokens_when_no_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(IDENTITY_ENV)
    fake = FakeCredential()
    monkeypatch.setattr(storage, "token_credential", lambda s: fake)
    client = client_from_settings(settings)
    assert client._headers() == {"Authorization": "Bearer token-123"}
    assert fake.scopes == [COGNITIVE_SCOPE]
    keyed = client_from_settings(load_settings({**IDENTITY_ENV, "FORM_RECOGNIZER_KEY": "k"}))
    assert keyed._headers() == {"Ocp-Apim-Subscription-Key": "k"}
