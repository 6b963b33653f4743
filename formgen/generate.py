"""Write generated forms with their `.labels.json` and the layout's `fields.json` to a folder."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PIL import Image

from formgen.canvas import GLYPH_SETS, MARK_STYLES, PRINTABLE_GLYPH_SETS, FormCanvas, MarkStyle, WordBox
from formgen.fillable import FillableCanvas
from formgen.layouts import LAYOUTS, Layout
from formgen.line_items import TABLE_LAYOUTS, TableLayout, escape
from formgen.photo import RENDER_DPI, PhotoParams, jpeg_roundtrip, photograph
from formgen.photo import apply_point as photo_point
from formgen.scan import ScanParams, apply_point, degrade, render_pages

LABELS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/labels.json"
FIELDS_SCHEMA = "https://schema.cognitiveservices.azure.com/formrecognizer/2021-03-01/fields.json"
DEFAULT_DPI = 150
Kind = Literal["pdf", "scan", "photo", "fillable", "fillable-scan"]
KINDS: tuple[str, ...] = ("pdf", "scan", "photo", "fillable", "fillable-scan")
ToUnit = Callable[[float, float], tuple[float, float]]  # points on the page -> normalised 0..1


@dataclass(frozen=True)
class GeneratedForm:
    """One written form: the document, its labels file, and each field's value as printed ("" = empty)."""

    path: Path
    labels_path: Path
    values: dict[str, str]
    tables_path: Path | None = None  # `<doc>.tables.json`: the truth of its ruled tables (ruled_tables)
    # Table fields (table_layouts()): field -> rows of column -> text as printed, a wrapped cell's lines
    # joined by one space; {} for the other layouts.
    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def layouts() -> list[str]:
    """The layouts whose fields are all scalar (string, number, date, selectionMark)."""
    return sorted(LAYOUTS)


def table_layouts() -> list[str]:
    """The layouts with a table field besides scalar ones (fields.json `array`, labels `Items/0/Amount`)."""
    return sorted(TABLE_LAYOUTS)


def _layout(name: str) -> Layout:
    found = LAYOUTS.get(name) or TABLE_LAYOUTS.get(name)
    if found is None:
        choices = ", ".join(sorted([*layouts(), *table_layouts()]))
        raise ValueError(f"unknown layout {name!r}; choose one of {choices}")
    return found


def _tool_field(key: str, ftype: str, item_type: str | None = None) -> dict:
    """A field as the labeling tool writes it when tables are involved (itemType and fields spelled out)."""
    return {"fieldKey": key, "fieldType": ftype, "fieldFormat": "not-specified", "itemType": item_type,
            "fields": None}


def fields_document(layout: Layout) -> dict:
    """The layout's fields.json; a table field is an `array` whose columns are in `definitions`."""
    doc: dict = {
        "$schema": FIELDS_SCHEMA,
        "fields": [
            {"fieldKey": f.key, "fieldType": f.type, "fieldFormat": "not-specified"} for f in layout.fields
        ],
    }
    if isinstance(layout, TableLayout):
        table = layout.table
        doc["fields"].append(_tool_field(table.key, "array", table.item_type))
        row = _tool_field(table.item_type, "object")
        row["fields"] = [_tool_field(col.key, col.type) for col in table.columns]
        doc["definitions"] = {table.item_type: row}
    return doc


def _label_keys(layout: Layout, boxes: dict[str, list[WordBox]]) -> list[str]:
    """Scalar fields in the layout's order, then a table's cells in the order drawn (row by row)."""
    keys = [spec.key for spec in layout.fields]
    if isinstance(layout, TableLayout):
        keys += [key for key in boxes if key.startswith(f"{escape(layout.table.key)}/")]
    return keys


def _clamp(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 6)


def labels_document(
    document: str, layout: Layout, boxes: dict[str, list[WordBox]], to_unit: dict[int, ToUnit]
) -> dict:
    """Labels in the labeling tool's format: one `value` entry per word, in the layout's field order."""
    labels = []
    for key in _label_keys(layout, boxes):
        words = boxes.get(key)
        if not words:
            continue  # an empty field has no label, as when a person labels the form
        entries = []
        for word in words:
            unit = to_unit[word.page]
            corners = [coord for x, y in word.quad() for coord in unit(x, y)]
            entries.append(
                {"page": word.page, "text": word.text, "boundingBoxes": [[_clamp(c) for c in corners]]}
            )
        labels.append({"label": key, "key": None, "value": entries})
    return {"$schema": LABELS_SCHEMA, "document": document, "labels": labels}


