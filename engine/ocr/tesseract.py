"""Tesseract 5 in-process (tesserocr): models loaded once per worker thread, OSD only when needed.

Until 2026-11 every page started a `tesseract` process that loaded its language data again; in-process the
`eng` model is loaded once per thread (a TessBaseAPI is not thread-safe, and the engine's operations run
on a thread pool, so each thread keeps its own; tesserocr releases the GIL while recognizing, so threads
scale). The words are the same: we read Tesseract's own TSV, which is what `image_to_data` parses.
For English, words whose ink shows an accent `eng` cannot spell are re-read with the `Latin` script model
(see accent_marks.py and accent_rule.py), when that model is installed.
"""

from __future__ import annotations

import functools
import logging
import os
import threading

import numpy as np
import tesserocr
from PIL import Image

from engine.ocr.accent_marks import may_have_lost_accent
from engine.ocr.accent_rule import accept_accented
from engine.ocr.base import OcrWord
from engine.ocr.tessdata import installed_models, tessdata_dir

log = logging.getLogger("engine.ocr")

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

MIN_OSD_CONFIDENCE = 1.5
LATIN_MODELS = ("Latin", "script/Latin")  # Debian installs the first, upstream's tessdata the second
MIN_LATIN_CONFIDENCE = 0.5
# Word lists are what makes `Latin` heavy (88 MB, ~0.4 s to load); a single-word re-read needs none.
_NO_DICTIONARY = {"load_system_dawg": "F", "load_freq_dawg": "F"}


@functools.cache
def installed_languages() -> frozenset[str]:
    return installed_models() or frozenset({"eng"})


@functools.cache
def latin_model() -> str | None:
    """The accent-aware model's name, or None (then English words keep `eng`'s spelling)."""
    for name in LATIN_MODELS:
        if name in installed_models():
            return name
    log.info("no Latin script model (Debian: tesseract-ocr-script-latn): accents are not restored")
    return None


