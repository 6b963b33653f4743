"""Data and Layout runs for `bench/bench_real.py`: real documents, their scans, and two engines side by side.

- `layout_results(which, paths)`: the Layout result of each file by the engine `which` ("before" = the
  engine at commit `BEFORE_COMMIT`, extracted with `git archive`; "after" = the working tree), computed in a
  subprocess whose `sys.path` starts with that engine's folder and cached under `bench/out/real-cache/`
  by the engine's code fingerprint and the file's content hash.
- data sets: labeled fillable PDFs, their renderings as noisy 200-dpi scans, hand-printed forms rendered to
  images with labels taken from their text layer, and labels written from form fields where a set has none.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CACHE = OUT / "real-cache"
DATA = OUT / "real-data"
SHARED = ROOT.parent / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")
BEFORE_COMMIT = "844fe46"
SCAN_DPI = 200

_WORKER = r"""
import json, sys
from engine.layout.documents import validate_document
from engine.layout.analyze import analyze_layout
for src, dst in json.load(sys.stdin):
    data = open(src, "rb").read()
    try:
        info = validate_document(data, None)
        result = analyze_layout(data, info.content_type)
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    with open(dst, "w") as fh:
        json.dump(result, fh)
    print("read", src, file=sys.stderr, flush=True)
"""


@dataclass
class LabeledDoc:
    """One document with labels: the file the engines read, its labels and (optional) a given OCR file."""

    name: str
    path: Path
    labels: dict[str, Any]
    given_ocr: Path | None = None


@dataclass
class DocSet:
    name: str
    kind: str
    docs: list[LabeledDoc]
    field_types: dict[str, str]
    note: str = ""
    digital_twin: str | None = None  # the set this one is a scan of
    extra: dict[str, Any] = field(default_factory=dict)


# -- the two engines ------------------------------------------------------------------------------
def engine_root(which: str) -> Path:
    """The folder whose `engine/` package is run: the working tree, or the old commit extracted once."""
    if which == "after":
        return ROOT
    dest = OUT / f"engine-{BEFORE_COMMIT}"
    if not (dest / "engine" / "layout.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        tar = subprocess.run(["git", "archive", BEFORE_COMMIT, "engine"], cwd=ROOT, check=True,
                             capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
            tf.extractall(dest, filter="data")
    return dest


@functools.cache
def fingerprint(which: str) -> str:
    """Hash of every source file of that engine plus the Tesseract build it would load."""
    root = engine_root(which)
    h = hashlib.sha256(which.encode())
    for f in sorted((root / "engine").rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    try:
        import tesserocr

        h.update(str(tesserocr.tesseract_version()).encode())
    except Exception:
        pass
    return h.hexdigest()[:12]


def _file_key(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def layout_results(which: str, paths: list[Path]) -> dict[Path, dict[str, Any]]:
    """{path: analyzeResult (or {"error": ...})} by engine `which`; missing ones read in one subprocess."""
    folder = CACHE / f"{which}-{fingerprint(which)}"
    folder.mkdir(parents=True, exist_ok=True)
    targets = {p: folder / f"{p.stem}.{_file_key(p)}.json" for p in paths}
    todo = [(str(p), str(t)) for p, t in targets.items() if not t.exists()]
    if todo:
        root = engine_root(which)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(root)}
        print(f"  reading {len(todo)} file(s) with the {which} engine ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-c", _WORKER], input=json.dumps(todo), text=True, cwd=root,
                       env=env, check=True, stdout=subprocess.DEVNULL)
    return {p: json.loads(t.read_text()) for p, t in targets.items()}


# -- data sets -----------------------------------------------------------------------------------
def _read_set(folder: Path, kind: str, name: str, label_dir: Path | None = None,
              pattern: str = "*.pdf") -> DocSet | None:
    label_dir = label_dir or folder
    if not (label_dir / "fields.json").exists():
        return None
    from engine.custom.labels import parse_fields

    docs = []
    for doc in sorted(folder.glob(pattern)):
        lab = label_dir / f"{doc.name}.labels.json"
        if lab.exists():
            ocr = folder / f"{doc.name}.ocr.json"
            docs.append(LabeledDoc(doc.name, doc, json.loads(lab.read_text()), ocr if ocr.exists() else None))
    ft = parse_fields(json.loads((label_dir / "fields.json").read_text()))
    return DocSet(name, kind, docs, ft)


def fillable_sets() -> list[DocSet]:
    """job-application and irs-1040 (tests/data), arizona-140 (shared, labeled from its fields here)."""
    sets = [s for s in (_read_set(ROOT / "tests" / "data" / "job-application", "fillable", "job-application"),
                        _read_set(ROOT / "tests" / "data" / "irs-1040", "fillable", "irs-1040")) if s]
    az = SHARED / "fillable-forms" / "arizona-140"
    if az.exists():
        out = DATA / "arizona-140"
        if not (out / "fields.json").exists():
            sys.path.insert(0, str(ROOT / "scripts"))
            from write_fillable_labels import write_labels

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                write_labels(az, out, None, "*_return.pdf")
        s = _read_set(az, "fillable", "arizona-140", label_dir=out, pattern="*_return.pdf")
        if s:
            s.note = "labels written from every form field (scripts/write_fillable_labels.py --all)"
            sets.append(s)
    return sets


def render_scan(pdf: Path, dest: Path, seed: int, dpi: int = SCAN_DPI, forms: bool = True) -> Path:
    """The PDF as a scanner would see it: fields drawn, grey, light noise and a slight blur, TIFF/PNG."""
    if dest.exists():
        return dest
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = pdfium.PdfDocument(str(pdf))
        if forms:
            doc.init_forms()
    frames = []
    try:
        for i in range(len(doc)):
            img = doc[i].render(scale=dpi / 72.0, may_draw_forms=forms, grayscale=True).to_pil()
            img = img.filter(ImageFilter.GaussianBlur(0.6))
            arr = np.asarray(img, dtype=np.float32) + rng.normal(0.0, 8.0, (img.height, img.width))
            frames.append(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)))
    finally:
        doc.close()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if len(frames) == 1:
        frames[0].save(dest, "PNG", dpi=(dpi, dpi))
    else:
        frames[0].save(dest, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate",
                       dpi=(dpi, dpi))
    return dest


def scan_set(digital: DocSet) -> DocSet:
    """The digital set rendered (fields drawn) at 200 dpi with light noise; same labels, new names."""
    out = DATA / f"scan-{digital.name}"
    docs = []
    for i, d in enumerate(digital.docs):
        pages = int(max(v["page"] for lab in d.labels["labels"] for v in lab["value"]) if any(
            lab["value"] for lab in d.labels["labels"]) else 1)
        suffix = ".png" if pages == 1 and _page_count(d.path) == 1 else ".tif"
        dest = render_scan(d.path, out / (Path(d.name).stem + suffix), seed=i)
        labels = {**d.labels, "document": dest.name}
        docs.append(LabeledDoc(dest.name, dest, labels))
    return DocSet(f"{digital.name} (scan)", "scan", docs, digital.field_types, digital_twin=digital.name)


def _page_count(pdf: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


# -- hand-printed: labels from the text layer ------------------------------------------------------
def _pdf_words(pdf: Path) -> tuple[float, float, list[tuple[str, float, float, float, float]]]:
    """(width, height, [(text, x0, top, x1, bottom) points, y down]) of page 1's text layer."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        page = doc[0]
        w, h = page.get_size()
        tp = page.get_textpage()
        words: list[tuple[str, float, float, float, float]] = []
        cur: list[Any] = []
        for i in range(tp.count_chars()):
            ch = tp.get_text_range(i, 1)
            if not ch or ch.isspace():
                if cur:
                    words.append(_word(cur, h))
                    cur = []
                continue
            left, bottom, right, top = tp.get_charbox(i)
            if cur and left - cur[-1][3] > 0.6 * (top - bottom):
                words.append(_word(cur, h))
                cur = []
            cur.append((ch, left, bottom, right, top))
        if cur:
            words.append(_word(cur, h))
        return w, h, words
    finally:
        doc.close()


