"""The words of form fields once their values are on the page: comb cells, multi-line fields' lines, and
values nothing drew.

`engine.pdf.form` reads the widgets and flattens their appearances into the page; the text layer then holds
each value's characters like any other text. What the text layer cannot tell is which words belong to one
field: a comb field is one word per cell, and the lines of a multi-line field stay its lines even where the
page's line grouping would join them with taller text beside the field (a caption "Address" in a larger
font spans two lines of a small, auto-sized address field, and its row took the words of both lines,
sorted left to right: "Address 1422 Springfield, Pine Parkway IL 62704").
"""

from __future__ import annotations

from engine.page.lines import split_at_gaps
from engine.page.model import Line, Word
from engine.page.rect_grid import RectGrid
from engine.pdf.form import Widget
from engine.pdf.frame import PT_PER_INCH

AVG_CHAR_EM = 0.5  # Helvetica's mean advance, for values drawn without an appearance stream
PAD_PT = 2.0  # PDFium's and Acrobat's inner margin of a text field
LEADING = 1.15  # line pitch of a multi-line value, in font sizes
MAX_AUTO_PT = 12.0  # auto size (/DA size 0): at most this, less if the field is lower


def split_comb_cells(words: list[Word], widgets: list[Widget]) -> list[Word]:
    """A word drawn in a comb field becomes one word per cell, each the cell's character."""
    combs = [w for w in widgets if w.comb_cells > 1]
    if not combs:
        return words
    grid = RectGrid(((c.x0, c.y0, c.x1, c.y1) for c in combs), cell=0.5)
    out: list[Word] = []
    for word in words:
        hit = grid.find((word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2) if len(word.text) > 1 else None
        comb = combs[hit] if hit is not None else None
        if comb is None:
            out.append(word)
            continue
        cell = (comb.x1 - comb.x0) / comb.comb_cells
        step = (word.x1 - word.x0) / len(word.text)  # the characters' own spacing (= cell width)
        for i, ch in enumerate(word.text):
            left = word.x0 + i * step
            mid = left + step / 2
            index = min(comb.comb_cells - 1, max(0, int((mid - comb.x0) / cell)))
            # The character's box inside its cell: as wide as the glyph advance, never past the cell.
            c0 = max(comb.x0 + index * cell, left)
            c1 = min(comb.x0 + (index + 1) * cell, left + step)
            out.append(Word(ch, c0, word.y0, max(c1, c0 + 1e-3), word.y1, word.confidence))
    return out


def field_lines(words: list[Word], widgets: list[Widget]) -> tuple[list[Line], list[Word]]:
    """The lines of every multi-line field, grouped inside the field, and the words outside them.

    A line is the words whose vertical centres lie within half a word's height of each other, in order
    top to bottom; it is split at wide gaps as any line is.
    """
    fields = [w for w in widgets if w.multiline]
    if not fields:
        return [], words
    grid = RectGrid(((f.x0, f.y0, f.x1, f.y1) for f in fields), cell=0.5)
    inside: dict[int, list[Word]] = {}
    rest: list[Word] = []
    for word in words:
        hit = grid.find((word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2)
        if hit is None:
            rest.append(word)
        else:
            inside.setdefault(hit, []).append(word)
    lines: list[Line] = []
    for field_words in inside.values():
        rows: list[list[Word]] = []
        centre = 0.0
        for word in sorted(field_words, key=lambda w: ((w.y0 + w.y1) / 2, w.x0)):
            mid = (word.y0 + word.y1) / 2
            if rows and abs(mid - centre) < 0.5 * word.height:
                rows[-1].append(word)
            else:
                rows.append([word])
                centre = mid
        for row in rows:
            lines.extend(split_at_gaps(row))
    return lines, rest


def synthesized_words(widgets: list[Widget], words: list[Word]) -> list[Word]:
    """Words for fields that hold a value but drew nothing, laid out as a viewer draws them.

    A PDF whose writer set /NeedAppearances instead of drawing the value still shows it in every viewer.
    PDFium draws such fields itself once the page view is built (`form.needs_view`), so this is the
    fallback for a field it still left blank: the field's font size (auto: 70 % of a one-line field's
    height, at most 12 pt), /Q alignment, Helvetica's mean advance for widths; a multi-line field has one
    line per line of its value from the top, any other field its first line, centred vertically.
    """
    filled = [w for w in widgets if w.kind in ("text", "choice") and w.value.strip()]
    if not filled:
        return []
    grid = RectGrid(((w.x0, w.y0, w.x1, w.y1) for w in filled), cell=0.5)
    drawn = {grid.find((t.x0 + t.x1) / 2, (t.y0 + t.y1) / 2) for t in words}
    out: list[Word] = []
    for i, w in enumerate(filled):
        if i in drawn:
            continue  # its appearance drew the value
        height_pt = (w.y1 - w.y0) * PT_PER_INCH
        lines = w.value.splitlines() or [w.value]
        if not w.multiline:
            lines = lines[:1]
        auto = min(MAX_AUTO_PT, max(4.0, 0.7 * height_pt)) if not w.multiline else MAX_AUTO_PT
        size = (w.font_size or auto) / PT_PER_INCH
        pad = PAD_PT / PT_PER_INCH
        if w.comb_cells > 1:
            top = w.y0 + max(0.0, ((w.y1 - w.y0) - size) / 2)
            cell = (w.x1 - w.x0) / w.comb_cells
            out.extend(Word(ch, w.x0 + (k + 0.2) * cell, top, w.x0 + (k + 0.8) * cell, top + size)
                       for k, ch in enumerate(lines[0][: w.comb_cells]) if not ch.isspace())
            continue
        top = w.y0 + pad if w.multiline else w.y0 + max(0.0, ((w.y1 - w.y0) - size) / 2)
        for number, line in enumerate(lines):
            y0 = top + number * LEADING * size
            if y0 + size > w.y1 + 0.5 * size:
                break  # below the field: clipped, not shown
            out.extend(_line_words(line, w, y0, size, pad))
    return out


def _line_words(line: str, w: Widget, y0: float, size: float, pad: float) -> list[Word]:
    """One line of a value at `y0`, aligned in the field as its /Q says."""
    text = line.strip()
    width = len(text) * AVG_CHAR_EM * size
    room = (w.x1 - w.x0) - 2 * pad
    x = w.x0 + pad + {1: max(0.0, (room - width) / 2), 2: max(0.0, room - width)}.get(w.align, 0.0)
    out: list[Word] = []
    for token in text.split(" "):
        token_width = len(token) * AVG_CHAR_EM * size
        if token:
            out.append(Word(token, x, y0, min(x + token_width, w.x1), y0 + size))
        x += token_width + AVG_CHAR_EM * size
    return out