class TesseractOcr:
    name = "tesseract"

    def __init__(self, psm: int = 3, oem: int = 1, restore_accents: bool = True) -> None:
        self.psm, self.oem = psm, oem
        self.restore_accents = restore_accents
        # Tesseract's OpenMP threads spin-wait: on a busy machine one page took 4x the CPU (7.5 s instead
        # of 1.6 s at 300 dpi). Pages already run in parallel on the worker pool, so one thread each.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        # Every API is used only by the thread that created it. (One Latin API shared under a lock crashed
        # the engine inside Tesseract's thresholding after a few hundred pages: Tesseract keeps per-thread
        # state, so an API must not change threads.) The Latin model costs ~100 MB per worker thread.
        self._local = threading.local()

    def _new_api(self, lang: str, variables: dict[str, str] | None = None) -> tesserocr.PyTessBaseAPI:
        path = tessdata_dir()
        if path is None:
            raise RuntimeError("Tesseract language data not found: install tesseract-ocr "
                               "(scripts/ensure-system-packages.sh) or set TESSDATA_PREFIX")
        api = tesserocr.PyTessBaseAPI(path=path, lang=lang, oem=self.oem, init=False)
        api.InitFull(path=path, lang=lang, oem=self.oem, variables=variables or {})
        return api

    def _api(self, lang: str, psm: int, variables: dict[str, str] | None = None) -> tesserocr.PyTessBaseAPI:
        """This thread's API for `lang`, created on first use (a digital PDF never loads a model)."""
        apis: dict[str, tesserocr.PyTessBaseAPI] = self._local.__dict__.setdefault("apis", {})
        api = apis.get(lang)
        if api is None:
            api = apis[lang] = self._new_api(lang, variables)
        api.SetPageSegMode(psm)
        return api

    def _lang(self, language: str | None) -> str:
        code = LANGUAGE_MAP.get((language or "en").lower(), "eng")
        return code if code in installed_languages() else "eng"

    def supports_language(self, language: str) -> bool:
        code = LANGUAGE_MAP.get(language.lower())
        return code is not None and code in installed_languages()

    def recognize(self, image: Image.Image, language: str | None = None) -> list[OcrWord]:
        lang = self._lang(language)
        api = self._api(lang, self.psm)
        api.SetImage(image)
        api.Recognize()
        words = _parse_tsv(api.GetTSVText(0))
        if lang == "eng" and self.restore_accents and words and latin_model() is not None:
            ink = np.asarray(api.GetThresholdedImage().convert("L")) < 128
            words = self._restore_accents(image, words, ink)
        api.Clear()
        return words

    def _restore_accents(self, image: Image.Image, words: list[OcrWord], ink: np.ndarray) -> list[OcrWord]:
        """Re-read candidate words with the Latin model; keep its reading only where accept_accented says."""
        candidates = [i for i, w in enumerate(words) if may_have_lost_accent(w.text, _crop(ink, w))]
        if not candidates:
            return words
        latin = self._api(latin_model() or "Latin", tesserocr.PSM.SINGLE_WORD, _NO_DICTIONARY)
        return self._reread(latin, image, words, candidates)

    @staticmethod
    def _reread(latin: tesserocr.PyTessBaseAPI, image: Image.Image, words: list[OcrWord],
                candidates: list[int]) -> list[OcrWord]:
        """Each candidate is cut out and given to Tesseract as an image of its own (no SetRectangle on the
        page: nothing Tesseract reads can lie outside what it was given)."""
        out = list(words)
        for i in candidates:
            w = words[i]
            pad = max(2, round(w.height * 0.15))
            box = (max(0, int(w.left) - pad), max(0, int(w.top) - pad),
                   min(image.width, int(w.left + w.width) + pad),
                   min(image.height, int(w.top + w.height) + pad))
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            latin.SetImage(image.crop(box))
            text = latin.GetUTF8Text().strip()
            conf = latin.MeanTextConf() / 100.0
            if conf >= MIN_LATIN_CONFIDENCE and accept_accented(w.text, text):
                out[i] = OcrWord(text=text, left=w.left, top=w.top, width=w.width, height=w.height,
                                 confidence=min(w.confidence, conf), line_key=w.line_key)
        latin.Clear()
        return out

    def detect_rotation(self, image: Image.Image) -> int:
        """Tesseract OSD (needs osd.traineddata); returns the text's clockwise rotation."""
        if "osd" not in installed_languages():
            return 0
        api = self._api("osd", tesserocr.PSM.OSD_ONLY)
        api.SetImage(image)
        try:
            osd = api.DetectOrientationScript()
        finally:
            api.Clear()
        if not osd or osd.get("orient_conf", 0.0) < MIN_OSD_CONFIDENCE:
            return 0  # too few characters to decide: leave the page as it is
        # `tesseract --psm 0` prints "Rotate: (360 - orient_deg) % 360", how far to turn the image clockwise
        # to make it upright; so the text itself is turned orient_deg degrees clockwise.
        return int(osd["orient_deg"]) % 360


def _crop(ink: np.ndarray, w: OcrWord) -> np.ndarray:
    top, left = max(0, int(w.top)), max(0, int(w.left))
    return ink[top:int(w.top + w.height), left:int(w.left + w.width)]


def _parse_tsv(tsv: str) -> list[OcrWord]:
    """Word rows (level 5) of Tesseract's TSV: the rows pytesseract's image_to_data returns."""
    words: list[OcrWord] = []
    for row in tsv.splitlines():
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text, conf = cols[11].strip(), float(cols[10])
        if not text or conf < 0:
            continue
        words.append(OcrWord(
            text=text, left=float(cols[6]), top=float(cols[7]), width=float(cols[8]), height=float(cols[9]),
            confidence=max(0.0, min(1.0, conf / 100.0)),
            line_key=(int(cols[1]), int(cols[2]), int(cols[3]), int(cols[4]))))
    return words
