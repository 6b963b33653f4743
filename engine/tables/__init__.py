"""Tables in Layout: grids of ruling lines, read from a digital PDF's vector paths or a scan's pixels,
filled with the page's words (`pageResults[].tables`). See docs/engine.md, "Tables"."""

from engine.tables.digital import pdf_tables
from engine.tables.model import Table
from engine.tables.scanned import scan_tables
from engine.tables.wire import render_tables

__all__ = ["Table", "pdf_tables", "render_tables", "scan_tables"]
