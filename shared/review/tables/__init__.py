"""Table fields on the review page: their declaration in `fields.json` (kept and made), the label names of
their cells, and the Layout's tables of a form as word ids, so a person can take one into a table field."""
