"""The form's print is never part of a value (issue 19 items 4, 6, 8).

On scans Layout often runs a caption and the value written beside or just below it into one line
("Applicant Telephone 234-567-8890 NEXT CHEQUE"). Words that stand at the same place on most training pages
are the form's print: they are trimmed from a value's ends, a value of nothing but print is no value, and a
re-read of the value's region sees them blanked."""

from __future__ import annotations

from PIL import Image

from engine.custom.ocr_file import Page, Word
from engine.custom.reread import blank_words
from engine.custom.scoring.spans import Span, index_page
from engine.custom.scoring.template import is_printed, printed_near, printed_words, trim_template_ends


def _page(rows: list[list[tuple[str, float]]], shift: float = 0.0) -> Page:
    """One line per row, words at the given left x (width 0.06), rows 0.05 apart; 1000 x 1000 units."""
    lines = []
    for li, row in enumerate(rows):
        y = 0.1 + 0.05 * li + shift
        words = []
        for wi, (text, x) in enumerate(row):
            box = (x + shift, y, x + shift + 0.06, y + 0.012)
            poly = [box[0] * 1000, y * 1000, box[2] * 1000, y * 1000, box[2] * 1000, box[3] * 1000,
                    box[0] * 1000, box[3] * 1000]
            words.append(Word(text, 1, li, wi, box, poly))
        lines.append(words)
    return Page(1, 1000, 1000, "pixel", lines=lines)


def _form(phone: str, name: str, shift: float = 0.0) -> Page:
    first = [("Applicant", 0.05), ("Telephone", 0.137), (phone, 0.2), ("NEXT", 0.262), ("CHEQUE", 0.33)]
    return _page([first, [("Name", 0.05), (name, 0.2)]], shift)


def _lookup(words: list[list[object]]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for text, x, y in words:
        out.setdefault(str(text), []).append((float(x), float(y)))  # type: ignore[arg-type]
    return out


def _span(page: Page, line: int) -> Span:
    ws = page.lines[line]
    return Span(page=1, words=ws, mark=None, box=(ws[0].box[0], ws[0].box[1], ws[-1].box[2], ws[-1].box[3]),
                text=" ".join(w.text for w in ws), nlines=1, left_ctx="<bol>", right_ctx="<eol>",
                gap_left=99, gap_right=99, inner_gap=0, ml_align=0)


TRAINING = [_form("604-555-0101", "Ann"), _form("604-555-0102", "Bob", 0.002),
            _form("604-555-0103", "Cy", -0.002)]


def test_words_at_the_same_place_on_most_training_pages_are_print() -> None:
    printed = _lookup(printed_words(TRAINING))
    assert set(printed) == {"applicant", "telephone", "next", "cheque", "name"}  # not the values
    new = _form("778-000-1234", "Dee", 0.001)
    assert is_printed(printed, new.lines[0][0]) and not is_printed(printed, new.lines[0][2])
    moved = _form("778-000-1234", "Dee", 0.05)  # the same caption a line lower is not this print
    assert not is_printed(printed, moved.lines[0][0])


def test_print_is_trimmed_from_both_ends_of_a_value() -> None:
    printed = _lookup(printed_words(TRAINING))
    new = _form("778-000-1234", "Dee")
    pi = index_page(new)
    fs = {"values": ["604-555-0101", "604-555-0102"], "template": []}
    got = trim_template_ends(fs, _span(new, 0), pi, [0.2, 0.26, 0.1, 0.112], printed)
    assert got is not None and got.text == "778-000-1234" and [w.text for w in got.words] == ["778-000-1234"]
    # a value of nothing but print is no value
    only_print = Span(**{**_span(new, 0).__dict__, "words": new.lines[0][:2], "text": "Applicant Telephone"})
    assert trim_template_ends(fs, only_print, pi, [0.2, 0.26, 0.1, 0.112], printed) is None
    # a word training values start with stays, even where print stands
    fs_next = {"values": ["604-555-0101 next cheque"], "template": []}
    kept = trim_template_ends(fs_next, _span(new, 0), pi, [0.2, 0.26, 0.1, 0.112], printed)
    assert kept is not None and kept.text == "778-000-1234 NEXT CHEQUE"


def test_print_near_a_value_is_blanked_before_its_region_is_re_read() -> None:
    printed = _lookup(printed_words(TRAINING))
    new = _form("778-000-1234", "Dee")
    pi = index_page(new)
    value = Span(**{**_span(new, 0).__dict__, "words": [new.lines[0][2]], "text": "778-000-1234"})
    near = printed_near(value, pi, printed)
    assert [w.text for w in near] == ["Telephone", "NEXT"]  # within half a line of the value's box
    crop = Image.new("L", (400, 100), 0)  # all ink
    blanked = blank_words(crop, (100, 80), near, 1.0)  # the crop starts at page pixel (100, 80)
    tele = near[0].polygon
    inside = (int((tele[0] + tele[2]) / 2) - 100, int((tele[1] + tele[5]) / 2) - 80)
    assert blanked.getpixel(inside) == 255 and blanked.getpixel((399, 99)) == 0
    assert crop.getpixel(inside) == 0  # the caller's image is not changed
