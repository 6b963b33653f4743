"""The official SDK (azure-ai-formrecognizer, api_version 2.1) works against the engine unchanged."""

from __future__ import annotations

import pytest
from azure.ai.formrecognizer import FormRecognizerApiVersion, FormRecognizerClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from tests.helpers.engine import Client, encode, make_pdf, text_image


def _sdk(client: Client, key: str | None = None) -> FormRecognizerClient:
    return FormRecognizerClient(client.endpoint, AzureKeyCredential(key or client.key),
                                api_version=FormRecognizerApiVersion.V2_1)


def _compare(pages, raw: dict) -> None:  # type: ignore[no-untyped-def]
    """SDK objects carry exactly the engine's lines, words, boxes and selection marks."""
    assert len(pages) == len(raw["readResults"])
    for page, rr in zip(pages, raw["readResults"], strict=True):
        expected = (rr["page"], rr["width"], rr["height"], rr["unit"])
        assert (page.page_number, page.width, page.height, page.unit) == expected
        assert page.text_angle == rr["angle"]
        assert [ln.text for ln in page.lines] == [ln["text"] for ln in rr["lines"]]
        for line, raw_line in zip(page.lines, rr["lines"], strict=True):
            assert [c for p in line.bounding_box for c in (p.x, p.y)] == raw_line["boundingBox"]
            assert [(w.text, w.confidence) for w in line.words] == [(w["text"], w["confidence"])
                                                                    for w in raw_line["words"]]
        # The SDK turns an empty list into None.
        assert [(m.state, m.confidence, [c for p in m.bounding_box for c in (p.x, p.y)])
                for m in page.selection_marks or []] == [
            (m["state"], m["confidence"], m["boundingBox"]) for m in rr["selectionMarks"]]
        assert page.tables == []


def test_sdk_recognize_content_pdf(client: Client) -> None:
    pdf = make_pdf([["Purchase Order 948284", "Company Phone: 555-348-6512"], ["Page two"]],
                   boxes=[(300, 600, True), (330, 600, False)])
    pages = _sdk(client).begin_recognize_content(pdf, content_type="application/pdf").result()
    assert [ln.text for ln in pages[0].lines] == ["Purchase Order 948284", "Company Phone: 555-348-6512"]
    assert sorted(m.state for m in pages[0].selection_marks) == ["selected", "unselected"]
    raw = client.layout(pdf, "application/pdf")["analyzeResult"]
    _compare(pages, raw)


def test_sdk_recognize_content_image_with_pages(client: Client) -> None:
    png = encode(text_image(["Scanned words for the SDK"], boxes=[(700, 150, True)]), "PNG")
    pages = _sdk(client).begin_recognize_content(png, pages=["1"]).result()
    assert pages[0].unit == "pixel" and [ln.text for ln in pages[0].lines] == ["Scanned words for the SDK"]
    _compare(pages, client.layout(png, "image/png")["analyzeResult"])


def test_sdk_sees_service_errors(client: Client) -> None:
    with pytest.raises(HttpResponseError) as bad:
        _sdk(client).begin_recognize_content(b"%PDF-1.4 broken", content_type="application/pdf")
    assert bad.value.error.code == "InvalidImage"
    with pytest.raises(HttpResponseError) as lang:
        _sdk(client).begin_recognize_content(make_pdf([["x"]]), language="xx")
    assert lang.value.error.code == "NotSupportedLanguage"
    with pytest.raises(ClientAuthenticationError):
        _sdk(client, key="wrong").begin_recognize_content(make_pdf([["x"]]))