def _norm_quad(box: tuple[float, float, float, float], unit: ToUnit) -> list[float]:
    x0, top, x1, bottom = box
    corners = ((x0, top), (x1, top), (x1, bottom), (x0, bottom))
    return [_clamp(v) for x, y in corners for v in unit(x, y)]


def tables_document(document: str, tables: list[dict], to_unit: dict[int, ToUnit]) -> dict:
    """The ruled tables' truth in the v2.1 shape (`rows`, `columns`, `cells[]` with rowIndex, columnIndex,
    rowSpan, columnSpan, text, isHeader), boxes normalised 0..1 like the labels, pages 1-based."""
    out = []
    for t in tables:
        unit = to_unit[t["page"]]
        cells = [{**{k: v for k, v in c.items() if k != "box"}, "boundingBox": _norm_quad(c["box"], unit)}
                 for c in t["cells"]]
        out.append({"page": t["page"], "rows": t["rows"], "columns": t["columns"],
                    "boundingBox": _norm_quad(t["box"], unit), "cells": cells})
    return {"document": document, "tables": out}


def _pdf_units(canvas: FormCanvas) -> dict[int, ToUnit]:
    return {page: (lambda x, y: (x / canvas.width, y / canvas.height)) for page in range(1, canvas.page + 1)}


def _write_scan(
    pdf: bytes,
    path_stem: Path,
    layout: str,
    seed: int,
    index: int,
    dpi: int,
    forms: bool = False,
) -> tuple[Path, dict[int, ToUnit]]:
    """Render, degrade and save each page; returns the file and, per page, points -> scan coords 0..1."""
    scans: list[Image.Image] = []
    units: dict[int, ToUnit] = {}
    for number, page in enumerate(render_pages(pdf, dpi, forms=forms), start=1):
        rng = random.Random(f"formgen-scan:{layout}:{seed}:{index}:{number}")
        image, matrix = degrade(page, ScanParams.random(rng), seed=rng.getrandbits(32))
        width, height = image.size
        px_per_pt = dpi / 72

        def unit(x: float, y: float, m=matrix, w=width, h=height, px_per_pt=px_per_pt) -> tuple[float, float]:
            sx, sy = apply_point(m, x * px_per_pt, y * px_per_pt)
            return sx / w, sy / h

        units[number] = unit
        scans.append(image)
    if len(scans) == 1:
        path = path_stem.with_suffix(".jpg")
        scans[0].save(path, "JPEG", quality=85, dpi=(dpi, dpi))
    else:  # a multi-page scan: one TIFF with a frame per page, as scanners write them
        path = path_stem.with_suffix(".tiff")
        scans[0].save(
            path, "TIFF", save_all=True, append_images=scans[1:], compression="tiff_deflate", dpi=(dpi, dpi)
        )
    return path, units


def _write_photo(
    pdf: bytes, path_stem: Path, layout: str, seed: int, index: int
) -> tuple[Path, dict[int, ToUnit]]:
    """Photograph each printed page; returns the file and, per page, points -> photo coords 0..1."""
    photos: list[Image.Image] = []
    qualities: list[int] = []
    units: dict[int, ToUnit] = {}
    px_per_pt = RENDER_DPI / 72
    for number, page in enumerate(render_pages(pdf, RENDER_DPI), start=1):
        rng = random.Random(f"formgen-photo:{layout}:{seed}:{index}:{number}")
        params = PhotoParams.random(rng)
        image, matrix = photograph(page, params, seed=rng.getrandbits(32))
        width, height = image.size

        def unit(x: float, y: float, m=matrix, w=width, h=height) -> tuple[float, float]:
            px, py = photo_point(m, x * px_per_pt, y * px_per_pt)
            return px / w, py / h

        units[number] = unit
        photos.append(image)
        qualities.append(params.jpeg_quality)
    if len(photos) == 1:
        path = path_stem.with_suffix(".jpg")
        photos[0].save(path, "JPEG", quality=qualities[0], dpi=(72, 72))
    else:  # several photos in one file: TIFF frames, each as its JPEG would have looked
        path = path_stem.with_suffix(".tiff")
        frames = [jpeg_roundtrip(image, q) for image, q in zip(photos, qualities, strict=True)]
        frames[0].save(
            path, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate", dpi=(72, 72)
        )
    return path, units


