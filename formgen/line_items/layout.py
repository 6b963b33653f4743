"""What the line-item invoices hold: their fields, the `Items` table field and its columns, the values.

Values come from the form's value stream (the same for every kind); the drawing style (ruled or
unruled) comes from a style stream, per block of three forms so that every block has both styles.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from formgen import values as gen
from formgen.layouts import FieldSpec, FormData, Layout

STYLES: tuple[str, ...] = ("ruled", "unruled")
STYLE_BLOCK = 3  # every 3 forms (index // 3) hold both styles, so any 6 consecutive forms do too
# Two-style patterns of one block: never all ruled or all unruled.
PATTERNS = tuple(p for p in itertools.product(STYLES, repeat=STYLE_BLOCK) if len(set(p)) == 2)

ONE_PAGE_ROWS = (1, 12)
MULTIPAGE_ROWS = (14, 30)
MAX_LONG = 3  # long descriptions (wrapped onto a second line) per form, at most

FIELDS = (
    FieldSpec("InvoiceNumber", "string"),
    FieldSpec("InvoiceDate", "date"),
    FieldSpec("CustomerName", "string"),
    FieldSpec("Total", "number"),
)
# Added to a product name, these make a description too wide for one line of its cell, never for two.
DETAILS = (
    "delivered to the loading dock, packaging removed",
    "replacement for the unit returned under warranty",
    "express shipping, signature required on arrival",
    "as quoted in March, five percent discount applied",
    "assembled and installed in the second floor office",
    "back-ordered items shipped separately when in stock",
)


@dataclass(frozen=True)
class TableField:
    """A table field as the labeling tool's dynamic table (`fieldType` array): a row per item, named
    columns; each cell is labeled `<key>/<row from 0>/<column>`."""

    key: str
    columns: tuple[FieldSpec, ...]

    @property
    def item_type(self) -> str:
        return f"{self.key}_object"


ITEMS = TableField(
    "Items",
    (
        FieldSpec("Description", "string"),
        FieldSpec("Quantity", "number"),
        FieldSpec("UnitPrice", "number"),
        FieldSpec("Amount", "number"),
    ),
)


def escape(name: str) -> str:
    """A field name inside a label path, as the labeling tool writes it: `~` -> `~0`, `/` -> `~1`."""
    return name.replace("~", "~0").replace("/", "~1")


def cell_label(table: TableField, row: int, column: str) -> str:
    return f"{escape(table.key)}/{row}/{escape(column)}"


@dataclass(frozen=True)
class TableLayout(Layout):
    """A layout with a table field beside its scalar `fields`; `make` puts the rows (column -> printed
    text) in `extras["items"]` and `generate` puts the form's style in `extras["style"]`."""

    table: TableField

    def truth(self, data: FormData) -> dict[str, list[dict[str, str]]]:
        """Rows of column -> text as printed (a wrapped cell's lines joined by one space)."""
        rows = data.extras["items"]
        return {self.table.key: [{k: " ".join(v.split()) for k, v in row.items()} for row in rows]}

    def style(self, seed: int, index: int) -> str:
        """`ruled` or `unruled` for form `index`: a two-style pattern drawn once per block of three."""
        rng = random.Random(f"formgen-style:{self.name}:{seed}:block:{index // STYLE_BLOCK}")
        return rng.choice(PATTERNS)[index % STYLE_BLOCK]


def _description(rng: random.Random, long: bool) -> str:
    product = rng.choice(gen.PRODUCTS)
    return f"{product}, {rng.choice(DETAILS)}" if long else product


def make_items(rng: random.Random, rows: tuple[int, int]) -> FormData:
    """Header values and `rows` (low, high) line items, a few with a long description; Total = the sum."""
    count = rng.randint(*rows)
    long_rows = set(rng.sample(range(count), min(count, rng.choice((0, 1, 1, 2, 2, MAX_LONG)))))
    items: list[dict[str, str]] = []
    total_cents = 0
    for i in range(count):
        quantity = rng.randint(1, 60) if rng.random() < 0.8 else rng.randint(100, 2500)
        price_cents = rng.randint(50, 90_000)
        total_cents += quantity * price_cents
        items.append({
            "Description": _description(rng, i in long_rows),
            "Quantity": f"{quantity:,}",
            "UnitPrice": gen.amount(price_cents / 100),
            "Amount": gen.amount(quantity * price_cents / 100),
        })
    issued = gen.date(rng)
    v = {
        "InvoiceNumber": gen.reference(rng, rng.choice(("INV-", "", "A"))),
        "InvoiceDate": dt.date.isoformat(issued),
        "CustomerName": gen.person(rng),
        "Total": gen.amount(total_cents / 100),
    }
    return FormData(v, {"items": items})


def make_one_page(rng: random.Random) -> FormData:
    return make_items(rng, ONE_PAGE_ROWS)


def make_multipage(rng: random.Random) -> FormData:
    return make_items(rng, MULTIPAGE_ROWS)
