"""Fillable PDFs through the real engine: what a person sees in every form field is read, where it is."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.helpers.engine import Client
from tests.helpers.page_words import inside_share, norm_box, page_words
from tests.helpers.paths import DATA_DIR

JOB_APPLICATION = DATA_DIR / "job-application"
IRS_1040 = DATA_DIR / "irs-1040"


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (1 0 obj is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pure_xfa_pdf() -> bytes:
    """What a dynamic XFA form looks like without an XFA reader: a 'Please wait' page, no fields."""
    text = b"BT /F1 12 Tf 72 700 Td (Please wait... If this message is not eventually replaced) Tj ET"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /NeedsRendering true /AcroForm << /Fields [] /XFA 5 0 R >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Length 29 >>\nstream\n<xdp:xdp>form</xdp:xdp>\n\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


@pytest.mark.parametrize("form", ["ceo", "cloudarchitect", "csharpprogrammer", "fullstack", "securityguard"])
def test_every_labeled_value_of_a_filled_job_application_is_read_where_it_was_labeled(
        client: Client, form: str) -> None:
    """The values live in form fields only: the page's own text is the blank form (0 of 97 words before)."""
    pdf = JOB_APPLICATION / f"{form}.pdf"
    labels = json.loads((JOB_APPLICATION / f"{form}.pdf.labels.json").read_text())
    page = client.layout(pdf.read_bytes(), "application/pdf")["analyzeResult"]["readResults"][0]
    assert page["unit"] == "inch" and page["width"] == pytest.approx(8.27, abs=0.01)
    words = page_words(page)
    expected = [(v["text"], norm_box(v["boundingBoxes"][0], 1, 1))
                for lab in labels["labels"] for v in lab["value"]]
    # The cloud read one ".Net" as "Net": punctuation at a word's ends is not what is compared.
    missing = [text for text, box in expected
               if not any(t.strip(".,:;") == text.strip(".,:;") and inside_share(b, box) >= 0.5
                          for t, b in words)]
    assert expected and missing == []


def test_a_tax_return_reads_comb_digits_one_per_cell_and_check_boxes_with_their_state(client: Client) -> None:
    body = client.layout((IRS_1040 / "f1040_1.pdf").read_bytes(), "application/pdf")
    page = body["analyzeResult"]["readResults"][0]
    # "Your social security number" is a nine-cell comb field (MaxLen 9) at x 469-576 pt, y 666-680 pt.
    left, right = 469 / 612 - 0.005, 576 / 612 + 0.005
    cells = [(text, box) for text, box in page_words(page)
             if box[0] >= left and box[2] <= right and 112 / 792 < box[1] < 126 / 792]
    assert [t for t, _ in cells] == list("112345678")
    lefts = [b[0] * 612 for _, b in cells]
    assert all(11 < b - a < 13 for a, b in itertools.pairwise(lefts))  # one 11.9-pt cell each
    # Filing status: the five check boxes of the first row, "Single" ticked.
    row = sorted((m for m in page["selectionMarks"] if abs(m["boundingBox"][1] - (792 - 724) / 72) < 0.02),
                 key=lambda m: m["boundingBox"][0])
    assert [m["state"] for m in row] == ["selected", "unselected", "unselected", "unselected", "unselected"]
    assert row[0]["boundingBox"][0] == pytest.approx(95.6 / 72, abs=0.01)
    assert row[0]["confidence"] >= 0.9
    # The check glyph the ticked box draws (ZapfDingbats) is a mark, not a word.
    tick = norm_box(row[0]["boundingBox"], page["width"], page["height"])
    assert not [t for t, b in page_words(page) if inside_share(b, tick) > 0.5]
    texts = {t for t, _ in page_words(page)}
    # Amounts typed into fields on both pages.
    assert "48,500.00" in texts
    assert "John" in texts and "Doe" in texts and "Los" in texts


def test_a_pure_xfa_form_is_refused_with_a_clear_error(client: Client) -> None:
    r = client.post("/formrecognizer/v2.1/layout/analyze", pure_xfa_pdf(), "application/pdf")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "UnsupportedXfaForm" and "XFA" in error["message"]


def test_a_hybrid_acroform_and_xfa_form_is_read_from_its_acroform(client: Client) -> None:
    """The tax return carries XFA beside its AcroForm (formtype XFA_FOREGROUND): the fields are read."""
    body = client.layout((IRS_1040 / "f1040_2.pdf").read_bytes(), "application/pdf")
    assert body["status"] == "succeeded"
    assert len(body["analyzeResult"]["readResults"]) == 2
    page2 = body["analyzeResult"]["readResults"][1]
    # Exactly the three widgets whose appearance state is on (left edges in points, from the file).
    ticked = sorted(round(m["boundingBox"][0] * 72, 1)
                    for m in page2["selectionMarks"] if m["state"] == "selected")
    assert ticked == [377.4, 465.2, 511.2]


def _rendered(pdf: Path, page: int, dpi: int = 200) -> bytes:
    """A page 'printed and scanned': rendered with its form fields drawn, as a grayscale PNG."""
    import io

    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    doc.init_forms()
    img = doc[page - 1].render(scale=dpi / 72, may_draw_forms=True, grayscale=True).to_pil()
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    doc.close()
    return buf.getvalue()


def test_a_scanned_tax_return_shows_every_thin_check_box_with_its_state(client: Client) -> None:
    """The return's 8-pt boxes have thin grey outlines on a scan: each is found, ticked or not, where the
    digital file's own check box widgets are (before: only the ticked ones, 37 % of labeled boxes)."""
    pdf = IRS_1040 / "f1040_2.pdf"
    digital = client.layout(pdf.read_bytes(), "application/pdf")["analyzeResult"]["readResults"]
    for number in (1, 2):
        want = digital[number - 1]
        scan = client.layout(_rendered(pdf, number), "image/png")["analyzeResult"]["readResults"][0]
        got = [(norm_box(m["boundingBox"], scan["width"], scan["height"]), m["state"])
               for m in scan["selectionMarks"]]
        for m in want["selectionMarks"]:
            box = norm_box(m["boundingBox"], want["width"], want["height"])
            under = [state for b, state in got if inside_share(b, box) > 0.3 or inside_share(box, b) > 0.3]
            assert under == [m["state"]], (number, m)