def generate(
    layout: str,
    count: int,
    out_dir: Path,
    *,
    seed: int = 0,
    kind: Kind = "pdf",
    start_index: int = 1,
    dpi: int = DEFAULT_DPI,
    mark_style: MarkStyle = "vector",
    hand: bool = False,
) -> list[GeneratedForm]:
    """Write `count` filled forms of `layout` into `out_dir` (created) plus `out_dir/fields.json`.

    Form i gets the same values in every kind and mark style (values depend on layout, seed and index only;
    style choices such as tick or cross come from a separate random stream).
    kind: "pdf" (values as page text), "scan" (that PDF printed and scanned), "photo" (that PDF printed and
    photographed by a phone, in perspective on a table; `dpi` does not apply), "fillable" (values in AcroForm
    fields), "fillable-scan" (the fillable PDF printed with its fields, then scanned).
    mark_style (kinds pdf/scan/photo): check boxes drawn as "vector" lines, "image" rasters or "glyph"
    characters.
    hand (kinds pdf/scan/photo): values hand-printed (a handwriting font, formgen/fonts) instead of typed.
    layout: one of layouts() or table_layouts(); the latter also fill `GeneratedForm.tables`.
    """
    spec = _layout(layout)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if mark_style not in MARK_STYLES:
        raise ValueError(f"mark_style must be one of {', '.join(MARK_STYLES)}, not {mark_style!r}")
    fillable = kind in ("fillable", "fillable-scan")
    if fillable and mark_style != "vector":
        raise ValueError(
            "mark_style applies to kinds pdf and scan/photo; fillable forms use AcroForm check boxes"
        )
    if fillable and hand:
        raise ValueError("hand applies to kinds pdf and scan/photo; fillable forms use their fields' font")
    if count < 0:
        raise ValueError("count must be >= 0")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "fields.json").write_text(json.dumps(fields_document(spec), indent=2) + "\n", encoding="utf-8")
    keys = [f.key for f in spec.fields]
    forms = []
    for index in range(start_index, start_index + count):
        data = spec.make(random.Random(f"formgen:{layout}:{seed}:{index}"))
        data.values = {key: data.values[key] for key in keys}
        if isinstance(spec, TableLayout):
            data.extras["style"] = spec.style(seed, index)
        style_rng = random.Random(f"formgen-style:{layout}:{seed}:{index}")
        canvas: FormCanvas
        if fillable:
            canvas = FillableCanvas(style_rng=style_rng)
        else:
            glyph_sets = tuple(sorted(GLYPH_SETS)) if kind == "pdf" else PRINTABLE_GLYPH_SETS
            canvas = FormCanvas(mark_style=mark_style, style_rng=style_rng, glyph_sets=glyph_sets, hand=hand)
        spec.draw(canvas, data)
        pdf = canvas.finish()
        stem = out_dir / f"{layout}_{index:04d}"
        if kind in ("pdf", "fillable"):
            path = stem.with_suffix(".pdf")
            path.write_bytes(pdf)
            units = _pdf_units(canvas)
        elif kind == "photo":
            path, units = _write_photo(pdf, stem, layout, seed, index)
        else:
            path, units = _write_scan(pdf, stem, layout, seed, index, dpi, forms=fillable)
        labels = labels_document(path.name, spec, canvas.boxes, units)
        labels_path = path.with_name(path.name + ".labels.json")
        labels_path.write_text(json.dumps(labels, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tables_path = None
        if canvas.tables:
            tables_path = path.with_name(path.name + ".tables.json")
            truth = tables_document(path.name, canvas.tables, units)
            tables_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        printed = {key: " ".join(value.split()) for key, value in data.values.items()}
        table_truth = spec.truth(data) if isinstance(spec, TableLayout) else {}
        forms.append(GeneratedForm(path, labels_path, printed, tables_path, table_truth))
    return forms
