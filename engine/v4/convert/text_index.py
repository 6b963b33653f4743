"""Span offsets in the unit the caller asked for (`stringIndexType`).

Spans are built in Python string offsets (code points). The service's default unit is the text element
(user-perceived character); `utf16CodeUnit` is what JavaScript and .NET strings count. For ASCII content all
three agree, which is the common case, so nothing is recomputed then.
"""

from __future__ import annotations

import unicodedata
from itertools import accumulate

STRING_INDEX_TYPES = ("textElements", "unicodeCodePoint", "utf16CodeUnit")
_ZWJ = "\u200d"


def _joins_previous(ch: str, prev: str) -> bool:
    """Whether `ch` continues the text element before it (combining marks, variation selectors, ZWJ
    sequences). An approximation of Unicode's grapheme rules that covers Latin text with decomposed accents
    and emoji sequences, without a third-party segmenter."""
    if prev == _ZWJ or ch == _ZWJ:
        return True
    if "\ufe00" <= ch <= "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff":  # variation selector, skin tone
        return True
    return unicodedata.category(ch) in ("Mn", "Mc", "Me")


def _unit_lengths(text: str, unit: str) -> list[int]:
    """How many units each code point adds (0 when it continues the previous text element)."""
    if unit == "utf16CodeUnit":
        return [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    if unit == "textElements":
        return [0 if i and _joins_previous(ch, text[i - 1]) else 1 for i, ch in enumerate(text)]
    return [1] * len(text)


class OffsetMap:
    """Maps code-point offsets of one content string to offsets in the requested unit."""

    def __init__(self, content: str, unit: str = "textElements") -> None:
        if unit not in STRING_INDEX_TYPES:
            raise ValueError(f"unknown stringIndexType {unit!r}")
        self._identity = content.isascii() or unit == "unicodeCodePoint"
        self._prefix: list[int] = [] if self._identity else [0, *accumulate(_unit_lengths(content, unit))]

    def offset(self, cp_offset: int) -> int:
        return cp_offset if self._identity else self._prefix[cp_offset]

    def span(self, cp_offset: int, cp_length: int) -> dict[str, int]:
        start = self.offset(cp_offset)
        return {"offset": start, "length": self.offset(cp_offset + cp_length) - start}
