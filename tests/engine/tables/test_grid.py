"""The grid builder on hand-made rules: what is a table, merged cells, double rules, headers."""

from __future__ import annotations

from engine.tables.grid import find_tables
from engine.tables.model import Rule, TextWord

H = 10.0  # text height: the grid builder measures every distance in it


def grid(xs: list[float], ys: list[float], skip_v: set[tuple[int, int]] = frozenset(),
         skip_h: set[tuple[int, int]] = frozenset()) -> list[Rule]:
    """A ruled grid; skip_v = {(x line, row)} and skip_h = {(y line, column)} are sides left undrawn."""
    rules = []
    for j, x in enumerate(xs):
        rules += [Rule(False, x, ys[i], ys[i + 1]) for i in range(len(ys) - 1) if (j, i) not in skip_v]
    for i, y in enumerate(ys):
        rules += [Rule(True, y, xs[j], xs[j + 1]) for j in range(len(xs) - 1) if (i, j) not in skip_h]
    return rules


def words_in(xs: list[float], ys: list[float], texts: dict[tuple[int, int], str]) -> list[TextWord]:
    out = []
    for n, ((i, j), text) in enumerate(sorted(texts.items())):
        x, y = (xs[j] + xs[j + 1]) / 2, (ys[i] + ys[i + 1]) / 2
        out.append(TextWord(text, x, y, (n, 0), H, H * len(text) * 0.5))
    return out


XS, YS = [0.0, 100.0, 200.0, 300.0], [0.0, 25.0, 50.0, 75.0]
TEXTS = {(0, 0): "Item", (0, 1): "Qty", (0, 2): "Price", (1, 0): "Bolts", (1, 1): "4", (1, 2): "2.50",
         (2, 0): "Nuts", (2, 1): "9", (2, 2): "0.75"}


def test_a_ruled_grid_is_a_table_with_its_header_row() -> None:
    [table] = find_tables(grid(XS, YS), lambda: words_in(XS, YS, TEXTS), H)
    assert (table.rows, table.columns) == (3, 3)
    assert {(c.row, c.column): c.text for c in table.cells} == TEXTS
    assert [c.header for c in table.cells] == [True] * 3 + [False] * 6
    assert table.corners == ((0.0, 0.0), (300.0, 0.0), (300.0, 75.0), (0.0, 75.0))


def test_a_missing_inner_rule_merges_cells() -> None:
    # No vertical rule between columns 1 and 2 in row 1; no horizontal rule under row 1 in column 0.
    rules = grid(XS, YS, skip_v={(2, 1)}, skip_h={(2, 0)})
    texts = {(0, 0): "Item", (0, 1): "Qty", (0, 2): "Price", (1, 0): "Group", (1, 1): "waived", (2, 1): "9",
             (2, 2): "0.75"}
    [table] = find_tables(rules, lambda: words_in(XS, YS, texts), H)
    spans = {(c.row, c.column): (c.row_span, c.column_span, c.text) for c in table.cells}
    assert spans == {(0, 0): (1, 1, "Item"), (0, 1): (1, 1, "Qty"), (0, 2): (1, 1, "Price"),
                     (1, 0): (2, 1, "Group"), (1, 1): (1, 2, "waived"), (2, 1): (1, 1, "9"),
                     (2, 2): (1, 1, "0.75")}


def test_form_boxes_are_not_tables() -> None:
    box = grid([0.0, 300.0], [0.0, 30.0])  # a lone rectangle
    comb = grid([0.0, 18.0, 36.0, 54.0, 72.0], [0.0, 20.0])  # one row of cells
    check = grid([400.0, 410.0], [0.0, 10.0])
    words = [TextWord("Remarks", 50.0, 15.0, (0, 0), H, 40.0), TextWord("1", 9.0, 10.0, (1, 0), H, 5.0),
             TextWord("2", 27.0, 10.0, (1, 1), H, 5.0)]
    assert find_tables(box + comb + check, lambda: words, H) == []


def test_a_grid_with_text_in_one_cell_is_not_a_table() -> None:
    assert find_tables(grid(XS, YS), lambda: words_in(XS, YS, {(0, 0): "Notes"}), H) == []


def test_a_double_rule_is_one_line() -> None:
    ys = [0.0, 25.0, 50.0, 50.0 + 0.6 * H, 75.0 + 0.6 * H]  # rows 2 and 3 separated by two rules
    texts = {(0, 0): "SUBTOTAL", (0, 1): "140.00", (1, 0): "TAX", (1, 1): "4.00", (3, 0): "TOTAL",
             (3, 1): "144.00"}
    [table] = find_tables(grid(XS[:3], ys), lambda: words_in(XS[:3], ys, texts), H)
    assert (table.rows, table.columns) == (3, 2)
    assert [c.text for c in table.cells] == ["SUBTOTAL", "140.00", "TAX", "4.00", "TOTAL", "144.00"]
    assert not any(c.header for c in table.cells)  # a first row with numbers is data


def test_full_width_rows_split_a_form_grid_into_its_tables() -> None:
    """A Word form laid out as one table: one-field rows above, between and below two real tables."""
    ys = [0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 175.0]
    full = {1: "Name: Jane", 4: "Previous work"}  # rows holding one cell across the grid
    skip = {(j, i) for i in full for j in (1, 2)}
    texts = {(i, 0): text for i, text in full.items()}
    texts |= {(i, j): f"r{i}c{j}" for i in (2, 3, 5, 6) for j in range(3)}
    texts[(0, 0)] = "Title"
    skip |= {(1, 0), (2, 0)}
    tables = find_tables(grid(XS, ys, skip_v=skip), lambda: words_in(XS, ys, texts), H)
    assert [(t.rows, t.columns, t.corners[0][1]) for t in tables] == [(2, 3, 50.0), (2, 3, 125.0)]
    assert [c.text for c in tables[1].cells] == [f"r{i}c{j}" for i in (5, 6) for j in range(3)]


def test_letters_touching_a_rule_do_not_split_cells() -> None:
    """A short vertical stroke from a rule into a cell (a letter) does not reach the next rule."""
    rules = [*grid(XS, YS), Rule(False, 150.0, 25.0, 25.0 + H)]
    [table] = find_tables(rules, lambda: words_in(XS, YS, TEXTS), H)
    assert (table.rows, table.columns) == (3, 3)
