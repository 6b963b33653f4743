"""Candidate values: runs of OCR words along a line (continuing onto the line below when a field spans
lines), with the geometry and context the scorer needs."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from engine.custom.ocr_file import Mark, OcrDocument, Page, Word

BOL, EOL = "<bol>", "<eol>"


def norm_text(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass
class PageIndex:
    """Per-page lookups built once per document."""

    page: Page
    lines: list[list[Word]]
    h: float  # median word height (normalised), the unit distances are measured in
    next_line: dict[int, int]
    anchors: dict[str, tuple[float, float]]  # text of words unique on the page -> centre


@dataclass
class Span:
    page: int
    words: list[Word]
    mark: Mark | None
    box: tuple[float, float, float, float]
    text: str
    nlines: int
    left_ctx: str
    right_ctx: str
    gap_left: float  # in line heights; 99 at the start of a line
    gap_right: float
    inner_gap: float
    ml_align: float  # horizontal misalignment of continuation lines, in line heights
    left_word: Word | None = None  # the word just before / after the span on its row, if any
    right_word: Word | None = None

    @property
    def key(self) -> frozenset:
        """Identity of the OCR elements the span covers (order-free, so label word order does not matter)."""
        if self.mark is not None:
            return frozenset({("m", self.page, self.mark.index)})
        return words_key(self.words)


def words_key(words: list[Word]) -> frozenset:
    return frozenset((w.page, w.line, w.index) for w in words)


ROW_MERGE_GAP = 2.5  # OCR lines side by side closer than this many line heights are one row
# ...and comb cells (lines of one-character words) this far apart: a comb's groups (SSN 3-2-4, EIN 2-7) stand
# a cell apart, and a reader that gives each cell or group a line of its own must not cut the value up
COMB_MERGE_GAP = 4.5


def _line_box(ln: list[Word]) -> tuple[float, float, float, float]:
    return (min(w.box[0] for w in ln), min(w.box[1] for w in ln), max(w.box[2] for w in ln),
            max(w.box[3] for w in ln))


def merge_rows(lines: list[list[Word]], h: float) -> list[list[Word]]:
    """Join OCR lines that continue each other on the same row: OCR engines split lines at gaps
    differently, and a value must not depend on where one did."""
    boxes = [_line_box(ln) for ln in lines]
    cells = [all(len(w.text) == 1 for w in ln) for ln in lines]
    parent = list(range(len(lines)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(lines)), key=lambda i: boxes[i][0])
    for a_pos, i in enumerate(order):
        a = boxes[i]
        reach = (COMB_MERGE_GAP if cells[i] else ROW_MERGE_GAP) * h
        for j in order[a_pos + 1:]:
            b = boxes[j]
            if b[0] - a[2] > reach:
                break
            if b[0] - a[2] > ROW_MERGE_GAP * h and not cells[j]:
                continue
            overlap = min(a[3], b[3]) - max(a[1], b[1])
            if overlap >= 0.5 * min(a[3] - a[1], b[3] - b[1]) and b[0] >= a[2] - 0.5 * h:
                parent[find(j)] = find(i)
                break
    groups: dict[int, list[Word]] = {}
    for i, ln in enumerate(lines):
        groups.setdefault(find(i), []).extend(ln)
    return [sorted(g, key=lambda w: w.box[0]) for _, g in sorted(groups.items())]


def index_page(page: Page) -> PageIndex:
    raw_lines = [ln for ln in page.lines if ln]
    heights = [w.box[3] - w.box[1] for ln in raw_lines for w in ln]
    h = statistics.median(heights) if heights else 0.01
    h = max(h, 1e-4)
    lines = merge_rows(raw_lines, h)
    boxes = [_line_box(ln) for ln in lines]
    next_line: dict[int, int] = {}
    for i, a in enumerate(boxes):
        best: tuple[float, int] | None = None
        for j, b in enumerate(boxes):
            if j == i or b[1] < a[1] + 0.5 * h:
                continue
            gap = b[1] - a[3]
            if gap > 1.5 * h:
                continue
            if min(a[2], b[2]) - max(a[0], b[0]) <= 0:
                continue
            if best is None or gap < best[0]:
                best = (gap, j)
        if best is not None:
            next_line[i] = best[1]
    counts: dict[str, int] = {}
    first: dict[str, Word] = {}
    for ln in lines:
        for w in ln:
            t = norm_text(w.text)
            counts[t] = counts.get(t, 0) + 1
            first.setdefault(t, w)
    anchors = {t: ((first[t].box[0] + first[t].box[2]) / 2, (first[t].box[1] + first[t].box[3]) / 2)
               for t, c in counts.items() if c == 1 and len(t) > 1}
    return PageIndex(page=page, lines=lines, h=h, next_line=next_line, anchors=anchors)


def index_document(ocr: OcrDocument) -> dict[int, PageIndex]:
    return {p.number: index_page(p) for p in ocr.pages}


def _union(a: tuple[float, float, float, float], b: tuple[float, float, float, float]):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def grow_spans(pi: PageIndex, line_no: int, start: int, max_words: int, max_lines: int) -> list[Span]:
    """All spans that start at word `start` of line `line_no`, grown word by word."""
    out: list[Span] = []
    line = pi.lines[line_no]
    h = pi.h
    first = line[start]
    left_ctx = norm_text(line[start - 1].text) if start > 0 else BOL
    gap_left = (first.box[0] - line[start - 1].box[2]) / h if start > 0 else 99.0
    words: list[Word] = []
    box = first.box
    inner = 0.0
    ml_align = 0.0
    cur_line, idx, nlines = line_no, start, 1
    while len(words) < max_words:
        cur = pi.lines[cur_line]
        w = cur[idx]
        if words:
            prev = words[-1]
            if idx == 0:  # continued onto the next line
                ml_align = max(ml_align, abs(w.box[0] - first.box[0]) / h)
            else:
                inner = max(inner, (w.box[0] - prev.box[2]) / h)
        words.append(w)
        box = _union(box, w.box)
        right_word = cur[idx + 1] if idx + 1 < len(cur) else None
        if right_word is not None:
            right_ctx = norm_text(right_word.text)
            gap_right = (right_word.box[0] - w.box[2]) / h
        else:
            right_ctx, gap_right = EOL, 99.0
        out.append(Span(page=pi.page.number, words=list(words), mark=None, box=box,
                        text=" ".join(x.text for x in words), nlines=nlines, left_ctx=left_ctx,
                        right_ctx=right_ctx, gap_left=gap_left, gap_right=gap_right, inner_gap=inner,
                        ml_align=ml_align, left_word=line[start - 1] if start > 0 else None,
                        right_word=right_word))
        if idx + 1 < len(cur):
            idx += 1
        elif nlines < max_lines and cur_line in pi.next_line:
            cur_line, idx, nlines = pi.next_line[cur_line], 0, nlines + 1
        else:
            break
    return out


def mark_span(pi: PageIndex, mark: Mark) -> Span:
    return Span(page=pi.page.number, words=[], mark=mark, box=mark.box, text=mark.state, nlines=1,
                left_ctx=BOL, right_ctx=EOL, gap_left=99.0, gap_right=99.0, inner_gap=0.0, ml_align=0.0)


def span_of_words(pi: PageIndex, words: list[Word]) -> Span | None:
    """The Span a labeled word list corresponds to, when it is a run the scorer can propose."""
    if not words:
        return None
    target = words_key(words)
    for li, ln in enumerate(pi.lines):
        for pos, w in enumerate(ln):
            if (w.page, w.line, w.index) not in target:
                continue
            for s in grow_spans(pi, li, pos, len(words), 99):
                if len(s.words) == len(words) and s.key == target:
                    return s
    return None
