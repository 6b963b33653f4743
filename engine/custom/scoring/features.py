"""What the model learns per field from training documents ("field stats") and the feature vector of a
candidate span measured against those stats.

Position is predicted from anchors: words found exactly once on the page in most training forms (printed
keys like "Ship To:"). A value's offset from a nearby anchor stays put when a scan is shifted, scaled a little
or rotated, where absolute page coordinates would not.
"""

from __future__ import annotations

import functools
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.custom.matching import MatchedField
from engine.custom.ocr_file import OcrDocument
from engine.custom.scoring.spans import (
    BOL,
    EOL,
    PageIndex,
    Span,
    grow_spans,
    index_document,
    mark_span,
    norm_text,
    span_of_words,
)
from engine.custom.scoring.template import context_of, template_hits, template_words
from engine.custom.scoring.values import typed_value

FEATURES = (
    "dy_med", "dx_med", "dl_med", "dr_med", "dy_best", "dx_best", "d_abs", "shape_sim", "const_sim",
    "value_sim", "nwords_out", "len_diff", "left_ctx", "right_ctx", "bol_match", "eol_match", "left_break",
    "right_break", "inner_gap", "nlines_diff", "ml_align", "type_ok", "is_mark", "tmpl_share", "tmpl_edge",
    "cut_left", "cut_right",
)
MAX_ANCHORS_KEPT = 12
ANCHORS_USED = 5
RADIUS_V = 6.0  # candidate starts are looked for within this many line heights of the prediction...
RADIUS_H = 18.0  # ...and this many horizontally


@dataclass
class TrainDoc:
    """One usable training document: its OCR, page index and matched labels."""

    name: str
    ocr: OcrDocument
    pages: dict[int, PageIndex]
    fields: dict[str, MatchedField]

    @classmethod
    def build(cls, name: str, ocr: OcrDocument, fields: dict[str, MatchedField]) -> TrainDoc:
        return cls(name=name, ocr=ocr, pages=index_document(ocr), fields=fields)


def text_shape(text: str) -> str:
    """'$1,234.00' -> '$9,9.9': what kind of characters, not which."""
    s = re.sub(r"[0-9]", "9", text)
    s = re.sub(r"[A-Z]", "A", s)
    s = re.sub(r"[a-z]", "a", s)
    return re.sub(r"(.)\1+", r"\1", s)


@functools.lru_cache(maxsize=65536)
def _grams(text: str) -> frozenset[str]:
    t = f"^{text}$"
    return frozenset(t[i:i + 2] for i in range(len(t) - 1))


def _ratio(a: str, b: str) -> float:
    """Dice similarity of character bigrams: order-aware enough for values, and fast (set operations)."""
    if a == b:
        return 1.0
    ga, gb = _grams(a), _grams(b)
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def example_of(doc: TrainDoc, mf: MatchedField) -> dict[str, Any] | None:
    """The training facts of one labeled value; None when the labeled words are not a proposable run."""
    pi = doc.pages.get(mf.page)
    if pi is None:
        return None
    span = mark_span(pi, mf.mark) if mf.mark is not None else span_of_words(pi, mf.words)
    if span is None:
        return None
    return {"page": span.page, "box": list(span.box), "text": norm_text(mf.text), "raw_text": mf.text,
            "nwords": len(span.words),
            "nlines": span.nlines, "left_ctx": span.left_ctx, "right_ctx": span.right_ctx,
            "bol": span.left_ctx == BOL, "eol": span.right_ctx == EOL, "is_mark": mf.mark is not None,
            "anchors": {t: list(c) for t, c in pi.anchors.items()},
            "context": [] if mf.mark is not None else context_of(pi, span.box, span.words)}


def rank_anchors(examples: list[dict[str, Any]], page: int) -> list[dict[str, Any]]:
    """The printed words a box on `page` keeps its place to, nearest and steadiest first (each example:
    `page`, `box` as left, top, right, bottom, `anchors` text -> centre)."""
    n = len(examples)
    offsets: dict[str, list[tuple[float, float, float, float]]] = {}
    for e in examples:
        if e["page"] != page:
            continue
        left, top, right, bottom = e["box"]
        for text, (ax, ay) in e["anchors"].items():
            offsets.setdefault(text, []).append((left - ax, right - ax, top - ay, bottom - ay))
    need = max(1, math.ceil(0.6 * sum(1 for e in examples if e["page"] == page)))
    ranked = []
    for text, offs in offsets.items():
        if len(offs) < need:
            continue
        arr = np.array(offs)
        mean = arr.mean(axis=0)
        std = float(arr[:, [0, 2]].std(axis=0).max()) if len(offs) > 1 else 0.02
        dist = math.hypot(min(abs(mean[0]), abs(mean[1])), mean[2])
        ranked.append((dist + 3 * std + 0.05 * (1 - len(offs) / n), text, mean, std))
    ranked.sort(key=lambda x: x[0])
    return [{"text": t, "offset": [float(v) for v in m], "std": s}
            for _, t, m, s in ranked[:MAX_ANCHORS_KEPT]]


