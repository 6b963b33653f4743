"""Real documents, the engine before and after form-field reading, side by side.

Run: `.venv/bin/python bench/bench_real.py [--quick]`. Layout results are cached under
`bench/out/real-cache/` by engine code fingerprint and file hash (see `bench/real_data.py`); "before" is the
engine at commit 844fe46 (extracted with `git archive`, run in a subprocess), "after" the working tree.

Per kind of document (fillable PDF, image/glyph check boxes, scan of a digital form, hand-printed values):
1. word recall: share of labeled value words that the Layout has as a word overlapping the label box with
   the same text (whitespace-normalised);
2. check-box agreement: labeled selectionMark state vs the state of the Layout's mark under the box
   (no mark = disagreement);
3. exact match, leave-one-out: train (engine.custom.scoring.model.train) on the others, analyze the
   held-back one, compare each field (a comb field's digits compare without spaces);
4. train on the digital form, analyze its scan, and the reverse.
And for custom-model training (docs/model.md, "Training and analysis see the same reader"): training on
the cloud's `.ocr.json` vs on the engine's own reading, analysis always on the engine's reading.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("ENGINE_LAYOUT_CACHE_ENTRIES", "0")  # time every read, not the cache

from real_data import (  # noqa: E402
    DATA,
    DocSet,
    LabeledDoc,
    fillable_sets,
    formgen_sets,
    handprint_set,
    layout_results,
    scan_set,
)

from engine.custom.labels import parse_labels  # noqa: E402
from engine.custom.matching import match_labels  # noqa: E402
from engine.custom.ocr_file import OcrDocument, parse_ocr  # noqa: E402
from engine.custom.scoring.features import TrainDoc, index_document  # noqa: E402
from engine.custom.scoring.model import analyze_pages, train  # noqa: E402

ENGINES = ("before", "after")
Metric = tuple[int, int]  # (good, total)


def _pct(m: Metric | None) -> str:
    if m is None or m[1] == 0:
        return "n/a"
    return f"{m[0] / m[1]:.1%} ({m[0]}/{m[1]})"


def _ocr(result: dict[str, Any]) -> OcrDocument | None:
    if "error" in result:
        return None
    try:
        return parse_ocr(result)
    except ValueError:
        return None


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _box(poly: list[float]) -> tuple[float, float, float, float]:
    return (min(poly[0::2]), min(poly[1::2]), max(poly[0::2]), max(poly[1::2]))


def _is_mark(label: dict[str, Any], ftype: str | None) -> bool:
    vals = label.get("value") or []
    return ftype == "selectionMark" or (bool(vals) and all(
        str(v.get("text", "")).lower() in ("selected", "unselected") for v in vals))


def word_recall(doc: LabeledDoc, ocr: OcrDocument | None, ft: dict[str, str]) -> Metric:
    good = total = 0
    for lab in doc.labels["labels"]:
        if _is_mark(lab, ft.get(lab["label"])):
            continue
        for v in lab.get("value") or []:
            text = " ".join(str(v.get("text", "")).split())
            if not text:
                continue
            total += 1
            page = ocr.page(int(v.get("page", 1))) if ocr else None
            if page is None:
                continue
            boxes = [_box(b) for b in v.get("boundingBoxes") or []]
            good += any(" ".join(w.text.split()) == text and any(_overlap(w.box, b) > 0 for b in boxes)
                        for w in page.words)
    return good, total


def mark_agreement(doc: LabeledDoc, ocr: OcrDocument | None, ft: dict[str, str]) -> Metric:
    good = total = 0
    for lab in doc.labels["labels"]:
        vals = lab.get("value") or []
        if not vals or not _is_mark(lab, ft.get(lab["label"])):
            continue
        total += 1
        v = vals[0]
        page = ocr.page(int(v.get("page", 1))) if ocr else None
        if page is None:
            continue
        box = _box(v["boundingBoxes"][0])
        area = max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))
        best = max(page.marks, default=None, key=lambda m: _overlap(m.box, box) / min(
            area, max(1e-9, (m.box[2] - m.box[0]) * (m.box[3] - m.box[1]))))
        if best is None:
            continue
        m_area = max(1e-9, (best.box[2] - best.box[0]) * (best.box[3] - best.box[1]))
        if _overlap(best.box, box) / min(area, m_area) > 0.3:
            good += best.state == str(v.get("text", "")).lower()
    return good, total


def _truth(doc: LabeledDoc) -> dict[str, str]:
    lf = parse_labels(doc.labels)
    return {lab.name: " ".join(lab.text.split()) for lab in lf.labels if lab.regions}


def _same(pred: str | None, truth: str | None) -> bool:
    if not truth:
        return pred is None
    if pred is None:
        return False
    a, b = " ".join(pred.split()).lower(), " ".join(truth.split()).lower()
    return a == b or a.replace(" ", "") == b.replace(" ", "")  # comb fields: one word per digit


def _train_doc(doc: LabeledDoc, ocr: OcrDocument | None, ft: dict[str, str]) -> TrainDoc | None:
    if ocr is None:
        return None
    matched, _ = match_labels(parse_labels(doc.labels), ocr, ft)
    return TrainDoc.build(doc.name, ocr, matched) if matched else None


def exact_match(train_docs: list[TrainDoc | None], test: list[tuple[OcrDocument | None, dict[str, str]]],
                ft: dict[str, str], held_out: Callable[[int], list[int]]) -> Metric | None:
    """For each test doc i: train on the train docs `held_out(i)` names, analyze doc i, count fields."""
    good = total = 0
    fields = sorted(ft) or sorted({k for _, t in test for k in t})
    for i, (ocr, truth) in enumerate(test):
        rest = [d for j in held_out(i) if (d := train_docs[j]) is not None]
        total += len(fields)
        if len(rest) < 2 or ocr is None:
            continue
        try:
            model, _ = train(rest, ft)
        except Exception as exc:  # e.g. no field matched anywhere
            print(f"  training failed: {exc}", file=sys.stderr)
            continue
        picks = analyze_pages(model, index_document(ocr))
        for name in fields:
            pick = picks.get(name)
            text = None if pick is None or pick.span is None else pick.text
            good += _same(text, truth.get(name))
    return (good, total) if total else None


def loo(n: int) -> Callable[[int], list[int]]:
    return lambda i: [j for j in range(n) if j != i]


def _sum(ms: list[Metric]) -> Metric:
    return sum(m[0] for m in ms), sum(m[1] for m in ms)


def measure(ds: DocSet, readings: dict[str, dict[Path, dict[str, Any]]]
            ) -> dict[str, dict[str, Metric | None]]:
    out: dict[str, dict[str, Metric | None]] = {}
    for which, results in readings.items():
        ocrs = [_ocr(results[d.path]) for d in ds.docs]
        train_docs = [_train_doc(d, o, ds.field_types) for d, o in zip(ds.docs, ocrs, strict=True)]
        test = [(o, _truth(d)) for d, o in zip(ds.docs, ocrs, strict=True)]
        recall = _sum([word_recall(d, o, ds.field_types) for d, o in zip(ds.docs, ocrs, strict=True)])
        marks = _sum([mark_agreement(d, o, ds.field_types) for d, o in zip(ds.docs, ocrs, strict=True)])
        out[which] = {"recall": recall, "marks": marks if marks[1] else None,
                      "exact": exact_match(train_docs, test, ds.field_types, loo(len(ds.docs))),
                      "read_errors": (sum(o is None for o in ocrs), len(ocrs))}
    return out


def cross(digital: DocSet, scan: DocSet, readings: dict[str, dict[str, dict[Path, dict[str, Any]]]]
          ) -> dict[str, dict[str, Metric | None]]:
    """Train on one form of a document (all but the held-back one), analyze the other form of it."""
    out: dict[str, dict[str, Metric | None]] = {}
    for which in ENGINES:
        d_ocr = [_ocr(readings[which][digital.name][d.path]) for d in digital.docs]
        s_ocr = [_ocr(readings[which][scan.name][d.path]) for d in scan.docs]
        ft = digital.field_types
        d_train = [_train_doc(d, o, ft) for d, o in zip(digital.docs, d_ocr, strict=True)]
        s_train = [_train_doc(d, o, ft) for d, o in zip(scan.docs, s_ocr, strict=True)]
        truths = [_truth(d) for d in digital.docs]
        n = len(digital.docs)
        out[which] = {
            "digital->scan": exact_match(d_train, list(zip(s_ocr, truths, strict=True)), ft, loo(n)),
            "scan->digital": exact_match(s_train, list(zip(d_ocr, truths, strict=True)), ft, loo(n)),
        }
    return out


def reader_experiment(sets: list[DocSet], after: dict[str, dict[Path, dict[str, Any]]]) -> list[str]:
    """Training on the given cloud `.ocr.json` vs on the engine's own reading; analysis on the engine's."""
    rows = []
    for ds in sets:
        if not all(d.given_ocr for d in ds.docs):
            continue
        import json

        own = [_ocr(after[ds.name][d.path]) for d in ds.docs]
        given = [parse_ocr(json.loads(d.given_ocr.read_text())) for d in ds.docs]  # type: ignore[union-attr]
        test = [(o, _truth(d)) for d, o in zip(ds.docs, own, strict=True)]
        n = len(ds.docs)
        res = {}
        for reader, ocrs in (("given .ocr.json", given), ("engine re-read", own)):
            tds = [_train_doc(d, o, ds.field_types) for d, o in zip(ds.docs, ocrs, strict=True)]
            res[reader] = exact_match(tds, test, ds.field_types, loo(n))
        rows.append(f"| {ds.name} ({n}) | {_pct(res['given .ocr.json'])} | {_pct(res['engine re-read'])} |")
    return rows


def handprint_reread(n_train: int, n_test: int) -> list[str]:
    """Generated purchase orders filled in by hand (formgen --hand, scans): a model trained on n_train,
    n_test new forms analyzed with the engine's own reading, with and without engine.custom.reread."""
    from engine.custom.labels import parse_fields
    from engine.custom.reread import reread_unsure_fields
    from engine.layout.analyze import analyze_layout, page_image
    from formgen import generate

    out = DATA / "formgen" / "purchase_order-hand"
    train_forms = generate("purchase_order", n_train, out / "train", seed=3, kind="scan", hand=True)
    test_forms = generate("purchase_order", n_test, out / "test", seed=3, kind="scan", hand=True,
                          start_index=101)
    ft = parse_fields(json.loads((out / "train" / "fields.json").read_text()))

    def doc(form: Any) -> tuple[LabeledDoc, OcrDocument | None]:
        labeled = LabeledDoc(form.path.name, form.path, json.loads(form.labels_path.read_text()))
        return labeled, _ocr(analyze_layout(form.path.read_bytes(), None))

    train_docs = [t for d, o in map(doc, train_forms) if (t := _train_doc(d, o, ft)) is not None]
    model, _ = train(train_docs, ft)
    plain = reread = total = 0
    for form in test_forms:
        labeled, ocr = doc(form)
        if ocr is None:
            continue
        truth = _truth(labeled)
        for again in (False, True):
            picks = analyze_pages(model, index_document(ocr))
            if again:
                data = form.path.read_bytes()
                reread_unsure_fields(picks, model["fields"], lambda n, data=data: page_image(data, None, n))
            for name in ft:
                pick = picks.get(name)
                ok = _same(None if pick is None or pick.span is None else pick.text, truth.get(name))
                if again:
                    reread += ok
                else:
                    plain += ok
                    total += 1
    return [f"| purchase orders, hand-printed scans (formgen --hand) | {n_train} / {n_test} | "
            f"{_pct((plain, total))} | {_pct((reread, total))} |"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer documents (3 per set where there are more)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    sets: list[DocSet] = fillable_sets()
    notes: list[str] = []
    hp = handprint_set()
    if hp:
        sets.append(hp)
    else:
        notes.append("travel-insurance forms not found: no hand-printed row")
    scans = [scan_set(s) for s in sets if s.kind == "fillable" and s.name != "arizona-140"]
    gen, missing = formgen_sets(4 if args.quick else 6)
    notes += missing
    all_sets = sets + scans + gen
    if args.quick:
        for s in all_sets:
            s.docs = s.docs[: max(3, min(len(s.docs), 4))]
    readings: dict[str, dict[str, dict[Path, dict[str, Any]]]] = {w: {} for w in ENGINES}
    for which in ENGINES:
        paths = [d.path for s in all_sets for d in s.docs]
        res = layout_results(which, paths)
        for s in all_sets:
            readings[which][s.name] = {d.path: res[d.path] for d in s.docs}
    print(f"# Real documents: Layout before (844fe46) and after ({date.today()})\n")
    kinds = [("fillable", "Fillable PDFs (values in form fields)"),
             ("marks", "Image / glyph check boxes"),
             ("scan", "Scans of digital forms (rendered with their fields, 200 dpi, light noise)"),
             ("handprint", "Hand-printed values (handwriting-like fonts, rendered to an image)")]
    for kind, title in kinds:
        rows = [s for s in all_sets if s.kind == kind or (kind == "marks" and s.name == "arizona-140")]
        print(f"## {title}\n")
        if not rows:
            print("(no data for this kind)\n")
            continue
        print("| set | docs | word recall before | after | check boxes before | after | "
              "exact match LOO before | after |")
        print("|---|---|---|---|---|---|---|---|")
        for s in rows:
            m = measure(s, {w: readings[w][s.name] for w in ENGINES})
            b, a = m["before"], m["after"]
            print(f"| {s.name} | {len(s.docs)} | {_pct(b['recall'])} | {_pct(a['recall'])} | "
                  f"{_pct(b['marks'])} | {_pct(a['marks'])} | {_pct(b['exact'])} | {_pct(a['exact'])} |")
        notes_here = [f"{s.name}: {s.note}" for s in rows if s.note]
        if notes_here:
            print("\n" + "\n".join(f"- {n}" for n in notes_here))
        print()
    print("## Train on one form of a document, analyze the other (leave-one-out)\n")
    print("| set | direction | exact match before | after |")
    print("|---|---|---|---|")
    for sc in scans:
        dig = next(s for s in sets if s.name == sc.digital_twin)
        c = cross(dig, sc, readings)
        for direction in ("digital->scan", "scan->digital"):
            print(f"| {dig.name} | {direction} | {_pct(c['before'][direction])} | "
                  f"{_pct(c['after'][direction])} |")
    print("\n## Training reader: given `.ocr.json` vs the engine's own reading "
          "(analysis: the engine's reading)\n")
    po = _purchase_orders()
    if po:
        readings["after"][po.name] = layout_results("after", [d.path for d in po.docs])
    print("| set | trained on given .ocr.json | trained on engine re-read |")
    print("|---|---|---|")
    for row in reader_experiment([*(s for s in sets if s.name == "job-application"), *([po] if po else [])],
                                 readings["after"]):
        print(row)
    print("\n## Hand-printed values through a model: Tesseract's words vs unsure values re-read (after)\n")
    print("| set | train / test | exact, Tesseract's words | exact, re-read below 0.90 |")
    print("|---|---|---|---|")
    for row in handprint_reread(4 if args.quick else 8, 3 if args.quick else 6):
        print(row)
    if notes:
        print("\nNot measured:\n" + "\n".join(f"- {n}" for n in notes))
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


def _purchase_orders() -> DocSet | None:
    import json

    from engine.custom.labels import parse_fields

    folder = ROOT / "tests" / "data" / "purchase-orders"
    if not (folder / "fields.json").exists():
        return None
    docs = [LabeledDoc(p.name, p, json.loads(Path(f"{p}.labels.json").read_text()), Path(f"{p}.ocr.json"))
            for p in sorted(folder.glob("Form_*.jpg"))]
    ft = parse_fields(json.loads((folder / "fields.json").read_text()))
    return DocSet("purchase-orders", "image", docs, ft)


if __name__ == "__main__":
    sys.exit(main())