def _word(chars: list[Any], h: float) -> tuple[str, float, float, float, float]:
    return ("".join(c[0] for c in chars), min(c[1] for c in chars), h - max(c[4] for c in chars),
            max(c[3] for c in chars), h - min(c[2] for c in chars))


def handprint_set() -> DocSet | None:
    """Travel-insurance applications: the words one form has and the others lack at that place are the
    values (names, dates, signature); each row of them is a field named after the printed text left of
    it (or above). Rendered at 200 dpi so the OCR path has to read the handwriting-like fonts."""
    folder = SHARED / "digital-forms" / "travel-insurance"
    pdfs = sorted(folder.glob("*.pdf"))
    if len(pdfs) < 3:
        return None
    read = {p: _pdf_words(p) for p in pdfs}

    def printed(word: tuple[str, float, float, float, float], others: list[Path]) -> bool:
        return all(any(o[0] == word[0] and abs(o[1] - word[1]) < 4 and abs(o[2] - word[2]) < 4
                       for o in read[p][2]) for p in others)

    docs, names = [], set()
    out = DATA / "travel-insurance"
    for i, p in enumerate(pdfs):
        w, h, words = read[p]
        others = [q for q in pdfs if q != p]
        keys = [x for x in words if printed(x, others)]
        values = [x for x in words if not printed(x, others)]
        rows: list[list[tuple[str, float, float, float, float]]] = []
        for v in sorted(values, key=lambda x: (round(x[2] / 4), x[1])):
            last = rows[-1][-1] if rows else None
            if last and abs(last[2] - v[2]) < 4 and v[1] - last[3] < 3 * (v[4] - v[2]):
                rows[-1].append(v)
            else:
                rows.append([v])
        labels = []
        for row in rows:
            top, bottom = min(x[2] for x in row), max(x[4] for x in row)
            left = [k for k in keys if k[3] <= row[0][1] + 1 and k[2] < bottom and k[4] > top]
            if left:
                near = max(left, key=lambda k: k[3])
                line = [k for k in left if abs(k[2] - near[2]) < 3 and near[1] - k[3] < 40]
                name = " ".join(k[0] for k in sorted(line, key=lambda k: k[1])).strip(" :")
            else:
                above = [k for k in keys if k[4] <= top + 1 and k[1] < row[-1][3] and k[3] > row[0][1] - 20]
                name = max(above, key=lambda k: k[4])[0].strip(" :") if above else f"row {round(top)}"
            base, n = name, 2
            while name in {lab["label"] for lab in labels}:
                name, n = f"{base} {n}", n + 1
            pad = 1.0
            labels.append({"label": name, "key": None, "value": [
                {"page": 1, "text": x[0], "boundingBoxes": [[v for pt in (
                    ((x[1] - pad) / w, (x[2] - pad) / h), ((x[3] + pad) / w, (x[2] - pad) / h),
                    ((x[3] + pad) / w, (x[4] + pad) / h), ((x[1] - pad) / w, (x[4] + pad) / h)) for v in pt]]}
                for x in row]})
            names.add(name)
        dest = render_scan(p, out / (p.stem + ".png"), seed=100 + i, forms=False)
        docs.append(LabeledDoc(dest.name, dest, {"document": dest.name, "labels": labels}))
    return DocSet("travel-insurance (rendered)", "handprint", docs, {n: "string" for n in sorted(names)},
                  note="values in Courier/Comic Sans/handwriting fonts; labels from the text layer")


