"""PDFium is not thread-safe: PDFs laid out and validated on several threads at once must come out
exactly as they do one at a time (before the PDFium lock, a valid PDF was once refused as corrupt)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from engine.layout.analyze import analyze_layout
from engine.layout.documents import validate_document
from tests.helpers.engine import make_pdf, scanned_pdf, text_image


def _words(result: dict) -> list[str]:
    return [w["text"] for page in result["readResults"] for line in page["lines"] for w in line["words"]]


def test_pdfs_read_on_many_threads_match_the_sequential_results() -> None:
    digital = [make_pdf([[f"Invoice {i:04d}", f"Total {i * 7}.50 USD", "Thank you"]] * 3) for i in range(12)]
    scanned = scanned_pdf(text_image(["Purchase order 4711", "Ship to Ben Miller"]))
    docs = [*digital, scanned, *digital[:3]]
    expected = [_words(analyze_layout(d, "application/pdf")) for d in docs]
    assert "4711" in expected[12] and "0003" in expected[3]

    def both(doc: bytes) -> tuple[int, list[str]]:
        pages = validate_document(doc, "application/pdf").page_count
        return pages, _words(analyze_layout(doc, "application/pdf"))

    for _ in range(3):
        with ThreadPoolExecutor(6) as pool:
            got = list(pool.map(both, docs))
        assert [pages for pages, _ in got] == [3] * 12 + [1] + [3] * 3
        assert [words for _, words in got] == expected
