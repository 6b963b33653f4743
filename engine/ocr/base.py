"""The OCR interface the Layout builder depends on: words with boxes, and page orientation.

An engine returns words in the coordinates of the image it was given, grouped into lines
(`line_key`) in its own reading order; everything else (line splitting, reading order, rotation back
to the page, JSON shape) is done once, outside the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image


@dataclass(frozen=True)
class OcrWord:
    text: str
    left: float
    top: float
    width: float
    height: float
    confidence: float  # 0..1
    line_key: tuple[int, ...]  # words with the same key belong to one line, in reading order


class OcrEngine(Protocol):
    name: str

    def supports_language(self, language: str) -> bool:
        """True when the cloud language code (e.g. "en", "de") can be recognized."""
        ...

    def recognize(self, image: Image.Image, language: str | None = None) -> list[OcrWord]:
        """Words of an upright (or slightly skewed) image, in reading order."""
        ...

    def detect_rotation(self, image: Image.Image) -> int:
        """Clockwise degrees (0, 90, 180, 270) by which the page's text is turned; 0 when unsure."""
        ...
