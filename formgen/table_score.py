"""How well a Layout result's `pageResults[].tables` match a generated form's table truth (`.tables.json`).

Each truth table is paired with the result's table on the same page whose box overlaps it most
(IoU >= 0.5, boxes normalised by the page size). A truth cell agrees when the paired table has a cell
at the same rowIndex and columnIndex whose text is the same after normalisation: NFKC, and no
whitespace at all (how OCR splits a cell's characters into words is not table structure; `strict`
keeps single spaces). Shared by tests/engine/test_tables*.py and bench/bench_tables.py.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIN_IOU = 0.5


def norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def strict(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _rect(quad: list[float], width: float = 1.0, height: float = 1.0) -> tuple[float, float, float, float]:
    xs, ys = quad[0::2], quad[1::2]
    return min(xs) / width, min(ys) / height, max(xs) / width, max(ys) / height


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


@dataclass
class TableScore:
    tables: int = 0
    found: int = 0  # truth tables paired with a result table
    shape: int = 0  # ... whose rows and columns are the truth's
    cells: int = 0
    text: int = 0  # truth cells with the same indices and normalised text
    text_strict: int = 0
    spans: int = 0  # truth cells with the same indices and spans
    header: int = 0  # truth cells with the same indices and isHeader
    header_cells: int = 0  # truth cells of header rows ...
    header_text: int = 0  # ... whose text agrees
    spurious: int = 0  # result tables paired with no truth table
    misses: list[str] = field(default_factory=list)

    def add(self, other: TableScore) -> None:
        for name in ("tables", "found", "shape", "cells", "text", "text_strict", "spans", "header",
                     "header_cells", "header_text", "spurious"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses += other.misses


def load_truth(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def score(result: dict[str, Any], truth: dict[str, Any]) -> TableScore:
    """`result`: an analyzeResult; `truth`: a `.tables.json` document."""
    out = TableScore()
    pages = {rr["page"]: (rr, pr)
             for rr, pr in zip(result["readResults"], result["pageResults"], strict=True)}
    paired: set[tuple[int, int]] = set()
    for t in truth["tables"]:
        out.tables += 1
        out.cells += len(t["cells"])
        rr, pr = pages[t["page"]]
        box = _rect(t["boundingBox"])
        overlaps = [(iou(box, _rect(p["boundingBox"], rr["width"], rr["height"])), k)
                    for k, p in enumerate(pr["tables"]) if (t["page"], k) not in paired]
        best, k = max(overlaps, default=(0.0, -1))
        if best < MIN_IOU:
            out.misses.append(f"{truth['document']} p{t['page']}: {t['rows']}x{t['columns']} table not found")
            continue
        paired.add((t["page"], k))
        found = pr["tables"][k]
        out.found += 1
        out.shape += found["rows"] == t["rows"] and found["columns"] == t["columns"]
        cells = {(c["rowIndex"], c["columnIndex"]): c for c in found["cells"]}
        for c in t["cells"]:
            out.header_cells += c["isHeader"]
            got = cells.get((c["rowIndex"], c["columnIndex"]))
            if got is None:
                out.misses.append(f"{truth['document']} ({c['rowIndex']},{c['columnIndex']}) {c['text']!r}: "
                                  "no cell")
                continue
            same = norm(got["text"]) == norm(c["text"])
            out.text += same
            out.header_text += same and c["isHeader"]
            out.text_strict += strict(got["text"]) == strict(c["text"])
            out.spans += (got.get("rowSpan", 1), got.get("columnSpan", 1)) == (c["rowSpan"], c["columnSpan"])
            out.header += bool(got.get("isHeader")) == c["isHeader"]
            if not same:
                out.misses.append(f"{truth['document']} ({c['rowIndex']},{c['columnIndex']}) {c['text']!r} "
                                  f"-> {got['text']!r}")
    out.spurious = sum(len(pr["tables"]) for _rr, pr in pages.values()) - len(paired)
    return out
