"""Hand-printed field values: Tesseract (as the engine runs it) against PP-OCRv4 (ONNX, engine/ocr/ppocr.py).

Run: `.venv/bin/python bench/bench_handprint.py [--quick]`. Prints markdown tables; deterministic data
(seeded), timings naturally vary. The PP-OCRv4 rows need the models of the `rapidocr-onnxruntime` wheel
(installed without its dependencies; nothing is downloaded) and onnxruntime; without them the Tesseract
rows are printed alone. RapidOCR's own pipeline (it imports OpenCV, pyclipper and shapely) is measured
only when it imports, for comparison.

Data (bench/handprint/data.py): field-region crops of (a) the values of the three travel-insurance forms
(text layer = truth; rendered at 150 and 300 dpi) and (b) generated hand-printed names, dates, amounts,
ZIP codes and e-mail addresses in handwriting fonts with scan degradation.

Recognizers, each given the same crop, one after another per crop (so machine load hits all alike):
- `tesseract page-mode`: engine.ocr.default_engine().recognize(crop), exactly the engine's call (PSM 3);
- `tesseract line-mode`: the same engine class with PSM 7 (single text line), what a field-region reader
  would use with Tesseract;
- `ppocr det+rec`: engine/ocr/ppocr.py detection + recognition, the lines' texts joined, 1 thread;
- `ppocr rec-only`: its recognition on the whole crop (a field region is one line), 1 thread;
- `rapid_region.read_region`: engine/ocr/rapid_region.py, ppocr det+rec plus spaces put back at clear
  ink gaps (PP-OCR drops some between words);
- `read_region + Tesseract line spacing`: that, taking Tesseract line-mode's spaces when both read the
  same characters (with_spacing_of); its time includes the Tesseract read;
- `rapidocr det+rec` / `rapidocr rec-only` (only when `rapidocr_onnxruntime` imports): the same models
  through RapidOCR 1.4.4's own OpenCV pipeline (det sized for crops, no angle classifier).
All outputs are NFKC-normalised (PP-OCR's Chinese+English model can emit full-width punctuation) and
whitespace-collapsed before comparison. Exact = equal strings; CER = edit distance / truth length.
Model load time and memory are measured in a fresh subprocess per recognizer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from handprint.data import Crop, available_fonts, generated_crops, travel_crops  # noqa: E402
from machine_info import machine  # noqa: E402
from PIL import Image  # noqa: E402

from engine.ocr import default_engine  # noqa: E402
from engine.ocr.base import OcrWord  # noqa: E402
from engine.ocr.tesseract import TesseractOcr  # noqa: E402

Reader = Callable[[Image.Image], str]


# ---------------------------------------------------------------- recognizers

def _join_words(words: list[OcrWord]) -> str:
    return " ".join(w.text for w in words)


def tesseract_page() -> Reader:
    eng = default_engine()
    return lambda img: _join_words(eng.recognize(img))


def tesseract_line() -> Reader:
    eng = TesseractOcr(psm=7)
    return lambda img: _join_words(eng.recognize(img))


def ppocr_det_rec() -> Reader:
    from engine.ocr import ppocr

    return lambda img: " ".join(line.text for line in ppocr.read_lines(img))


def ppocr_rec_only() -> Reader:
    from engine.ocr import ppocr

    return lambda img: ppocr.recognize([np.asarray(img.convert("L"))])[0][0]


def _rapid():  # type: ignore[no-untyped-def]
    from rapidocr_onnxruntime import RapidOCR

    # Detection sized for a field crop: the default ("min" side 736) blows a 60-px-high crop up to 736 px
    # high, which took ~4 s per crop and cut words apart.
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, use_cls=False,
                    det_limit_type="max", det_limit_side_len=960)


def rapid_det_rec() -> Reader:
    eng = _rapid()

    def read(img: Image.Image) -> str:
        res, _ = eng(np.asarray(img.convert("RGB"))[:, :, ::-1], use_det=True, use_cls=False)
        return " ".join(r[1] for r in res or [])
    return read


def rapid_rec_only() -> Reader:
    eng = _rapid()

    def read(img: Image.Image) -> str:
        res, _ = eng(np.asarray(img.convert("RGB"))[:, :, ::-1], use_det=False, use_cls=False)
        return " ".join(r[0] for r in res or [])
    return read


def rapid_region() -> Reader:
    from engine.ocr.rapid_region import read_region

    return lambda img: read_region(img)[0]


def rapid_region_spaced() -> Reader:
    from engine.ocr.rapid_region import read_region, with_spacing_of

    line = tesseract_line()
    return lambda img: with_spacing_of(read_region(img)[0], line(img))


def gated(below: float) -> Callable[[], Reader]:
    """What the engine does at analysis (engine/custom/reread.py, REREAD_BELOW): Tesseract's reading when
    every word is read with confidence >= `below`, else read_region with Tesseract's spacing."""
    def make() -> Reader:
        from engine.ocr.rapid_region import read_region, with_spacing_of

        eng = default_engine()

        def read(img: Image.Image) -> str:
            words = eng.recognize(img)
            text = _join_words(words)
            if words and min(w.confidence for w in words) >= below:
                return text
            return with_spacing_of(read_region(img)[0], text) or text
        return read
    return make


