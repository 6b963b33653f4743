"""`pageResults[].tables` in the cloud's v2.x shape: fields, element references, page turns, the SDK."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
from azure.ai.formrecognizer import FormRecognizerApiVersion, FormRecognizerClient, FormWord
from azure.core.credentials import AzureKeyCredential
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from engine.layout.analyze import analyze_layout
from tests.helpers.engine import Client

ROWS = [["Item", "Qty", "Price"], ["Bolts M8", "40", "12.50"], ["Washers", "200", "3.10"]]
_REF = re.compile(r"^#/readResults/(\d+)/lines/(\d+)/words/(\d+)$")


def table_pdf(pages: int = 1) -> bytes:
    """A text line on every page, and a ruled 3x3 table on the last one."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    for n in range(pages):
        c.setFont("Helvetica", 11)
        c.drawString(72, 740, f"Parts list, page {n + 1}")
        if n == pages - 1:
            xs, ys = [72, 232, 312, 412], [700, 676, 652, 628]
            for x in xs:
                c.line(x, ys[0], x, ys[-1])
            for y in ys:
                c.line(xs[0], y, xs[-1], y)
            for i, row in enumerate(ROWS):
                for j, text in enumerate(row):
                    c.drawString(xs[j] + 5, ys[i] - 16, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def turned(pdf: bytes, rotation: int) -> bytes:
    doc = pdfium.PdfDocument(pdf)
    doc[0].set_rotation(rotation)
    out = io.BytesIO()
    doc.save(out)
    doc.close()
    return out.getvalue()


def _word(result: dict, ref: str) -> dict:
    read, line, word = (int(v) for v in _REF.match(ref).groups())  # type: ignore[union-attr]
    return result["readResults"][read]["lines"][line]["words"][word]


def _rect(quad: list[float]) -> tuple[float, float, float, float]:
    return min(quad[0::2]), min(quad[1::2]), max(quad[0::2]), max(quad[1::2])


def test_cells_carry_the_v21_fields_and_their_words() -> None:
    result = analyze_layout(table_pdf(), "application/pdf")
    [table] = result["pageResults"][0]["tables"]
    assert set(table) == {"rows", "columns", "cells", "boundingBox"} and len(table["boundingBox"]) == 8
    assert (table["rows"], table["columns"]) == (3, 3)
    for cell in table["cells"]:
        assert list(cell) == ["rowIndex", "columnIndex", "text", "boundingBox", "confidence", "elements",
                              "isHeader"]  # spans of 1 are left out, as the service does; no isFooter
        assert cell["confidence"] == 1.0 and len(cell["boundingBox"]) == 8
        assert cell["text"] == ROWS[cell["rowIndex"]][cell["columnIndex"]]
        assert " ".join(_word(result, ref)["text"] for ref in cell["elements"]) == cell["text"]
        assert cell["isHeader"] == (cell["rowIndex"] == 0)
        x0, y0, x1, y1 = _rect(cell["boundingBox"])
        for ref in cell["elements"]:
            wx0, wy0, wx1, wy1 = _rect(_word(result, ref)["boundingBox"])
            assert x0 <= wx0 and wx1 <= x1 and y0 <= wy0 and wy1 <= y1


def test_v20_tables_have_no_box_of_their_own() -> None:
    [table] = analyze_layout(table_pdf(), "application/pdf", api_version="2.0")["pageResults"][0]["tables"]
    assert "boundingBox" not in table and all("boundingBox" in c for c in table["cells"])


def test_element_references_count_readresults_not_page_numbers() -> None:
    result = analyze_layout(table_pdf(pages=2), "application/pdf", pages=[2])
    assert [rr["page"] for rr in result["readResults"]] == [2]
    [table] = result["pageResults"][0]["tables"]
    refs = [ref for c in table["cells"] for ref in c["elements"]]
    assert refs and all(ref.startswith("#/readResults/0/") for ref in refs)
    assert [_word(result, ref)["text"] for ref in table["cells"][0]["elements"]] == ["Item"]


def test_a_turned_page_has_its_cells_where_its_words_are() -> None:
    for rotation in (90, 180, 270):
        result = analyze_layout(turned(table_pdf(), rotation), "application/pdf")
        [table] = result["pageResults"][0]["tables"]
        assert (table["rows"], table["columns"]) == (3, 3)
        for cell in table["cells"]:
            assert cell["text"] == ROWS[cell["rowIndex"]][cell["columnIndex"]]
            x0, y0, x1, y1 = _rect(cell["boundingBox"])
            for ref in cell["elements"]:
                wx0, wy0, wx1, wy1 = _rect(_word(result, ref)["boundingBox"])
                assert x0 <= wx0 and wx1 <= x1 and y0 <= wy0 and wy1 <= y1, rotation


def test_the_sdk_reads_the_tables(client: Client) -> None:
    sdk = FormRecognizerClient(client.endpoint, AzureKeyCredential(client.key),
                               api_version=FormRecognizerApiVersion.V2_1)
    [page] = sdk.begin_recognize_content(table_pdf(), content_type="application/pdf").result()
    [table] = page.tables
    assert (table.row_count, table.column_count, table.page_number) == (3, 3, 1)
    assert len(table.bounding_box) == 4
    cells = {(c.row_index, c.column_index): c for c in table.cells}
    assert cells[(1, 0)].text == "Bolts M8" and cells[(1, 0)].row_span == cells[(1, 0)].column_span == 1
    assert cells[(0, 2)].is_header and not cells[(1, 2)].is_header and not cells[(1, 2)].is_footer
    words = cells[(1, 0)].field_elements
    assert [type(w) for w in words] == [FormWord, FormWord] and [w.text for w in words] == ["Bolts", "M8"]
