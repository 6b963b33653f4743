"""Mixed capture (issue 19 item 9): one form type trained on a mix of fillable PDFs, scans and phone photos,
then read in each capture; with and without registering pages to a reference page, side by side.

Run: `.venv/bin/python bench/bench_capture.py [--layouts registration,invoice] [--test N]`. Forms come from
`formgen` (the same values in every kind for a given index): training takes forms 1-2 as PDF (fillable where
the layout has fields), 3-4 as scans and 5-6 as photos (perspective, uneven light, blur); testing takes forms
7.. in every kind. "without" runs the very same code with registration switched off (both training and
analysis), in the same process on the same readings. Exact match after whitespace/case folding.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import engine.custom.results as results_mod  # noqa: E402
import engine.custom.training as training_mod  # noqa: E402
from engine.custom.results import build_result  # noqa: E402
from engine.custom.source import DirSource  # noqa: E402
from engine.custom.training import run_training  # noqa: E402
from engine.layout.analyze import analyze_layout  # noqa: E402
from formgen import generate  # noqa: E402

OUT = ROOT / "bench" / "out" / "capture"
FILLABLE = {"registration", "applicant", "tax_form"}  # layouts formgen can write as fillable PDFs


def _fold(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def _forms(layout: str, kind: str, start: int, count: int, seed: int) -> list[Any]:
    return generate(layout, count, OUT / layout / kind, seed=seed, kind=kind, start_index=start)


def _train_folder(layout: str, seed: int) -> Path:
    folder = OUT / layout / "train"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pdf_kind = "fillable" if layout in FILLABLE else "pdf"
    picks = [(pdf_kind, 1), ("scan", 3), ("photo", 5)]
    for kind, start in picks:
        for f in _forms(layout, kind, start, 2, seed):
            shutil.copy(f.path, folder / f.path.name)
            shutil.copy(f.labels_path, folder / f.labels_path.name)
    fields = next((OUT / layout / pdf_kind).glob("fields.json"))
    shutil.copy(fields, folder / "fields.json")
    return folder


def _off(*_args: Any, **_kw: Any) -> int:
    return 0


def run(layout: str, n_test: int, seed: int) -> list[dict[str, Any]]:
    folder = _train_folder(layout, seed)
    pdf_kind = "fillable" if layout in FILLABLE else "pdf"
    tests = {kind: _forms(layout, kind, 7, n_test, seed) for kind in (pdf_kind, "scan", "photo")}
    readings = {f.path: analyze_layout(f.path.read_bytes(), None) for fs in tests.values() for f in fs}
    rows = []
    for mode in ("without", "with"):
        saved = (training_mod.register_document, results_mod.register_document)
        if mode == "without":
            training_mod.register_document = results_mod.register_document = _off
        try:
            outcome = run_training(DirSource(folder), "", False, True, lambda b: analyze_layout(b, None))
            assert outcome.status == "ready", outcome.train_result
            for kind, forms in tests.items():
                right = total = 0
                for f in forms:
                    reading = json.loads(json.dumps(readings[f.path]))  # a fresh copy per analysis
                    got = build_result("m", {}, outcome.params, reading, False)
                    fields = got["documentResults"][0]["fields"]
                    for name, truth in f.values.items():
                        found = fields.get(name) or {}
                        text = found.get("valueSelectionMark") or found.get("text") or ""
                        total += 1
                        right += _fold(text) == _fold(truth)
                rows.append({"layout": layout, "kind": kind, "mode": mode, "right": right, "total": total})
        finally:
            training_mod.register_document, results_mod.register_document = saved
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", default="registration,invoice")
    ap.add_argument("--test", type=int, default=3, help="test forms per kind")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    started = time.perf_counter()
    print(f"# Mixed capture: trained on 2 PDF + 2 scans + 2 photos, {date.today()}\n")
    print("| layout | test capture | fields right without registration | with |")
    print("|---|---|---|---|")
    for layout in args.layouts.split(","):
        rows = run(layout, args.test, args.seed)
        for kind in dict.fromkeys(r["kind"] for r in rows):
            a = next(r for r in rows if r["kind"] == kind and r["mode"] == "without")
            b = next(r for r in rows if r["kind"] == kind and r["mode"] == "with")
            print(f"| {layout} | {kind} | {a['right'] / a['total']:.1%} ({a['right']}/{a['total']}) | "
                  f"{b['right'] / b['total']:.1%} ({b['right']}/{b['total']}) |", flush=True)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
