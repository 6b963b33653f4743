"""Table fields (issue 18): line items read by a custom model, leave-one-out, digital and scanned.

Run: `.venv/bin/python bench/bench_table_fields.py [--forms N]`. Sets: generated invoices with labeled line
items (`formgen invoice_items`: 1-12 rows, ruled or unruled, some descriptions on two lines;
`invoice_items_multipage`: 14-30 rows continued on page 2), each as PDF and as a scan (150 dpi, skew and
noise), and the real maintenance records (tests/data: 2-8 rows, labels from their text layer by content,
tests/helpers/table_labels.py) as PDF and as a 200-dpi scan. Each form is read by a table model learned
from the others (at most 6). Measured: forms whose row count is exactly right, cells exactly right
(whitespace and case folded), and the cost of the table field: the time to read it against the time to
analyze its page (Layout, as the engine runs it on a new form, plus the model's scalar fields).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402

from engine.custom.labels import parse_fields, parse_labels  # noqa: E402
from engine.custom.matching import match_labels  # noqa: E402
from engine.custom.ocr_file import OcrDocument, parse_ocr  # noqa: E402
from engine.custom.scoring.spans import norm_text  # noqa: E402
from engine.custom.table_fields.extract import read_table  # noqa: E402
from engine.custom.table_fields.learn import TableExample, learn_table  # noqa: E402
from engine.custom.table_fields.model import cell_text, split_cells  # noqa: E402
from engine.layout.analyze import _read_layout  # noqa: E402
from formgen import generate  # noqa: E402
from tests.helpers.table_labels import FIELDS_JSON, maintenance_labels  # noqa: E402

OUT = ROOT / "bench" / "out" / "table-fields"
MAX_TRAIN = 6


def _layout(data: bytes) -> tuple[OcrDocument, float]:
    t0 = time.perf_counter()
    result = _read_layout(data, None, pages=None, language=None, api_version="2.1")  # uncached, as new
    return parse_ocr(result), time.perf_counter() - t0


def _examples(docs: list[tuple[bytes, dict[str, Any], list[dict[str, str]]]], fields: dict[str, Any],
              table: str) -> list[tuple[TableExample, list[dict[str, str]], float]]:
    types = parse_fields(fields)
    out = []
    for data, labels, truth in docs:
        ocr, seconds = _layout(data)
        matched, _ = match_labels(parse_labels(labels), ocr, types)
        out.append((TableExample(ocr, split_cells(matched)[1].get(table, {})), truth, seconds))
    return out


def _scan(pdf: bytes) -> bytes:
    out = io.BytesIO()
    pdfium.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil().convert("L").save(out, format="PNG")
    return out.getvalue()


def _formgen(layout: str, kind: str, count: int) -> tuple[list[Any], dict[str, Any]]:
    folder = OUT / f"{layout}-{kind}"
    forms = generate(layout, count, folder, seed=11, kind=kind)
    docs = [(f.path.read_bytes(), json.loads(f.labels_path.read_text()), f.tables["Items"]) for f in forms]
    return docs, json.loads((folder / "fields.json").read_text())


def _records(scan: bool) -> tuple[list[Any], dict[str, Any]]:
    docs = []
    for pdf in sorted((ROOT / "tests" / "data" / "maintenance-records").glob("*.pdf")):
        labels, truth = maintenance_labels(pdf)
        data = pdf.read_bytes()
        docs.append((_scan(data) if scan else data, labels, truth))
    return docs, FIELDS_JSON


def measure(name: str, docs: list[Any], fields: dict[str, Any], table: str) -> dict[str, Any]:
    examples = _examples(docs, fields, table)
    columns = list(dict.fromkeys(c for ex, _, _ in examples for cells in ex.rows.values() for c in cells))
    rows_right = cells_right = cells = 0
    read_s = layout_s = 0.0
    for i, (ex, truth, seconds) in enumerate(examples):
        others = [e for j, (e, _, _) in enumerate(examples) if j != i][:MAX_TRAIN]
        model = learn_table(columns, others)
        t0 = time.perf_counter()
        got = read_table(model, ex.ocr) if model else []
        read_s += time.perf_counter() - t0
        layout_s += seconds
        rows_right += len(got) == len(truth)
        for r, row in enumerate(truth):
            for col, text in row.items():
                cells += 1
                mine = cell_text(got[r].cells.get(col, [])) if r < len(got) else ""
                cells_right += norm_text(mine) == norm_text(text)
    n = len(examples)
    return {"set": name, "forms": n, "rows": f"{rows_right / n:.1%} ({rows_right}/{n})",
            "cells": f"{cells_right / cells:.1%} ({cells_right}/{cells})",
            "page_ms": round(1000 * layout_s / n, 1), "table_ms": round(1000 * read_s / n, 2),
            "cost": f"+{read_s / layout_s:.1%}"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=7, help="generated forms per set (default 7: 6 train)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sets = [("invoice_items (pdf)", *_formgen("invoice_items", "pdf", args.forms), "Items"),
            ("invoice_items_multipage (pdf)", *_formgen("invoice_items_multipage", "pdf", args.forms),
             "Items"),
            ("maintenance records (pdf, real)", *_records(scan=False), "Maintenance"),
            ("invoice_items (scan)", *_formgen("invoice_items", "scan", args.forms), "Items"),
            ("invoice_items_multipage (scan)", *_formgen("invoice_items_multipage", "scan", args.forms),
             "Items"),
            ("maintenance records (scan 200 dpi, real)", *_records(scan=True), "Maintenance")]
    print(f"# Table fields: leave-one-out (at most {MAX_TRAIN} training forms), {date.today()}\n")
    print("| set | forms | row count right | cells right | page analysis (Layout) ms | table read ms "
          "| cost |")
    print("|---|---|---|---|---|---|---|")
    for name, docs, fields, table in sets:
        r = measure(name, docs, fields, table)
        print(f"| {r['set']} | {r['forms']} | {r['rows']} | {r['cells']} | {r['page_ms']} | {r['table_ms']} "
              f"| {r['cost']} |", flush=True)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
