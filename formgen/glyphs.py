"""Ink boxes of single glyphs, read from font metrics files (not from a rendering).

A check box drawn as a character (ZapfDingbats `o`, DejaVu `☐`) is labeled with the square the glyph draws,
which is the glyph's own bounding box, not its advance width and not the font's ascent/descent. The boxes come
from the ZapfDingbats AFM reportlab ships (Adobe's metrics: the standard-14 font is not embedded, a viewer
draws it from its own copy) and from the `glyf` table of the DejaVu TTF that is embedded in the PDF.
"""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

import reportlab
from reportlab.pdfbase.ttfonts import TTFontFile

ZAPF_AFM = Path(reportlab.__file__).parent / "fonts" / "zd______.afm"

# (x0, y0, x1, y1) in em units, y up from the baseline.
GlyphBox = tuple[float, float, float, float]


@cache
def _zapf_boxes() -> dict[str, GlyphBox]:
    boxes = {}
    for line in ZAPF_AFM.read_text(encoding="latin-1").splitlines():
        if not line.startswith("C "):
            continue
        parts = {
            p.strip().split(" ", 1)[0]: p.strip().split(" ", 1)[-1] for p in line.split(";") if p.strip()
        }
        code = int(parts["C"])
        if 32 < code < 127:
            x0, y0, x1, y1 = (int(v) / 1000 for v in parts["B"].split())
            boxes[chr(code)] = (x0, y0, x1, y1)
    return boxes


def zapf_box(char: str) -> GlyphBox:
    """Bounding box of a ZapfDingbats character (by its ASCII code, as reportlab draws it)."""
    return _zapf_boxes()[char]


@cache
def _ttf(path: str) -> TTFontFile:
    return TTFontFile(path)


def ttf_box(path: Path, char: str) -> GlyphBox:
    """Bounding box of `char` from the TTF's glyph header (xMin, yMin, xMax, yMax)."""
    font = _ttf(str(path))
    glyph = font.charToGlyph[ord(char)]
    start = font.get_table_pos("glyf")[0] + font.glyphPos[glyph]
    _, x0, y0, x1, y1 = struct.unpack(">hhhhh", font.get_chunk(start, 10))
    upm = font.unitsPerEm
    return x0 / upm, y0 / upm, x1 / upm, y1 / upm