RECOGNIZERS: dict[str, Callable[[], Reader]] = {
    "tesseract page-mode": tesseract_page,
    "tesseract line-mode": tesseract_line,
    "ppocr det+rec": ppocr_det_rec,
    "ppocr rec-only": ppocr_rec_only,
    "rapid_region.read_region": rapid_region,
    "read_region + Tesseract line spacing": rapid_region_spaced,
    "engine: Tesseract if confident >= 0.90, else read_region": gated(0.90),
    "rapidocr det+rec": rapid_det_rec,
    "rapidocr rec-only": rapid_rec_only,
}
BASELINE = "tesseract page-mode"


def usable(name: str) -> bool:
    """Tesseract always; the PP-OCRv4 rows when the models are installed; RapidOCR's own pipeline only when
    the package imports (it needs OpenCV, pyclipper and shapely, which the engine does not install)."""
    if name.startswith("tesseract"):
        return True
    from engine.ocr import ppocr

    if not ppocr.available():
        return False
    if not name.startswith("rapidocr"):
        return True
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except Exception:  # ImportError, or a broken optional dependency
        return False
    return True


# ---------------------------------------------------------------- scoring

def clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass
class Score:
    n: int = 0
    exact: int = 0
    exact_nospace: int = 0
    errors: int = 0
    chars: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, truth: str, got: str, seconds: float) -> None:
        t, g = clean(truth), clean(got)
        self.n += 1
        self.exact += t == g
        self.exact_nospace += t.replace(" ", "") == g.replace(" ", "")
        self.errors += edit_distance(t, g)
        self.chars += len(t)
        self.seconds.append(seconds)

    @property
    def cer(self) -> float:
        return self.errors / max(1, self.chars)

    def pct(self, k: int) -> str:
        return f"{100 * k / max(1, self.n):.1f}%"


# ---------------------------------------------------------------- load time / memory probe (subprocess)

def probe(name: str) -> dict[str, float]:
    """Run in a fresh process: time to build the recognizer and read one crop, resident memory."""
    import psutil

    proc = psutil.Process()
    crop = travel_crops((300,))[0].image
    rss0 = proc.memory_info().rss
    t0 = time.perf_counter()
    reader = RECOGNIZERS[name]()
    t1 = time.perf_counter()
    reader(crop)  # Tesseract loads its model on the first read
    t2 = time.perf_counter()
    reader(crop)
    t3 = time.perf_counter()
    return {"build_s": t1 - t0, "first_read_s": t2 - t1, "second_read_s": t3 - t2,
            "rss_added_mb": (proc.memory_info().rss - rss0) / 2**20,
            "peak_rss_mb": _vm_hwm_mb(),
            "base_rss_mb": rss0 / 2**20}


