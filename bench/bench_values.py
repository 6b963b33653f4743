"""Value text and empty fields (issue 19 items 3, 4, 6): the custom model of an earlier commit and of the
working tree, side by side on the same Layout readings.

Run: `.venv/bin/python bench/bench_values.py [--before COMMIT] [--quick]`. Both models run in subprocesses
(the earlier one from a `git archive` copy of `engine/`), on readings cached under `bench/out/values-cache/`
by file content only, so both columns see the very same words. Measured per set, leave-one-out (train on
the others, analyze the held-back form, exact match after whitespace/case folding, comb digits compared
without spaces): fields right, empty fields answered empty, picks with confidence >= 0.9 right, and the
fields whose answer changed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from real_data import _WORKER, DocSet, LabeledDoc, fillable_sets, scan_set  # noqa: E402

OUT = ROOT / "bench" / "out"
CACHE = OUT / "values-cache"

# Runs in a subprocess whose sys.path starts with one engine: LOO picks of every set given on stdin.
_LOO = r"""
import json, sys
from engine.custom.labels import parse_labels
from engine.custom.matching import match_labels
from engine.custom.ocr_file import parse_ocr
from engine.custom.scoring.features import TrainDoc
from engine.custom.scoring.model import analyze_pages, train
from engine.custom.scoring.spans import index_document
out = {}
for s in json.load(sys.stdin):
    ocrs = [parse_ocr(json.load(open(d["reading"]))) for d in s["docs"]]
    tds = []
    for d, o in zip(s["docs"], ocrs):
        m, _ = match_labels(parse_labels(d["labels"]), o, s["types"])
        tds.append(TrainDoc.build(d["name"], o, m) if m else None)
    rows = []
    for i, d in enumerate(s["docs"]):
        rest = [t for j, t in enumerate(tds) if j != i and t is not None]
        model, _ = train(rest, s["types"])
        picks = analyze_pages(model, index_document(ocrs[i]))
        for name, p in sorted(picks.items()):
            got = None if p.span is None else p.text
            rows.append([d["name"], name, got, p.confidence if p.span is not None else 0.0])
    out[s["name"]] = rows
    print("model", s["name"], file=sys.stderr, flush=True)
json.dump(out, sys.stdout)
"""


def readings(paths: list[Path]) -> dict[Path, Path]:
    """{document: its Layout result file}, read once by the working tree's engine and kept by content hash."""
    CACHE.mkdir(parents=True, exist_ok=True)
    targets = {p: CACHE / f"{p.stem}.{hashlib.sha256(p.read_bytes()).hexdigest()[:16]}.json" for p in paths}
    todo = [(str(p), str(t)) for p, t in targets.items() if not t.exists()]
    if todo:
        print(f"  reading {len(todo)} file(s) ...", file=sys.stderr, flush=True)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", _WORKER], input=json.dumps(todo), text=True, cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    return targets


def engine_copy(commit: str) -> Path:
    dest = OUT / f"model-{commit}"
    if not (dest / "engine").exists():
        data = subprocess.run(["git", "archive", commit, "engine"], cwd=ROOT, check=True,
                              capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")
    return dest


def run_models(root: Path, payload: list[dict[str, Any]]) -> dict[str, list[list[Any]]]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", _LOO], input=json.dumps(payload), text=True, cwd=root,
                          env=env, check=True, capture_output=True)
    return json.loads(done.stdout)


def truth_of(labels: dict[str, Any]) -> dict[str, str]:
    out = {}
    for lab in labels.get("labels", []):
        texts = [str(v.get("text", "")) for v in lab.get("value") or []]
        text = " ".join(" ".join(texts).split())
        if text:
            out[lab["label"]] = text
    return out


def same(pred: str | None, truth: str | None) -> bool:
    if not truth:
        return pred is None
    if pred is None:
        return False
    a, b = " ".join(pred.split()).lower(), " ".join(truth.split()).lower()
    return a == b or (a.replace(" ", "") == b.replace(" ", "") and b.replace(" ", "").isdigit())


