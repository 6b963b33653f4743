"""Document Intelligence v4.0 Layout through a real engine process: the official SDK
(azure-ai-documentintelligence 1.0.x) unchanged, and the raw protocol where the SDK hides it."""

from __future__ import annotations

import base64
import re
import time
import uuid

import pytest
from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient, DocumentIntelligenceClient
from azure.ai.documentintelligence.models import AnalyzeDocumentRequest, AnalyzeResult
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from tests.helpers.engine import Client, FileServer, encode, make_pdf, multi_tiff, text_image

API = "api-version=2024-11-30"
LAYOUT = "/documentintelligence/documentModels/prebuilt-layout:analyze"
# The SDK's own pattern for ids in Operation-Location (azure.ai.documentintelligence._operations._patch).
SDK_ID_RE = re.compile(r"[^:]+://[^/]+/documentintelligence/.+/([^?/]+)")


def _sdk(client: Client, key: str | None = None) -> DocumentIntelligenceClient:
    return DocumentIntelligenceClient(client.endpoint, AzureKeyCredential(key or client.key))


def _analyze(client: Client, body: object, model: str = "prebuilt-layout", **kw: object) -> AnalyzeResult:
    return _sdk(client).begin_analyze_document(model, body, polling_interval=0.2, **kw).result()  # type: ignore[call-overload]


def _check_spans(result: AnalyzeResult) -> None:
    """Every word, line and mark indexes its own text in `content`; pages cover their elements."""
    content = result.content

    def text(span) -> str:  # type: ignore[no-untyped-def]
        return content[span.offset:span.offset + span.length]

    for page in result.pages:
        (page_span,) = page.spans
        for w in page.words or []:
            assert text(w.span) == w.content and len(w.polygon) == 8
            assert page_span.offset <= w.span.offset < page_span.offset + page_span.length
        for ln in page.lines or []:
            assert " ".join(text(s) for s in ln.spans) == ln.content
        for m in page.selection_marks or []:
            assert text(m.span) == f":{m['state']}:"
    for p in result.paragraphs or []:
        assert " ".join(text(s) for s in p.spans).replace("\n", " ") == p.content


def test_layout_of_pdf_bytes(client: Client) -> None:
    pdf = make_pdf([["Purchase Order 948284", "Company Phone: 555-348-6512"], ["Page two"]],
                   boxes=[(300, 600, True), (330, 600, False)])
    poller = _sdk(client).begin_analyze_document("prebuilt-layout", pdf, polling_interval=0.2)
    result = poller.result()
    assert re.fullmatch(r"[0-9a-f-]{36}", poller.details["operation_id"])
    assert (result.api_version, result.model_id, result.string_index_type) == (
        "2024-11-30", "prebuilt-layout", "textElements")
    assert result.content.startswith("Purchase Order 948284\nCompany Phone: 555-348-6512\n")
    assert result.content.endswith("\nPage two")
    assert [p.page_number for p in result.pages] == [1, 2]
    page = result.pages[0]
    assert (page.unit, page.width, page.height, page.angle) == ("inch", 8.5, 11, 0)
    assert [ln.content for ln in page.lines] == ["Purchase Order 948284", "Company Phone: 555-348-6512"]
    assert sorted(m.state for m in page.selection_marks) == ["selected", "unselected"]
    assert all(w.confidence == 1 for w in page.words)
    assert result.tables == [] and result.styles == [] and result.paragraphs
    _check_spans(result)


def test_layout_of_base64_image_and_page_selection(client: Client) -> None:
    lines = [f"Scanned {uuid.uuid4().hex[:6]}", "Second line here"]
    png = encode(text_image(lines, boxes=[(700, 150, True)]), "PNG")
    result = _analyze(client, AnalyzeDocumentRequest(bytes_source=png))
    page = result.pages[0]
    assert page.unit == "pixel" and (page.width, page.height) == (1000, 500)
    assert page.lines[1].content == "Second line here" and page.selection_marks[0].state == "selected"
    _check_spans(result)
    tiff = multi_tiff([text_image(["First frame"]), text_image(["Second frame"])])
    second = _analyze(client, tiff, pages="2")
    assert [p.page_number for p in second.pages] == [2] and second.content == "Second frame"
    raw = _analyze(client, {"base64Source": base64.b64encode(tiff).decode()})
    assert raw.content == "First frame\nSecond frame"


def test_layout_from_an_allowed_url_only(client: Client, file_server: FileServer) -> None:
    file_server.files["/v4/form.pdf"] = (make_pdf([["Fetched for v4"]]), "application/pdf")
    result = _analyze(client, AnalyzeDocumentRequest(url_source=file_server.url + "/v4/form.pdf"))
    assert result.content == "Fetched for v4"
    with pytest.raises(HttpResponseError) as off_list:
        _analyze(client, AnalyzeDocumentRequest(url_source="https://example.org/form.pdf"))
    assert off_list.value.status_code == 403 and off_list.value.error.code == "Forbidden"
    assert off_list.value.error.innererror["code"] == "OutboundAccessForbidden"
    with pytest.raises(HttpResponseError) as missing:
        _analyze(client, AnalyzeDocumentRequest(url_source=file_server.url + "/v4/none.pdf"))
    assert missing.value.error.innererror["code"] == "ContentSourceNotAccessible"


