"""Invoices whose line items are labeled as a table field, to train and measure table extraction.

`invoice_items` (one page, 1-12 rows) and `invoice_items_multipage` (14-30 rows, continued on page 2
under the column header row printed again): scalar fields InvoiceNumber, InvoiceDate, CustomerName,
Total, and the table field `Items` (columns Description, Quantity, UnitPrice, Amount), each cell labeled
`Items/<row>/<column>` as the labeling tool labels a dynamic table. Tables are ruled or unruled.
"""

from formgen.line_items.draw import draw_multipage, draw_one_page
from formgen.line_items.layout import (
    FIELDS,
    ITEMS,
    TableField,
    TableLayout,
    escape,
    make_multipage,
    make_one_page,
)

TABLE_LAYOUTS: dict[str, TableLayout] = {
    layout.name: layout
    for layout in (
        TableLayout("invoice_items", FIELDS, make_one_page, draw_one_page, ITEMS),
        TableLayout("invoice_items_multipage", FIELDS, make_multipage, draw_multipage, ITEMS),
    )
}

__all__ = ["TABLE_LAYOUTS", "TableField", "TableLayout", "escape"]
