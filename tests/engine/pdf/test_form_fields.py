"""Form fields a viewer draws from their values (widgets outside the field tree, /NeedAppearances, no or
stale appearances) and multi-line fields, through the real engine: read as a person sees them, where
PDFium draws them on the review page's image."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
import pytest

from engine.page.model import Word
from engine.pdf.field_text import synthesized_words
from engine.pdf.form import Widget
from formgen import fillable_variants as variants
from tests.helpers.engine import Client

ADDRESS_LINES = variants.ADDRESS.split("\r\n")
SCALE = 4.0  # render at 288 dpi
DARK = 140


def _page(client: Client, pdf: bytes) -> dict:
    return client.layout(pdf, "application/pdf")["analyzeResult"]["readResults"][0]


def _shown(pdf: bytes) -> np.ndarray:
    """The page as the review page shows it (shared/review/page_images.py): forms drawn by PDFium."""
    doc = pdfium.PdfDocument(pdf)
    try:
        doc.init_forms()
        page = doc[0]
        pixels = np.asarray(page.render(scale=SCALE, may_draw_forms=True, grayscale=True).to_pil())
        page.close()
        return pixels
    finally:
        doc.close()


@pytest.mark.parametrize("listed", [(), ("Reference",)])
def test_widgets_outside_the_field_tree_are_read_as_a_viewer_draws_them(client: Client,
                                                                        listed: tuple[str, ...]) -> None:
    """/Fields empty or omitting widgets, /NeedAppearances true: before, none of these values was read."""
    page = _page(client, variants.orphan_widgets(listed=listed))
    texts = [line["text"] for line in page["lines"]]
    assert variants.DEFAULT_VALUE in texts  # its /V ...
    assert variants.STALE_VALUE not in " ".join(texts)  # ... not what its stale appearance drew
    assert variants.DEFAULT_REFERENCE in texts
    at = texts.index(ADDRESS_LINES[0])
    assert texts[at: at + 3] == ADDRESS_LINES  # one line per line of the value, in order


def test_values_drawn_from_the_field_lie_on_the_ink_the_review_image_shows(client: Client) -> None:
    pdf = variants.orphan_widgets()
    page = _page(client, pdf)
    pixels = _shown(pdf) < DARK
    px = SCALE * 72  # pixels per inch
    values = {variants.DEFAULT_VALUE, variants.DEFAULT_REFERENCE, *ADDRESS_LINES}
    words = [w for line in page["lines"] if line["text"] in values for w in line["words"]]
    assert len(words) == 12
    covered = np.zeros_like(pixels)
    for w in words:
        xs, ys = w["boundingBox"][0::2], w["boundingBox"][1::2]
        x0, x1 = round(min(xs) * px), round(max(xs) * px)
        y0, y1 = round(min(ys) * px), round(max(ys) * px)
        cols = np.where(pixels[y0:y1, x0 - 2: x1 + 2].any(axis=0))[0]
        assert len(cols), w["text"]
        # the ink starts and ends within 2.5 pt of the box's sides (a glyph's advance is wider than its ink)
        spare = (cols[0] - 2, x1 - x0 + 3 - cols[-1])
        assert max(spare) <= 2.5 * SCALE, (w["text"], spare)
        covered[y0 - 2: y1 + 2, x0 - 2: x1 + 2] = True
    # The Reference is right-aligned (/Q 2): its ink ends near the field's right edge (330 pt).
    reference = next(w for w in words if w["text"] == variants.DEFAULT_REFERENCE)
    assert max(reference["boundingBox"][0::2]) * 72 == pytest.approx(330 - 2, abs=3)
    # Every dark pixel inside the fields (their borders excluded) is under a word box.
    for top, bottom, right in ((667, 684, 430), (627, 644, 330), (559, 604, 330)):
        box = pixels[round((792 - bottom + 2) * SCALE): round((792 - top - 2) * SCALE),
                     round(128 * SCALE): round((right - 2) * SCALE)]
        under = covered[round((792 - bottom + 2) * SCALE): round((792 - top - 2) * SCALE),
                        round(128 * SCALE): round((right - 2) * SCALE)]
        assert box.sum() > 0 and (box & ~under).sum() == 0


def test_the_lines_of_a_multi_line_field_stay_its_lines_beside_a_taller_caption(client: Client) -> None:
    """Before: "Address 1422 Springfield, Pine Parkway IL 62704" (the caption's row took two lines)."""
    texts = [line["text"] for line in _page(client, variants.short_multiline())["lines"]]
    assert "Address" in texts
    at = texts.index(ADDRESS_LINES[0])
    assert texts[at: at + 3] == ADDRESS_LINES


def test_a_value_nothing_drew_is_laid_out_line_by_line_and_aligned() -> None:
    """The fallback when even PDFium drew nothing: lines from the top, /Q, the /DA size."""
    field = Widget("text", 1.0, 1.0, 4.0, 2.0, value="Test Company\r\n1422 Pine Parkway\r\nSpringfield",
                   font_size=10.0, multiline=True, align=2)
    words = synthesized_words([field], [])
    assert [w.text for w in words] == ["Test", "Company", "1422", "Pine", "Parkway", "Springfield"]
    tops = sorted({round(w.y0, 4) for w in words})
    assert len(tops) == 3 and tops[0] == pytest.approx(1.0 + 2 / 72, abs=1e-3) and tops[1] - tops[0] > 10 / 72
    ends = [max(w.x1 for w in words if round(w.y0, 4) == t) for t in tops]
    assert ends == pytest.approx([4.0 - 2 / 72] * 3, abs=0.01)  # right-aligned inside the padding
    one_line = Widget("text", 1.0, 1.0, 4.0, 1.3, value="A\nB", font_size=10.0, align=1)
    centred = synthesized_words([one_line], [Word("x", 5, 5, 6, 6)])
    assert [w.text for w in centred] == ["A"] and (centred[0].x0 + centred[0].x1) / 2 == pytest.approx(2.5)
