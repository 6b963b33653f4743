"""Tables in Layout on forms the project generates: ruled tables found cell for cell in digital PDFs and
scans (truth beside each form), and none on the layouts that have no table."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.layout.analyze import analyze_layout
from formgen import generate
from formgen.table_score import TableScore, load_truth, norm, score

NO_TABLES = ("invoice", "invoice_multipage", "purchase_order", "registration", "tax_form")


def _score(forms: list) -> TableScore:  # type: ignore[type-arg]
    total = TableScore()
    for form in forms:
        total.add(score(analyze_layout(form.path.read_bytes(), None), load_truth(form.tables_path)))
    return total


def test_digital_tables_match_their_truth_cell_for_cell(tmp_path: Path) -> None:
    forms = generate("ruled_tables", 8, tmp_path, seed=21)
    s = _score(forms)
    assert s.tables >= 10  # one or two tables per form
    assert (s.found, s.shape, s.spurious) == (s.tables, s.tables, 0)
    assert s.text == s.text_strict == s.spans == s.header == s.cells, s.misses


def test_a_digital_table_in_detail(tmp_path: Path) -> None:
    """Every cell of every table: indices, spans, text, header flag, and boxes on the page."""
    for form in generate("ruled_tables", 3, tmp_path, seed=4):
        result = analyze_layout(form.path.read_bytes(), None)
        truth = load_truth(form.tables_path)
        got = result["pageResults"][0]["tables"]
        width, height = result["readResults"][0]["width"], result["readResults"][0]["height"]
        assert len(got) == len(truth["tables"])
        for table, expected in zip(got, truth["tables"], strict=True):
            assert (table["rows"], table["columns"]) == (expected["rows"], expected["columns"])
            cells = [(c["rowIndex"], c["columnIndex"], c.get("rowSpan", 1), c.get("columnSpan", 1), c["text"],
                      c["isHeader"]) for c in table["cells"]]
            assert cells == [(c["rowIndex"], c["columnIndex"], c["rowSpan"], c["columnSpan"], c["text"],
                              c["isHeader"]) for c in expected["cells"]]
            for c, e in zip(table["cells"], expected["cells"], strict=True):
                box = [v / (width if k % 2 == 0 else height) for k, v in enumerate(c["boundingBox"])]
                assert max(abs(a - b) for a, b in zip(box, e["boundingBox"], strict=True)) < 0.003


def test_scanned_tables_have_the_truth_grid_and_most_texts(tmp_path: Path) -> None:
    """The grid (shape, spans, header) exactly; texts as far as Tesseract reads them at 150 dpi (its
    misses are bold header words, accents)."""
    s = _score(generate("ruled_tables", 3, tmp_path, seed=21, kind="scan"))
    assert (s.found, s.shape, s.spurious) == (s.tables, s.tables, 0)
    assert s.spans == s.header == s.cells
    assert s.text >= 0.85 * s.cells, s.misses


@pytest.mark.parametrize("kind", ["pdf", "fillable"])
def test_layouts_without_tables_give_none(tmp_path: Path, kind: str) -> None:
    """Comb fields, boxed fields, check boxes and a line-item area with only a header rule are no tables."""
    for name in NO_TABLES:
        for form in generate(name, 2, tmp_path / name, seed=5, kind=kind):
            pages = analyze_layout(form.path.read_bytes(), None)["pageResults"]
            assert [pr["tables"] for pr in pages] == [[]] * len(pages), form.path


def test_scans_without_tables_give_none(tmp_path: Path) -> None:
    for name in ("purchase_order", "tax_form", "registration"):
        form = generate(name, 1, tmp_path / name, seed=5, kind="scan")[0]
        assert analyze_layout(form.path.read_bytes(), None)["pageResults"][0]["tables"] == []


def test_the_comb_and_the_remarks_box_of_the_table_form_are_not_tables(tmp_path: Path) -> None:
    form = generate("ruled_tables", 1, tmp_path, seed=3)[0]
    result = analyze_layout(form.path.read_bytes(), None)
    texts = {norm(c["text"]) for t in result["pageResults"][0]["tables"] for c in t["cells"]}
    assert not any(t.startswith("Invoice") or t.startswith("Customer") or t.startswith("Oldparts")
                   or t.startswith("Allwork") for t in texts)
    assert len(result["pageResults"][0]["tables"]) == len(load_truth(form.tables_path)["tables"])
