"""Tables of a digital PDF page: its vector rules around its text-layer words."""

from __future__ import annotations

import pypdfium2 as pdfium

from engine.page.model import Line, SelectionMark
from engine.pdf.frame import PageFrame
from engine.tables.grid import find_tables
from engine.tables.model import Table
from engine.tables.pdf_rules import vector_rules
from engine.tables.words import not_marks, text_height, text_words


def pdf_tables(page: pdfium.PdfPage, lines: list[Line], marks: list[SelectionMark],
               own_objects: int | None = None) -> list[Table]:
    """Tables in the page's upright frame (inches, as its words); `lines` in reading order, `marks` the
    page's check boxes (their outlines are not table rules)."""
    if sum(len(line.words) for line in lines) < 2:
        return []
    rules = not_marks(vector_rules(page, PageFrame(page, upright=True), own_objects), marks)
    return find_tables(rules, lambda: text_words(lines), text_height(lines)) if rules else []