def generated_sets(n: int) -> list[DocSet]:
    """formgen layouts with captions inside boxes, empty optional fields and multi-word values."""
    from engine.custom.labels import parse_fields
    from formgen.generate import generate, layouts

    sets = []
    for layout, kind in (("applicant", "pdf"), ("applicant", "scan"), ("registration", "pdf"),
                         ("tax_form", "pdf")):
        if layout not in layouts():
            continue
        out = OUT / "values-data" / f"{layout}-{kind}"
        forms = generate(layout, n, out, seed=19, kind=kind)  # type: ignore[arg-type]
        ft = parse_fields(json.loads((out / "fields.json").read_text()))
        docs = [LabeledDoc(f.path.name, f.path, json.loads(f.labels_path.read_text())) for f in forms]
        sets.append(DocSet(f"formgen {layout} ({kind})", kind, docs, ft))
    return sets


def purchase_orders() -> DocSet | None:
    from engine.custom.labels import parse_fields

    folder = ROOT / "tests" / "data" / "purchase-orders"
    if not (folder / "fields.json").exists():
        return None
    docs = [LabeledDoc(p.name, p, json.loads(Path(f"{p}.labels.json").read_text()), Path(f"{p}.ocr.json"))
            for p in sorted(folder.glob("Form_*.jpg"))]
    return DocSet("purchase-orders (cloud .ocr.json)", "image", docs,
                  parse_fields(json.loads((folder / "fields.json").read_text())))


def _pct(good: int, total: int) -> str:
    return f"{good / total:.1%} ({good}/{total})" if total else "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="5ba5b1f", help="commit whose model is 'before'")
    ap.add_argument("--quick", action="store_true", help="digital sets only")
    ap.add_argument("--errors", action="store_true", help="list every wrong field of 'after'")
    ap.add_argument("--only", default="", help="only the sets whose name contains this")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    sets = fillable_sets()
    if not args.quick:
        sets += [scan_set(s) for s in sets if s.name in ("job-application", "irs-1040")]
    sets += generated_sets(6)
    po = purchase_orders()
    sets = [s for s in sets if args.only in s.name]
    if po and args.only not in po.name:
        po = None
    paths = [d.path for s in sets for d in s.docs]
    files = readings(paths)
    if po:
        sets.append(po)
        files.update({d.path: d.given_ocr for d in po.docs if d.given_ocr})
    payload = [{"name": s.name, "types": s.field_types,
                "docs": [{"name": d.name, "reading": str(files[d.path]), "labels": d.labels} for d in s.docs]}
               for s in sets]
    results = {"before": run_models(engine_copy(args.before), payload), "after": run_models(ROOT, payload)}
    print(f"# Value text and empty fields: model at {args.before} (before) and the working tree (after), "
          f"{date.today()}\n")
    print("| set | docs | fields right before | after | empty fields empty before | after | "
          "conf >= 0.9 right before | after |")
    print("|---|---|---|---|---|---|---|---|")
    changes: list[str] = []
    errors: list[str] = []
    for s in sets:
        truths = {d.name: truth_of(d.labels) for d in s.docs}
        cols: dict[str, list[str]] = {}
        answers: dict[str, dict[tuple[str, str], tuple[Any, float]]] = {}
        for which in ("before", "after"):
            rows = results[which][s.name]
            answers[which] = {(r[0], r[1]): (r[2], r[3]) for r in rows}
            ok = [same(r[2], truths[r[0]].get(r[1])) for r in rows]
            empty = [r[2] is None for r in rows if r[1] not in truths[r[0]]]
            sure = [o for r, o in zip(rows, ok, strict=True) if r[3] >= 0.9]
            cols[which] = [_pct(sum(ok), len(ok)), f"{sum(empty)}/{len(empty)}", _pct(sum(sure), len(sure))]
        b, a = cols["before"], cols["after"]
        print(f"| {s.name} | {len(s.docs)} | {b[0]} | {a[0]} | {b[1]} | {a[1]} | {b[2]} | {a[2]} |")
        for key, (got, conf) in sorted(answers["after"].items()):
            old = answers["before"].get(key, (None, 0.0))[0]
            truth = truths[key[0]].get(key[1])
            if got != old:
                mark = "fixed" if same(got, truth) else ("broken" if same(old, truth) else "changed")
                changes.append(f"- {mark}: {s.name} / {key[0]} / {key[1]}: {old!r} -> {got!r} "
                               f"(truth {truth!r})")
            if args.errors and not same(got, truth):
                errors.append(f"- {s.name} / {key[0]} / {key[1]}: {got!r} ({conf}) truth {truth!r}")
    print("\n## Answers that changed\n")
    print("\n".join(changes) or "(none)")
    if errors:
        print("\n## Wrong after\n")
        print("\n".join(errors))
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
