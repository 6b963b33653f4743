"""Layout engine benchmark, each number side by side with a baseline measured in the same run.

Run: `.venv/bin/python bench/bench_layout.py [--quick]`. Prints a markdown table.

1. Digital PDF: pages/s on one core through the engine's Layout (PDFium text layer), against
   pdfplumber's `extract_words` on the same pages (the obvious pure-Python way).
2. A 300-dpi scanned letter page: the engine's full Layout (decode, rule erasing, Tesseract, lines,
   selection marks) against plain `pytesseract.image_to_data` on the same image. Target overhead ≤ 10 %.
   Also the engine without the accent-restoring second pass, to show what that pass costs.
3. Peak RSS of a child process that lays out a 200-page digital PDF, against the same child that only
   imports the engine. Target ≤ 400 MB. And the same child after OCR of a scan with accented names,
   i.e. with the `eng`, and `Latin` models loaded in-process.
4. Word match with the cloud's `.ocr.json` on the 5 purchase orders (case and punctuation normalised),
   engine against plain Tesseract.
5. Fillable PDFs (the job applications and tax returns in tests/data): pages per CPU second through the
   engine's Layout, which reads every form field, against the same pages flattened beforehand (a plain
   digital PDF with the same drawing, read from its text layer only): the cost of reading the fields.
   Target ≥ 50 pages/s per core. Generated fillable forms too. And the peak RSS of a child laying the real
   ones out ten times.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# One Tesseract thread for engine and baseline alike: OpenMP spin-waiting on a shared machine otherwise
# adds +-15 % noise to CPU and wall times.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ENGINE_LAYOUT_CACHE_ENTRIES", "0")  # time every read, not the cache

import pdfplumber  # noqa: E402
import pytesseract  # noqa: E402
from machine_info import machine  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from reportlab.lib.pagesizes import letter  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

import engine.ocr  # noqa: E402
from engine.layout.analyze import analyze_layout  # noqa: E402
from engine.ocr import TesseractOcr  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PO_DIR = ROOT / "tests" / "data" / "purchase-orders"


def form_pdf(pages: int) -> bytes:
    """A dense form-like page: a heading, 40 two-column rows, a check box."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    for p in range(pages):
        c.setFont("Helvetica-Bold", 16)
        c.drawString(72, 740, f"Purchase Order {p + 1}")
        c.setFont("Helvetica", 10)
        for i in range(40):
            c.drawString(72, 700 - i * 15, f"Item {i} description of the goods")
            c.drawString(350, 700 - i * 15, f"Qty {i}   Price ${i * 3}.50")
        c.rect(72, 60, 8, 8)
        c.showPage()
    c.save()
    return buf.getvalue()