def test_read_model_and_prebuilt_details(client: Client) -> None:
    result = _analyze(client, make_pdf([["Read me"]], boxes=[(300, 600, True)]), model="prebuilt-read")
    assert result.model_id == "prebuilt-read" and result.content == "Read me" and result.tables is None
    admin = DocumentIntelligenceAdministrationClient(client.endpoint, AzureKeyCredential(client.key))
    assert admin.get_model("prebuilt-layout").model_id == "prebuilt-layout"
    assert {"prebuilt-layout", "prebuilt-read"} <= {m.model_id for m in admin.list_models()}


def test_the_wire_protocol(client: Client) -> None:
    """202 with an absolute Operation-Location carrying the api-version, no Location, empty body;
    polls say `Retry-After` while the work runs and give the envelope of the spec."""
    png = encode(text_image([f"Wire {uuid.uuid4().hex}"] * 6, size=(2400, 1600)), "PNG")
    r = client.post(f"{LAYOUT}?{API}", png, "application/octet-stream")
    assert r.status_code == 202 and r.content == b"" and "Location" not in r.headers
    op = r.headers["Operation-Location"]
    prefix = "/documentintelligence/documentModels/prebuilt-layout/analyzeResults/"
    assert op.startswith(client.endpoint + prefix)
    assert op.endswith("?" + API) and SDK_ID_RE.match(op).group(1) == r.headers["apim-request-id"]
    first = client.get(op)
    assert first.status_code == 200
    assert first.json()["status"] in ("notStarted", "running")  # OCR of a 2400x1600 scan takes a while
    assert first.headers["Retry-After"] == "1" and first.headers["retry-after-ms"] == "200"
    assert "analyzeResult" not in first.json()
    body = client.wait(op)
    assert body["status"] == "succeeded" and set(body) == {"status", "createdDateTime", "lastUpdatedDateTime",
                                                           "analyzeResult"}
    assert "Retry-After" not in client.get(op).headers
    assert body["analyzeResult"]["contentFormat"] == "text"


def test_api_version_is_required_and_checked(client: Client) -> None:
    pdf = make_pdf([["x"]])
    for query, inner in (("", "ParameterMissing"), ("?api-version=2023-07-31", "InvalidParameter")):
        r = client.post(LAYOUT + query, pdf, "application/pdf")
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "InvalidArgument"
        assert r.json()["error"]["innererror"]["code"] == inner and "api-version" in r.text
    assert "2023-07-31 and 2022-08-31 are served under /formrecognizer" in r.text


def test_font_styles_and_high_resolution_are_accepted(client: Client) -> None:
    """`styleFont` (sample_analyze_read asks for it) and `ocrHighResolution` are accepted; the engine
    reports no font styles, so `styles` holds handwriting only (none here). Other add-ons are refused."""
    pdf = make_pdf([["Bold claims"]])
    for model in ("prebuilt-read", "prebuilt-layout"):
        result = _analyze(client, pdf, model=model, features=["styleFont", "ocrHighResolution"])
        assert result.content == "Bold claims" and result.styles == []
    for feature in ("barcodes", "languages", "keyValuePairs", "formulas"):
        with pytest.raises(HttpResponseError) as refused:
            _analyze(client, pdf, features=["styleFont", feature])
        assert refused.value.error.code == "InvalidArgument"
        assert f"{feature} not supported" in refused.value.error.innererror["message"]


def test_errors_are_in_the_v4_shape(client: Client) -> None:
    with pytest.raises(ClientAuthenticationError):
        _sdk(client, key="wrong").begin_analyze_document("prebuilt-layout", make_pdf([["x"]]))
    with pytest.raises(HttpResponseError) as corrupt:
        _analyze(client, b"%PDF-1.4 broken")
    assert corrupt.value.status_code == 400 and corrupt.value.error.code == "InvalidRequest"
    assert corrupt.value.error.innererror["code"] == "InvalidContent"
    with pytest.raises(HttpResponseError) as pages:
        _analyze(client, make_pdf([["one page"]]), pages="3")
    assert pages.value.error.code == "InvalidArgument"
    assert pages.value.error.innererror["code"] == "InvalidParameter"
    with pytest.raises(HttpResponseError) as markdown:
        _analyze(client, make_pdf([["x"]]), output_content_format="markdown")
    assert "outputContentFormat" in markdown.value.error.innererror["message"]
    with pytest.raises(ResourceNotFoundError) as no_model:
        _analyze(client, make_pdf([["x"]]), model="no-such-model")
    assert no_model.value.error.innererror["code"] == "ModelNotFound"
    with pytest.raises(ResourceNotFoundError) as prebuilt:
        _analyze(client, make_pdf([["x"]]), model="prebuilt-invoice")
    assert "serves the prebuilt models prebuilt-layout and prebuilt-read" in prebuilt.value.error.innererror[
        "message"]
    r = client.get(f"/documentintelligence/documentModels/prebuilt-layout/analyzeResults/{uuid.uuid4()}?"
                   + API)
    assert r.status_code == 404 and r.json()["error"]["innererror"]["code"] == "OperationNotFound"
    r = client.post(f"{LAYOUT}?{API}", b"plain text", "text/plain")
    assert r.status_code == 415 and r.json()["error"]["code"] == "UnsupportedMediaType"


def test_many_layouts_in_a_row_stay_fast(client: Client) -> None:
    """The conversion adds little to Layout: a 2-page text PDF comes back within a second or two."""
    pdf = make_pdf([[f"Line {i} of page {p}" for i in range(40)] for p in range(2)])
    started = time.monotonic()
    result = _analyze(client, pdf)
    assert len(result.pages) == 2 and len(result.pages[1].lines) == 40
    assert time.monotonic() - started < 10
