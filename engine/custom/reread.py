"""Re-read a picked field's region with the field-region recognizer when Tesseract was unsure of it.

Why: Tesseract garbles hand-printed values (exact 37 % on hand-printed field crops), PP-OCRv4 reads them
far better (66 %) but is ~4x slower per region and slightly worse on typed text. Gating on Tesseract's own
word confidence keeps the best of both: `bench/bench_handprint.py` measured Tesseract if every word of the
value is read with confidence >= 0.90, else the region reader, at 72 % exact (CER 4.7 %) overall and
94 % on typed values (Tesseract alone 96 %). Only OCR'd pages are concerned: words from a PDF's text layer
or form fields have confidence 1 and are never re-read.

The re-read wins per word, not per value (issue 19 item 7): on a typed purchase order Tesseract read
"938 NE Burner Road Boulder" surely and only "City, CO 92848" unsure, and the region reader's whole line
("938 N E Burner Road BoulderCity,C0 92848") made a right value wrong. So the region reading is aligned
to Tesseract's words character by character; a word Tesseract read with confidence stays, an unsure word
takes the region reader's characters at its place, except where the two differ only by look-alikes
(`CO`/`C0`, `l`/`1`) and the training values' shape does not prefer the re-read. When Tesseract was unsure
of every word (hand-printed values) the region reading is taken whole, as before.
"""

from __future__ import annotations

import difflib
import functools
import logging
from collections.abc import Callable

from PIL import Image, ImageDraw

from engine.custom.ocr_file import Word
from engine.custom.scoring.features import fix_text, text_shape
from engine.custom.scoring.model import Pick
from engine.custom.scoring.spans import Span, norm_text
from engine.custom.scoring.values import field_chars
from engine.ocr import rapid_region

log = logging.getLogger("engine.custom.reread")

REREAD_BELOW = 0.90
PAD_LINES = 0.5  # the region is the value's words padded by half a line height on every side

# page number -> (the page image the words were read from, image pixels per layout unit), or None
PageImage = Callable[[int], tuple[Image.Image, float] | None]

# characters one recognizer reads for the other's: a word that differs only by these is not "read better"
_LOOK_ALIKE = str.maketrans({"0": "O", "o": "O", "1": "I", "l": "I", "|": "I", "i": "I", "5": "S", "s": "S",
                             "8": "B", "2": "Z", "z": "Z"})


@functools.cache
def _say_unavailable() -> None:
    log.warning("the field-region reader is not available (its PP-OCR model files or onnxruntime are "
                "missing); hand-printed values are left as Tesseract read them (`make install` installs "
                "engine/requirements.txt and puts the models in place with scripts/ocr_models.py)")


def _region(span: Span, image: Image.Image, scale: float) -> tuple[int, int, int, int] | None:
    xs = [v * scale for w in span.words for v in w.polygon[0::2]]
    ys = [v * scale for w in span.words for v in w.polygon[1::2]]
    pad = PAD_LINES * (max(ys) - min(ys)) / max(1, span.nlines)
    box = (max(0, int(min(xs) - pad)), max(0, int(min(ys) - pad)),
           min(image.width, int(max(xs) + pad) + 1), min(image.height, int(max(ys) + pad) + 1))
    return box if box[2] - box[0] >= 4 and box[3] - box[1] >= 4 else None


def word_segments(words: list[str], reread: str) -> list[str]:
    """The part of `reread` that stands where each of `words` stands, by a character alignment of the two
    readings without spaces; spaces the re-read has inside a word's part are kept ("BoulderCity" ->
    "Boulder City")."""
    chars: list[str] = []
    space_before: set[int] = set()
    for ch in reread:
        if ch.isspace():
            space_before.add(len(chars))
        else:
            chars.append(ch)
    t, r = "".join(words), "".join(chars)
    at = [0] * (len(t) + 1)  # position in t -> position in r
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, t, r, autojunk=False).get_opcodes():
        for k in range(i2 - i1 + 1):
            at[i1 + k] = j1 + (k if tag == "equal" else round(k * (j2 - j1) / (i2 - i1)) if i2 > i1 else 0)
    at[0], at[len(t)] = 0, len(r)  # what the re-read has before the first / after the last word is theirs
    out, pos = [], 0
    for w in words:
        a, b = at[pos], at[pos + len(w)]
        out.append("".join((" " if k in space_before and k > a else "") + r[k] for k in range(a, b)))
        pos += len(w)
    return out


