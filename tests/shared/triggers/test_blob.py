"""The blob trigger's work (shared/triggers/blob.py): bad forms get a failed row and hold nothing up, a
re-delivered event of a failed version is not retried, other files and outputs are ignored."""

from __future__ import annotations

import io

from PIL import Image

from shared.names import BlobKind
from shared.triggers.blob import on_blob
from tests.helpers.pipeline import Stack, counting, upload_form


def _huge_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (10050, 60), 255).save(buf, format="PNG")
    return buf.getvalue()


def test_bad_forms_get_a_failed_row_and_hold_nothing_up(stack: Stack, forms: list) -> None:
    client = counting(stack)
    bad = {
        "bad/corrupt.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage without xref",
        "bad/empty.pdf": b"",
        "bad/not-really.png": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "bad/huge.png": _huge_png(),
    }
    for name, data in bad.items():
        stack.upload(name, data)
    good = upload_form(stack, "bad", forms[2].path)
    for name in bad:
        outcome = on_blob(stack.settings, name, client, stack.records)
        assert outcome.kind is BlobKind.SOURCE and outcome.status == "failed", (name, outcome)
        row = stack.records.document("bad", name.split("/")[1])
        assert row and row["status"] == "failed" and row["errorCode"] and row["errorMessage"], row
        assert row["httpStatus"] in (400, 415)
    assert on_blob(stack.settings, good, client, stack.records).status == "succeeded"
    posts = client.layout_posts
    # a re-delivered event for a failed version is not retried
    for name in bad:
        assert on_blob(stack.settings, name, client, stack.records).status != "succeeded"
    assert client.layout_posts == posts
    assert on_blob(stack.settings, "bad/readme.txt", client, stack.records).status == "ignored"
    assert on_blob(stack.settings, good + ".ocr.json", client, stack.records).status == "ignored"
    names = stack.blob_names()
    assert [n for n in names if n.endswith(".ocr.json")] == [good + ".ocr.json"]
