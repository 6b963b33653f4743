"""Tables in Layout (issue 14): cell agreement on generated ruled tables, no tables where there are none,
and what finding them costs.

Run: `.venv/bin/python bench/bench_tables.py [--quick] [--forms N] [--seed S]`. Prints markdown tables.

1. Agreement: N forms of the generated `ruled_tables` layout (formgen: one or two tables of 2-5
   columns, a header row, row and column spans, blank rows; rules drawn as lines, Word-style bars or cell
   rectangles), as digital PDFs and as 150-dpi scans, through `analyze_layout`, compared with the truth
   written beside each form (formgen/table_score.py): a truth cell agrees when the paired table
   has a cell at its rowIndex/columnIndex with the same text (NFKC, whitespace removed; "strict" keeps
   single spaces). Also tables found, exact shapes, spans, isHeader, and tables that are not in the truth.
   Target: >= 95 % of the truth cells, PDF and scan.
2. No tables where there are none: the other generated layouts (invoice, purchase order, registration,
   tax form; PDF, scan, fillable) must give none; the real documents in tests/data and ../shared show
   what they give.
3. Cost: CPU time of `analyze_layout` with table extraction and with the two finders replaced by no-ops
   (everything else identical), alternated document by document in one run, per set of documents.
The Layout cache is off (ENGINE_LAYOUT_CACHE_ENTRIES=0, set before the engine is imported): every call reads.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
os.environ["ENGINE_LAYOUT_CACHE_ENTRIES"] = "0"  # time every read, not the cache

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import machine  # noqa: E402

import engine.layout.analyze as layout  # noqa: E402
from formgen import generate  # noqa: E402
from formgen.table_score import TableScore, load_truth, score  # noqa: E402

DATA = ROOT / "tests" / "data"
NEGATIVE_LAYOUTS = ("invoice", "invoice_multipage", "purchase_order", "registration", "tax_form")


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}% ({a}/{b})" if b else "-"


def agreement(out: Path, count: int, seed: int) -> dict[str, TableScore]:
    scores: dict[str, TableScore] = {}
    for kind in ("pdf", "scan"):
        total = TableScore()
        for form in generate("ruled_tables", count, out / kind, seed=seed, kind=kind):
            assert form.tables_path is not None
            result = layout.analyze_layout(form.path.read_bytes(), None)
            total.add(score(result, load_truth(form.tables_path)))
        scores[kind] = total
    return scores


def negatives(out: Path, count: int, seed: int) -> dict[str, tuple[int, int]]:
    """Per kind: (documents, tables found) over the layouts that have no table."""
    found: dict[str, tuple[int, int]] = {}
    for kind in ("pdf", "scan", "fillable"):
        docs = tables = 0
        for name in NEGATIVE_LAYOUTS:
            for form in generate(name, count, out / f"neg-{kind}", seed=seed, kind=kind):
                result = layout.analyze_layout(form.path.read_bytes(), None)
                docs += 1
                tables += sum(len(pr["tables"]) for pr in result["pageResults"])
        found[kind] = (docs, tables)
    return found


def real_sets(quick: bool) -> dict[str, list[Path]]:
    records = DATA / "maintenance-records"
    sets = {
        "maintenance records (digital, Word tables)": sorted(records.glob("*.pdf")),
        "job applications (fillable, Word)": sorted((DATA / "job-application").glob("*.pdf")),
        "tax returns (fillable, 2 pages)": sorted((DATA / "irs-1040").glob("*.pdf")),
        "purchase orders (200-dpi scans)": sorted((DATA / "purchase-orders").glob("*.jpg")),
    }
    if quick:
        sets = {k: v[:2] for k, v in sets.items()}
    return {k: v for k, v in sets.items() if v}


def shapes(paths: list[Path]) -> str:
    """The tables each document gives, as rows x columns, one group per document."""
    out = []
    for p in paths:
        result = layout.analyze_layout(p.read_bytes(), None)
        found = [f"{t['rows']}x{t['columns']}" for pr in result["pageResults"] for t in pr["tables"]]
        out.append(" ".join(found) or "none")
    return "; ".join(out)


def _no_tables(*_args: object, **_kwargs: object) -> list:
    return []


def cost(paths: list[Path], repeat: int) -> tuple[int, float, float]:
    """(pages, CPU ms per page without tables, with tables), alternating the two for every document."""
    finders = (layout.pdf_tables, layout.scan_tables)

    def run(on: bool, data: bytes) -> tuple[float, int]:
        layout.pdf_tables, layout.scan_tables = finders if on else (_no_tables, _no_tables)
        try:
            start = time.process_time()
            result = layout.analyze_layout(data, None)
            return time.process_time() - start, len(result["readResults"])
        finally:
            layout.pdf_tables, layout.scan_tables = finders

    docs = [p.read_bytes() for p in paths]
    for d in docs[:1]:
        run(True, d)  # warm-up: OCR models, fonts
    off: list[float] = []
    on: list[float] = []
    pages = 0
    for r in range(repeat):
        for i, d in enumerate(docs):
            order = (False, True) if (r + i) % 2 == 0 else (True, False)
            for flag in order:
                t, n = run(flag, d)
                (on if flag else off).append(t)
            pages += n if r == 0 else 0
    return pages, 1000 * sum(off) / repeat / pages, 1000 * sum(on) / repeat / pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a few forms, one timing repeat")
    ap.add_argument("--forms", type=int, default=30, help="generated ruled_tables forms per kind")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    count = 4 if args.quick else args.forms
    print(f"Machine: {machine()}\n")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_tables_") as tmp:
        out = Path(tmp)
        scores = agreement(out, count, args.seed)
        print(f"### Cell agreement on generated ruled tables ({count} forms per kind, seed {args.seed})\n")
        print("| kind | tables found | exact shape | cells: text + index | strict spaces | spans | isHeader "
              "| tables not in the truth |")
        print("|---|---|---|---|---|---|---|---|")
        for kind, s in scores.items():
            print(f"| {kind} | {_pct(s.found, s.tables)} | {_pct(s.shape, s.tables)} | "
                  f"{_pct(s.text, s.cells)} | {_pct(s.text_strict, s.cells)} | {_pct(s.spans, s.cells)} | "
                  f"{_pct(s.header, s.cells)} | {s.spurious} |")
        print("\n| kind | header-row cells: text | other cells: text |")
        print("|---|---|---|")
        for kind, s in scores.items():
            body, body_ok = s.cells - s.header_cells, s.text - s.header_text
            print(f"| {kind} | {_pct(s.header_text, s.header_cells)} | {_pct(body_ok, body)} |")
        print()
        for kind, s in scores.items():
            for miss in s.misses[:60]:
                print(f"- {kind}: {miss}")
        neg = negatives(out, 1 if args.quick else 2, args.seed)
        print("\n### Layouts without tables (generated)\n")
        print("| kind | documents | tables found |")
        print("|---|---|---|")
        for kind, (docs, tables) in neg.items():
            print(f"| {kind} | {docs} | {tables} |")
        sets = real_sets(args.quick)
        print("\n### Real documents: tables given (rows x columns per document)\n")
        for name, paths in sets.items():
            print(f"- {name}: {shapes(paths)}")
        scans = 2 if args.quick else 4
        timing_sets: dict[str, list[Path]] = {
            "generated ruled_tables PDFs": sorted((out / "pdf").glob("*.pdf"))[:10],
            "generated forms without tables (PDF)": sorted((out / "neg-pdf").glob("*.pdf")),
            **{k: v for k, v in sets.items() if "scan" not in k},
            "generated ruled_tables scans (150 dpi)": sorted((out / "scan").glob("*.jpg"))[:scans],
            "purchase orders (200-dpi scans)": sets.get("purchase orders (200-dpi scans)", [])[:scans],
        }
        print("\n### Cost: Layout CPU time per page, with and without table extraction "
              "(same run, alternated)\n")
        print("| documents | pages | without tables, ms/page | with tables, ms/page | ratio |")
        print("|---|---|---|---|---|")
        for name, paths in timing_sets.items():
            if not paths:
                continue
            repeat = 1 if args.quick or "scan" in name else 5
            pages, off, on = cost(paths, repeat)
            print(f"| {name} | {pages} | {off:.1f} | {on:.1f} | {on / off:.2f}x |")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
