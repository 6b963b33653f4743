"""Field-region crops of hand-printed values, with their true text, for bench_handprint.py.

Two sources, both deterministic:

1. `travel_crops`: the three travel-insurance forms in shared/data/digital-forms (values set in Courier,
   Calibri, Comic Sans and, for the signature, Segoe Script). Truth is the PDF text layer (pypdfium2);
   every text object right of the label column (x >= 180 pt) is a value, objects on one baseline are one
   value. Pages are rendered (grayscale, like the engine) at 150 and 300 dpi and each value's box is cut
   out with padding, as a field-region reader would get it.
2. `generated_crops`: names, dates, amounts, ZIP codes and e-mail addresses drawn glyph by glyph in
   handwriting fonts (per-glyph size, baseline and angle jitter, pen width, ink tone), some inside a
   drawn field box, then scan-degraded (slight rotation, blur, noise, 300 or 150 dpi). Fonts: Debian
   packages (see HAND_FONTS for the apt line) and Shadows Into Light (OFL, shipped in the PyPI package
   `handwriting-generator`; a copy is in fonts/ beside this file). A font that is not installed is
   skipped and named in the report.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
TRAVEL_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "digital-forms" / "travel-insurance"
VALUE_COLUMN_PT = 180.0  # labels end before this x, values start after it (all three forms)

# apt-get install fonts-comic-neue fonts-dkg-handwriting fonts-breip fonts-bwht fonts-humor-sans \
#   fonts-dancingscript fonts-kristi
# (name, path, style): "print" = separate block letters, "caps" = the font has only capitals (the value
# is written in capitals, as on most paper forms), "cursive" = joined script.
HAND_FONTS: tuple[tuple[str, str, str], ...] = (
    ("ComicNeue", "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf", "print"),
    ("dkg", "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", "print"),
    ("Breip", "/usr/share/fonts/truetype/breip/Breip.ttf", "print"),
    ("HumorSans", "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf", "caps"),
    ("ShadowsIntoLight", str(HERE / "fonts" / "ShadowsIntoLight.ttf"), "print"),
    ("BWBuild", "/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf", "caps"),
    ("BWCreate", "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf", "caps"),
    ("BWLearn", "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf", "caps"),
    ("BWMentor", "/usr/share/fonts/opentype/bwht/BecauseWeMentor-Regular.otf", "caps"),
    ("BWOrganize", "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf", "caps"),
    ("DancingScript", "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf", "cursive"),
    ("Kristi", "/usr/share/fonts/truetype/kristi/Kristi.ttf", "cursive"),
)

FIRST = ("James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Kevin", "Aisha",
         "Thomas", "Elena", "Omar", "Grace", "Peter", "Nora", "Samuel", "Julia", "Victor", "Hannah")
LAST = ("Smith", "Johnson", "Brown", "Garcia", "Miller", "Wilson", "Moore", "Taylor", "Anderson", "Thompson",
        "Martin", "Lee", "Walker", "Young", "King", "Wright", "Lopez", "Hill", "Scott", "Green", "O'Neil")
DOMAINS = ("mail.com", "example.org", "post.net", "inbox.us", "acme.co")
KINDS = ("name", "date", "amount", "zip", "email")


@dataclass(frozen=True)
class Crop:
    image: Image.Image  # grayscale
    truth: str
    source: str  # "travel" or "generated"
    group: str  # font (travel) or value kind (generated)
    style: str  # "print", "caps", "cursive", "typed"
    dpi: int


# ---------------------------------------------------------------- travel-insurance forms (text layer)

def _values(page: pdfium.PdfPage) -> list[tuple[str, str, tuple[float, float, float, float]]]:
    """(text, font, (left, bottom, right, top) in pt) of each value line right of the label column."""
    tp = page.get_textpage()
    runs: list[tuple[str, str, tuple[float, float, float, float]]] = []
    for obj in page.get_objects(max_depth=3, textpage=tp):
        if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        text = obj.extract()
        box = obj.get_bounds()
        font = obj.get_font().get_base_name()
        if text.strip() and box[0] >= VALUE_COLUMN_PT and "Copperplate" not in font:  # not a section title
            runs.append((text, font, box))
    lines: list[tuple[str, str, tuple[float, float, float, float]]] = []
    for text, font, box in runs:  # objects of one value follow each other on one baseline
        if lines and abs((lines[-1][2][1] + lines[-1][2][3]) / 2 - (box[1] + box[3]) / 2) < 4:
            t, f, b = lines[-1]
            lines[-1] = (t + text, f, (min(b[0], box[0]), min(b[1], box[1]), max(b[2], box[2]),
                                       max(b[3], box[3])))
        else:
            lines.append((text, font, box))
    return [(" ".join(t.split()), f.split("+")[-1], b) for t, f, b in lines]


def travel_crops(dpis: tuple[int, ...] = (150, 300)) -> list[Crop]:
    out: list[Crop] = []
    for pdf in sorted(TRAVEL_DIR.glob("*.pdf")):
        doc = pdfium.PdfDocument(pdf)
        try:
            page = doc[0]
            height_pt = page.get_height()
            values = _values(page)
            for dpi in dpis:
                s = dpi / 72.0
                img = page.render(scale=s, grayscale=True).to_pil().convert("L")
                for text, font, (left, bottom, right, top) in values:
                    h = top - bottom
                    pad_x, pad_y = 1.0 * h, 0.5 * h  # the field box around the value, as a reader gets it
                    box = (round((left - pad_x) * s), round((height_pt - top - pad_y) * s),
                           round((right + pad_x) * s), round((height_pt - bottom + pad_y) * s))
                    style = "cursive" if "Script" in font or "Handwriting" in font else "typed"
                    out.append(Crop(img.crop(box), text, "travel", font, style, dpi))
        finally:
            doc.close()
    return out


# ---------------------------------------------------------------- generated hand-printed values

def available_fonts() -> tuple[list[tuple[str, str, str]], list[str]]:
    have = [f for f in HAND_FONTS if Path(f[1]).is_file()]
    missing = [f[0] for f in HAND_FONTS if not Path(f[1]).is_file()]
    return have, missing


def make_value(kind: str, rng: random.Random) -> str:
    if kind == "name":
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if kind == "date":
        m, d, y = rng.randint(1, 12), rng.randint(1, 28), rng.randint(1940, 2026)
        return rng.choice((f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{d:02d}.{m:02d}.{y}"))
    if kind == "amount":
        v = rng.randint(1, 999999) / 100 if rng.random() < 0.7 else rng.randint(1, 99999)
        s = f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"
        return "$" + s if rng.random() < 0.6 else s
    if kind == "zip":
        z = f"{rng.randint(1000, 99999):05d}"
        return z + f"-{rng.randint(0, 9999):04d}" if rng.random() < 0.25 else z
    first, last = rng.choice(FIRST).lower(), rng.choice(LAST).lower().replace("'", "")
    user = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}"))
    return f"{user}@{rng.choice(DOMAINS)}"


def _handwrite(text: str, font_path: str, size: int, rng: random.Random) -> Image.Image:
    """Ink (0 = paper, 255 = ink) of `text` drawn glyph by glyph with per-glyph jitter."""
    font = ImageFont.truetype(font_path, size)
    ascent, descent = font.getmetrics()
    gh = ascent + descent
    width = int(font.getlength(text) * 1.25) + 2 * size
    canvas = Image.new("L", (width, gh + size), 0)
    x = size * 0.5
    slant = rng.uniform(-3.0, 3.0)  # the writer's overall slant, degrees
    for ch in text:
        adv = font.getlength(ch)
        if ch == " ":
            x += adv * rng.uniform(0.9, 1.4)
            continue
        k = rng.uniform(0.9, 1.1)
        gfont = ImageFont.truetype(font_path, max(6, round(size * k)))
        g = Image.new("L", (int(gfont.getlength(ch)) + size, gh + size), 0)
        ImageDraw.Draw(g).text((size / 2, size / 2), ch, font=gfont, fill=255)
        g = g.rotate(slant + rng.uniform(-4.0, 4.0), resample=Image.Resampling.BILINEAR)
        dy = rng.gauss(0.0, 0.03 * size) + (1 - k) * ascent
        canvas.paste(Image.new("L", g.size, 255), (round(x - size / 2), round(dy)), g)
        x += adv * k * rng.uniform(0.95, 1.12)
    bbox = canvas.getbbox()
    return canvas.crop(bbox) if bbox else canvas


@functools.cache
def _cap_ratio(font_path: str) -> float:
    """Height of a capital H over the font size (fonts differ a lot: Kristi's H is half of Breip's)."""
    box = ImageFont.truetype(font_path, 200).getbbox("H")
    return max(0.2, (box[3] - box[1]) / 200)


def render_value(text: str, font_path: str, rng: random.Random) -> tuple[Image.Image, int]:
    """A scanned-looking field crop of a hand-printed value, and its dpi (300 or 150)."""
    cap = rng.randint(32, 54)  # capital height at 300 dpi: 2.7-4.6 mm, hand-printed into a form box
    size = round(cap / _cap_ratio(font_path))
    ink = _handwrite(text, font_path, size, rng)
    pen = rng.random()
    if pen < 0.3:
        ink = ink.filter(ImageFilter.MaxFilter(3))  # broad pen
    pad_x, pad_y = rng.randint(size // 3, size), rng.randint(size // 4, size // 2)
    w, h = ink.width + 2 * pad_x, ink.height + 2 * pad_y
    paper = Image.new("L", (w, h), rng.randint(225, 252))
    boxed = rng.random() < 0.35
    if boxed:  # the printed field box the value was written into, cut out with the region
        ImageDraw.Draw(paper).rectangle((2, 2, w - 3, h - 3), outline=rng.randint(60, 120),
                                        width=rng.randint(2, 3))
    tone = rng.randint(10, 90)
    paper.paste(Image.new("L", ink.size, tone), (pad_x, pad_y), ink)
    img = paper.rotate(rng.uniform(-2.0, 2.0), resample=Image.Resampling.BILINEAR,
                       fillcolor=paper.getpixel((0, 0)))
    dpi = 300
    if rng.random() < 0.4:
        dpi = 150
        img = img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    arr = np.asarray(img, dtype=np.float32)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0.0, rng.uniform(3.0, 12.0), arr.shape)
    img = Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8), "L")
    return img, dpi


def generated_crops(per_font_kind: int, seed: int = 20261201) -> Iterator[Crop]:
    fonts, _missing = available_fonts()
    for name, path, style in fonts:
        rng = random.Random(f"{seed}:{name}")  # a font's crops do not depend on which other fonts exist
        for kind in KINDS:
            for _ in range(per_font_kind):
                text = make_value(kind, rng)
                if style == "caps":
                    text = text.upper()
                img, dpi = render_value(text, path, rng)
                yield Crop(img, text, "generated", kind, style, dpi)
