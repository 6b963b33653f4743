"""When a diacritic-aware reading may replace the English model's reading of a word.

Tesseract's `eng` model has no accented letters in its character set, so for `García` it can only say
`Garcia`, for `Müller` the nearest shape it knows (`Miller`). A second model that knows the accents
(`Latin`) is worse at everything else on forms (`PO-` -> `P0-`, `O'Brien` -> `0'Brien`), so its reading is
taken only where `eng` could not have been right: letter positions where the Latin model sees an accented
letter. Every other character, digits and O/0 included, must already agree, so `eng`'s letter/digit priors
keep deciding everything they can represent. Nothing here depends on particular words.
"""

from __future__ import annotations

import unicodedata


def base_letter(ch: str) -> str:
    """The letter without its diacritics (NFKD, combining marks dropped): `í` -> `i`, `ü` -> `u`."""
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


def has_diacritic(ch: str) -> bool:
    return ch.isalpha() and base_letter(ch) != ch and base_letter(ch).isascii()


def accept_accented(eng: str, latin: str) -> bool:
    """True when `latin` differs from `eng` only in accented letters `eng` cannot represent.

    Same length (NFC); each differing position holds an accented letter in `latin` and an ASCII letter
    of the same case in `eng`, either its base letter (`Garcia`/`García`) or, at most once per word, another
    letter `eng` mistook it for (`Miller`/`Müller`); everything else identical.
    """
    eng, latin = unicodedata.normalize("NFC", eng), unicodedata.normalize("NFC", latin)
    if eng == latin or len(eng) != len(latin):
        return False
    substitutions = 0
    for e, lat in zip(eng, latin, strict=True):
        if e == lat:
            continue
        if not has_diacritic(lat) or not (e.isascii() and e.isalpha()) or e.isupper() != lat.isupper():
            return False
        if base_letter(lat) != e:
            substitutions += 1
    return substitutions <= 1
