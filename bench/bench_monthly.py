"""Real scans of one government form, typed, hand-printed and photographed (issue 19 items 8 and 9).

The 40 "Monthly Report" scans of `../shared/data/scanned-forms/monthly-report` come with their truth as a flat
`{field: value}` map and no boxes. Training labels are drawn the way a person draws them on the review page:
a region over each field's cell with its value typed in (`labelType: "region"`). The cells come from the one
labeled example of this form (`di-format/`, drawn on a synthetic fill): its word boxes, widened to the cell
(the income grid's columns, the declaration table's cells as Layout reads them), are carried onto each
training scan by a homography fitted to the printed words both pages share. The model is then trained on
six forms (two typed, two synthetic, two hand-printed) and reads the other 34 as the engine's analyze route
does (with the page image, so unsure values are re-read). Run: `.venv/bin/python bench/bench_monthly.py`.

Scoring, per field, after case/whitespace folding: a truth list accepts any of its variants, `:garbled:`
accepts anything, an empty truth wants no value, a check box compares selected/unselected, and a truth given
as a JSON number, or as a string that is a number for a field of type number, is compared as a number (the
form's "$" and thousands commas dropped), since "700" and "700.00" state the same amount.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ENGINE_LAYOUT_CACHE_ENTRIES", "0")  # the timed Layout below is a real read

from bench.real_data import SHARED  # noqa: E402
from engine.custom.ocr_file import parse_ocr  # noqa: E402
from engine.custom.results import build_result  # noqa: E402
from engine.custom.scoring.register import _ransac, apply, key_points  # noqa: E402
from engine.custom.source import DirSource  # noqa: E402
from engine.custom.training import run_training  # noqa: E402
from engine.layout.analyze import analyze_layout, page_image  # noqa: E402

DATA = SHARED / "scanned-forms" / "monthly-report"
OUT = ROOT / "bench" / "out" / "monthly"
REFERENCE = "synth-full (1)"  # the capture the labeled example's boxes line up with
TRAIN = ["HR0081 (8)", "HR0081 (4)", "synth-full (2)", "synth-no-spouse (1)", "manual sample (5)",
         "manual sample (7)"]
BOX = tuple[float, float, float, float]


def kind_of(name: str) -> str:
    if name.startswith("HR0081"):
        return "typed (rendered fill)"
    if name.startswith("synth"):
        return "synthetic handwriting"
    if name.startswith("manual"):
        return "hand-printed scan"
    return "phone photo, handwriting"


def reading(name: str) -> dict[str, Any]:
    """The engine's Layout of a scan, cached on disk by the file's hash (OCR is most of the run time)."""
    data = (DATA / f"{name}.jpg").read_bytes()
    cache = OUT / "layout" / f"{hashlib.sha1(data).hexdigest()}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    cache.parent.mkdir(parents=True, exist_ok=True)
    result = analyze_layout(data, "image/jpeg")
    cache.write_text(json.dumps(result))
    return result


def _union(boxes: list[list[float]]) -> BOX:
    xs = [b[i] for b in boxes for i in (0, 2, 4, 6)]
    ys = [b[i] for b in boxes for i in (1, 3, 5, 7)]
    return min(xs), min(ys), max(xs), max(ys)


def _below_caption(page: dict[str, Any], cell: BOX) -> float:
    """The top of a declaration cell's value: just below the printed caption on the cell's first line."""
    w, h = page["width"], page["height"]
    lines = []
    for line in page["lines"]:
        bb = line["boundingBox"]
        x0, y0, x1, y1 = bb[0] / w, bb[1] / h, bb[4] / w, bb[5] / h
        if cell[0] <= (x0 + x1) / 2 <= cell[2] and cell[1] <= (y0 + y1) / 2 <= cell[3]:
            lines.append((y0, y1))
    if not lines:
        return cell[1]
    top = min(lines)
    return top[1] + 0.001


def cells() -> dict[str, BOX]:
    """Each field's region on the reference capture, normalised."""
    example = json.loads((DATA / "di-format" / "form_image_0.jpg.labels.json").read_text())
    boxes = {lab["label"]: _union([b for v in lab["value"] for b in v["boundingBoxes"]])
             for lab in example["labels"]}
    ref = reading(REFERENCE)
    page = ref["readResults"][0]
    w, h = page["width"], page["height"]
    table_cells = [_union([[c["boundingBox"][i] / (w if i % 2 == 0 else h) for i in range(8)]])
                   for t in ref["pageResults"][0].get("tables", []) for c in t["cells"]]
    columns: dict[str, list[BOX]] = defaultdict(list)
    for name, b in boxes.items():
        if name.startswith(("applicant_", "spouse_")) and b[1] < 0.5 and b[0] > 0.6:
            columns[name.split("_")[0]].append(b)
    span = {col: (min(b[0] for b in bs), max(b[2] for b in bs)) for col, bs in columns.items()}
    out: dict[str, BOX] = {}
    for name, b in boxes.items():
        col = name.split("_")[0]
        if name.startswith("checkbox_"):
            out[name] = (b[0] - 0.002, b[1] - 0.002, b[2] + 0.002, b[3] + 0.002)
        elif b in columns.get(col, []):
            out[name] = (span[col][0] - 0.004, b[1] - 0.004, span[col][1] + 0.004, b[3] + 0.004)
        elif name == "explain_changes":
            out[name] = (b[0] - 0.01, b[1] - 0.004, b[2] + 0.01, b[3] + 0.006)
        else:
            cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
            cell = next((c for c in table_cells if c[0] <= cx <= c[2] and c[1] <= cy <= c[3]
                         and c[2] - c[0] < 0.5), None)
            if cell is None:
                out[name] = (b[0] - 0.01, b[1] - 0.004, b[2] + 0.05, b[3] + 0.004)
            else:
                out[name] = (cell[0], _below_caption(page, cell), cell[2], cell[3])
    return out


