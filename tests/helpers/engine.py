"""Engine test helpers: documents generated on the fly (reportlab, Pillow with a real TTF font),
a polling client, a loopback file server for `source` URLs, and training containers on Azurite.

The fixtures that hand them out (`client`, `file_server`, `private_engine`) are in
tests/engine/conftest.py."""

from __future__ import annotations

import io
import struct
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdfium2 as pdfium
import requests
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from formloop.stack import AzuriteInfo

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
KEY_HEADER = "Ocp-Apim-Subscription-Key"


# -- documents ------------------------------------------------------------------------------------
def make_pdf(pages: list[list[str]], *, boxes: list[tuple[float, float, bool]] | None = None) -> bytes:
    """A digital PDF (text layer), one list of lines per page; boxes = (x_pt, y_pt, checked) on page 1."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    for i, lines in enumerate(pages):
        c.setFont("Helvetica", 12)
        for j, text in enumerate(lines):
            c.drawString(72, 720 - 24 * j, text)
        if i == 0:
            for x, y, checked in boxes or []:
                c.rect(x, y, 10, 10)
                if checked:
                    c.line(x + 2, y + 2, x + 8, y + 8)
                    c.line(x + 2, y + 8, x + 8, y + 2)
        c.showPage()
    c.save()
    return buf.getvalue()


def text_image(lines: list[str], size: tuple[int, int] = (1000, 500), font_size: int = 34,
               boxes: list[tuple[int, int, bool]] | None = None) -> Image.Image:
    """A clean 'scan' of some lines of text in DejaVu Sans; boxes = (x, y, checked) 30-px check boxes."""
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH, font_size)
    for j, text in enumerate(lines):
        draw.text((60, 50 + int(font_size * 1.8) * j), text, font=font, fill=0)
    for x, y, checked in boxes or []:
        draw.rectangle((x, y, x + 30, y + 30), outline=0, width=3)
        if checked:
            draw.line((x + 7, y + 7, x + 23, y + 23), fill=0, width=4)
            draw.line((x + 7, y + 23, x + 23, y + 7), fill=0, width=4)
    return img


def encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def multi_tiff(frames: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return buf.getvalue()


def scanned_pdf(img: Image.Image, dpi: int = 200) -> bytes:
    """An image-only PDF (no text layer), the page sized so the image lands at `dpi`."""
    w, h = img.size[0] * 72 / dpi, img.size[1] * 72 / dpi
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(w, h))
    c.drawImage(ImageReader(img.convert("RGB")), 0, 0, width=w, height=h)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, encrypt="secret")
    c.drawString(72, 720, "Confidential")
    c.showPage()
    c.save()
    return buf.getvalue()


def blank_pdf(pages: int) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(100, 100)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb's calling card."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


# -- client ---------------------------------------------------------------------------------------
@dataclass
class Client:
    endpoint: str
    key: str

    def post(self, path: str, data: bytes | None = None, content_type: str | None = None,
             key: str | None = "default", **kw) -> requests.Response:  # type: ignore[no-untyped-def]
        headers = dict(kw.pop("headers", {}))
        if content_type:
            headers["Content-Type"] = content_type
        if key is not None:
            headers[KEY_HEADER] = self.key if key == "default" else key
        return requests.post(self.endpoint + path, data=data, headers=headers, timeout=60, **kw)

    def get(self, url: str, key: str | None = "default") -> requests.Response:
        headers = {KEY_HEADER: self.key if key == "default" else key} if key is not None else {}
        full = url if url.startswith("http") else self.endpoint + url
        return requests.get(full, headers=headers, timeout=30)

    def wait(self, url: str, timeout: float = 120.0) -> dict:
        """Poll an operation until it ends; returns the final body."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.get(url)
            assert r.status_code == 200, r.text
            body = r.json()
            if body["status"].lower() in ("succeeded", "failed"):
                return body
            assert time.monotonic() < deadline, f"operation did not finish: {body}"
            time.sleep(0.2)

    def layout(self, data: bytes, content_type: str, version: str = "v2.1", query: str = "") -> dict:
        r = self.post(f"/formrecognizer/{version}/layout/analyze{query}", data, content_type)
        assert r.status_code == 202, r.text
        return self.wait(r.headers["Operation-Location"])


# -- a loopback file server for {"source": url} -------------------------------------------------
class FileServer:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.hits: list[str] = []
        files, hits = self.files, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", "http://example.com/x.pdf")
                    self.end_headers()
                    return
                if self.path not in files:
                    self.send_response(404)
                    self.end_headers()
                    return
                body, ctype = files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def sas_container(azurite: AzuriteInfo, files: dict[str, bytes], tag: str = "custom") -> str:
    """Upload files into a new container on the test Azurite; its read+list SAS URL (training source)."""
    name = tag + uuid.uuid4().hex[:20]
    container = BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    for blob, data in files.items():
        container.upload_blob(blob, data)
    sas = generate_container_sas(azurite.account_name, name, account_key=azurite.account_key,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=datetime.now(UTC) + timedelta(hours=1))
    return f"{azurite.blob_endpoint}/{name}?{sas}"
