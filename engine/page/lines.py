"""Words -> lines -> reading order, the same way for text-layer and OCR words.

Lines break where the gap between two words is wider than the text is tall, because on forms such a
gap separates a label from a value or one cell from the next (the cloud splits them too). Reading
order is a recursive XY-cut: cut the page at its widest empty horizontal or vertical band, read the
parts top-to-bottom / left-to-right, so columns are read one after the other.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from statistics import median

from engine.page.model import Line, Word

GAP_FACTOR = 1.0


def split_at_gaps(words: list[Word], factor: float = GAP_FACTOR) -> list[Line]:
    """Split one left-to-right run of words wherever the gap exceeds factor x the word height."""
    if not words:
        return []
    words = sorted(words, key=lambda w: w.x0)
    h = median(w.height for w in words)
    out: list[list[Word]] = [[words[0]]]
    for prev, w in itertools.pairwise(words):
        if w.x0 - prev.x1 > factor * h:
            out.append([w])
        else:
            out[-1].append(w)
    return [Line(ws) for ws in out]


def group_words(words: Iterable[Word]) -> list[Line]:
    """Lines from loose words (PDF text layer): same baseline band, then split at wide gaps."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: ((w.y0 + w.y1) / 2, w.x0)):
        placed = False
        for row in reversed(rows[-4:]):
            ref = row[-1]
            overlap = min(ref.y1, w.y1) - max(ref.y0, w.y0)
            if overlap >= 0.5 * min(ref.height, w.height):
                row.append(w)
                placed = True
                break
        if not placed:
            rows.append([w])
    lines: list[Line] = []
    for row in rows:
        lines.extend(split_at_gaps(row))
    return lines


def _gaps(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Empty stretches between the union of intervals, as (start, end)."""
    out = []
    ordered = sorted(intervals)
    end = ordered[0][1]
    for a, b in ordered[1:]:
        if a > end:
            out.append((end, a))
        end = max(end, b)
    return out


def reading_order(lines: list[Line]) -> list[Line]:
    """Recursive XY-cut over line boxes."""
    if len(lines) <= 1:
        return list(lines)
    ygaps = _gaps([(ln.y0, ln.y1) for ln in lines])
    xgaps = _gaps([(ln.x0, ln.x1) for ln in lines])
    min_x_gap = 0.5 * median(ln.y1 - ln.y0 for ln in lines)
    xgaps = [g for g in xgaps if g[1] - g[0] >= min_x_gap]
    best_y = max((b - a for a, b in ygaps), default=0.0)
    best_x = max((b - a for a, b in xgaps), default=0.0)
    if best_y <= 0 and best_x <= 0:
        # Overlapping boxes everywhere: fall back to top-to-bottom, left-to-right.
        return sorted(lines, key=lambda ln: (round(ln.y0, 3), ln.x0))
    if best_x > best_y:
        cuts = [a for a, _ in xgaps]
        key = "x"
    else:
        cuts = [a for a, _ in ygaps]
        key = "y"
    parts: list[list[Line]] = [[] for _ in range(len(cuts) + 1)]
    for ln in lines:
        pos = ln.x0 if key == "x" else ln.y0
        idx = sum(1 for c in cuts if pos >= c)
        parts[idx].append(ln)
    if any(len(part) == len(lines) for part in parts):  # degenerate (zero-size) boxes
        return sorted(lines, key=lambda ln: (round(ln.y0, 3), ln.x0))
    out: list[Line] = []
    for part in parts:
        out.extend(reading_order(part))
    return out
