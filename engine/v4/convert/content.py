"""The v4 `content` string built from a v2.1 Layout result, with the span of every word, line and mark.

Layout v4 indexes everything into one text: pages in order, each page's lines in reading order joined by
"\\n", a line's words joined by one space, and each selection mark as its own `:selected:` / `:unselected:`
entry after the page's lines (where the service's sample results put a mark that is not inside a line).
Building the text and the spans in one pass guarantees `content[span] == word` for every word.
Offsets here are code points; engine.v4.convert.text_index turns them into the requested unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass
class WordText:
    content: str
    polygon: list[float]
    confidence: float
    span: Span


@dataclass
class LineText:
    content: str
    polygon: list[float]
    span: Span
    words: list[WordText]
    handwritten: float | None = None  # style confidence when the v2 appearance says handwriting


@dataclass
class MarkText:
    state: str
    polygon: list[float]
    confidence: float
    span: Span


@dataclass
class PageText:
    index: int  # position in readResults
    number: int
    raw: dict[str, Any]  # the v2 readResult (page size, unit, angle)
    span: Span = Span(0, 0)
    lines: list[LineText] = field(default_factory=list)
    marks: list[MarkText] = field(default_factory=list)

    @property
    def words(self) -> list[WordText]:
        return [w for line in self.lines for w in line.words]


@dataclass
class ContentIndex:
    content: str
    pages: list[PageText]

    def page_by_number(self, number: int) -> PageText | None:
        return next((p for p in self.pages if p.number == number), None)

    def resolve(self, ref: str, by_page_number: bool = False) -> Span | None:
        """The span of a v2 element reference (`#/readResults/0/lines/3/words/1`, `.../lines/3`,
        `.../selectionMarks/0`). `by_page_number`: the index is page number - 1 (engine.custom's refs)
        rather than the position in readResults (the protocol's)."""
        m = _REF_RE.match(ref or "")
        if not m:
            return None
        i = int(m["page"])
        page = self.page_by_number(i + 1) if by_page_number else (
            self.pages[i] if 0 <= i < len(self.pages) else None)
        if page is None:
            return None
        try:
            if m["mark"] is not None:
                return page.marks[int(m["mark"])].span
            line = page.lines[int(m["line"])]
            return line.words[int(m["word"])].span if m["word"] is not None else line.span
        except IndexError:
            return None


_REF_RE = re.compile(r"^#/readResults/(?P<page>\d+)/(?:selectionMarks/(?P<mark>\d+)|"
                     r"lines/(?P<line>\d+)(?:/words/(?P<word>\d+))?)$")


def mark_text(state: str) -> str:
    return ":selected:" if state == "selected" else ":unselected:"


def _polygon(item: dict[str, Any]) -> list[float]:
    box = item.get("boundingBox") or []
    return list(box) if len(box) == 8 else [0.0] * 8


def _handwritten(line: dict[str, Any]) -> float | None:
    style = (line.get("appearance") or {}).get("style") or {}
    return float(style.get("confidence", 1.0)) if style.get("name") == "handwriting" else None


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, text: str) -> Span:
        span = Span(self.pos, len(text))
        self.parts.append(text)
        self.pos += len(text)
        return span


def build_content(read_results: Iterable[dict[str, Any]], marks: bool = True) -> ContentIndex:
    """One pass over the v2 readResults: the text and every element's span (`marks=False`: the Read
    model, which reports no selection marks)."""
    out = _Writer()
    pages: list[PageText] = []
    for index, rr in enumerate(read_results):
        if pages:
            out.add("\n")
        page = PageText(index=index, number=int(rr.get("page", index + 1)), raw=rr)
        start = out.pos
        for line in rr.get("lines") or []:
            if page.lines:
                out.add("\n")
            line_start = out.pos
            words: list[WordText] = []
            for w in line.get("words") or []:
                if words:
                    out.add(" ")
                text = str(w.get("text", ""))
                words.append(WordText(text, _polygon(w), float(w.get("confidence", 1.0)), out.add(text)))
            if words:
                content = " ".join(w.content for w in words)
            else:  # a line without word boxes still has its text
                content = str(line.get("text", ""))
                out.add(content)
            span = Span(line_start, out.pos - line_start)
            page.lines.append(LineText(content, _polygon(line), span, words, _handwritten(line)))
        for m in (rr.get("selectionMarks") or []) if marks else []:
            if page.lines or page.marks:
                out.add("\n")
            state = "selected" if m.get("state") == "selected" else "unselected"
            page.marks.append(MarkText(state, _polygon(m), float(m.get("confidence", 1.0)),
                                       out.add(mark_text(state))))
        page.span = Span(start, out.pos - start)
        pages.append(page)
    return ContentIndex("".join(out.parts), pages)


def merge_spans(spans: Iterable[Span], gap: int = 1) -> list[Span]:
    """Sorted spans with neighbours joined when at most `gap` separator characters lie between them, as
    the service reports one span for a value running over several words or lines."""
    merged: list[Span] = []
    for s in sorted(set(spans), key=lambda s: (s.offset, s.length)):
        if merged and s.offset <= merged[-1].end + gap:
            last = merged[-1]
            merged[-1] = Span(last.offset, max(last.end, s.end) - last.offset)
        else:
            merged.append(s)
    return merged
