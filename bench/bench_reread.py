"""Issue 19 items 5 and 7, before -> after in one run: the field-region re-read on typed scans and
hand-printed values, and comb fields labeled per cell.

Run: `.venv/bin/python bench/bench_reread.py [--before COMMIT] [--after COMMIT]`. Each engine version's
custom-model code runs in a subprocess from a `git archive` of that commit (default: before = b762b68, the
commit before these changes; after = HEAD); the pages' Layout readings are made once, by the working tree,
and shared, so only the custom-model code differs. Measured:
- purchase orders (5 real typed scans, cloud `.ocr.json` for training, the engine's reading for analysis,
  unsure values re-read): the training forms (trained on Form_1-3, analyzing them: x/45; on all five: x/75)
  and leave-one-out (x/75), without and with the re-read;
- hand-printed purchase orders (formgen --hand, scans; 8 train / 6 test, seed 3, as bench_real.py);
- irs-1040 fillable PDFs leave-one-out (the row merging is shared by every model);
- comb fields labeled per cell (tests/engine/custom/test_comb_cells.py's forms, 5 train / 5 test, the
  reader's lines per comb row, group or cell);
- cost: Layout of a purchase order vs Layout + model + re-read.
Exact match after whitespace/case folding (comb digits compared without spaces).
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "reread"
PO = ROOT / "tests" / "data" / "purchase-orders"
IRS = ROOT / "tests" / "data" / "irs-1040"


def _same(a: str | None, b: str | None) -> bool:
    if not b:
        return a is None
    if a is None:
        return False
    a, b = " ".join(a.split()).lower(), " ".join(b.split()).lower()
    return a == b or a.replace(" ", "") == b.replace(" ", "")


def measure(shared: dict[str, Any]) -> dict[str, Any]:
    """Runs inside the subprocess, with one engine version first on sys.path."""
    from engine.custom.labels import parse_fields, parse_labels
    from engine.custom.matching import match_labels
    from engine.custom.ocr_file import parse_ocr
    from engine.custom.reread import reread_unsure_fields
    from engine.custom.scoring.features import TrainDoc
    from engine.custom.scoring.model import analyze_pages, train
    from engine.custom.scoring.spans import index_document
    from engine.layout.analyze import page_image

    def truth_of(labels: Any) -> dict[str, str]:
        return {lab.name: " ".join(lab.text.split()) for lab in labels.labels if lab.regions}

    def count(model: dict, ocr_json: dict, data: bytes | None, truth: dict[str, str], fields: list[str],
              again: bool) -> tuple[int, float]:
        t0 = time.perf_counter()
        picks = analyze_pages(model, index_document(parse_ocr(ocr_json)))
        if again and data is not None:
            reread_unsure_fields(picks, model["fields"], lambda n: page_image(data, None, n))
        took = time.perf_counter() - t0
        ok = sum(_same(None if (p := picks.get(f)) is None or p.span is None else p.text, truth.get(f))
                 for f in fields)
        return ok, took

    out: dict[str, Any] = {}
    # purchase orders
    ft = parse_fields(json.loads((PO / "fields.json").read_text()))
    names = sorted(shared["po"])
    labels = {n: parse_labels(json.loads((PO / f"{n}.labels.json").read_text())) for n in names}
    given = {n: parse_ocr(json.loads((PO / f"{n}.ocr.json").read_text())) for n in names}

    def td(n: str) -> Any:
        return TrainDoc.build(n, given[n], match_labels(labels[n], given[n], ft)[0])

    runs = {"train Form_1-3, analyze them": (names[:3], names[:3]),
            "train all 5, analyze them": (names, names)}
    runs.update({f"loo {n}": ([m for m in names if m != n], [n]) for n in names})
    extra = 0.0
    for key, (trn, tst) in runs.items():
        model, _ = train([td(n) for n in trn], ft)
        for again in (False, True):
            ok = total = 0
            for n in tst:
                data = (PO / n).read_bytes()
                got, took = count(model, shared["po"][n], data, truth_of(labels[n]), list(ft), again)
                ok, total = ok + got, total + len(ft)
                if again and key.startswith("loo"):
                    extra += took
            name = "LOO" if key.startswith("loo") else key
            prev = out.get((name, again), (0, 0)) if key.startswith("loo") else (0, 0)
            out[(name, again)] = (prev[0] + ok, prev[1] + total)
    out["po model+reread s/page"] = extra / len(names)
    # hand-printed purchase orders
    hand = shared["hand"]
    hft = parse_fields(hand["fields"])
    docs = []
    for ocr_json, lab in hand["train"]:
        ocr = parse_ocr(ocr_json)
        docs.append(TrainDoc.build(lab["document"], ocr, match_labels(parse_labels(lab), ocr, hft)[0]))
    model, _ = train(docs, hft)
    for again in (False, True):
        ok = total = 0
        for (ocr_json, lab), path in zip(hand["test"], hand["test_paths"], strict=True):
            truth = truth_of(parse_labels(lab))
            got, _ = count(model, ocr_json, Path(path).read_bytes(), truth, list(hft), again)
            ok, total = ok + got, total + len(hft)
        out[("hand-printed", again)] = (ok, total)
    # irs-1040 leave-one-out (no re-read: text from form fields)
    ift = parse_fields(json.loads((IRS / "fields.json").read_text()))
    inames = sorted(shared["irs"])
    ilabels = {n: parse_labels(json.loads((IRS / f"{n}.labels.json").read_text())) for n in inames}
    iocr = {n: parse_ocr(shared["irs"][n]) for n in inames}
    ok = total = 0
    for n in inames:
        tds = [TrainDoc.build(m, iocr[m], match_labels(ilabels[m], iocr[m], ift)[0])
               for m in inames if m != n]
        model, _ = train(tds, ift)
        got, _ = count(model, shared["irs"][n], None, truth_of(ilabels[n]), list(ift), False)
        ok, total = ok + got, total + len(ift)
    out[("irs-1040 LOO", False)] = (ok, total)
    # comb fields labeled per cell
    for mode, forms in shared["comb"].items():
        docs = []
        for i, (ocr_json, lab) in enumerate(forms[:5]):
            ocr = parse_ocr(ocr_json)
            docs.append(TrainDoc.build(f"f{i}", ocr, match_labels(parse_labels(lab), ocr, {})[0]))
        model, _ = train(docs, {})
        ok = total = 0
        for ocr_json, lab in forms[5:]:
            truth = truth_of(parse_labels(lab))
            got, _ = count(model, ocr_json, None, truth, sorted(truth), False)
            ok, total = ok + got, total + len(truth)
        out[(f"comb per cell, lines per {mode}", False)] = (ok, total)
    return out


def _archive(commit: str) -> Path:
    dest = OUT / f"engine-{commit}"
    if not (dest / "engine").exists():
        data = subprocess.run(["git", "archive", commit, "engine"], cwd=ROOT, check=True,
                              capture_output=True).stdout
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")
    return dest


def _shared() -> dict[str, Any]:
    """Layout readings (working tree) of every page measured, cached by file name."""
    cache = OUT / "shared.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    sys.path.insert(0, str(ROOT))
    from engine.layout.analyze import analyze_layout
    from formgen import generate
    from tests.engine.custom.test_comb_cells import comb_form

    shared: dict[str, Any] = {"po": {}, "po_layout_s": {}}
    for p in sorted(PO.glob("Form_*.jpg")):
        t0 = time.perf_counter()
        shared["po"][p.name] = analyze_layout(p.read_bytes(), None)
        shared["po_layout_s"][p.name] = time.perf_counter() - t0
    shared["irs"] = {p.name: analyze_layout(p.read_bytes(), "application/pdf")
                     for p in sorted(IRS.glob("*.pdf"))}
    hand = OUT / "hand"
    tr = generate("purchase_order", 8, hand / "train", seed=3, kind="scan", hand=True)
    te = generate("purchase_order", 6, hand / "test", seed=3, kind="scan", hand=True, start_index=101)

    def read(forms: list[Any]) -> list[tuple[dict, dict]]:
        return [(analyze_layout(f.path.read_bytes(), None), json.loads(f.labels_path.read_text()))
                for f in forms]

    shared["hand"] = {"fields": json.loads((hand / "train" / "fields.json").read_text()), "train": read(tr),
                      "test": read(te), "test_paths": [str(f.path) for f in te]}
    shared["comb"] = {mode: [comb_form(seed, mode) for seed in range(10)]
                      for mode in ("row", "group", "cell")}
    cache.write_bytes(pickle.dumps(shared))
    return shared


def _child(root: str, shared_path: str) -> None:
    sys.path.insert(0, root)
    shared = pickle.loads(Path(shared_path).read_bytes())
    res = measure(shared)
    print(json.dumps([[list(k) if isinstance(k, tuple) else k, v] for k, v in res.items()]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="b762b68")
    ap.add_argument("--after", default="HEAD")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    shared = _shared()
    results = {}
    for which, commit in (("before", args.before), ("after", args.after)):
        root = _archive(subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, check=True,
                                       capture_output=True, text=True).stdout.strip())
        proc = subprocess.run([sys.executable, __file__, "--child", str(root), str(OUT / "shared.pkl")],
                              check=True, capture_output=True, text=True)
        results[which] = {(tuple(k) if isinstance(k, list) else k): v
                          for k, v in json.loads(proc.stdout.splitlines()[-1])}
    sys.path.insert(0, str(ROOT / "bench"))
    from machine_info import machine

    print(f"# Re-read and comb cells: {args.before} -> {args.after}\n\n{machine()}\n")
    print("| measure | re-read | before | after |\n|---|---|---|---|")
    for key in results["before"]:
        if isinstance(key, tuple):
            b, a = results["before"][key], results["after"].get(key, (0, 0))
            print(f"| {key[0]} | {'yes' if key[1] else 'no'} | {b[0] / b[1]:.1%} ({b[0]}/{b[1]}) | "
                  f"{a[0] / a[1]:.1%} ({a[0]}/{a[1]}) |")
    layout = sum(shared["po_layout_s"].values()) / len(shared["po_layout_s"])
    for which in ("before", "after"):
        extra = results[which]["po model+reread s/page"]
        print(f"\n{which}: purchase order Layout {layout:.2f} s/page, model + re-read {extra:.2f} s/page "
              f"({(layout + extra) / layout:.2f}x Layout)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
