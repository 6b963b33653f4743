"""Where each field's value is written, as a place on the page rather than as OCR words (issue 19 item 8).

A hand-written "0" in a narrow box, or a name in loose script, is often no word at all to Tesseract: the
scorer has nothing to pick and the field comes back empty although the value is plainly there. The labels
still say where it was written (a drawn region, or the labeled words' box), so the model keeps that place
relative to the printed words around it, and analysis reads the place itself when no word was found
(`engine.custom.scoring.region_read`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from engine.custom.scoring.features import TrainDoc, predict_box, rank_anchors
from engine.custom.scoring.spans import PageIndex

Box = tuple[float, float, float, float]


def _box_of(doc: TrainDoc, name: str) -> tuple[int, Box] | None:
    mf = doc.fields[name]
    if mf.mark is not None:
        return None
    if mf.region is not None:
        return mf.region
    if not mf.words:
        return None
    boxes = [w.box for w in mf.words]
    return mf.page, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                     max(b[2] for b in boxes), max(b[3] for b in boxes))


def train_regions(docs: list[TrainDoc], field_types: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per text field: its page, the anchors its box keeps to, the mean box, the characters its values use."""
    examples: dict[str, list[dict[str, Any]]] = {}
    chars: dict[str, set[str]] = {}
    for doc in docs:
        for name, mf in doc.fields.items():
            if field_types.get(name) == "selectionMark":
                continue
            got = _box_of(doc, name)
            pi = doc.pages.get(got[0]) if got else None
            if got is None or pi is None:
                continue
            examples.setdefault(name, []).append({"page": got[0], "box": list(got[1]), "anchors": pi.anchors,
                                                  "drawn": mf.region is not None})
            chars.setdefault(name, set()).update(mf.text)
    out: dict[str, dict[str, Any]] = {}
    for name, exs in sorted(examples.items()):
        page = Counter(e["page"] for e in exs).most_common(1)[0][0]
        on_page = [e for e in exs if e["page"] == page]
        widths = [e["box"][2] - e["box"][0] for e in on_page]
        out[name] = {"page": page, "anchors": rank_anchors(on_page, page),
                     "abs_box": np.mean([e["box"] for e in on_page], axis=0).round(5).tolist(),
                     # the longest value reached this much further right than the mean box
                     "wider": round(max(widths) - float(np.mean(widths)), 5),
                     "chars": "".join(sorted(chars.get(name, set()) - {" "})),
                     "n": len(exs),  # values seen, drawn regions over handwriting OCR missed included
                     # labeled as drawn regions, mostly: a cell that holds the value and nothing else of it
                     "drawn": sum(e["drawn"] for e in exs) * 2 > len(exs)}
    return out


def predicted_box(stats: dict[str, Any], pi: PageIndex) -> Box:
    """The field's place on this page (normalised left, top, right, bottom): the mean box, as far right as
    the longest training value reached, padded by a third of a line."""
    med, _best = predict_box(stats, pi)
    left, right, top, bottom = (float(v) for v in med)
    pad = pi.h / 3
    return left - pad, top - pad, right + stats.get("wider", 0.0) + pad, bottom + pad