def formgen_sets(n: int) -> tuple[list[DocSet], list[str]]:
    """Generated registration forms with image/glyph check boxes and the fillable-scan kind, where the
    form generator supports them; otherwise a message saying what is missing."""
    import inspect

    from engine.custom.labels import parse_fields
    from formgen.generate import generate

    sets: list[DocSet] = []
    missing: list[str] = []
    params = inspect.signature(generate).parameters
    variants: list[tuple[str, str, dict[str, Any]]] = []
    if "mark_style" in params:
        variants += [("marks", f"registration, {s} check boxes", {"kind": "pdf", "mark_style": s})
                     for s in ("image", "glyph")]
    else:
        missing.append("formgen.generate has no `mark_style` yet: no generated image/glyph check boxes")
    variants += [("scan", "registration, fillable-scan", {"kind": "fillable-scan"}),
                 ("fillable", "registration, fillable", {"kind": "fillable"})]
    for kind, title, kwargs in variants:
        out = DATA / "formgen" / title.replace(", ", "-").replace(" ", "_")
        try:
            # Always written again (deterministic, a second): forms left from older generator code would
            # measure that code's output (they once kept a generator bug's check boxes).
            generate("registration", n, out, seed=11, **kwargs)
        except (ValueError, TypeError) as exc:
            missing.append(f"formgen {kwargs}: {exc}")
            continue
        ft = parse_fields(json.loads((out / "fields.json").read_text()))
        docs = []
        for lab in sorted(out.glob("*.labels.json"))[:n]:
            doc = Path(str(lab)[: -len(".labels.json")])
            docs.append(LabeledDoc(doc.name, doc, json.loads(lab.read_text())))
        sets.append(DocSet(title, kind, docs, ft))
    return sets, missing
