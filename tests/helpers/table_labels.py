"""Table labels for the real maintenance records (tests/data/maintenance-records), written from each PDF's
text layer by the *content* of its rows (a date, the operation, a mileage, a month/year), never by
column positions, so the truth does not share the engine's column logic.

Labels are the labeling tool's dynamic-table format: `Maintenance/<row>/<Column>`, one box per word.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pdfplumber

COLUMNS = ("Date", "Operation", "Mileage", "NextDue")
_ROW = re.compile(r"^(\d\d/\d\d/\d{4}) (.+) ([\d,]+) (\d\d/\d{4})$")
FIELDS_JSON = {
    "$schema": "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/fields.json",
    "fields": [{"fieldKey": "Maintenance", "fieldType": "array", "fieldFormat": "not-specified",
                "itemType": "Maintenance_object", "fields": None}],
    "definitions": {"Maintenance_object": {
        "fieldKey": "Maintenance_object", "fieldType": "object", "fieldFormat": "not-specified",
        "itemType": None,
        "fields": [{"fieldKey": c, "fieldType": "number" if c == "Mileage" else "string",
                    "fieldFormat": "not-specified", "itemType": None, "fields": None} for c in COLUMNS]}},
}


def _box(w: dict[str, Any], width: float, height: float) -> list[float]:
    x0, y0, x1, y1 = w["x0"] / width, w["top"] / height, w["x1"] / width, w["bottom"] / height
    return [round(v, 5) for v in (x0, y0, x1, y0, x1, y1, x0, y1)]


def maintenance_labels(pdf: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """(the labels file, the rows' truth as {column: text})."""
    labels: list[dict[str, Any]] = []
    truth: list[dict[str, str]] = []
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        lines: dict[int, list[dict[str, Any]]] = {}
        for w in page.extract_words():
            key = next((k for k in lines if abs(k - w["top"]) < 3), round(w["top"]))
            lines.setdefault(key, []).append(w)
        for top in sorted(lines):
            words = sorted(lines[top], key=lambda w: w["x0"])
            m = _ROW.match(" ".join(w["text"] for w in words))
            if not m:
                continue
            parts = [m[1].split(), m[2].split(), m[3].split(), m[4].split()]
            row = len(truth)
            i = 0
            cells = {}
            for col, texts in zip(COLUMNS, parts, strict=True):
                cell_words = words[i:i + len(texts)]
                i += len(texts)
                cells[col] = " ".join(texts)
                labels.append({"label": f"Maintenance/{row}/{col}", "key": None, "value": [
                    {"page": 1, "text": w["text"], "boundingBoxes": [_box(w, page.width, page.height)]}
                    for w in cell_words]})
            truth.append(cells)
    return {"document": pdf.name, "labels": labels}, truth
