"""Accuracy, calibration and speed of the custom-model learner, side by side with a position-only baseline.

Run: `.venv/bin/python bench/bench_accuracy.py [--quick]`. OCR of generated scans is cached under
`bench/out/custom-cache/` (the engine's own Layout, i.e. Tesseract), keyed by a hash of the engine's OCR
code and Tesseract version, so a second run takes seconds and a changed OCR path is re-read.

Measured:
1. exact-match leave-one-out on the 5 real purchase orders, with the cloud's `.ocr.json` and with the
   engine's own OCR;
2. learning curve (1/3/5/10 training forms) on generated scanned-looking layouts, tested on unseen forms;
3. calibration of the reported confidence on those test forms;
4. speed: training on 10 one-page forms with OCR present, analyze per page beyond OCR.
The baseline predicts each field as the words inside the field's mean labeled box (absolute page position,
no anchors, no learned scorer): what a fixed-template extractor does.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ENGINE_LAYOUT_CACHE_ENTRIES", "0")  # time every read, not the cache

from engine.custom.labels import parse_fields, parse_labels  # noqa: E402
from engine.custom.matching import match_labels  # noqa: E402
from engine.custom.ocr_file import OcrDocument, parse_ocr  # noqa: E402
from engine.custom.results import build_result  # noqa: E402
from engine.custom.scoring.features import TrainDoc  # noqa: E402
from engine.custom.scoring.model import analyze_pages, train  # noqa: E402
from engine.custom.scoring.spans import norm_text  # noqa: E402

CACHE = ROOT / "bench" / "out" / "custom-cache"
PO_DIR = ROOT / "tests" / "data" / "purchase-orders"
LAYOUTS = ("invoice", "purchase_order", "registration")


# Source files whose code decides what the engine's Layout reads from an image.
OCR_SOURCES = ("engine/layout/*.py", "engine/scan/*.py", "engine/page/*.py", "engine/ocr/*.py")


@functools.cache
def ocr_fingerprint() -> str:
    """Hash of the OCR code and the Tesseract build: a cached result from older code is never reused
    (it once was, and the bench reported errors the current engine no longer makes)."""
    h = hashlib.sha256()
    for pattern in OCR_SOURCES:
        for f in sorted(ROOT.glob(pattern)):
            h.update(f.read_bytes())
    try:  # the library the engine runs and the language data it can load (e.g. whether Latin is there)
        import tesserocr

        from engine.ocr.tessdata import tessdata_dir

        h.update(str(tesserocr.tesseract_version()).encode())
        folder = Path(tessdata_dir() or ".")
        for model in sorted(folder.rglob("*.traineddata")):
            h.update(f"{model.relative_to(folder)}:{model.stat().st_size}".encode())
    except Exception:  # no Tesseract: analyze_layout will say so itself
        pass
    return h.hexdigest()[:12]


def own_ocr(path: Path) -> dict[str, Any]:
    """The engine's Layout result for a file, cached by name, size and OCR fingerprint."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = CACHE / f"{path.parent.name}__{path.name}.{path.stat().st_size}.{ocr_fingerprint()}.ocr.json"
    if key.exists():
        return json.loads(key.read_text())
    from engine.layout.analyze import analyze_layout
    from engine.layout.documents import validate_document

    data = path.read_bytes()
    info = validate_document(data, None)
    result = analyze_layout(data, info.content_type)
    key.write_text(json.dumps(result))
    return result


def load_doc(doc: Path, ocr: dict[str, Any], field_types: dict[str, str]) -> tuple[TrainDoc, dict[str, str]]:
    """(training doc, truth {field: label text}) for one labeled document."""
    labels = parse_labels(json.loads(Path(str(doc) + ".labels.json").read_text()))
    parsed: OcrDocument = parse_ocr(ocr)
    matched, _problems = match_labels(labels, parsed, field_types)
    truth = {lab.name: " ".join(lab.text.split()) for lab in labels.labels if lab.regions}
    return TrainDoc.build(doc.name, parsed, matched), truth


