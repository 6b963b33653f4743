"""Merged cells become rectangles, and the merging always ends (engine/tables/grid._rectangular)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.layout.analyze import analyze_layout
from engine.tables.grid import _rectangular
from formgen import generate


def _is_rectangles(label: np.ndarray) -> bool:
    for g in np.unique(label):
        rows, cols = np.nonzero(label == g)
        block = label[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
        if (block != g).any():
            return False
    return True


def test_interlocking_cells_merge_into_rectangles() -> None:
    """L-shaped cells whose bounding blocks hold each other's cells end as rectangles."""
    label = np.array([[0, 0, 1, 1],
                      [0, 1, 1, 3],
                      [2, 2, 1, 3],
                      [2, 4, 4, 4]])
    _rectangular(label)
    assert _is_rectangles(label)


def test_cells_that_are_rectangles_stay_apart() -> None:
    label = np.array([[0, 0, 1], [2, 3, 1], [4, 4, 4]])
    before = label.copy()
    _rectangular(label)
    assert (label == before).all()


def test_a_photographed_page_whose_rules_interlock_is_read(tmp_path: Path) -> None:
    """This phone photo's ruled lines made cells whose blocks held each other's cells: swallowing only
    the part inside a block handed cells back and forth for ever and the engine never answered (it now
    takes ~2 s; pytest-timeout ends a hang)."""
    form = generate("invoice_multipage", 2, tmp_path, seed=4, kind="photo")[1]
    result = analyze_layout(form.path.read_bytes(), None)
    assert [len(rr["lines"]) > 10 for rr in result["readResults"]] == [True, True]
