"""Turn extracted text into the typed value the field type asks for (valueNumber, valueDate, ...)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


def parse_number(text: str) -> float | None:
    """'$1,234.50' -> 1234.5, '5,00' -> 5.0, '(12)' -> -12; None when there is no number."""
    t = text.strip().replace(" ", "").replace("\u00a0", "")
    negative = t.startswith("-") or (t.startswith("(") and t.endswith(")")) or t.endswith("-")
    t = re.sub(r"[^0-9.,]", "", t)
    if not re.search(r"\d", t):
        return None
    if "," in t and "." in t:
        # the right-most separator is the decimal mark
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    elif "," in t:
        head, _, tail = t.rpartition(",")
        thousands = (len(tail) == 3 and head) or t.count(",") > 1
        t = t.replace(",", "") if thousands else head + "." + tail
    elif t.count(".") > 1:
        head, _, tail = t.rpartition(".")
        t = head.replace(".", "") + ("." + tail if len(tail) != 3 else tail)
    try:
        value = float(t)
    except ValueError:
        return None
    return -value if negative else value


def _year(y: int) -> int:
    return y + (2000 if y < 50 else 1900) if y < 100 else y


def _valid(y: int, m: int, d: int) -> str | None:
    try:
        return date(_year(y), m, d).isoformat()
    except ValueError:
        return None


def parse_date(text: str) -> str | None:
    """Common printed dates -> 'YYYY-MM-DD' (month-first when ambiguous, as US forms print them)."""
    t = text.strip().lower().replace(",", " ")
    m = re.fullmatch(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})", t)
    if m:
        return _valid(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})", t)
    if m:
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        if "." in t or a > 12:  # dotted dates and a first number > 12 are day-first
            return _valid(y, b, a)
        return _valid(y, a, b)
    m = re.fullmatch(r"([a-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{2,4})", t)
    if m and m[1] in _MONTHS:
        return _valid(int(m[3]), _MONTHS[m[1]], int(m[2]))
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})", t)
    if m and m[2] in _MONTHS:
        return _valid(int(m[3]), _MONTHS[m[2]], int(m[1]))
    return None


def parse_time(text: str) -> str | None:
    """'3:05 pm' -> '15:05:00'."""
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?", text.strip().lower())
    if not m:
        return None
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if m[4]:
        h = h % 12 + (12 if m[4].startswith("p") else 0)
    if h > 23 or mi > 59 or s > 59:
        return None
    return f"{h:02d}:{mi:02d}:{s:02d}"


def typed_value(field_type: str, text: str) -> dict[str, Any]:
    """The `value*` keys of a FieldValue; text that does not parse keeps only its string form."""
    if field_type == "number":
        n = parse_number(text)
        return {} if n is None else {"valueNumber": n}
    if field_type == "integer":
        n = parse_number(text)
        return {} if n is None or n != int(n) else {"valueInteger": int(n)}
    if field_type == "date":
        d = parse_date(text)
        return {} if d is None else {"valueDate": d}
    if field_type == "time":
        tm = parse_time(text)
        return {} if tm is None else {"valueTime": tm}
    if field_type == "selectionMark":
        return {"valueSelectionMark": "selected" if text.strip().lower() == "selected" else "unselected"}
    return {"valueString": text}


NUMBER_CHARS = "0123456789.,-"
MIN_SHAPE_EXAMPLES = 3  # training values it takes to trust a text field's "digits only" shape


def readable_chars(ftype: str, value_chars: str, examples: int = 0) -> str | None:
    """The characters a region reader may read for a field: a number's digits and signs, plus any sign its
    training values have ("$"); the same for a text field whose `examples` (at least MIN_SHAPE_EXAMPLES)
    training values were all digits and signs (an ID, a phone number: a hand-written 2 is not a "d", a 5 not
    an "S"); None (anything) for other fields."""
    signs = "".join(sorted({c for c in value_chars if not c.isalnum() and not c.isspace()}))
    if ftype in ("number", "integer"):
        return NUMBER_CHARS + "".join(c for c in signs if c not in NUMBER_CHARS)
    digits_only = any(c.isdigit() for c in value_chars) and not any(c.isalpha() for c in value_chars)
    if digits_only and examples >= MIN_SHAPE_EXAMPLES:
        return "0123456789" + signs
    return None


def field_chars(fs: dict[str, Any], place: dict[str, Any]) -> str | None:
    """`readable_chars` of a field from the model: its field statistics (`fs`, word picks' values) and
    its place (`scoring.regions`, whose values count drawn regions over hand-writing OCR missed too)."""
    chars = "".join(fs.get("values", [])) + place.get("chars", "")
    return readable_chars(fs.get("type", "string"), chars, max(fs.get("n", 0), place.get("n", 0)))
