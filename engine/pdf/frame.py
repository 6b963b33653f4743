"""PDF user space -> the displayed page: the one coordinate frame every digital-PDF reader shares."""

from __future__ import annotations

import pypdfium2 as pdfium

PT_PER_INCH = 72.0


class PageFrame:
    """PDF user space (points, y up, maybe /Rotate'd) -> displayed page in inches, y down."""

    def __init__(self, page: pdfium.PdfPage, *, upright: bool = False) -> None:
        """`upright`: ignore /Rotate, i.e. the frame in which the page's text runs left to right."""
        self.rotation = 0 if upright else page.get_rotation() % 360
        left, bottom, right, top = page.get_mediabox()
        self.left, self.bottom, self.right, self.top = left, bottom, right, top

    def box(self, l: float, b: float, r: float, t: float) -> tuple[float, float, float, float]:  # noqa: E741
        w, h = self.right - self.left, self.top - self.bottom
        x0, x1 = l - self.left, r - self.left
        y0, y1 = self.top - t, self.top - b  # y down from the top edge
        if self.rotation == 90:
            x0, y0, x1, y1 = h - y1, x0, h - y0, x1
        elif self.rotation == 180:
            x0, y0, x1, y1 = w - x1, h - y1, w - x0, h - y0
        elif self.rotation == 270:
            x0, y0, x1, y1 = y0, w - x1, y1, w - x0
        return x0 / PT_PER_INCH, y0 / PT_PER_INCH, x1 / PT_PER_INCH, y1 / PT_PER_INCH


def to_upright(box: tuple[float, float, float, float], rotation: int,
               displayed: tuple[float, float]) -> tuple[float, float, float, float]:
    """A box of the displayed page (inches) back in the upright frame: the inverse of the /Rotate turn."""
    x0, y0, x1, y1 = box
    w, h = displayed
    if rotation == 90:
        return y0, w - x1, y1, w - x0
    if rotation == 180:
        return w - x1, h - y1, w - x0, h - y0
    if rotation == 270:
        return h - y1, x0, h - y0, x1
    return box
