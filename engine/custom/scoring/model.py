"""Train and apply an extraction model: field stats + one shared logistic scorer + calibration.

Training data for the scorer are candidate spans of every training document, positive when they cover
exactly the labeled words. Each document's features are measured against stats built WITHOUT that document,
so the scorer learns how far predictions miss on unseen forms, and the same rows give honest leave-one-out
accuracy per field by refitting only the (cheap) scorer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.custom.matching import MatchedField
from engine.custom.scoring.features import (
    FEATURES,
    TrainDoc,
    doc_examples,
    field_candidates,
    fix_text,
    new_sim_cache,
    predict_box,
    stats_from_examples,
)
from engine.custom.scoring.logistic import fit_logistic
from engine.custom.scoring.regions import train_regions
from engine.custom.scoring.spans import PageIndex, Span, norm_text, words_key
from engine.custom.scoring.template import printed_lookup, printed_words, trim_template_ends

FORMAT_VERSION = 1
MIN_DOCS_FOR_CV = 2


@dataclass
class Pick:
    name: str
    span: Span | None
    score: float  # raw scorer probability of the chosen span
    confidence: float = 0.0
    text: str | None = None  # the value as printed (OCR look-alike confusions undone)
    # read from the field's place on the page, no OCR word under it: (page, polygon in the page's unit)
    region: tuple[int, list[float]] | None = None


@dataclass
class TrainReport:
    field_accuracy: dict[str, float] = field(default_factory=dict)
    loo: list[dict[str, Any]] = field(default_factory=list)  # per (doc, field): score, predicted, truth, ...


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _fit_scorer(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    mean = X.mean(axis=0) if len(X) else np.zeros(X.shape[1])
    scale = X.std(axis=0) if len(X) else np.ones(X.shape[1])
    scale[scale < 1e-9] = 1.0
    if len(y) == 0 or y.min() == y.max():
        return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": [0.0] * X.shape[1],
                "intercept": 0.0 if len(y) and y.max() else -5.0}
    coef, intercept = fit_logistic((X - mean) / scale, y)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": coef.tolist(), "intercept": intercept}


def score_rows(scorer: dict[str, Any], X: np.ndarray) -> np.ndarray:
    if len(X) == 0:
        return np.zeros(0)
    z = ((X - np.array(scorer["mean"])) / np.array(scorer["scale"])) @ np.array(scorer["coef"])
    return 1 / (1 + np.exp(-(z + scorer["intercept"])))


def decode(cands: dict[str, tuple[list[Span], np.ndarray]], threshold: float,
           fields: dict[str, dict[str, Any]]) -> dict[str, Pick]:
    """Best span per field; an OCR element goes to one field at most (highest score first)."""
    options: list[tuple[float, str, int]] = []
    for name, (_spans, probs) in cands.items():
        order = np.argsort(-probs)[:15]
        options.extend((float(probs[i]), name, int(i)) for i in order)
    options.sort(key=lambda o: -o[0])
    used: set = set()
    picks: dict[str, Pick] = {}
    for p, name, i in options:
        if name in picks:
            continue
        span = cands[name][0][i]
        if used & span.key:
            continue
        if p < threshold:
            continue
        text = span.mark.state if span.mark is not None else fix_text(fields[name], span.text)
        picks[name] = Pick(name, span, p, text=text)
        used |= span.key
    for name in cands:
        if name not in picks:
            top = float(cands[name][1].max()) if len(cands[name][1]) else 0.0
            picks[name] = Pick(name, None, top)
    return picks


def _platt(points: list[tuple[list[float], bool]]) -> dict[str, Any]:
    """Platt scaling with its smoothed targets, so it is defined even when every LOO pick was right."""
    if not points:
        return {"coef": [0.0, 0.0], "intercept": 0.0}
    n_pos = sum(1 for _, c in points if c)
    n_neg = len(points) - n_pos
    t_pos, t_neg = (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2)
    X = np.array([x for x, _ in points] * 2)
    y = np.array([1] * len(points) + [0] * len(points))
    targets = [t_pos if c else t_neg for _, c in points]
    w = np.array(targets + [1 - t for t in targets])
    coef, intercept = fit_logistic(X, y, sample_weight=w)
    return {"coef": coef.tolist(), "intercept": intercept}


def _calib_x(score: float, field_acc: float) -> list[float]:
    return [_logit(score), _logit(0.5 + 0.49 * (2 * field_acc - 1))]


def calibrate(calib: dict[str, Any], score: float, field_acc: float) -> float:
    z = float(np.dot(calib["coef"], _calib_x(score, field_acc)) + calib["intercept"])
    return round(1 / (1 + math.exp(-z)), 3)


def exact_match(pick: Span | None, text: str | None, truth: str | None, truth_key: frozenset | None) -> bool:
    if truth is None:
        return pick is None
    if pick is None or text is None:
        return False
    if pick.mark is not None:
        return pick.mark.state.lower() == truth.lower()
    return norm_text(text) == norm_text(truth) or (not truth and pick.key == truth_key)


def truth_key(mf: MatchedField) -> frozenset:
    if mf.mark is not None:
        return frozenset({("m", mf.mark.page, mf.mark.index)})
    return words_key(mf.words)


def _truth(doc: TrainDoc, name: str) -> tuple[str | None, frozenset | None]:
    mf = doc.fields.get(name)
    if mf is None:
        return None, None
    return mf.text, words_key(mf.words)


def train(docs: list[TrainDoc], field_types: dict[str, str], model_name: str = "") -> tuple[dict[str, Any],
                                                                                            TrainReport]:
    """Fit on all docs; returns (model as plain data, leave-one-out report)."""
    n = len(docs)
    use_values = n >= MIN_DOCS_FOR_CV
    rows: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    per_doc: list[dict[str, tuple[list[Span], np.ndarray]]] = []
    stats_for: list[dict[str, dict[str, Any]]] = []
    field_names: set[str] = set()
    examples = [doc_examples(d) for d in docs]
    for i, d in enumerate(docs):
        others = [x for j, x in enumerate(examples) if j != i] if n >= MIN_DOCS_FOR_CV else examples
        stats = stats_from_examples(others, field_types)
        stats_for.append(stats)
        field_names |= set(stats)
        sims = new_sim_cache()
        doc_cands: dict[str, tuple[list[Span], np.ndarray]] = {}
        for name, fs in stats.items():
            spans, X = field_candidates(fs, d.pages, sims, use_values)
            truth = d.fields.get(name)
            key = None if truth is None else truth_key(truth)
            y = np.array([1 if s.key == key else 0 for s in spans], dtype=int)
            doc_cands[name] = (spans, X)
            rows.append(X)
            labels.append(y)
        per_doc.append(doc_cands)
    X_all = np.vstack(rows) if rows else np.zeros((0, len(FEATURES)))
    y_all = np.concatenate(labels) if labels else np.zeros(0, dtype=int)
    offsets = np.cumsum([0] + [sum(len(X) for _, X in dc.values()) for dc in per_doc])
    report = TrainReport()
    if n >= MIN_DOCS_FOR_CV:
        for i, doc_cands in enumerate(per_doc):
            mask = np.ones(len(X_all), dtype=bool)
            mask[offsets[i]:offsets[i + 1]] = False
            scorer = _fit_scorer(X_all[mask], y_all[mask])
            scored = {name: (spans, score_rows(scorer, X)) for name, (spans, X) in doc_cands.items()}
            picks = decode(scored, 0.0, stats_for[i])
            for name in sorted(field_names):
                pick = picks.get(name)
                truth, tkey = _truth(docs[i], name)
                span = pick.span if pick else None
                text = pick.text if pick else None
                right = exact_match(span, text, truth, tkey)
                report.loo.append({"doc": docs[i].name, "field": name, "score": pick.score if pick else 0.0,
                                   "predicted": text, "truth": truth, "correct_if_kept": right,
                                   "located": right or (span is not None and span.key == tkey),
                                   "present": truth is not None})
    threshold = _choose_threshold(report.loo)
    for r in report.loo:
        kept = r["score"] >= threshold and r["predicted"] is not None
        r["correct"] = r["correct_if_kept"] if kept else not r["present"]
        r["kept"] = kept
    for name in sorted(field_names):
        rs = [r for r in report.loo if r["field"] == name]
        report.field_accuracy[name] = round(sum(r["correct"] for r in rs) / len(rs), 3) if rs else 0.0
    calib_points = [(_calib_x(r["score"], report.field_accuracy[r["field"]]), bool(r["correct"]))
                    for r in report.loo if r["kept"]]
    model = {
        "format": "formloop-custom-model", "version": FORMAT_VERSION, "kind": "labeled",
        "modelName": model_name,
        "features": list(FEATURES), "fields": stats_from_examples(examples, field_types),
        "field_types": {k: field_types.get(k, "string") for k in sorted(field_names)},
        "scorer": _fit_scorer(X_all, y_all), "threshold": threshold,
        "calibration": _platt(calib_points), "field_accuracy": report.field_accuracy,
        "use_values": use_values,
        "regions": train_regions(docs, field_types),
        "printed": {str(n): printed_words([p for d in docs if (p := d.ocr.page(n)) is not None])
                    for n in sorted({p.number for d in docs for p in d.ocr.pages})},
    }
    return model, report


def _choose_threshold(loo: list[dict[str, Any]]) -> float:
    """The "not on this form" cut-off that maximises leave-one-out answers in the right place (ties ->
    lowest). A pick on the labeled words counts even when OCR misread them (a region label typed over
    handwriting): whether a value is there is a question of place, and counting misreads as wrong would
    teach the model to call every hard-to-read field absent."""
    if not loo:
        return 0.02
    best = (-1, 0.02)
    for t in [0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]:
        ok = 0
        for r in loo:
            kept = r["score"] >= t and r["predicted"] is not None
            ok += r.get("located", r["correct_if_kept"]) if kept else not r["present"]
        if ok > best[0]:
            best = (ok, t)
    return max(best[1], 0.01)


def analyze_pages(model: dict[str, Any], pages: dict[int, PageIndex],
                  printed: dict[int, dict[str, list[tuple[float, float]]]] | None = None) -> dict[str, Pick]:
    """Pick every field of the model in one document and attach a calibrated confidence."""
    sims = new_sim_cache()
    cands: dict[str, tuple[list[Span], np.ndarray]] = {}
    # A model saved before features were added scores the columns it was trained on.
    cols = [FEATURES.index(f) for f in model.get("features", FEATURES) if f in FEATURES]
    for name, fs in model["fields"].items():
        spans, X = field_candidates(fs, pages, sims, model.get("use_values", True))
        cands[name] = (spans, score_rows(model["scorer"], X[:, cols]))
    picks = decode(cands, model["threshold"], model["fields"])
    printed = printed_lookup(model) if printed is None else printed
    for name, pick in picks.items():
        fs = model["fields"].get(name)
        pi = pages.get(pick.span.page) if pick.span is not None else None
        if pick.span is None or not fs or pi is None:
            continue
        pred = predict_box(fs, pi)[0]
        trimmed = trim_template_ends(fs, pick.span, pi, pred, printed.get(pi.page.number, {}))
        if trimmed is None:  # nothing but the form's print: no value
            picks[name] = Pick(name, None, pick.score)
        elif trimmed is not pick.span:
            pick.span, pick.text = trimmed, fix_text(fs, trimmed.text)
    for name, pick in picks.items():
        acc = model["field_accuracy"].get(name, 0.5)
        pick.confidence = calibrate(model["calibration"], pick.score, acc) if pick.span is not None else 0.0
    for name in model.get("field_types", {}):
        picks.setdefault(name, Pick(name, None, 0.0))
    return picks
