"""Which of many rectangles holds a point, in constant time: a coarse grid of buckets.

A tax return page has ~30 check boxes and ~3000 characters; testing every character against every
box cost more than reading the page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 with x0 <= x1, y0 <= y1


class RectGrid:
    def __init__(self, rects: Iterable[Rect], cell: float) -> None:
        self.cell = cell
        self.rects: list[Rect] = list(rects)
        self.buckets: dict[tuple[int, int], list[int]] = {}
        for i, (x0, y0, x1, y1) in enumerate(self.rects):
            for gx in range(math.floor(x0 / cell), math.floor(x1 / cell) + 1):
                for gy in range(math.floor(y0 / cell), math.floor(y1 / cell) + 1):
                    self.buckets.setdefault((gx, gy), []).append(i)

    def __bool__(self) -> bool:
        return bool(self.rects)

    def find(self, x: float, y: float) -> int | None:
        """Index of the first rectangle containing (x, y), or None."""
        for i in self.buckets.get((math.floor(x / self.cell), math.floor(y / self.cell)), ()):
            x0, y0, x1, y1 = self.rects[i]
            if x0 <= x <= x1 and y0 <= y <= y1:
                return i
        return None
