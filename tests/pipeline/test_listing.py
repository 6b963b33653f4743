"""The lean listing gives what `list_blobs` gives (names with odd characters, ETags, paging, errors)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

import devhost.listing
import shared.listing
from formloop.stack import AzuriteInfo


@pytest.mark.parametrize("module", [shared.listing, devhost.listing])
@pytest.mark.parametrize("lean", [True, False])
def test_lean_listing_matches_the_sdk(
    azurite: AzuriteInfo, module, lean: bool, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(module, "LEAN", lean)
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client(f"listing-{module.__name__.split('.')[0]}-{int(lean)}")
    if not container.exists():
        container.create_container()
    names = ["f/a.pdf", "f/sp ace ü &<>.pdf", "f/sub/b.pdf", "g/c.pdf"]
    for name in names:
        container.upload_blob(name, b"x", overwrite=True)
    expected = sorted((b.name, str(b.etag)) for b in container.list_blobs(name_starts_with="f/"))
    found = list(module.list_versions(container, "f/"))
    assert sorted((n, e) for n, e, _ in found) == expected
    assert {t for _, _, t in found} == {"BlockBlob"}
    assert len(list(module.list_versions(container))) == len(names)
    with pytest.raises(ResourceNotFoundError):
        list(module.list_versions(service.get_container_client("no-such-container")))
