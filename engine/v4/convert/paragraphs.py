"""Group a page's lines into v4 paragraphs.

The v2.1 result keeps lines only, so paragraphs are rebuilt from geometry, the way the service's Layout
groups a label stack or an address block: consecutive lines (in reading order) of similar height whose
centres line up, or whose left edge lines up with the line above or one of its words, and whose tops are
at most two line heights apart, never across table cells. A paragraph's content is its lines joined by
spaces and its span covers them (the lines are consecutive in `content`), as in the service's results.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from engine.page.polygons import rect_of
from engine.v4.convert.content import LineText, PageText

MAX_PITCH = 2.0  # top-to-top distance in line heights (body text ~1.7; a line of digits has a short box)
MAX_SHIFT = 1.0  # line heights the left edges (or centres) may differ by
MAX_HEIGHT_RATIO = 1.35  # a heading's line is taller than the text below it

CellOf = Callable[[LineText], Hashable]


def _continues(prev: LineText, line: LineText) -> bool:
    px0, py0, px1, py1 = rect_of(prev.polygon)
    x0, y0, x1, y1 = rect_of(line.polygon)
    hp, hl = py1 - py0, y1 - y0
    if hp <= 0 or hl <= 0 or max(hp, hl) / min(hp, hl) > MAX_HEIGHT_RATIO:
        return False
    h = min(hp, hl)
    if not 0.5 * h < y0 - py0 <= MAX_PITCH * max(hp, hl):  # the next line, not the same row or further
        return False
    if abs((x0 + x1) / 2 - (px0 + px1) / 2) <= MAX_SHIFT * h:  # centred
        return True
    # left-aligned with the line above or with one of its words (a value continued below its first line)
    starts = [px0] + [rect_of(w.polygon)[0] for w in prev.words]
    return any(abs(x0 - s) <= MAX_SHIFT * h for s in starts)


def group_lines(page: PageText, cell_of: CellOf | None = None) -> list[list[LineText]]:
    """Runs of consecutive lines that read as one paragraph; a turned page (|angle| > 45) keeps one
    paragraph per line, since its boxes run across the text."""
    angle = float(page.raw.get("angle", 0) or 0)
    turned = abs(angle) > 45
    groups: list[list[LineText]] = []
    for line in page.lines:
        if groups and not turned:
            prev = groups[-1][-1]
            same_cell = cell_of is None or cell_of(prev) == cell_of(line)
            if same_cell and _continues(prev, line):
                groups[-1].append(line)
                continue
        groups.append([line])
    return groups