def carry(regions: dict[str, BOX], name: str) -> dict[str, BOX]:
    """The reference regions moved onto another capture (homography over the printed words both share)."""
    if name == REFERENCE:
        return regions
    src_pts = key_points(parse_ocr(reading(REFERENCE)).pages[0])
    dst_pts = key_points(parse_ocr(reading(name)).pages[0])
    shared = sorted(src_pts.keys() & dst_pts.keys())
    hom, _ = _ransac(np.array([src_pts[k] for k in shared]), np.array([dst_pts[k] for k in shared]))
    if hom is None:
        raise SystemExit(f"{name}: no fit to the reference ({len(shared)} shared words)")
    out = {}
    for field, (x0, y0, x1, y1) in regions.items():
        q = apply(hom, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
        out[field] = (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
    return out


def truth(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text())


def _label_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0]
    return "" if value in ("", None, ":garbled:") else str(value)


def write_training(regions: dict[str, BOX]) -> Path:
    folder = OUT / "train"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(DATA / "di-format" / "fields.json", folder / "fields.json")
    for name in TRAIN:
        shutil.copy(DATA / f"{name}.jpg", folder / f"{name}.jpg")
        boxes = carry(regions, name)
        labels = []
        for field, value in truth(name).items():
            text = _label_text(value)
            if not text or field not in boxes:
                continue
            x0, y0, x1, y1 = boxes[field]
            labels.append({"label": field, "labelType": "region",
                           "value": [{"page": 1, "text": text,
                                      "boundingBoxes": [[x0, y0, x1, y0, x1, y1, x0, y1]]}]})
        doc = {"document": f"{name}.jpg", "labels": labels}
        (folder / f"{name}.jpg.labels.json").write_text(json.dumps(doc, indent=1))
    return folder


def _fold(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def _number(text: str) -> float | None:
    t = re.sub(r"[\s$,]", "", text)
    try:
        return float(t)
    except ValueError:
        return None


def right(expected: Any, found: dict[str, Any] | None, number_field: bool = False) -> bool:
    """`number_field`: the field's type is number, so a truth written as a string ("900") is the same
    amount as the answer "900.00" (what the answer's valueNumber says)."""
    if number_field and isinstance(expected, str) and _number(expected) is not None:
        expected = _number(expected)
    got = ""
    if found:
        got = found.get("valueSelectionMark") or found.get("text") or ""
    if expected == ":garbled:":
        return True
    if expected in ("selected", "unselected"):
        return _fold(got or "unselected") == expected
    variants = expected if isinstance(expected, list) else [expected]
    for v in variants:
        if v in ("", None):
            if not _fold(got):
                return True
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            n = _number(got)
            if n is not None and abs(n - float(v)) < 0.005:
                return True
        elif _fold(got) == _fold(v):
            return True
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print every wrong field")
    args = ap.parse_args()
    if not (DATA / "di-format").is_dir():
        print(f"bench_monthly: the Monthly Report scans are not at {DATA} (they stay outside the repository, "
              "in ../shared/data); nothing measured.")
        return 0
    started = time.perf_counter()
    names = sorted(p.stem for p in DATA.glob("*.jpg"))
    for i, n in enumerate(names, 1):
        print(f"\rLayout {i}/{len(names)}", end="", file=sys.stderr, flush=True)
        reading(n)
    print(file=sys.stderr)
    sample = (DATA / f"{TRAIN[-1]}.jpg").read_bytes()
    t = time.perf_counter()
    analyze_layout(sample, "image/jpeg")  # not cached: one page's Layout, for scale
    layout_seconds = time.perf_counter() - t
    folder = write_training(cells())
    readings = {hashlib.sha1((DATA / f"{n}.jpg").read_bytes()).hexdigest(): reading(n) for n in TRAIN}
    outcome = run_training(DirSource(folder), "", False, True,
                           lambda b: json.loads(json.dumps(readings[hashlib.sha1(b).hexdigest()])),
                           image_fn=lambda b, n: page_image(b, "image/jpeg", n))
    assert outcome.status == "ready", outcome.train_result
    types = {f["fieldKey"]: f["fieldType"]
             for f in json.loads((DATA / "di-format" / "fields.json").read_text())["fields"]}
    problems = [e for d in outcome.train_result.get("trainingDocuments", []) for e in d.get("errors", [])]
    tally: dict[str, list[int]] = defaultdict(lambda: [0] * 6)  # right, total; written; check boxes
    wrong: list[str] = []
    calibration: list[tuple[float, bool]] = []  # (confidence, right) of every answered field
    costs: list[tuple[float, float]] = []  # analysis without / with the page image (re-reads, region reads)
    for name in names:
        if name in TRAIN:
            continue
        data = (DATA / f"{name}.jpg").read_bytes()
        t0 = time.perf_counter()
        build_result("m", {}, outcome.params, json.loads(json.dumps(reading(name))), False)
        t1 = time.perf_counter()
        got = build_result("m", {}, outcome.params, json.loads(json.dumps(reading(name))), False,
                           functools.cache(lambda n, data=data: page_image(data, "image/jpeg", n)))
        costs.append((t1 - t0, time.perf_counter() - t1))
        fields = got["documentResults"][0]["fields"]
        t = tally[kind_of(name)]
        for field, expected in truth(name).items():
            ok = right(expected, fields.get(field), types.get(field) == "number")
            filled = not field.startswith("checkbox_") and expected not in ("", None, ":garbled:")
            t[0] += ok
            t[1] += 1
            t[2] += ok and filled
            t[3] += filled
            t[4] += ok and field.startswith("checkbox_")
            t[5] += field.startswith("checkbox_")
            conf = (fields.get(field) or {}).get("confidence")
            if conf is not None:
                calibration.append((conf, ok))
            if not ok:
                f = fields.get(field) or {}
                said = f.get("valueSelectionMark") or f.get("text")
                wrong.append(f"{name} | {field} | {expected!r} | {said!r} | {f.get('confidence')}")
    print(f"# Monthly Report scans, trained on {len(TRAIN)} ({', '.join(TRAIN)}), {date.today()}\n")
    if problems:
        print(f"Training problems: {len(problems)} (first: {problems[0]})\n")
    print("| kind | forms | all fields right | written values right (not empty, not check boxes) "
          "| check boxes right |")
    print("|---|---:|---:|---:|---:|")
    total = [0] * 6

    def row(label: str, forms: int, t: list[int]) -> str:
        r, n, fr, fn, cr, cn = t
        return (f"| {label} | {forms} | {r / n:.1%} ({r}/{n}) | {fr / max(fn, 1):.1%} ({fr}/{fn}) "
                f"| {cr / max(cn, 1):.1%} ({cr}/{cn}) |")

    for kind in sorted(tally):
        total = [a + b for a, b in zip(total, tally[kind], strict=True)]
        print(row(kind, sum(1 for x in names if kind_of(x) == kind and x not in TRAIN), tally[kind]))
    print(row("all", len(names) - len(TRAIN), total))
    sure = [ok for c, ok in calibration if c >= 0.9]
    low = sum(c < 0.8 for c, ok in calibration if not ok)
    missed = sum(not ok for _, ok in calibration)
    print(f"\nConfidence: answers with confidence >= 0.9 right {sum(sure) / max(1, len(sure)):.1%} "
          f"({sum(sure)}/{len(sure)}); wrong answers below the review confidence (0.8) "
          f"{low / max(1, missed):.1%} ({low}/{missed}).")
    plain, full = (statistics.median(c[i] for c in costs) for i in (0, 1))
    print(f"\nAnalysis per form beyond Layout, median: {plain * 1000:.0f} ms from the words alone, "
          f"{full * 1000:.0f} ms with the page image (re-reads and region reads); the engine's Layout of one "
          f"of these scans took {layout_seconds:.1f} s in this run.")
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.show:
        print("\n" + "\n".join(wrong))
    return 0


if __name__ == "__main__":
    sys.exit(main())
