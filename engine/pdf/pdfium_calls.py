"""PDFium functions for walking a page's objects and paths, as private ctypes prototypes.

Why not pypdfium2's own bindings: these take and return plain integers instead of typed pointer
objects, 2-3x cheaper per call, which matters on pages with thousands of path segments (check
boxes drawn as paths in engine/pdf/marks.py, table rules in engine/tables/pdf_rules.py).
pypdfium2's typed prototypes stay untouched.
"""

from __future__ import annotations

import ctypes

import pypdfium2.raw as pdfium_c

P, I, U, F = ctypes.c_void_p, ctypes.c_int, ctypes.c_ulong, ctypes.c_float  # noqa: E741


def proto(fn: object, restype: type | None, *argtypes: type) -> ctypes._CFuncPtr:
    """A private prototype of a PDFium function: plain ints in and out."""
    return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(fn, P).value)


_c = pdfium_c
page_count = proto(_c.FPDFPage_CountObjects, I, P)
page_obj = proto(_c.FPDFPage_GetObject, P, P, I)
form_count = proto(_c.FPDFFormObj_CountObjects, I, P)
form_obj = proto(_c.FPDFFormObj_GetObject, P, P, U)
obj_type = proto(_c.FPDFPageObj_GetType, I, P)
obj_bounds = proto(_c.FPDFPageObj_GetBounds, I, P, P, P, P, P)
obj_matrix = proto(_c.FPDFPageObj_GetMatrix, I, P, P)
fill_color = proto(_c.FPDFPageObj_GetFillColor, I, P, P, P, P, P)
stroke_color = proto(_c.FPDFPageObj_GetStrokeColor, I, P, P, P, P, P)
draw_mode = proto(_c.FPDFPath_GetDrawMode, I, P, P, P)
seg_count = proto(_c.FPDFPath_CountSegments, I, P)
seg_get = proto(_c.FPDFPath_GetPathSegment, P, P, I)
seg_point = proto(_c.FPDFPathSegment_GetPoint, I, P, P, P)
seg_type = proto(_c.FPDFPathSegment_GetType, I, P)
seg_close = proto(_c.FPDFPathSegment_GetClose, I, P)