def build_field_stats(name: str, ftype: str, examples: list[dict[str, Any]], n_docs: int) -> dict[str, Any]:
    """Summarise the examples of one field into plain JSON data."""
    n = len(examples)
    page = Counter(e["page"] for e in examples).most_common(1)[0][0]
    values = sorted({e["text"] for e in examples})
    on_page = [e for e in examples if e["page"] == page and not e["is_mark"]]
    return {
        "name": name, "type": ftype, "n": n, "present": n / max(1, n_docs), "page": page,
        "is_mark": sum(e["is_mark"] for e in examples) * 2 > n,
        "abs_box": np.mean([e["box"] for e in examples], axis=0).tolist(),
        "anchors": rank_anchors(examples, page),
        "values": values, "constant": n >= 2 and len(values) == 1,
        "prefix": _common_prefix([e["raw_text"] for e in examples]),
        "nospace": n >= 2 and all(" " not in e["raw_text"].strip() for e in examples),
        "template": template_words([e.get("context", []) for e in on_page]),
        "framed": any(v[:1] in _FRAME_CHARS or v[-1:] in _FRAME_CHARS for v in values if v),
        "shapes": sorted({text_shape(e["text"]) for e in examples}),
        "lengths": sorted({len(e["text"]) for e in examples}),
        "nwords": [min(e["nwords"] for e in examples), max(e["nwords"] for e in examples)],
        "nlines": max(e["nlines"] for e in examples),
        "nlines_typical": Counter(e["nlines"] for e in examples).most_common(1)[0][0],
        "left_ctx": {k: v / n for k, v in Counter(e["left_ctx"] for e in examples).items()},
        "right_ctx": {k: v / n for k, v in Counter(e["right_ctx"] for e in examples).items()},
        "bol": sum(e["bol"] for e in examples) / n, "eol": sum(e["eol"] for e in examples) / n,
    }


_CONFUSABLE = str.maketrans({"0": "O", "1": "I", "l": "I", "|": "I", "5": "S", "8": "B", "2": "Z"})


_AS_DIGIT = str.maketrans({"O": "0", "o": "0", "@": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1",
                          "i": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "G": "6"})


def _common_prefix(texts: list[str]) -> str:
    if len(texts) < 2:
        return ""
    first = texts[0]
    n = 0
    while n < len(first) and all(len(t) > n and t[n] == first[n] for t in texts):
        n += 1
    return first[:n]


_FRAME_CHARS = "|[]{}\\"


def fix_text(fs: dict[str, Any], text: str) -> str:
    """Undo OCR look-alike confusions (0/O, 1/I, 5/S...) in the printed prefix every training value shares,
    e.g. "P0123" -> "PO123" when every labeled value starts with "PO"."""
    if not fs.get("framed", True):  # no labeled value starts or ends with a frame-like character:
        text = text.strip(_FRAME_CHARS + " ") or text  # a scanned box side read as `|`, `[`, `{`
    if fs.get("nospace"):  # every labeled value was one token: OCR may have split it (e-mails, phones)
        text = rejoin_split(text)
    if fs.get("type") in ("number", "integer", "date", "time") and not typed_value(fs["type"], text):
        digits = text.translate(_AS_DIGIT)
        if typed_value(fs["type"], digits):
            return digits
    prefix = fs.get("prefix", "")
    if not prefix or text.startswith(prefix) or len(text) < len(prefix):
        return text
    if text[: len(prefix)].translate(_CONFUSABLE) == prefix.translate(_CONFUSABLE):
        return prefix + text[len(prefix):]
    return text


_SPACED_AFTER = ",;:)!?"  # punctuation that is followed by a space in ordinary text ("bonuses, commissions")
_SPACED_BEFORE = "(&"


