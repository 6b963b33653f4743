"""OCR behind a small interface, so another recognizer can be added beside Tesseract later."""

from engine.ocr.base import OcrEngine, OcrWord
from engine.ocr.tesseract import TesseractOcr

__all__ = ["OcrEngine", "OcrWord", "TesseractOcr", "default_engine"]

_default: OcrEngine | None = None


def default_engine() -> OcrEngine:
    """The process-wide recognizer (Tesseract today)."""
    global _default
    if _default is None:
        _default = TesseractOcr()
    return _default