def scanned_page() -> Image.Image:
    """A 300-dpi letter page (2550x3300) with 36 lines of text, a table grid and two check boxes."""
    img = Image.new("L", (2550, 3300), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 42)
    d.text((200, 200), "Purchase Order 948284 Hero Limited", font=font, fill=0)
    for i in range(30):
        y = 360 + i * 80
        d.text((200, y), f"Line item {i} delivered to Boulder City", font=font, fill=0)
        d.text((1500, y), f"{i * 7}.50 USD", font=font, fill=0)
    d.rectangle((180, 2900, 2350, 3100), outline=0, width=4)
    d.line((1300, 2900, 1300, 3100), fill=0, width=4)
    d.text((220, 2970), "Subtotal", font=font, fill=0)
    d.text((1340, 2970), "$140.00", font=font, fill=0)
    for x, checked in ((2000, True), (2100, False)):
        d.rectangle((x, 210, x + 50, 260), outline=0, width=4)
        if checked:
            d.line((x + 10, 220, x + 40, 250), fill=0, width=5)
    return img


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Tesseract runs as a child)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed_both(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median wall seconds and median CPU seconds (the latter barely moves on a busy shared machine)."""
    walls, cpus = [], []
    for _ in range(repeat):
        c, t = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return statistics.median(walls), statistics.median(cpus)


def bench_pdf(pages: int) -> tuple[float, float, float, float]:
    data = form_pdf(pages)
    analyze_layout(data, "application/pdf", pages=[1])  # warm-up
    engine_s, engine_cpu = timed_both(lambda: analyze_layout(data, "application/pdf"), 3)
    base_pages = min(pages, 10)

    def plumber() -> None:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages[:base_pages]:
                page.extract_words()
                page.close()

    base_s, base_cpu = timed_both(plumber, 1)
    return pages / engine_s, base_pages / base_s, pages / engine_cpu, base_pages / base_cpu


def bench_scan(repeat: int) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(engine, engine without accent restoration, plain pytesseract) as (wall, CPU) medians."""
    img = scanned_page()
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    png = buf.getvalue()
    decoded = Image.open(io.BytesIO(png))
    decoded.load()
    no_restore = TesseractOcr(restore_accents=False)

    def without_restoration() -> None:
        default = engine.ocr.default_engine()
        engine.ocr._default = no_restore  # the process-wide recognizer, swapped for this call only
        try:
            analyze_layout(png, "image/png")
        finally:
            engine.ocr._default = default

    analyze_layout(png, "image/png")  # warm-up: in-process models load once per thread
    without_restoration()
    full = timed_both(lambda: analyze_layout(png, "image/png"), repeat)
    plain_engine = timed_both(without_restoration, repeat)
    base = timed_both(lambda: pytesseract.image_to_data(decoded, output_type=pytesseract.Output.DICT), repeat)
    return full, plain_engine, base


def accented_scan_png() -> bytes:
    """A 300-dpi half page of names with accents, so the Latin model is loaded and used."""
    img = Image.new("L", (2550, 1200), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 42)
    for i, text in enumerate(("Ship to: Liam García, 12 Oak Street", "Contact: Ben Müller, Zoë Brontë",
                              "Approved by: José Núñez on 2024-03-08")):
        d.text((200, 200 + i * 120), text, font=font, fill=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from engine.layout.analyze import analyze_layout
data = open({path!r}, 'rb').read() if {run} else b''
if {run}:
    t = time.perf_counter(); r = analyze_layout(data, 'application/pdf'); dt = time.perf_counter() - t
    assert len(r['readResults']) == {pages}
else:
    dt = 0.0
# VmHWM, not ru_maxrss: the latter keeps the forking parent's size across exec.
hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
print(int(hwm) / 1024, dt)
"""


SCAN_CHILD = """
import sys
sys.path.insert(0, {root!r})
from engine.layout.analyze import analyze_layout
r = analyze_layout(open({path!r}, 'rb').read(), 'image/png')
words = [w['text'] for p in r['readResults'] for ln in p['lines'] for w in ln['words']]
hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
print(int(hwm) / 1024, int('García,' in words or 'García' in words))
"""


def bench_scan_memory() -> tuple[float, bool]:
    """Peak RSS of a child that OCRs one accented scan (eng + Latin loaded), and whether it read `García`."""
    path = ROOT / "bench" / "out" / "layout-accented.png"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(accented_scan_png())
    code = SCAN_CHILD.format(root=str(ROOT), path=str(path))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    path.unlink()
    rss, found = res.stdout.split()
    return float(rss), found == "1"


def bench_memory(pages: int) -> tuple[float, float, float]:
    path = ROOT / "bench" / "out" / f"layout-{pages}p.pdf"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(form_pdf(pages))
    out = []
    for run in (True, False):
        code = CHILD.format(root=str(ROOT), path=str(path), pages=pages, run=run)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append([float(v) for v in res.stdout.split()])
    path.unlink()
    return out[0][0], out[1][0], out[0][1]


FILLABLE = {"job applications (Word-made, 50 fields)": ROOT / "tests" / "data" / "job-application",
            "tax returns (dense, 2 pages, ~120 fields)": ROOT / "tests" / "data" / "irs-1040"}


def fillable_sets() -> dict[str, list[bytes]]:
    """The real fillable PDFs of tests/data and generated ones (registration and tax forms, formgen)."""
    from formgen import generate

    sets = {name: [f.read_bytes() for f in sorted(d.glob("*.pdf"))] for name, d in FILLABLE.items()}
    out = ROOT / "bench" / "out" / "layout-fillable"
    generated = [f.path for layout in ("registration", "tax_form")
                 for f in generate(layout, 3, out / layout, seed=1, kind="fillable")]
    sets["generated (formgen registration, tax form)"] = [p.read_bytes() for p in generated]
    return sets


def flattened_copy(data: bytes) -> bytes:
    """The same document with every widget drawn into its pages and no form left: the baseline."""
    import logging

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    logging.getLogger("pypdfium2").setLevel(logging.ERROR)  # "no XFA support": expected
    doc = pdfium.PdfDocument(data)
    doc.init_forms()
    for i in range(len(doc)):
        page = doc[i]
        pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY)
        page.close()
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def bench_fillable(repeat: int) -> list[tuple[str, int, float, float]]:
    """Per set: (name, pages, engine pages per CPU second, baseline pages per CPU second), medians."""
    rows = []
    for name, files in fillable_sets().items():
        flat = [flattened_copy(d) for d in files]
        pages = sum(len(analyze_layout(d, "application/pdf")["readResults"]) for d in files)  # + warm-up
        for d in flat:
            analyze_layout(d, "application/pdf")
        _w, engine_cpu = timed_both(lambda docs=files: [analyze_layout(d, "application/pdf") for d in docs],
                                    repeat)
        _w, base_cpu = timed_both(lambda docs=flat: [analyze_layout(d, "application/pdf") for d in docs],
                                  repeat)
        rows.append((name, pages, pages / engine_cpu, pages / base_cpu))
    return rows


FILLABLE_CHILD = """
import sys, pathlib
sys.path.insert(0, {root!r})
from engine.layout.analyze import analyze_layout
files = [p.read_bytes() for d in ("job-application", "irs-1040")
         for p in sorted((pathlib.Path({root!r}) / "tests" / "data" / d).glob("*.pdf"))]
for _ in range(10 if {run} else 0):
    for d in files:
        analyze_layout(d, "application/pdf")
# VmHWM, not ru_maxrss: the latter keeps the high-water mark of the process before exec (the benchmark).
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(int(hwm.split()[1]) / 1024)
"""


def bench_fillable_memory() -> tuple[float, float]:
    """Peak RSS MB of a child laying out the real fillable files ten times, and of one only loading them."""
    out = []
    for run in (True, False):
        code = FILLABLE_CHILD.format(root=str(ROOT), run=run)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(float(res.stdout.split()[-1]))
    return out[0], out[1]


def _norm(words: list[str]) -> list[str]:
    return [n for n in (re.sub(r"[^\w]", "", w.lower()) for w in words) if n]


def _match(cloud: list[str], ours: list[str]) -> tuple[int, int, int]:
    return sum((Counter(cloud) & Counter(ours)).values()), len(cloud), len(ours)


def bench_words(limit: int) -> tuple[tuple[float, float], tuple[float, float]]:
    eng = [0, 0, 0]
    base = [0, 0, 0]
    for form in sorted(PO_DIR.glob("Form_*.jpg"))[:limit]:
        cloud_res = json.loads(form.with_name(form.name + ".ocr.json").read_text())["analyzeResult"]
        cloud = _norm([w["text"] for p in cloud_res["readResults"] for ln in p["lines"] for w in ln["words"]])
        res = analyze_layout(form.read_bytes(), "image/jpeg")
        ours = _norm([w["text"] for p in res["readResults"] for ln in p["lines"] for w in ln["words"]])
        data = pytesseract.image_to_data(Image.open(form), output_type=pytesseract.Output.DICT)
        plain = _norm(data["text"])
        for acc, words in ((eng, ours), (base, plain)):
            for i, v in enumerate(_match(cloud, words)):
                acc[i] += v
    return (eng[0] / eng[1], eng[0] / eng[2]), (base[0] / base[1], base[0] / base[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller inputs, one repeat")
    a = ap.parse_args()
    pdf_pages, repeat, forms = (20, 1, 2) if a.quick else (100, 5, 5)

    pdf_rate, plumber_rate, pdf_cpu_rate, plumber_cpu_rate = bench_pdf(pdf_pages)
    scan_engine, scan_plain, scan_base = bench_scan(repeat)
    rss, rss_base, mem_s = bench_memory(200)
    scan_rss, accents_read = bench_scan_memory()
    (rec, prec), (brec, bprec) = bench_words(forms)
    fillable = bench_fillable(repeat)
    fill_rss, fill_rss_base = bench_fillable_memory()
    (scan_wall, scan_cpu), (base_wall, base_cpu) = scan_engine, scan_base
    plain_wall, plain_cpu = scan_plain

    print(f"## Layout engine benchmark\n\nMachine: {machine()}\n")
    print("| measure | engine | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| digital PDF, pages/s on one core ({pdf_pages} dense form pages) | {pdf_rate:.1f} | "
          f"{plumber_rate:.1f} (pdfplumber extract_words) | {pdf_rate / plumber_rate:.1f}x | ≥ 50 |")
    print(f"| digital PDF, pages per CPU second | {pdf_cpu_rate:.1f} | {plumber_cpu_rate:.1f} "
          f"(pdfplumber extract_words) | {pdf_cpu_rate / plumber_cpu_rate:.1f}x | ≥ 50 |")
    print(f"| 300-dpi scanned page, CPU s incl. Tesseract (median of {repeat}) | {scan_cpu:.2f} | "
          f"{base_cpu:.2f} (pytesseract.image_to_data) | overhead {(scan_cpu / base_cpu - 1) * 100:+.1f} % "
          "| ≤ +10 % |")
    print(f"| 300-dpi scanned page, wall s (median of {repeat}) | {scan_wall:.2f} | {base_wall:.2f} "
          f"(pytesseract.image_to_data) | overhead {(scan_wall / base_wall - 1) * 100:+.1f} % | ≤ +10 % |")
    print(f"| 300-dpi scanned page without accent restoration, CPU s | {plain_cpu:.2f} | {base_cpu:.2f} "
          f"(pytesseract.image_to_data) | overhead {(plain_cpu / base_cpu - 1) * 100:+.1f} % | |")
    print(f"| 300-dpi scanned page without accent restoration, wall s | {plain_wall:.2f} | {base_wall:.2f} "
          f"(pytesseract.image_to_data) | overhead {(plain_wall / base_wall - 1) * 100:+.1f} % | |")
    print(f"| 200-page digital PDF, peak RSS MB | {rss:.0f} (in {mem_s:.1f} s) | {rss_base:.0f} "
          f"(imports only) | +{rss - rss_base:.0f} MB | ≤ 400 |")
    print(f"| accented scan (models loaded: eng, Latin), peak RSS MB | {scan_rss:.0f} "
          f"(read García: {'yes' if accents_read else 'no'}) | {rss_base:.0f} (imports only) | "
          f"+{scan_rss - rss_base:.0f} MB | |")
    print(f"| purchase orders ({forms}), word recall vs cloud | {rec * 100:.1f} % | {brec * 100:.1f} % "
          f"(plain Tesseract) | {rec / brec:.3f} | ≥ 95 % |")
    print(f"| purchase orders ({forms}), word precision vs cloud | {prec * 100:.1f} % | {bprec * 100:.1f} % "
          f"(plain Tesseract) | {prec / bprec:.3f} | |")
    for name, pages, rate, flat_rate in fillable:
        print(f"| fillable PDFs: {name}, {pages} pages, pages per CPU second | {rate:.1f} | {flat_rate:.1f} "
              f"(same pages flattened beforehand, text layer only) | {rate / flat_rate:.2f}x | ≥ 50 |")
    print(f"| fillable PDFs laid out 10 times, peak RSS MB | {fill_rss:.0f} | {fill_rss_base:.0f} "
          f"(files loaded only) | +{fill_rss - fill_rss_base:.0f} MB | as before |")


if __name__ == "__main__":
    main()
