"""Synthetic labeled forms for tests and benchmarks.

Renders filled-in forms of a few layouts to PDF (reportlab, DejaVu TTF fonts) or to scanned-looking images
(pypdfium2 at 150 dpi, then shift, scale, rotation <= 2 degrees, blur, noise), and writes for each form a
`<doc>.labels.json` in the labeling tool's format (one `value` entry per word, boxes normalised 0..1,
clockwise from top-left, pages 1-based) plus the layout's `fields.json`. Everything is deterministic by seed.

    from tests.formgen import generate, layouts
    layouts()  # ['invoice', 'invoice_multipage', 'purchase_order', 'registration']
    forms = generate("invoice", 10, Path("out/invoice"), seed=0, kind="scan", start_index=1)
    forms[0].path, forms[0].labels_path, forms[0].values["Total"]

`generate(layout, count, out_dir, *, seed=0, kind="pdf"|"scan", start_index=1, dpi=150)` returns
`GeneratedForm(path, labels_path, values)`; `values` maps every field of the layout to its printed text
("" when the optional field was left empty; such a field has no label). Form `i` has the same values in both
kinds. Files: `<layout>_<iiii>.pdf`, or for scans `.jpg` (one page) / `.tiff` (multi-page).

Command line: `python -m tests.formgen LAYOUT COUNT OUT_DIR [--kind scan] [--seed N] [--start-index I]`.
"""

from tests.formgen.generate import GeneratedForm, generate, layouts

__all__ = ["GeneratedForm", "generate", "layouts"]
