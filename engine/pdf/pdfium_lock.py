"""One lock for every call into PDFium.

Why: PDFium is not thread-safe, not even for different documents (pypdfium2 says so), and the engine
parses PDFs on its worker threads and validates uploads on the request path at the same time. Without
this lock the pipeline benchmark saw a valid PDF refused with "Data format error" while another was
being read. Only PDFium work is held under it: a scanned page is rendered under the lock, then OCR'd
outside it.
"""

from __future__ import annotations

import threading

PDFIUM = threading.RLock()
