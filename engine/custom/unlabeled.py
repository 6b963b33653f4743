"""Training without labels: group forms by layout and learn the printed keys of each group.

A form's layout fingerprint is the set of its line texts that look like keys (a line's words up to one
ending in ':') plus its short lines; forms sharing most of them are one cluster. On analysis the value of
a key is the rest of its line, or the line right below when the key ends its line.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.custom.ocr_file import OcrDocument, Word
from engine.custom.scoring.model import FORMAT_VERSION
from engine.custom.scoring.spans import index_document, norm_text

JOIN_SIMILARITY = 0.5


def _split_key(line: list[Word]) -> tuple[list[Word], list[Word]] | None:
    for i, w in enumerate(line[:6]):
        if w.text.endswith(":"):
            return line[: i + 1], line[i + 1:]
    return None


def key_texts(ocr: OcrDocument) -> dict[str, str]:
    """{normalised key text: key text as printed} of every line that starts with a key."""
    out: dict[str, str] = {}
    for p in ocr.pages:
        for line in p.lines:
            kv = _split_key(line) if line else None
            if kv is not None:
                text = " ".join(w.text for w in kv[0])
                out.setdefault(norm_text(text), text)
    return out


def fingerprint(ocr: OcrDocument) -> set[str]:
    return set(key_texts(ocr))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def train_unlabeled(docs: list[tuple[str, OcrDocument]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns (params, keys) where keys is the protocol's {"clusters": {"0": [key texts]}}."""
    clusters: list[dict[str, Any]] = []
    printed: dict[str, str] = {}
    for _name, ocr in docs:
        keys_of_doc = key_texts(ocr)
        for k, v in keys_of_doc.items():
            printed.setdefault(k, v)
        fp = set(keys_of_doc)
        best = max(clusters, key=lambda c: _jaccard(fp, c["seed"]), default=None)
        if best is not None and _jaccard(fp, best["seed"]) >= JOIN_SIMILARITY:
            best["members"].append(fp)
        else:
            clusters.append({"seed": fp, "members": [fp]})
    params_clusters: dict[str, Any] = {}
    keys: dict[str, list[str]] = {}
    for i, c in enumerate(clusters):
        counts = Counter(k for fp in c["members"] for k in fp)
        need = max(1, (len(c["members"]) + 1) // 2)
        common = sorted(k for k, n in counts.items() if n >= need)
        params_clusters[str(i)] = {"fingerprint": common, "keys": common}
        keys[str(i)] = [printed[k] for k in common]
    params = {"format": "formloop-custom-model", "version": FORMAT_VERSION, "kind": "unlabeled",
              "clusters": params_clusters}
    return params, {"clusters": keys}


def _poly(words: list[Word]) -> list[float]:
    xs = [v for w in words for v in w.polygon[0::2]]
    ys = [v for w in words for v in w.polygon[1::2]]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def analyze_unlabeled(params: dict[str, Any], ocr: OcrDocument, include_text: bool) -> list[dict[str, Any]]:
    """pageResults entries with keyValuePairs and clusterId, one per page, aligned with readResults."""
    fp = fingerprint(ocr)
    best_id, best_sim = None, 0.0
    for cid, c in params["clusters"].items():
        sim = _jaccard(fp, set(c["fingerprint"]))
        if sim > best_sim:
            best_id, best_sim = cid, sim
    pages = index_document(ocr)
    out = []
    for p in ocr.pages:
        pi = pages[p.number]
        known = set(params["clusters"][best_id]["keys"]) if best_id is not None else set()
        pairs = []
        for li, line in enumerate(pi.lines):
            kv = _split_key(line)
            if kv is None:
                continue
            key_words, value_words = kv
            key_text = " ".join(w.text for w in key_words)
            if known and norm_text(key_text) not in known:
                continue
            if not value_words and li in pi.next_line:
                below = pi.lines[pi.next_line[li]]
                if _split_key(below) is None:
                    value_words = below

            def element(words: list[Word]) -> dict[str, Any]:
                if not words:
                    return {"text": "", "boundingBox": None, "elements": None}
                return {"text": " ".join(w.text for w in words), "boundingBox": _poly(words),
                        "elements": [w.ref for w in words] if include_text else None}

            pairs.append({"key": element(key_words), "value": element(value_words),
                          "confidence": round(0.6 + 0.4 * best_sim, 3)})
        entry: dict[str, Any] = {"page": p.number, "keyValuePairs": pairs, "tables": []}
        if best_id is not None:
            entry["clusterId"] = int(best_id)
        out.append(entry)
    return out
