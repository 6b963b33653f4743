"""Synthetic labeled forms for tests and benchmarks.

Renders filled-in forms of a few layouts to PDF (reportlab, DejaVu TTF fonts) or to scanned-looking images
(pypdfium2 at 150 dpi, then shift, scale, rotation <= 2 degrees, blur, noise), and writes for each form a
`<doc>.labels.json` in the labeling tool's format (one `value` entry per word, boxes normalised 0..1,
clockwise from top-left, pages 1-based) plus the layout's `fields.json`. Everything is deterministic by seed.

    from formgen import generate, layouts
    layouts()  # ['invoice', 'invoice_multipage', 'purchase_order', 'registration', 'ruled_tables', ...]
    forms = generate("invoice", 10, Path("out/invoice"), seed=0, kind="scan", start_index=1)
    forms[0].path, forms[0].labels_path, forms[0].values["Total"]

`generate(layout, count, out_dir, *, seed=0, kind="pdf", start_index=1, dpi=150, mark_style="vector")`
returns `GeneratedForm(path, labels_path, values)`; `values` maps every field of the layout to its text
("" when the optional field was left empty; such a field has no label). Kinds: "pdf", "scan", "photo" (the
printed page photographed by a phone: perspective, table around it, uneven light; formgen/photo.py),
"fillable" (values in AcroForm fields), "fillable-scan" (the fillable PDF printed with its fields, then
scanned); mark styles (pdf/scan/photo): "vector", "image", "glyph". Form `i` has the same values in every
kind and style. Files: `<layout>_<iiii>.pdf`, or for scans and photos `.jpg` (one page) / `.tiff` (pages).
`ruled_tables` (formgen/tables.py) draws one or two ruled tables (random columns, header row, merged
cells, blank rows; rules as lines, Word-style bars or cell rectangles) and writes their truth beside the
form as `<doc>.tables.json` (`GeneratedForm.tables_path`; cells in the v2.1 shape, boxes normalised 0..1).
`table_layouts()` lists `invoice_items` and `invoice_items_multipage` (formgen/line_items/): invoices whose
line items are one table field, `Items` (labels `Items/<row>/<Column>`, fields.json `array` + `definitions`),
ruled or unruled, 1-12 or 14-30 rows; `GeneratedForm.tables` holds their truth (field -> rows of
column -> text).
`formgen.fillable_variants` makes small AcroForms with one defect each (no appearance stream, widget
off the page, /Rotate 90, no /FT, /Kids with a non-dictionary).

Command line: `python -m formgen LAYOUT COUNT OUT_DIR [--kind KIND] [--mark-style STYLE] [--seed N]`.
"""

from formgen.generate import GeneratedForm, generate, layouts, table_layouts

__all__ = ["GeneratedForm", "generate", "layouts", "table_layouts"]