def rejoin_split(text: str) -> str:
    """Join words where OCR splits one token: at punctuation ("jo@ x.com", "555- 0100") or inside a number
    ("12 345"). Words of letters (or letters then digits) keep their space: "United Kingdom" and
    "family member" are two words even where every training value was one (issue 19 item 3)."""
    parts = text.split()
    out = parts[:1]
    for p in parts[1:]:
        a, b = out[-1][-1], p[0]
        if (not a.isalnum() and a not in _SPACED_AFTER) or (not b.isalnum() and b not in _SPACED_BEFORE) or (
                a.isdigit() and b.isdigit()):
            out[-1] += p
        else:
            out.append(p)
    return " ".join(out)


DocExamples = dict[str, dict[str, Any]]  # field name -> the training facts of its labeled value


def doc_examples(doc: TrainDoc) -> DocExamples:
    """The examples of one document. Why separate: leave-one-out training builds statistics n times
    over n - 1 documents; the examples do not depend on which document is held out, so they are
    computed once per document (this was most of the training time at 50 forms)."""
    out: DocExamples = {}
    for name, mf in doc.fields.items():
        ex = example_of(doc, mf)
        if ex is not None:
            out[name] = ex
    return out


def stats_from_examples(per_doc: list[DocExamples], field_types: dict[str, str]) -> dict[str, dict[str, Any]]:
    per_field: dict[str, list[dict[str, Any]]] = {}
    for examples in per_doc:
        for name, ex in examples.items():
            per_field.setdefault(name, []).append(ex)
    return {name: build_field_stats(name, field_types.get(name, "string"), exs, len(per_doc))
            for name, exs in sorted(per_field.items())}



def predict_box(fs: dict[str, Any], pi: PageIndex) -> tuple[np.ndarray, np.ndarray]:
    """(median prediction over the nearest available anchors, prediction of the best one) as l, r, t, b."""
    preds = []
    for a in fs["anchors"]:
        c = pi.anchors.get(a["text"])
        if c is not None:
            o = a["offset"]
            preds.append((c[0] + o[0], c[0] + o[1], c[1] + o[2], c[1] + o[3]))
            if len(preds) >= ANCHORS_USED:
                break
    if not preds:
        left, top, right, bottom = fs["abs_box"]
        p = np.array([left, right, top, bottom])
        return p, p
    arr = np.array(preds)
    return np.median(arr, axis=0), arr[0]


