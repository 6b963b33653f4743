"""Find the OCR words (or selection mark) under each label's boxes.

The label boxes say where the value is; the model learns from the OCR words there, because at analyze
time OCR words are all it will see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.custom.labels import FieldLabel, LabelFile
from engine.custom.ocr_file import Mark, OcrDocument, Word


@dataclass
class MatchedField:
    name: str
    text: str  # the value as labeled (falls back to the OCR words' text when the label has none)
    words: list[Word] = field(default_factory=list)
    mark: Mark | None = None
    # a drawn region (`labelType: "region"`): its page and normalised box, where the value was written
    # even when OCR found no word there (a hand-written "0" Tesseract does not see)
    region: tuple[int, tuple[float, float, float, float]] | None = None
    # a word label's own boxes (page, normalised box): where the value stands even where OCR split or
    # missed its words (the print masks of `scoring.dropout` leave them out)
    boxes: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)

    @property
    def page(self) -> int:
        if self.mark is not None:
            return self.mark.page
        if self.words:
            return self.words[0].page
        return self.region[0] if self.region else 1


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _area(a: tuple[float, float, float, float]) -> float:
    return max(1e-9, (a[2] - a[0]) * (a[3] - a[1]))


def _is_mark_label(lab: FieldLabel, field_type: str | None) -> bool:
    return field_type == "selectionMark" or lab.text.strip().lower() in ("selected", "unselected")


def match_labels(labels: LabelFile, ocr: OcrDocument,
                 field_types: dict[str, str]) -> tuple[dict[str, MatchedField], list[str]]:
    """Return the matched fields and one message per label that could not be used."""
    matched: dict[str, MatchedField] = {}
    problems: list[str] = []
    labels = labels.normalised({p.number: (p.width, p.height) for p in ocr.pages})
    for lab in labels.labels:
        if lab.name in matched:
            problems.append(f"Label '{lab.name}' appears more than once; the first one is used.")
            continue
        if not lab.regions:
            continue  # an empty label means "not on this form": the model learns the field can be absent
        missing = sorted({r.page for r in lab.regions if ocr.page(r.page) is None})
        if missing:
            problems.append(f"Label '{lab.name}' refers to page {missing[0]}, which does not exist "
                            f"(the document has {len(ocr.pages)} page(s)).")
            continue
        ftype = field_types.get(lab.name)
        if _is_mark_label(lab, ftype) and ftype in (None, "selectionMark"):
            best: tuple[float, Mark] | None = None
            for reg in lab.regions:
                for m in ocr.page(reg.page).marks:  # type: ignore[union-attr]
                    ov = _overlap(m.box, reg.box) / min(_area(m.box), _area(reg.box))
                    if ov > 0.3 and (best is None or ov > best[0]):
                        best = (ov, m)
            if best is not None:
                matched[lab.name] = MatchedField(lab.name, lab.text.strip().lower(), mark=best[1])
                continue
            if ftype == "selectionMark":
                problems.append(f"Label '{lab.name}' matches no selection mark "
                                f"on page {lab.regions[0].page}.")
                continue
        words: list[Word] = []
        for number in dict.fromkeys(r.page for r in lab.regions):
            page = ocr.page(number)
            assert page is not None
            boxes = [r.box for r in lab.regions if r.page == number]
            # Half of the word inside the label's boxes taken together: a reader that joins what the label
            # has as one box per word (a comb field's digits, "$ 45" vs "$45") still matches.
            hits = [w for w in page.words if sum(_overlap(w.box, b) for b in boxes) >= 0.5 * _area(w.box)]
            words.extend(sorted(hits, key=lambda w: (w.line, w.index)))
        region = None
        if lab.label_type == "region":
            first = lab.regions[0].page
            boxes = [r.box for r in lab.regions if r.page == first]
            region = (first, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                              max(b[2] for b in boxes), max(b[3] for b in boxes)))
        if not words:
            if lab.label_type == "region" and lab.text.strip():
                # OCR saw nothing where the person saw a value: the place still teaches where to read
                matched[lab.name] = MatchedField(lab.name, " ".join(lab.text.split()), region=region)
                continue
            if lab.label_type == "region":
                continue  # a drawn region over a picture: nothing to extract as text
            problems.append(f"Label '{lab.name}' ('{lab.text[:40]}') matches no OCR words "
                            f"on page {lab.regions[0].page}.")
            continue
        text = " ".join(lab.text.split()) or " ".join(w.text for w in words)
        own = [] if region is not None else [(r.page, r.box) for r in lab.regions]
        matched[lab.name] = MatchedField(lab.name, text, words=words, region=region, boxes=own)
    return matched, problems
