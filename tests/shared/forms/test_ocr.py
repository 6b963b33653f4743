"""The OCR step (shared/forms/ocr.py) against the real Azurite and engine: the Layout written beside the
form once per version, and every form read through a while of engine throttling."""

from __future__ import annotations

import json
from collections.abc import Callable

from shared.clients.storage import blob_service
from shared.forms.ocr import process_source
from tests.helpers.pipeline import FaultServer, Stack, counting, error_reply, fast_client, upload_form


def test_ocr_writes_the_layout_beside_the_form_once_per_version(stack: Stack, forms: list) -> None:
    client = counting(stack)
    name = upload_form(stack, "inv", forms[0].path)
    first = process_source(stack.settings, name, client, stack.records)
    assert first.status == "succeeded" and first.pages == 1
    container = blob_service(stack.settings).get_container_client(stack.settings.forms_container)
    ocr = container.get_blob_client(name + ".ocr.json")
    body = json.loads(ocr.download_blob().readall())
    assert body["status"] == "succeeded" and body["analyzeResult"]["readResults"][0]["lines"]
    props = ocr.get_blob_properties()
    source_etag = container.get_blob_client(name).get_blob_properties().etag.strip('"')
    assert props.metadata["source_etag"] == source_etag and props.metadata["api_version"] == "v2.1"
    row = stack.records.document("inv", forms[0].path.name)
    assert row and row["status"] == "succeeded" and row["pages"] == 1 and row["ocrDurationSeconds"] > 0

    # the same event again, and a re-upload of identical bytes: no repeated OCR
    assert process_source(stack.settings, name, client, stack.records).status == "skipped"
    stack.upload(name, forms[0].path.read_bytes())
    assert process_source(stack.settings, name, client, stack.records).status == "skipped"
    assert client.layout_posts == 1 and ocr.get_blob_properties().etag == props.etag

    # a changed form gets a fresh OCR file
    stack.upload(name, forms[1].path.read_bytes())
    assert process_source(stack.settings, name, client, stack.records).status == "succeeded"
    assert client.layout_posts == 2
    assert ocr.get_blob_properties().metadata["source_etag"] != props.metadata["source_etag"]


def test_engine_throttling_for_a_while_still_processes_everything(
    stack: Stack, forms: list, fault_server: Callable[..., FaultServer]
) -> None:
    proxy = fault_server(target=stack.settings.fr_endpoint)
    faults = []
    for i in range(8):
        if i % 2:
            faults.append(error_reply(503, "ServiceUnavailable", "busy"))
        else:
            faults.append(error_reply(429, "429", "Rate limit is exceeded.", **{"Retry-After": "0"}))
    proxy.add_faults(*faults)
    client = fast_client(stack.settings, endpoint=proxy.url)
    names = [upload_form(stack, "busy", f.path) for f in forms[3:7]]
    results = [process_source(stack.settings, n, client, stack.records).status for n in names]
    assert results == ["succeeded"] * 4
    assert sum(1 for _, _, s in proxy.seen if s in (429, 503)) == 8
    assert all(n + ".ocr.json" in stack.blob_names() for n in names)


def test_a_users_ocr_file_is_kept_and_used(stack: Stack, forms: list) -> None:
    """A labeling tool's folder brings its own `.ocr.json` (its labels were drawn on it): never replaced,
    whichever lands first, and the row says where the OCR came from; ours is still replaced."""
    container = blob_service(stack.settings).get_container_client(stack.settings.forms_container)
    users = json.dumps(
        {
            "status": "succeeded",
            "analyzeResult": {
                "readResults": [
                    {"page": 1, "width": 8.5, "height": 11, "unit": "inch", "lines": []},
                    {"page": 2, "width": 8.5, "height": 11, "unit": "inch", "lines": []},
                ]
            },
        }
    ).encode()
    name = upload_form(stack, "tool", forms[0].path)
    stack.upload(name + ".ocr.json", users)  # before the form's event is handled
    outcome = process_source(stack.settings, name, fast_client(stack.settings), stack.records)
    assert outcome.status == "succeeded" and outcome.pages == 2
    assert container.get_blob_client(name + ".ocr.json").download_blob().readall() == users
    row = stack.records.document("tool", forms[0].path.name)
    assert row and row["ocrSource"] == "user" and row["pages"] == 2

    ours = upload_form(stack, "tool", forms[1].path)  # our own reading is replaced by a new version's
    assert (
        process_source(stack.settings, ours, fast_client(stack.settings), stack.records).status == "succeeded"
    )
    first = container.get_blob_client(ours + ".ocr.json").get_blob_properties()
    stack.upload(ours, forms[2].path.read_bytes())
    assert (
        process_source(stack.settings, ours, fast_client(stack.settings), stack.records).status == "succeeded"
    )
    again = container.get_blob_client(ours + ".ocr.json").get_blob_properties()
    assert again.etag != first.etag and again.metadata["source_etag"] != first.metadata["source_etag"]
    assert "ocrSource" not in (stack.records.document("tool", forms[1].path.name) or {})