def _correct(pred: str | None, truth: str | None) -> bool:
    if not truth:
        return pred is None
    return pred is not None and norm_text(pred) == norm_text(truth)


def _picked_text(pick: Any) -> str | None:
    if pick is None or pick.span is None:
        return None
    return pick.text


def baseline_predict(train_docs: list[TrainDoc], doc: TrainDoc) -> dict[str, str | None]:
    """Words whose centre lies in the field's mean training box (absolute coordinates)."""
    boxes: dict[str, list[tuple[int, tuple[float, ...]]]] = {}
    for d in train_docs:
        for name, mf in d.fields.items():
            items = [mf.mark.box] if mf.mark else [w.box for w in mf.words]
            if items:
                box = (min(b[0] for b in items), min(b[1] for b in items), max(b[2] for b in items),
                       max(b[3] for b in items))
                boxes.setdefault(name, []).append((mf.page, box))
    out: dict[str, str | None] = {}
    for name, bs in boxes.items():
        page = bs[0][0]
        mean = [statistics.mean(b[i] for _, b in bs) for i in range(4)]
        p = doc.ocr.page(page)
        if p is None:
            out[name] = None
            continue
        marks = [m for m in p.marks if mean[0] <= (m.box[0] + m.box[2]) / 2 <= mean[2]
                 and mean[1] <= (m.box[1] + m.box[3]) / 2 <= mean[3]]
        if marks:
            out[name] = marks[0].state
            continue
        words = [w for w in p.words if mean[0] <= (w.box[0] + w.box[2]) / 2 <= mean[2]
                 and mean[1] <= (w.box[1] + w.box[3]) / 2 <= mean[3]]
        out[name] = " ".join(w.text for w in words) or None
    return out


def loo(docs: list[TrainDoc], truths: list[dict[str, str]],
        field_types: dict[str, str]) -> tuple[float, float]:
    """(ours, baseline) exact-match accuracy, leave one document out, over every field of every doc."""
    ok = ok_base = total = 0
    for i, d in enumerate(docs):
        rest = docs[:i] + docs[i + 1:]
        model, _ = train(rest, field_types)
        picks = analyze_pages(model, d.pages)
        base = baseline_predict(rest, d)
        for name in model["field_types"]:
            truth = truths[i].get(name)
            ok += _correct(_picked_text(picks.get(name)), truth)
            ok_base += _correct(base.get(name), truth)
            total += 1
    return ok / total, ok_base / total


def purchase_orders(own: bool) -> tuple[float, float, int]:
    ft = parse_fields(json.loads((PO_DIR / "fields.json").read_text()))
    docs, truths = [], []
    for i in range(1, 6):
        path = PO_DIR / f"Form_{i}.jpg"
        ocr = own_ocr(path) if own else json.loads(Path(str(path) + ".ocr.json").read_text())
        d, t = load_doc(path, ocr, ft)
        docs.append(d)
        truths.append(t)
    ours, base = loo(docs, truths, ft)
    return ours, base, len(docs)


def synthetic(layout: str, n_train: int, n_test: int) -> tuple[list[tuple[TrainDoc, dict[str, str]]],
                                                                 list[tuple[TrainDoc, dict[str, str]]],
                                                                 dict[str, str]]:
    from formgen.generate import generate

    out = CACHE / "forms" / layout
    if not (out / "fields.json").exists() or len(list(out.glob("*.labels.json"))) < n_train + n_test:
        generate(layout, n_train + n_test, out, seed=7, kind="scan")
    ft = parse_fields(json.loads((out / "fields.json").read_text()))
    docs = []
    for lab in sorted(out.glob("*.labels.json"))[: n_train + n_test]:
        doc = Path(str(lab)[: -len(".labels.json")])
        docs.append(load_doc(doc, own_ocr(doc), ft))
    return docs[:n_train], docs[n_train:], ft


