"""A folder's forms and their files: OCR, labels, inventory and deletions."""
