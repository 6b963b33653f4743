"""Readers of digital PDFs: text layer, fillable-form widgets, selection marks, the page frame."""