def evaluate(model: dict[str, Any], tests: list[tuple[TrainDoc, dict[str, str]]],
             calib: list[tuple[float, bool]] | None = None) -> float:
    ok = total = 0
    for d, truth in tests:
        picks = analyze_pages(model, d.pages)
        for name in model["field_types"]:
            pick = picks.get(name)
            good = _correct(_picked_text(pick), truth.get(name))
            ok += good
            total += 1
            if calib is not None and pick is not None and pick.span is not None:
                calib.append((pick.confidence, good))
    return ok / max(1, total)


def speed(train_docs: list[TrainDoc], ft: dict[str, str],
          layout_results: list[dict[str, Any]]) -> tuple[float, float]:
    t0 = time.perf_counter()
    model, _ = train(train_docs, ft)
    train_s = time.perf_counter() - t0
    info = {"modelInfo": {"modelId": "bench"}}
    t0 = time.perf_counter()
    pages = 0
    for lr in layout_results:
        build_result("bench", info, model, lr, include_text=False)
        pages += len(lr["readResults"])
    return train_s, (time.perf_counter() - t0) / max(1, pages) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one generated layout, 5 test forms")
    args = ap.parse_args(argv)
    layouts = LAYOUTS[:1] if args.quick else LAYOUTS
    n_test = 5 if args.quick else 10
    print(f"# Custom-model accuracy bench ({date.today()}, {platform.machine()})\n")
    print("| data set | method | exact match (ours) | baseline | ratio |")
    print("|---|---|---|---|---|")
    for own in (False, True):
        ours, base, n = purchase_orders(own)
        label = "engine OCR (Tesseract)" if own else "cloud .ocr.json"
        print(f"| purchase orders ({n}), {label} | leave-one-out | {ours:.1%} | {base:.1%} | "
              f"{ours / max(base, 1e-9):.2f}x |")
    print("\n## Learning curve on generated scanned-looking forms (tested on unseen forms)\n")
    print("| layout | train forms | exact match (ours) | baseline | ratio |")
    print("|---|---|---|---|---|")
    calib: list[tuple[float, bool]] = []
    speed_rows = []
    for layout in layouts:
        train_set, test_set, ft = synthetic(layout, 10, n_test)
        for n in (1, 3, 5, 10):
            model, _ = train([d for d, _ in train_set[:n]], ft)
            acc = evaluate(model, test_set, calib if n >= 5 else None)
            ok = total = 0
            for d, truth in test_set:
                base = baseline_predict([x for x, _ in train_set[:n]], d)
                for name in model["field_types"]:
                    ok += _correct(base.get(name), truth.get(name))
                    total += 1
            b = ok / max(1, total)
            print(f"| {layout} | {n} | {acc:.1%} | {b:.1%} | {acc / max(b, 1e-9):.2f}x |")
        layout_results = [own_ocr(CACHE / "forms" / layout / d.name) for d, _ in test_set]
        speed_rows.append((layout, *speed([d for d, _ in train_set], ft, layout_results)))
    print("\n## Calibration (test forms of models trained on 5 and 10 forms)\n")
    print("| confidence | fields | exactly right |")
    print("|---|---|---|")
    for lo, hi in ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.95), (0.95, 1.01)):
        sel = [g for c, g in calib if lo <= c < hi]
        if sel:
            print(f"| {lo:.2f}-{min(hi, 1):.2f} | {len(sel)} | {sum(sel) / len(sel):.1%} |")
    hi_sel = [g for c, g in calib if c >= 0.9]
    if hi_sel:
        print(f"| **>= 0.90** | {len(hi_sel)} | **{sum(hi_sel) / len(hi_sel):.1%}** |")
    print("\n## Speed (one process; OCR excluded)\n")
    print("| layout | train 10 one-page forms | analyze per page beyond OCR |")
    print("|---|---|---|")
    for layout, train_s, per_page in speed_rows:
        print(f"| {layout} | {train_s:.2f} s | {per_page:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
