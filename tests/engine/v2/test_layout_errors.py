"""Every bad input is refused at the POST with the service's codes; auth on every route but /health."""

from __future__ import annotations

import pytest

from tests.helpers.engine import (
    Client,
    FileServer,
    blank_pdf,
    encode,
    encrypted_pdf,
    make_pdf,
    png_header_only,
    text_image,
)

ANALYZE = "/formrecognizer/v2.1/layout/analyze"


def assert_error(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert "Retry-After" not in r.headers  # would make the SDK retry a hopeless request
    return body["error"]


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
def test_missing_or_wrong_key_is_401(client: Client, key: str | None) -> None:
    r = client.post(ANALYZE, make_pdf([["x"]]), "application/pdf", key=key)
    err = assert_error(r, 401, "401")
    assert "subscription key" in err["message"]
    assert_error(client.get("/formrecognizer/v2.1/layout/analyzeResults/00000000-0000-0000-0000-000000000000",
                            key=key), 401, "401")


def test_unknown_result_is_404(client: Client) -> None:
    r = client.get("/formrecognizer/v2.1/layout/analyzeResults/00000000-0000-0000-0000-000000000000")
    assert_error(r, 404, "NotFound")
    assert_error(client.get("/formrecognizer/v2.1/layout/analyzeResults/not-a-uuid"), 404, "NotFound")
    assert_error(client.get("/formrecognizer/v9.9/layout/analyzeResults/x"), 404, "404")


@pytest.mark.parametrize("name,data", [
    ("corrupt pdf", b"%PDF-1.4\n garbage garbage garbage"),
    ("truncated pdf", make_pdf([["Hello"]])[:-60]),
    ("encrypted pdf", encrypted_pdf()),
    ("truncated png", encode(text_image(["Hello"]), "PNG")[:400]),
    ("truncated jpeg", encode(text_image(["Hello"]), "JPEG")[:700]),
    ("not a document", b"this is plain text, not an image"),
    ("empty body", b""),
])
def test_unreadable_files_are_invalid_image(client: Client, name: str, data: bytes) -> None:
    ctype = "image/png" if "png" in name or "not" in name else "application/pdf"
    ctype = "image/jpeg" if "jpeg" in name else ctype
    err = assert_error(client.post(ANALYZE, data, ctype), 400, "InvalidImage")
    assert name and err["message"]


def test_unsupported_content_type_is_415(client: Client) -> None:
    assert_error(client.post(ANALYZE, b"GIF89a....", "image/gif"), 415, "UnsupportedMediaType")
    assert_error(client.post(ANALYZE, b"hello", "text/plain"), 415, "UnsupportedMediaType")
    # BMP arrived with v2.1; v2.0 refuses it.
    bmp = encode(text_image(["x"]), "BMP")
    r = client.post("/formrecognizer/v2.0/layout/analyze", bmp, "image/bmp")
    assert_error(r, 415, "UnsupportedMediaType")


def test_page_range_beyond_document(client: Client) -> None:
    pdf = make_pdf([["one"], ["two"]])
    err = assert_error(client.post(ANALYZE + "?pages=2-3", pdf, "application/pdf"), 400, "InvalidPageRange")
    assert err["message"] == "The Pages parameter exceeds the number of pages."
    assert_error(client.post(ANALYZE + "?pages=a-b", pdf, "application/pdf"), 400, "InvalidParameter")
    assert_error(client.post(ANALYZE + "?pages=3-1", pdf, "application/pdf"), 400, "InvalidParameter")


def test_unsupported_language_and_reading_order(client: Client) -> None:
    pdf = make_pdf([["one"]])
    assert_error(client.post(ANALYZE + "?language=xx", pdf, "application/pdf"), 400, "NotSupportedLanguage")
    r = client.post(ANALYZE + "?readingOrder=sideways", pdf, "application/pdf")
    assert_error(r, 400, "InvalidParameter")
    r = client.post(ANALYZE + "?language=en&readingOrder=Natural", pdf, "application/pdf")
    assert r.status_code == 202, r.text


def test_over_50_mb_is_refused(client: Client) -> None:
    big = b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)
    err = assert_error(client.post(ANALYZE, big, "application/pdf"), 400, "InvalidImageSize")
    assert "50 MB" in err["message"]


def test_over_2000_pages_is_refused(client: Client) -> None:
    err = assert_error(client.post(ANALYZE, blank_pdf(2001), "application/pdf"), 400, "InvalidImage")
    assert "2000 pages" in err["message"]


@pytest.mark.parametrize("size", [(40, 400), (400, 40), (10001, 100)])
def test_image_dimensions_out_of_range(client: Client, size: tuple[int, int]) -> None:
    data = encode(text_image([], size=size), "PNG")
    err = assert_error(client.post(ANALYZE, data, "image/png"), 400, "InvalidImageDimension")
    assert "50x50" in err["message"] and "10000x10000" in err["message"]


def test_decompression_bomb_refused_from_header(client: Client) -> None:
    """200 bytes claiming 60000x60000 pixels (3.6 GB decoded) are refused without decoding."""
    bomb = png_header_only(60000, 60000)
    assert len(bomb) < 300
    assert_error(client.post(ANALYZE, bomb, "image/png"), 400, "InvalidImageDimension")
    assert client.get("/health", key=None).status_code == 200


def test_bad_json_bodies(client: Client) -> None:
    assert_error(client.post(ANALYZE, b"{not json", "application/json"), 400, "BadArgument")
    assert_error(client.post(ANALYZE, b'{"url": "x"}', "application/json"), 400, "BadArgument")


@pytest.mark.parametrize("url", [
    "http://example.com/form.pdf",             # not on the allow-list
    "http://169.254.169.254/latest/meta-data",  # cloud metadata endpoint
    "file:///etc/passwd",                      # not http(s)
    "ftp://127.0.0.1/form.pdf",
    "http://user:pw@127.0.0.1/form.pdf",       # credentials
    "not a url",
])
def test_source_outside_allow_list_is_2001(client: Client, url: str) -> None:
    r = client.post(ANALYZE, content_type="application/json", json={"source": url})
    assert_error(r, 400, "2001")


def test_source_errors_from_allowed_host(client: Client, file_server: FileServer) -> None:
    before = len(file_server.hits)
    missing = file_server.url + "/missing.pdf"
    r = client.post(ANALYZE, content_type="application/json", json={"source": missing})
    assert_error(r, 400, "2001")
    # A redirect could lead off the allow-list: it is not followed.
    r = client.post(ANALYZE, content_type="application/json", json={"source": file_server.url + "/redirect"})
    assert_error(r, 400, "2001")
    assert file_server.hits[before:] == ["/missing.pdf", "/redirect"]
    file_server.files["/bad.png"] = (b"not really a png", "image/png")
    r = client.post(ANALYZE, content_type="application/json", json={"source": file_server.url + "/bad.png"})
    assert_error(r, 400, "InvalidImage")
