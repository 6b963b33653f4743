"""Every Layout route and content type against a real engine process with real Tesseract."""

from __future__ import annotations

import re

import pytest

from tests.helpers.engine import (
    Client,
    FileServer,
    encode,
    make_pdf,
    multi_tiff,
    scanned_pdf,
    text_image,
)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
LINES = ["Invoice number 4711", "Total due 120 dollars"]


def words_of(result: dict, page: int = 0) -> list[str]:
    return [w["text"] for ln in result["analyzeResult"]["readResults"][page]["lines"] for w in ln["words"]]


def test_v21_pdf_reads_text_layer_exactly(client: Client) -> None:
    pdf = make_pdf([["Purchase Order 948284", "Vendor Name: Balozi Khamisi"], ["Second page text"]])
    r = client.post("/formrecognizer/v2.1/layout/analyze", pdf, "application/pdf")
    assert r.status_code == 202 and r.content == b""
    op = r.headers["Operation-Location"]
    assert re.fullmatch(rf"{client.endpoint}/formrecognizer/v2\.1/layout/analyzeResults/{UUID}", op)
    assert "Location" not in r.headers  # a Location would make the SDK fetch it as the final result
    body = client.wait(op)
    assert body["status"] == "succeeded"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["createdDateTime"])
    res = body["analyzeResult"]
    assert res["version"] == "2.1.0"
    assert [p["page"] for p in res["readResults"]] == [1, 2]
    assert [p["page"] for p in res["pageResults"]] == [1, 2]  # aligned one-to-one
    page = res["readResults"][0]
    assert (page["unit"], page["width"], page["height"], page["angle"]) == ("inch", 8.5, 11.0, 0)
    assert [ln["text"] for ln in page["lines"]] == ["Purchase Order 948284", "Vendor Name: Balozi Khamisi"]
    first = page["lines"][0]
    assert first["appearance"]["style"]["name"] == "other"
    x0, y0, x1, y1, x2, y2, x3, y3 = first["boundingBox"]
    assert x0 == x3 == pytest.approx(1.0, abs=0.05) and y0 == y1 and x1 == x2 and y2 == y3 and y2 > y0
    assert y0 == pytest.approx(11 - 720 / 72 - 0.15, abs=0.1)  # 720 pt baseline from the bottom
    assert [w["confidence"] for w in first["words"]] == [1, 1, 1]
    assert words_of(body, 1) == ["Second", "page", "text"]


def test_pages_parameter_selects_pages(client: Client) -> None:
    pdf = make_pdf([["page one"], ["page two"], ["page three"]])
    body = client.layout(pdf, "application/pdf", query="?pages=1,3")
    res = body["analyzeResult"]
    assert [p["page"] for p in res["readResults"]] == [1, 3]
    assert [p["page"] for p in res["pageResults"]] == [1, 3]
    assert words_of(body, 1) == ["page", "three"]


@pytest.mark.parametrize("fmt,ctype", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("BMP", "image/bmp")])
def test_images_are_ocred_in_pixels(client: Client, fmt: str, ctype: str) -> None:
    img = text_image(LINES)
    body = client.layout(encode(img, fmt), ctype)
    page = body["analyzeResult"]["readResults"][0]
    assert (page["unit"], page["width"], page["height"]) == ("pixel", 1000, 500)
    assert [ln["text"] for ln in page["lines"]] == LINES
    word = page["lines"][0]["words"][0]
    assert word["text"] == "Invoice" and 0.5 < word["confidence"] <= 1
    x0, y0, _, _, _, y2, _, _ = word["boundingBox"]
    assert 55 <= x0 <= 70 and 50 <= y0 <= 65 and y2 - y0 < 45
    assert all(isinstance(v, int) for v in word["boundingBox"])


