"""Read a Layout result into normalised pages and words: the v2.x shape, or the v3/v4 one that Document
Intelligence Studio writes (converted by engine/custom/v3_ocr.py), so labels drawn on either train the
same way through v2.1 and v4.0.

Everything downstream works in page-normalised coordinates (0-1 of width/height) because label boxes
are normalised and because pixel and inch units must look the same to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.custom.v3_ocr import is_v4_layout, to_v2_layout


@dataclass
class Word:
    text: str
    page: int  # 1-based
    line: int  # index into the page's lines
    index: int  # index of the word within its line
    box: tuple[float, float, float, float]  # normalised left, top, right, bottom
    polygon: list[float]  # the original 8-number box in the page's unit
    confidence: float = 1.0

    @property
    def ref(self) -> str:
        return f"#/readResults/{self.page - 1}/lines/{self.line}/words/{self.index}"


@dataclass
class Mark:
    state: str
    page: int
    index: int
    box: tuple[float, float, float, float]
    polygon: list[float]
    confidence: float = 1.0

    @property
    def ref(self) -> str:
        return f"#/readResults/{self.page - 1}/selectionMarks/{self.index}"


@dataclass
class Page:
    number: int
    width: float
    height: float
    unit: str
    lines: list[list[Word]] = field(default_factory=list)
    angle: float = 0.0  # degrees, clockwise: how far the text runs off the horizontal (a skewed scan)
    marks: list[Mark] = field(default_factory=list)
    # the homography registration moved the page's normalised boxes by (3x3 nested lists), if any
    transform: list[list[float]] | None = None

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line]


@dataclass
class OcrDocument:
    pages: list[Page]
    raw: dict[str, Any]  # the analyzeResult as read, kept to echo readResults/pageResults

    def page(self, number: int) -> Page | None:
        for p in self.pages:
            if p.number == number:
                return p
        return None


def _norm_box(poly: list[float], width: float, height: float) -> tuple[float, float, float, float]:
    xs = [float(v) / width for v in poly[0::2]]
    ys = [float(v) / height for v in poly[1::2]]
    return (min(xs), min(ys), max(xs), max(ys))


class OcrFormatError(ValueError):
    """The OCR JSON is not a v2.x Layout result."""


def parse_ocr(payload: dict[str, Any]) -> OcrDocument:
    """Accept the full operation envelope (as `.ocr.json` holds it) or a bare analyzeResult."""
    if not isinstance(payload, dict):
        raise OcrFormatError("OCR JSON must be an object")
    if is_v4_layout(payload):
        payload = to_v2_layout(payload)
    result = payload.get("analyzeResult", payload)
    if not isinstance(result, dict) or not isinstance(result.get("readResults"), list):
        raise OcrFormatError("OCR JSON has neither analyzeResult.readResults (v2.x Layout) "
                             "nor analyzeResult.pages (v3/v4 Layout)")
    pages: list[Page] = []
    for i, rr in enumerate(result["readResults"]):
        try:
            width, height = float(rr["width"]), float(rr["height"])
            number = int(rr.get("page", i + 1))
        except (KeyError, TypeError, ValueError) as exc:
            raise OcrFormatError(f"readResults[{i}] lacks page/width/height") from exc
        if width <= 0 or height <= 0:
            raise OcrFormatError(f"readResults[{i}] has a non-positive size")
        try:
            angle = float(rr.get("angle") or 0.0)
        except (TypeError, ValueError):
            angle = 0.0
        page = Page(number=number, width=width, height=height, unit=str(rr.get("unit", "pixel")), angle=angle)
        for li, line in enumerate(rr.get("lines") or []):
            words: list[Word] = []
            for wi, w in enumerate(line.get("words") or []):
                poly = w.get("boundingBox")
                text = str(w.get("text", ""))
                if not isinstance(poly, list) or len(poly) != 8 or not text.strip():
                    continue
                words.append(Word(text=text, page=number, line=li, index=wi,
                                  box=_norm_box(poly, width, height), polygon=[float(v) for v in poly],
                                  confidence=float(w.get("confidence", 1.0) or 1.0)))
            page.lines.append(words)
        for mi, m in enumerate(rr.get("selectionMarks") or []):
            poly = m.get("boundingBox")
            if not isinstance(poly, list) or len(poly) != 8:
                continue
            page.marks.append(Mark(state=str(m.get("state", "unselected")), page=number, index=mi,
                                   box=_norm_box(poly, width, height), polygon=[float(v) for v in poly],
                                   confidence=float(m.get("confidence", 1.0) or 1.0)))
        pages.append(page)
    return OcrDocument(pages=pages, raw=result)
