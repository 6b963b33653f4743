"""Polygon helpers of the v4 converters and the v3/v4 `.ocr.json` reader (flat [x1, y1, x2, y2, ...])."""

from __future__ import annotations

from collections.abc import Iterable

Rect = tuple[float, float, float, float]  # left, top, right, bottom


def rect_of(polygon: Iterable[float]) -> Rect:
    pts = list(polygon)
    xs, ys = pts[0::2] or [0.0], pts[1::2] or [0.0]
    return (min(xs), min(ys), max(xs), max(ys))


def quad_of(rect: Rect, pixel: bool = False) -> list[float]:
    """Clockwise from top-left, rounded as the engine rounds its own boxes."""
    x0, y0, x1, y1 = (round(v) for v in rect) if pixel else (round(v, 4) for v in rect)
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def union(rects: Iterable[Rect]) -> Rect | None:
    rs = list(rects)
    if not rs:
        return None
    return (min(r[0] for r in rs), min(r[1] for r in rs), max(r[2] for r in rs), max(r[3] for r in rs))


def center(rect: Rect) -> tuple[float, float]:
    return ((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2)


def contains(rect: Rect, point: tuple[float, float]) -> bool:
    return rect[0] <= point[0] <= rect[2] and rect[1] <= point[1] <= rect[3]
