"""Fields of real fillable PDFs read right, engine before and after issue 19 items 1-2, side by side.

Run: `.venv/bin/python bench/bench_fillable_fields.py [--before COMMIT]`. The forms are the real fillable
PDFs in ../shared/data/fillable-forms (job applications, IRS 1040s, Arizona 140s; the Arizona files stay
there) as they are, and the same files *orphaned*: an incremental update gives the AcroForm an empty
`/Fields` and `/NeedAppearances true`, so every widget lies outside the field tree and viewers draw each
value from `/V` (the kind of real PDF issue 19 item 1 saw read 0 of ~25 fields).

Truth per text field: its value, from PDFium's own view of the original file. A field is right when the
Layout's words whose centres lie in its widget, in reading order, are the value (whitespace folded; comb
fields compared without spaces). Check boxes are not counted here (bench_real.py measures them).
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "fillable-forms"
OUT = ROOT / "bench" / "out" / "fillable-fields"
SETS = {"job-application": "*.pdf", "irs-1040": "*.pdf", "arizona-140": "*_return.pdf"}

_WORKER = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from engine.layout.analyze import analyze_layout
out = {}
for path in json.load(sys.stdin):
    data = open(path, "rb").read()
    t = time.perf_counter()
    result = analyze_layout(data, "application/pdf")
    out[path] = {"seconds": time.perf_counter() - t, "pages": [
        [[[w["text"], w["boundingBox"]] for w in line["words"]] for line in page["lines"]]
        for page in result["readResults"]]}
print(json.dumps(out))
"""


# -- orphaning: an incremental update, written from pdfminer's view of the objects -----------------
def _pdf(obj: Any) -> bytes:
    from pdfminer.pdftypes import PDFObjRef
    from pdfminer.psparser import PSKeyword, PSLiteral

    if isinstance(obj, PDFObjRef):
        return b"%d 0 R" % obj.objid
    if isinstance(obj, PSLiteral):
        name = obj.name if isinstance(obj.name, str) else obj.name.decode("latin-1")
        return b"/" + name.encode("latin-1")
    if isinstance(obj, PSKeyword):
        return obj.name if isinstance(obj.name, bytes) else obj.name.encode()
    if isinstance(obj, bool):
        return b"true" if obj else b"false"
    if isinstance(obj, int | float):
        return str(obj).encode()
    if isinstance(obj, bytes | str):
        raw = obj if isinstance(obj, bytes) else obj.encode("latin-1")
        return b"<" + raw.hex().encode() + b">"
    if isinstance(obj, list):
        return b"[" + b" ".join(_pdf(x) for x in obj) + b"]"
    if isinstance(obj, dict):
        items = b"".join(b"/" + k.encode("latin-1") + b" " + _pdf(v) + b"\n" for k, v in obj.items())
        return b"<<" + items + b">>"
    if obj is None:
        return b"null"
    raise TypeError(type(obj))


