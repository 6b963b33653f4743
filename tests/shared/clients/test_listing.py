"""The lean listing gives what `list_blobs` gives (names with odd characters, ETags, paging, errors)."""

from __future__ import annotations

import base64

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

import devhost.listing
import shared.clients.listing
from devhost.blob_stream import BlobGoneError, LazyBlobStream
from devhost.listing import listed_properties
from formloop.stack import AzuriteInfo


@pytest.mark.parametrize("module", [shared.clients.listing, devhost.listing])
@pytest.mark.parametrize("lean", [True, False])
def test_lean_listing_matches_the_sdk(
    azurite: AzuriteInfo,
    module,
    lean: bool,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
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
    assert sorted((item[0], item[1]) for item in found) == expected
    assert {item[2] for item in found} == {"BlockBlob"}
    assert len(list(module.list_versions(container))) == len(names)
    with pytest.raises(ResourceNotFoundError):
        list(module.list_versions(service.get_container_client("no-such-container")))


@pytest.mark.parametrize("lean", [True, False])
def test_devhost_trigger_properties_come_from_the_listing_and_the_content_on_first_read(
    azurite: AzuriteInfo, lean: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devhost.listing, "LEAN", lean)
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client(f"lazy-stream-{int(lean)}")
    if not container.exists():
        container.create_container()
    client = container.get_blob_client("f/doc ü.pdf")
    etag = str(client.upload_blob(b"%PDF-1.4 body", overwrite=True, metadata={"k": "v"})["etag"])
    (item,) = devhost.listing.list_versions(container, "f/")
    props = client.get_blob_properties()
    listed = listed_properties(item, etag)
    assert listed == {
        "ContentLength": 13,
        "ContentType": props.content_settings.content_type,
        "ContentMD5": base64.b64encode(props.content_settings.content_md5).decode(),
        "ETag": etag,
        "LastModified": props.last_modified.isoformat(),
        "CreatedOn": props.creation_time.isoformat(),
        "BlobType": "BlockBlob",
    }

    stream = LazyBlobStream(
        client, name=f"{container.container_name}/f/doc ü.pdf", etag=etag, properties=listed
    )
    assert stream.blob_properties["ETag"] == etag and stream.length == 13
    assert stream.downloads == 0  # a function that decides by name costs no download
    assert stream.read(4) == b"%PDF" and stream.read() == b"-1.4 body"
    assert stream.metadata == {"k": "v"} and stream.downloads == 1

    client.upload_blob(b"newer", overwrite=True)  # the version it was found as is gone
    stale = LazyBlobStream(client, name="x", etag=etag, properties=listed)
    with pytest.raises(BlobGoneError):
        stale.read()
    assert stale.gone
