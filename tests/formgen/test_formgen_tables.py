"""The ruled-tables layout's promises: deterministic, truth that tiles its grid, texts where the truth says
(read back with pdfplumber, not with the engine under test), boxes that follow the scan."""

from __future__ import annotations

import json
from pathlib import Path

import pdfplumber

from formgen import generate


def _truth(form) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(form.tables_path.read_text(encoding="utf-8"))


def _grids(form) -> list[list[tuple]]:  # type: ignore[no-untyped-def]
    return [[(c["rowIndex"], c["columnIndex"], c["rowSpan"], c["columnSpan"], c["text"]) for c in t["cells"]]
            for t in _truth(form)["tables"]]


def test_same_seed_same_tables_and_pdf_and_scan_share_them(tmp_path: Path) -> None:
    a = generate("ruled_tables", 3, tmp_path / "a", seed=2)
    b = generate("ruled_tables", 3, tmp_path / "b", seed=2)
    scan = generate("ruled_tables", 3, tmp_path / "scan", seed=2, kind="scan")
    for x, y, s in zip(a, b, scan, strict=True):
        assert x.path.read_bytes() == y.path.read_bytes()
        assert x.tables_path.read_bytes() == y.tables_path.read_bytes()
        assert _grids(x) == _grids(s)


def test_truth_cells_tile_the_grid_once_with_spans_headers_and_blanks(tmp_path: Path) -> None:
    spans = blanks = 0
    for form in generate("ruled_tables", 12, tmp_path, seed=6):
        for t in _truth(form)["tables"]:
            covered: list[tuple[int, int]] = []
            for c in t["cells"]:
                covered += [(i, j) for i in range(c["rowIndex"], c["rowIndex"] + c["rowSpan"])
                            for j in range(c["columnIndex"], c["columnIndex"] + c["columnSpan"])]
                assert c["isHeader"] == (c["rowIndex"] == 0)
                spans += c["rowSpan"] > 1 or c["columnSpan"] > 1
                blanks += c["text"] == ""
            assert sorted(covered) == [(i, j) for i in range(t["rows"]) for j in range(t["columns"])]
            assert 2 <= t["columns"] <= 5 and t["rows"] >= 3
    assert spans >= 6 and blanks >= 6


def test_each_truth_cell_holds_its_text_on_the_page(tmp_path: Path) -> None:
    for form in generate("ruled_tables", 4, tmp_path, seed=8):
        with pdfplumber.open(form.path) as pdf:
            page = pdf.pages[0]
            words = page.extract_words()
            for t in _truth(form)["tables"]:
                for c in t["cells"]:
                    xs, ys = c["boundingBox"][0::2], c["boundingBox"][1::2]
                    x0, x1 = min(xs) * page.width, max(xs) * page.width
                    top, bottom = min(ys) * page.height, max(ys) * page.height
                    inside = [w["text"] for w in words if x0 < (w["x0"] + w["x1"]) / 2 < x1
                              and top < (w["top"] + w["bottom"]) / 2 < bottom]
                    assert " ".join(inside) == c["text"], (form.path.name, c)


def test_scan_truth_boxes_move_with_the_page(tmp_path: Path) -> None:
    pdf = generate("ruled_tables", 1, tmp_path / "pdf", seed=3)[0]
    scan = generate("ruled_tables", 1, tmp_path / "scan", seed=3, kind="scan")[0]
    flat = [c["boundingBox"] for t in _truth(pdf)["tables"] for c in t["cells"]]
    moved = [c["boundingBox"] for t in _truth(scan)["tables"] for c in t["cells"]]
    shift = max(abs(a - b) for p, s in zip(flat, moved, strict=True) for a, b in zip(p, s, strict=True))
    assert 0.001 < shift < 0.08  # rotated, scaled and shifted a little, as the scan simulation does