def _shape_fit(fs: dict, text: str) -> float:
    """How close the value's shape ("9 aa 9") comes to a training value's shape (0..1)."""
    shape = text_shape(norm_text(text))
    return max((difflib.SequenceMatcher(None, shape, s).ratio() for s in fs.get("shapes", [])), default=0.0)


def merge_reading(fs: dict, words: list[tuple[str, float]], span_text: str, reread: str) -> str:
    """The value's text from Tesseract's words (text, confidence) and the region re-read of them."""
    texts = [t for t, _ in words]
    if all(c < REREAD_BELOW for _, c in words) or reread.replace(" ", "") == "".join(texts):
        return fix_text(fs, rapid_region.with_spacing_of(reread, span_text))
    out = list(texts)
    for i, ((text, confidence), seg) in enumerate(zip(words, word_segments(texts, reread), strict=True)):
        if confidence >= REREAD_BELOW or not seg.strip() or seg == text:
            continue
        canon = seg.replace(" ", "").translate(_LOOK_ALIKE).upper()
        if canon == text.translate(_LOOK_ALIKE).upper():
            # only look-alikes differ: the training values' shape decides, Tesseract's reading on a tie
            with_seg = " ".join([*out[:i], seg, *out[i + 1:]])
            if _shape_fit(fs, with_seg) <= _shape_fit(fs, " ".join(out)):
                continue
        out[i] = seg
    return fix_text(fs, " ".join(out))


def blank_words(crop: Image.Image, origin: tuple[int, int], words: list[Word], scale: float) -> Image.Image:
    """The crop with these words painted paper-white: the form's print next to a value (a caption Layout ran
    into the value's line) is not read as part of it."""
    if not words:
        return crop
    out = crop.copy()
    draw = ImageDraw.Draw(out)
    fill = 255 if out.mode == "L" else (255,) * len(out.getbands())
    for w in words:
        xs, ys = w.polygon[0::2], w.polygon[1::2]
        draw.rectangle((min(xs) * scale - origin[0], min(ys) * scale - origin[1],
                        max(xs) * scale - origin[0], max(ys) * scale - origin[1]), fill=fill)
    return out


def misfit(text: str, allowed: str | None) -> bool:
    """A letter (or digit) the field's values never have: Tesseract misread the word, however sure."""
    return allowed is not None and any(c.isalnum() and c not in allowed for c in text)


def reread_unsure_fields(picks: dict[str, Pick], fields: dict[str, dict], page_image: PageImage,
                         print_near: Callable[[Span], list[Word]] = lambda _span: [],
                         regions: dict[str, dict] | None = None, skip: frozenset[str] = frozenset()) -> int:
    """Re-read the picks Tesseract read any word of with low confidence; returns how many changed.
    `print_near(span)`: the form's print around a value, blanked before its region is read; `regions`:
    the model's places of the fields (`scoring.regions`), whose values count drawn regions too; `skip`:
    fields read from their whole place instead (`scoring.region_read`)."""
    if not rapid_region.available():
        _say_unavailable()
        return 0
    changed = 0
    for name, pick in picks.items():
        span = pick.span
        if span is None or span.mark is not None or not span.words or name in skip:
            continue
        fs = fields.get(name, {})
        allowed = field_chars(fs, (regions or {}).get(name, {}))
        # a word with a letter where the field only ever had digits was misread, however sure Tesseract was
        words = [(w.text, 0.0 if misfit(w.text, allowed) else w.confidence) for w in span.words]
        if min(c for _, c in words) >= REREAD_BELOW:
            continue
        got = page_image(span.page)
        if got is None:
            continue
        image, scale = got
        box = _region(span, image, scale)
        if box is None:
            continue
        crop = blank_words(image.crop(box), box[:2], print_near(span), scale)
        text, _confidence = rapid_region.read_region(crop, allowed)
        if not text:
            continue
        before = pick.text or span.text
        text = merge_reading(fields.get(name, {}), words, span.text, text)
        if text != before:
            pick.text = text
            changed += 1
    return changed