class _SimCache:
    """Text similarities repeat across spans and fields of a document; compute each once."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, tuple[str, ...]], float] = {}

    def best(self, text: str, refs: list[str]) -> float:
        key = (text, tuple(refs))
        v = self.cache.get(key)
        if v is None:
            v = max((_ratio(text, r) for r in refs), default=0.0)
            self.cache[key] = v
        return v


def span_features(fs: dict[str, Any], span: Span, pi: PageIndex, pred: tuple[np.ndarray, np.ndarray],
                  sims: _SimCache, use_values: bool = True, tmpl: frozenset = frozenset()) -> list[float]:
    """The FEATURES of one span; `tmpl` holds the keys of the words standing where template words stood."""
    h = pi.h
    l, t, r, _b = span.box  # noqa: E741
    med, best = pred

    def lg(v: float) -> float:
        return math.log1p(min(abs(v) / h, 200.0))

    dl, dr = l - med[0], r - med[1]
    al, at, ar = fs["abs_box"][0], fs["abs_box"][1], fs["abs_box"][2]
    if span.mark is not None:
        is_mark = 1.0 if fs["is_mark"] else -1.0
        return [lg(t - med[2]), lg(min(abs(dl), abs(dr))), lg(dl), lg(dr), lg(t - best[2]),
                lg(min(abs(l - best[0]), abs(r - best[1]))), lg(math.hypot(t - at, l - al)),
                1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, is_mark,
                0.0, 0.0, 0.0, 0.0]
    text = norm_text(span.text)
    shape_sim = sims.best(text_shape(span.text), fs["shapes"])
    value_sim = sims.best(text, fs["values"]) if use_values else 0.0
    n = len(span.words)
    lo, hi = fs["nwords"]
    nwords_out = float(max(0, lo - n, n - hi))
    len_diff = min(abs(math.log((len(text) + 1) / (x + 1))) for x in fs["lengths"])
    bol = span.left_ctx == BOL
    eol = span.right_ctx == EOL
    ftype = fs["type"]
    type_ok = 1.0 if ftype in ("string", "selectionMark") or typed_value(ftype, span.text) else 0.0
    return [
        lg(t - med[2]), lg(min(abs(dl), abs(dr))), lg(dl), lg(dr), lg(t - best[2]),
        lg(min(abs(l - best[0]), abs(r - best[1]))), lg(math.hypot(t - at, min(abs(l - al), abs(r - ar)))),
        shape_sim, value_sim if fs["constant"] else 0.0, value_sim, nwords_out, len_diff,
        fs["left_ctx"].get(span.left_ctx, 0.0), fs["right_ctx"].get(span.right_ctx, 0.0),
        fs["bol"] if bol else 1 - fs["bol"], fs["eol"] if eol else 1 - fs["eol"],
        1.0 if span.gap_left > 0.8 else 0.0, 1.0 if span.gap_right > 0.8 else 0.0,
        math.log1p(span.inner_gap), float(abs(span.nlines - fs["nlines_typical"])), math.log1p(span.ml_align),
        type_ok, -1.0 if fs["is_mark"] else 0.0, *_template_features(span, tmpl, h),
    ]


CUT_GAP = 0.8  # words closer than this many line heights belong to one phrase (about two spaces)


def _template_features(span: Span, tmpl: frozenset, h: float) -> tuple[float, float, float, float]:
    """(share of the span's words that are template words, whether its first or last word is one, whether
    it starts / ends inside a phrase: a close neighbour that is not template text). A value ends where the
    printed text begins or at a gap, never between two words of the same phrase ("Soccer | Coach")."""
    if not span.words:
        return 0.0, 0.0, 0.0, 0.0
    hits = [(w.page, w.line, w.index) in tmpl for w in span.words]
    first, last = span.words[0], span.words[-1]
    lw, rw = span.left_word, span.right_word
    cut_left = lw is not None and (first.box[0] - lw.box[2]) / h < CUT_GAP and (lw.page, lw.line, lw.index) \
        not in tmpl and not hits[0]
    cut_right = rw is not None and (rw.box[0] - last.box[2]) / h < CUT_GAP and (rw.page, rw.line, rw.index) \
        not in tmpl and not hits[-1]
    return (sum(hits) / len(hits), 1.0 if hits[0] or hits[-1] else 0.0, float(cut_left), float(cut_right))


def field_candidates(fs: dict[str, Any], pages: dict[int, PageIndex], sims: _SimCache,
                     use_values: bool = True) -> tuple[list[Span], np.ndarray]:
    """All candidate spans for one field in one document with their feature rows."""
    pi = pages.get(fs["page"])
    if pi is None:
        return [], np.zeros((0, len(FEATURES)))
    pred = predict_box(fs, pi)
    med = pred[0]
    h = pi.h
    spans: list[Span] = []
    tmpl: frozenset = frozenset()
    if fs["is_mark"]:
        spans = [mark_span(pi, m) for m in pi.page.marks
                 if abs(m.box[1] - med[2]) < RADIUS_V * h and abs(m.box[0] - med[0]) < RADIUS_H * h]
    else:
        max_words = max(fs["nwords"][1] + 2, int(fs["nwords"][1] * 1.5))
        max_lines = fs["nlines"] + 1 if fs["nlines"] > 1 else 1  # a multi-line value may grow a line
        lo_x, hi_x = med[0] - RADIUS_H * h, med[1] + RADIUS_H * h
        for li, line in enumerate(pi.lines):
            if abs(line[0].box[1] - med[2]) > RADIUS_V * h + (line[-1].box[3] - line[0].box[1]):
                continue
            for pos, w in enumerate(line):
                if abs(w.box[1] - med[2]) > RADIUS_V * h or not lo_x <= w.box[0] <= hi_x:
                    continue
                spans.extend(grow_spans(pi, li, pos, max_words, max_lines))
        if fs.get("template"):
            near = list({(w.page, w.line, w.index): w for s in spans for w in s.words}.values())
            hits = template_hits(fs, near, med, h)
            tmpl = frozenset((w.page, w.line, w.index) for w, hit in zip(near, hits, strict=True) if hit)
            # Text that stands where the template stood on the training forms is never the value by itself.
            spans = [s for s in spans if not all((w.page, w.line, w.index) in tmpl for w in s.words)]
    rows = [span_features(fs, s, pi, pred, sims, use_values, tmpl) for s in spans]
    return spans, np.array(rows, dtype=float).reshape(len(rows), len(FEATURES))


def new_sim_cache() -> _SimCache:
    return _SimCache()


def median_or(values: list[float], default: float) -> float:
    return statistics.median(values) if values else default
