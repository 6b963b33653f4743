"""Tables in Layout on real documents: a Word-made maintenance record, the job application (a fillable Word
form laid out as one big table), scanned purchase orders and the tax return."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.layout.analyze import analyze_layout
from tests.helpers.paths import DATA_DIR

RECORDS = DATA_DIR / "maintenance-records"
HEADER = ["Date of Maintenance", "Operation Performed", "Vehicle Mileage", "Date Next Maintenance Due"]


def _grid(table: dict) -> dict[tuple[int, int], str]:
    return {(c["rowIndex"], c["columnIndex"]): c["text"] for c in table["cells"]}


def _tables(path: Path) -> list[list[dict]]:
    return [pr["tables"] for pr in analyze_layout(path.read_bytes(), None)["pageResults"]]


@pytest.mark.parametrize(("name", "filled"), [("Adatum", 6), ("Fincher", 3), ("Lamna", 8), ("Liberty", 3),
                                              ("Trey", 2)])
def test_a_maintenance_record_gives_its_table(name: str, filled: int) -> None:
    [[table]] = _tables(RECORDS / f"Commercial Motor Vehicle - {name}.pdf")
    assert (table["rows"], table["columns"]) == (11, 4)  # a header and ten ruled rows, some blank
    grid = _grid(table)
    assert [grid[(0, j)] for j in range(4)] == HEADER
    assert [c["isHeader"] for c in table["cells"]] == [True] * 4 + [False] * 40
    rows_with_text = {i for (i, _j), text in grid.items() if text and i > 0}
    assert rows_with_text == set(range(1, filled + 1))
    if name == "Adatum":
        assert [grid[(1, j)] for j in range(4)] == ["12/07/2012", "Engine check. Brakes check.", "15,837",
                                                    "09/2014"]


def test_the_job_application_gives_its_two_tables_not_the_form_around_them() -> None:
    """Word lays the whole form out as one table; its one-field rows are not table rows."""
    [[education, work]] = _tables(DATA_DIR / "job-application" / "ceo.pdf")
    assert (education["rows"], education["columns"], work["rows"], work["columns"]) == (4, 4, 3, 4)
    assert [_grid(education)[(0, j)] for j in range(4)] == ["Name of Degree", "Institution",
                                                            "Year of Passing", "Marks Obtained"]
    assert [_grid(education)[(1, j)] for j in range(4)] == ["MBA", "NYU", "2000", "95"]
    assert [_grid(work)[(1, j)] for j in range(4)] == ["The Financial Company", "CFO", "21 years",
                                                       "New Challenge"]
    assert all(c["isHeader"] == (c["rowIndex"] == 0) for t in (education, work) for c in t["cells"])


def test_the_blank_job_application_has_the_same_tables_empty() -> None:
    [[education, work]] = _tables(DATA_DIR / "job-application" / "test" / "empty.pdf")
    assert [(t["rows"], t["columns"]) for t in (education, work)] == [(4, 4), (3, 4)]
    assert all(not c["text"] for t in (education, work) for c in t["cells"] if c["rowIndex"] > 0)


def test_a_scanned_purchase_order_gives_its_items_and_totals() -> None:
    [[items, totals]] = _tables(DATA_DIR / "purchase-orders" / "Form_1.jpg")
    grid = _grid(items)
    assert (items["rows"], items["columns"]) == (5, 4)
    assert [grid[(0, j)] for j in range(4)] == ["Details", "Quantity", "Unit Price", "Total"]
    assert [grid[(4, j)] for j in range(4)] == ["Copper Swirl Marker", "20", "5.00", "100.00"]
    # The totals block: its double rule is one line, and its first row is data, not a header.
    assert (totals["rows"], totals["columns"]) == (3, 2)
    assert _grid(totals) == {(0, 0): "SUBTOTAL", (0, 1): "$140.00", (1, 0): "TAX", (1, 1): "$4.00",
                             (2, 0): "TOTAL", (2, 1): "$144.00"}
    assert not any(c["isHeader"] for c in totals["cells"])


def test_the_tax_return_gives_its_ruled_grids_and_no_page_sized_one() -> None:
    """A 1040 is drawn as grids of rules: the name block, the dependents table, the line-amount columns.
    Check boxes are not cells, and no table takes in the whole page."""
    pages = analyze_layout((DATA_DIR / "irs-1040" / "f1040_1.pdf").read_bytes(), None)
    for rr, tables in zip(pages["readResults"], (pr["tables"] for pr in pages["pageResults"]), strict=True):
        assert tables
        for t in tables:
            ys = t["boundingBox"][1::2]
            assert (max(ys) - min(ys)) < 0.7 * rr["height"]
            assert t["rows"] >= 2 and t["columns"] >= 2
    dependents = [t for t in pages["pageResults"][0]["tables"]
                  if _grid(t).get((0, 0), "").startswith("Dependents")]
    assert [(t["rows"], t["columns"]) for t in dependents] == [(5, 7)]
    header = [c["text"] for c in dependents[0]["cells"] if c["rowIndex"] == 0]
    assert "(2) Social security number" in header and "(3) Relationship to you" in header