def _vm_hwm_mb() -> float:
    """This process's peak resident memory (VmHWM is per process, unlike ru_maxrss which survives exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_probe(name: str) -> dict[str, float] | None:
    out = subprocess.run([sys.executable, __file__, "--probe", name], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    if out.returncode != 0:
        print(f"probe {name} failed: {out.stderr[-500:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- page-time reference

def page_seconds(reps: int) -> tuple[float, int]:
    """The engine's Tesseract pass over a whole 300-dpi travel form (the per-page cost a field reader adds
    to), and how many value regions that page has."""
    import pypdfium2 as pdfium
    from handprint.data import TRAVEL_DIR, _values

    doc = pdfium.PdfDocument(TRAVEL_DIR / "test-form.pdf")
    page = doc[0]
    img = page.render(scale=300 / 72, grayscale=True).to_pil().convert("L")
    n_fields = len(_values(page))
    doc.close()
    eng = default_engine()
    eng.recognize(img)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        eng.recognize(img)
        times.append(time.perf_counter() - t)
    return statistics.median(times), n_fields


# ---------------------------------------------------------------- main

def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 values per font and kind instead of 8")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--only", help="comma-separated recognizer names (default: all available)")
    ap.add_argument("--show-errors", type=int, default=0, help="print N misread values per recognizer")
    args = ap.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0

    names = [n for n in RECOGNIZERS if usable(n)]
    if args.only:
        names = [n for n in names if n == BASELINE or n in args.only.split(",")]
    per = 2 if args.quick else 8
    crops: list[Crop] = travel_crops() + list(generated_crops(per))
    fonts, missing = available_fonts()

    readers = {n: RECOGNIZERS[n]() for n in names}
    for r in readers.values():  # warm up (model loads are measured separately)
        r(crops[0].image)

    total: dict[str, Score] = defaultdict(Score)
    by_set: dict[tuple[str, str], Score] = defaultdict(Score)
    by_group: dict[tuple[str, str], Score] = defaultdict(Score)
    errors: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for c in crops:
        subset = "travel forms (typed + 2 script signatures)" if c.source == "travel" else (
            "generated cursive" if c.style == "cursive" else "generated hand-printed")
        for n, read in readers.items():
            t = time.perf_counter()
            got = read(c.image)
            dt = time.perf_counter() - t
            for s in (total[n], by_set[(subset, n)], by_group[(f"{c.source}:{c.group}", n)]):
                s.add(c.truth, got, dt)
            if clean(got) != clean(c.truth):
                errors[n].append((c.truth, got))

    base_ms = statistics.mean(total[BASELINE].seconds) * 1000
    page_s, n_fields = page_seconds(1 if args.quick else 3)
    print(f"# Hand-printed field values ({'quick' if args.quick else 'full'})\n")
    print(f"Machine: {machine()}; onnxruntime and Tesseract 1 thread each.")
    print(f"Crops: {len(crops)} ({sum(c.source == 'travel' for c in crops)} travel-form values, "
          f"{sum(c.source == 'generated' for c in crops)} generated in {len(fonts)} fonts"
          + (f"; fonts not installed, skipped: {', '.join(missing)}" if missing else "") + ")\n")

    print("| recognizer | exact | exact ignoring spaces | CER | ms/crop mean | median | x Tesseract |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in names:
        s = total[n]
        ms = statistics.mean(s.seconds) * 1000
        print(f"| {n} | {s.pct(s.exact)} | {s.pct(s.exact_nospace)} | {100 * s.cer:.1f}% | {ms:.1f} | "
              f"{statistics.median(s.seconds) * 1000:.1f} | {ms / base_ms:.2f} |")

    subsets = sorted({k[0] for k in by_set})
    print("\nExact match / CER by subset:\n")
    print("| subset | n | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for sub in subsets:
        cells = [f"{by_set[(sub, n)].pct(by_set[(sub, n)].exact)} / {100 * by_set[(sub, n)].cer:.1f}%"
                 for n in names]
        print(f"| {sub} | {by_set[(sub, names[0])].n} | " + " | ".join(cells) + " |")

    groups = sorted({k[0] for k in by_group})
    print("\nExact match by font (travel forms) and value kind (generated):\n")
    print("| group | n | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for g in groups:
        print(f"| {g} | {by_group[(g, names[0])].n} | "
              + " | ".join(by_group[(g, n)].pct(by_group[(g, n)].exact) for n in names) + " |")

    print(f"\nPer page: the engine's Tesseract pass over a 300-dpi travel form takes {page_s:.2f} s; "
          f"re-reading its {n_fields} value regions would add:\n")
    print("| recognizer | added s/page | page time x |")
    print("|---|---:|---:|")
    for n in names:
        add = statistics.mean(total[n].seconds) * n_fields
        print(f"| {n} | {add:.2f} | {(page_s + add) / page_s:.2f} |")

    print("\nModel load and memory (fresh process each; RSS added by building the reader and two reads):\n")
    print("| recognizer | build s | first read s | RSS added MB | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for n in names:
        p = run_probe(n)
        if p:
            print(f"| {n} | {p['build_s']:.2f} | {p['first_read_s']:.2f} | {p['rss_added_mb']:.0f} | "
                  f"{p['peak_rss_mb']:.0f} |")

    if args.show_errors:
        for n in names:
            print(f"\nMisreads, {n} (first {args.show_errors}):")
            for truth, got in errors[n][: args.show_errors]:
                print(f"  {truth!r} -> {clean(got)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