def test_multipage_tiff_every_frame_is_a_page(client: Client) -> None:
    data = multi_tiff([text_image(["First frame here"]), text_image(["Second frame there"])])
    res = client.layout(data, "image/tiff")["analyzeResult"]
    assert [p["page"] for p in res["readResults"]] == [1, 2]
    assert [ln["text"] for p in res["readResults"] for ln in p["lines"]] == ["First frame here",
                                                                               "Second frame there"]
    assert len(res["pageResults"]) == 2 and all(p["tables"] == [] for p in res["pageResults"])


def test_scanned_pdf_is_rendered_and_ocred_in_inches(client: Client) -> None:
    pdf = scanned_pdf(text_image(LINES, size=(1700, 600), font_size=40), dpi=200)
    page = client.layout(pdf, "application/pdf")["analyzeResult"]["readResults"][0]
    assert page["unit"] == "inch"
    assert page["width"] == pytest.approx(8.5) and page["height"] == pytest.approx(3.0)
    assert [ln["text"] for ln in page["lines"]] == LINES
    x0, y0 = page["lines"][0]["boundingBox"][:2]
    assert x0 == pytest.approx(60 / 200, abs=0.05) and y0 == pytest.approx(50 / 200, abs=0.08)


def test_json_source_url_from_allowed_host(client: Client, file_server: FileServer) -> None:
    file_server.files["/docs/form.pdf"] = (make_pdf([["Fetched from a URL"]]), "application/pdf")
    r = client.post("/formrecognizer/v2.1/layout/analyze", content_type="application/json",
                    json={"source": file_server.url + "/docs/form.pdf"})
    assert r.status_code == 202, r.text
    assert words_of(client.wait(r.headers["Operation-Location"])) == ["Fetched", "from", "a", "URL"]


def test_v20_shape_and_version(client: Client) -> None:
    body = client.layout(make_pdf([["Version two"]], boxes=[(300, 700, False)]), "application/pdf", "v2.0")
    res = body["analyzeResult"]
    assert res["version"] == "2.0.0"
    page = res["readResults"][0]
    assert "selectionMarks" not in page and "appearance" not in page["lines"][0]
    assert page["lines"][0]["language"] == "en"


def test_v20_preview_prefix_and_case_insensitive_paths(client: Client) -> None:
    r = client.post("/FormRecognizer/v2.0-preview/Layout/Analyze", make_pdf([["Case"]]), "application/pdf")
    assert r.status_code == 202, r.text
    url = r.headers["Operation-Location"]
    assert "/formrecognizer/v2.0-preview/layout/analyzeResults/" in url
    body = client.wait(url.replace("analyzeResults", "ANALYZERESULTS"))
    assert body["analyzeResult"]["version"] == "2.0.0" and words_of(body) == ["Case"]


def test_2019_preview_readlayout_routes(client: Client) -> None:
    r = client.post("/formrecognizer/v2.0-preview/readLayout/asyncAnalyze", make_pdf([["Feedback loop"]]),
                    "application/pdf")
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    path = r"/formrecognizer/v2\.0-preview/readLayout/asyncAnalyzeOperations/"
    assert re.fullmatch(rf"{client.endpoint}{path}{UUID}", loc)
    body = client.wait(loc)
    assert body["status"] == "Succeeded"  # that container capitalised its statuses
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.0000000\+00:00", body["lastUpdatedDateTime"])
    assert words_of(body) == ["Feedback", "loop"]


def test_2019_preview_accepts_multipart_upload(client: Client) -> None:
    r = client.post("/formrecognizer/v2.0-preview/readLayout/asyncAnalyze",
                    files={"analyzeFile": ("form.pdf", make_pdf([["Multipart body"]]), "application/pdf")})
    assert r.status_code == 202, r.text
    assert words_of(client.wait(r.headers["Location"])) == ["Multipart", "body"]


def test_health_needs_no_key(client: Client) -> None:
    r = client.get("/health", key=None)
    assert r.status_code == 200 and r.json()["status"] == "ok"
