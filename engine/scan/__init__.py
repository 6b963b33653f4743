"""Readers of page images (scans, photos, image-only PDF pages): OCR, rules, check boxes."""