def orphaned(src: Path) -> bytes:
    """`src` with an incremental update: AcroForm /Fields [] and /NeedAppearances true (widgets untouched)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    data = src.read_bytes()
    with open(src, "rb") as fh:
        doc = PDFDocument(PDFParser(fh))
        root_ref = doc.xrefs[-1].get_trailer()["Root"] if doc.xrefs else None
        root_ref = next((x.get_trailer()["Root"] for x in doc.xrefs if "Root" in x.get_trailer()), root_ref)
        catalog = dict(resolve1(root_ref))
        acro = dict(resolve1(catalog["AcroForm"]))
        size = max(max(x.get_objids()) for x in doc.xrefs) + 1
        startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    acro["Fields"] = []
    acro["NeedAppearances"] = True
    acro_id = size
    catalog["AcroForm"] = type(root_ref)(None, acro_id, 0)
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = {}
    for objid, obj in ((root_ref.objid, catalog), (acro_id, acro)):
        offsets[objid] = len(out)
        out += b"%d 0 obj\n" % objid + _pdf(obj) + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for objid in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (objid, offsets[objid])
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        acro_id + 1, root_ref.objid, startxref, xref)
    return bytes(out)


# -- truth: every text field's value and rectangle, from PDFium's view of the original ------------
def truth(path: Path) -> list[dict[str, Any]]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    sys.path.insert(0, str(ROOT))
    from engine.pdf.form import COMB_FLAG, _utf16

    fields = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = pdfium.PdfDocument(path)
        doc.init_forms()
        form = doc.formenv.raw
        for n in range(len(doc)):
            page = doc[n]
            _, _, _, top = page.get_mediabox()
            for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
                annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
                try:
                    if pdfium_c.FPDFAnnot_GetFormFieldType(form, annot) != pdfium_c.FPDF_FORMFIELD_TEXTFIELD:
                        continue
                    if pdfium_c.FPDFAnnot_GetFlags(annot) & pdfium_c.FPDF_ANNOT_FLAG_HIDDEN:
                        continue
                    value = _utf16(pdfium_c.FPDFAnnot_GetFormFieldValue, form, annot)
                    if not value.strip():
                        continue
                    r = pdfium_c.FS_RECTF()
                    pdfium_c.FPDFAnnot_GetRect(annot, ctypes.byref(r))
                    comb = bool(pdfium_c.FPDFAnnot_GetFormFieldFlags(form, annot) & COMB_FLAG)
                    box = (r.left / 72, (top - r.top) / 72, r.right / 72, (top - r.bottom) / 72)
                    fields.append({"page": n, "value": value, "comb": comb, "box": box})
                finally:
                    pdfium_c.FPDFPage_CloseAnnot(annot)
            page.close()
        doc.close()
    return fields


def right(field: dict[str, Any], pages: list[Any]) -> bool:
    x0, y0, x1, y1 = field["box"]
    got = []
    for line in pages[field["page"]]:
        for text, poly in line:
            cx, cy = sum(poly[0::2]) / 4, sum(poly[1::2]) / 4
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                got.append(text)
    want = " ".join(field["value"].split())
    have = " ".join(got)
    if field["comb"]:
        want, have = want.replace(" ", ""), have.replace(" ", "")
    return have == want


def read(root: Path, paths: list[Path]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(root), "ENGINE_LAYOUT_CACHE_ENTRIES": "0", "OMP_THREAD_LIMIT": "1"}
    run = subprocess.run([sys.executable, "-c", _WORKER], input=json.dumps([str(p) for p in paths]),
                         capture_output=True, text=True, cwd=root, env=env, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default="5ba5b1f", help="the engine commit to compare with")
    args = ap.parse_args(argv)
    before_root = OUT / f"engine-{args.before}"
    if not (before_root / "engine").exists():
        before_root.mkdir(parents=True, exist_ok=True)
        tar = subprocess.run(["git", "archive", args.before, "engine"], cwd=ROOT, check=True,
                             capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
            tf.extractall(before_root, filter="data")
    rows = []
    for name, pattern in SETS.items():
        originals = sorted((SHARED / name).glob(pattern))
        if not originals:
            continue
        copies = []
        for src in originals:
            dest = OUT / "orphaned" / name / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(orphaned(src))
            copies.append(dest)
        truths = {p: truth(p) for p in originals}
        for label, paths in (("as filed", originals), ("orphaned", copies)):
            cells = []
            for root in (before_root, ROOT):
                res = read(root, paths)
                good = total = 0
                for src, p in zip(originals, paths, strict=True):
                    fields = truths[src]
                    total += len(fields)
                    good += sum(right(f, res[str(p)]["pages"]) for f in fields)
                secs = sum(r["seconds"] for r in res.values())
                n_pages = sum(len(r["pages"]) for r in res.values())
                cells.append(f"{good}/{total} ({good / max(total, 1):.1%}), {n_pages / secs:.0f} pages/s")
            rows.append(f"| {name} ({len(paths)}) | {label} | {cells[0]} | {cells[1]} |")
            print(rows[-1], flush=True)
    print("\n| set (files) | file | before | after |\n|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
