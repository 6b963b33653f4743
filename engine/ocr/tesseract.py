"""Tesseract 5 through pytesseract: one `image_to_data` call per page, OSD only when needed."""

from __future__ import annotations

import functools
import os
import re
import tempfile

import pytesseract
from PIL import Image

from engine.ocr.base import OcrWord

# Cloud (BCP-47) language codes -> Tesseract traineddata names.
LANGUAGE_MAP: dict[str, str] = {
    "af": "afr", "ast": "ast", "bi": "bis", "br": "bre", "ca": "cat", "ceb": "ceb", "ch": "cha",
    "co": "cos", "crh": "crh", "cs": "ces", "csb": "csb", "da": "dan", "de": "deu", "en": "eng",
    "es": "spa", "et": "est", "eu": "eus", "fi": "fin", "fil": "fil", "fj": "fij", "fr": "fra",
    "fur": "fur", "fy": "fry", "ga": "gle", "gd": "gla", "gil": "gil", "gl": "glg", "gv": "glv",
    "hni": "hni", "hsb": "hsb", "ht": "hat", "hu": "hun", "ia": "ina", "id": "ind", "it": "ita",
    "ja": "jpn", "jv": "jav", "kac": "kac", "kl": "kal", "ko": "kor", "ksh": "ksh", "ku": "kur",
    "la": "lat", "lb": "ltz", "lt": "lit", "ms": "msa", "mt": "mlt", "nb": "nor", "nl": "nld",
    "no": "nor", "oc": "oci", "pl": "pol", "pt": "por", "quc": "quc", "rm": "roh", "ru": "rus",
    "sco": "sco", "sk": "slk", "sl": "slv", "sma": "sma", "sq": "sqi", "sr": "srp", "sv": "swe",
    "sw": "swa", "tet": "tet", "tr": "tur", "tt": "tat", "uz": "uzb", "vo": "vol", "wae": "wae",
    "yua": "yua", "za": "zha", "zh-hans": "chi_sim", "zh-hant": "chi_tra", "zu": "zul",
}

_ROTATE_RE = re.compile(r"Rotate:\s*(\d+)")
_CONF_RE = re.compile(r"Orientation confidence:\s*([\d.]+)")
MIN_OSD_CONFIDENCE = 1.5


@functools.cache
def installed_languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except pytesseract.TesseractError:
        return frozenset({"eng"})


class TesseractOcr:
    name = "tesseract"

    def __init__(self, psm: int = 3, oem: int = 1) -> None:
        self.config = f"--oem {oem} --psm {psm}"
        # Tesseract's OpenMP threads spin-wait: on a busy machine one page took 4x the CPU (7.5 s instead
        # of 1.6 s at 300 dpi). Pages already run in parallel on the worker pool, so one thread each.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    def _lang(self, language: str | None) -> str:
        code = LANGUAGE_MAP.get((language or "en").lower(), "eng")
        return code if code in installed_languages() else "eng"

    def supports_language(self, language: str) -> bool:
        code = LANGUAGE_MAP.get(language.lower())
        return code is not None and code in installed_languages()

    def recognize(self, image: Image.Image, language: str | None = None) -> list[OcrWord]:
        # pytesseract would write a compressed PNG; an uncompressed BMP costs next to nothing to write.
        with tempfile.NamedTemporaryFile(suffix=".bmp") as tmp:
            image.save(tmp, format="BMP")
            tmp.flush()
            data = pytesseract.image_to_data(tmp.name, lang=self._lang(language), config=self.config,
                                             output_type=pytesseract.Output.DICT)
        words: list[OcrWord] = []
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            words.append(OcrWord(
                text=text, left=float(data["left"][i]), top=float(data["top"][i]),
                width=float(data["width"][i]), height=float(data["height"][i]),
                confidence=max(0.0, min(1.0, conf / 100.0)),
                line_key=(int(data["page_num"][i]), int(data["block_num"][i]), int(data["par_num"][i]),
                          int(data["line_num"][i]))))
        return words

    def detect_rotation(self, image: Image.Image) -> int:
        """Tesseract OSD (`--psm 0`, needs osd.traineddata); returns the text's clockwise rotation."""
        if "osd" not in installed_languages():
            return 0
        try:
            osd = pytesseract.image_to_osd(image, config="--psm 0")
        except pytesseract.TesseractError:
            return 0  # too few characters to decide: leave the page as it is
        rot, conf = _ROTATE_RE.search(osd), _CONF_RE.search(osd)
        if not rot or not conf or float(conf.group(1)) < MIN_OSD_CONFIDENCE:
            return 0
        # "Rotate: N" is how far to turn the image clockwise to make it upright, so the text itself
        # is turned N degrees counter-clockwise, i.e. (360 - N) clockwise.
        return (360 - int(rot.group(1))) % 360
