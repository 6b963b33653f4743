"""A training run: read the source, OCR what has no `.ocr.json`, match labels, fit, report per document.

A given `.ocr.json` whose words do not fit the labels (shifted, from another version of the file, garbled)
is replaced by the engine's own reading of that document when that reading matches more labels.

Every problem with one document is written on that document (`trainingDocuments[].errors`) and the run
goes on with the rest; only "too few usable documents" makes the whole model invalid.
"""

from __future__ import annotations

import json
import logging
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from engine.custom.labels import LabelFile, LabelFormatError, parse_fields, parse_labels
from engine.custom.matching import MatchedField, match_labels
from engine.custom.ocr_file import OcrDocument, OcrFormatError, parse_ocr
from engine.custom.scoring.dropout import learn_from_documents
from engine.custom.scoring.features import TrainDoc
from engine.custom.scoring.model import train
from engine.custom.scoring.register import move_box, reference, register_document
from engine.custom.source import TrainingSource, is_document, select_names
from engine.custom.table_fields.model import (
    TableCells,
    split_cells,
    table_accuracy,
    table_accuracy_fields,
    train_tables,
)
from engine.custom.unlabeled import train_unlabeled

log = logging.getLogger("engine.custom.training")
MIN_LABELED_DOCS = 5
# The largest labels file either side uses: the pipeline (shared/forms/labels.py) refuses larger ones, so
# the engine must too, or a folder trains on labels the pipeline recorded as unusable.
MAX_LABELS_BYTES = 8 * 1024 * 1024

OcrFn = Callable[[bytes], dict[str, Any]]
# a document's bytes and a page number -> the page's image and its pixels per layout unit (or None)
ImageFn = Callable[[bytes, int], tuple[Image.Image, float] | None]


@dataclass
class DocReport:
    documentName: str
    pages: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    fatal: bool = False

    def error(self, code: str, message: str, fatal: bool = False) -> None:
        self.errors.append({"code": code, "message": message})
        self.fatal = self.fatal or fatal

    def as_dict(self) -> dict[str, Any]:
        status = "failed" if self.fatal else ("partiallySucceeded" if self.errors else "succeeded")
        return {"documentName": self.documentName, "pages": self.pages, "errors": self.errors,
                "status": status}


@dataclass
class TrainingOutcome:
    status: str  # ready | invalid
    train_result: dict[str, Any]
    params: dict[str, Any] | None = None
    keys: dict[str, Any] | None = None


def _load_json(source: TrainingSource, name: str) -> Any:
    raw = source.read(name)
    if name.endswith(".labels.json") and len(raw) > MAX_LABELS_BYTES:
        raise LabelFormatError(f"{posixpath.basename(name)} is larger than the limit of "
                               f"{MAX_LABELS_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise LabelFormatError(f"{posixpath.basename(name)} is not valid JSON ({exc})") from exc


def _display_name(name: str, prefix: str) -> str:
    base = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
    return name[len(base):] if base and name.startswith(base) else name


def _in_frame(ocr: OcrDocument, number: int, box: tuple[float, float, float, float],
              ) -> tuple[int, tuple[float, float, float, float]]:
    """A page's normalised box moved as registration moved the page's words."""
    page = ocr.page(number)
    if page is None or page.transform is None:
        return number, box
    return number, move_box(np.array(page.transform), box)


def _gray_pages(source: TrainingSource, name: str, image_fn: ImageFn) -> Callable[[int], np.ndarray | None]:
    """Page number -> the document's page as gray pixels, the document read once when first needed."""
    data: list[bytes] = []

    def gray(number: int) -> np.ndarray | None:
        try:
            if not data:
                data.append(source.read(name))
            got = image_fn(data[0], number)
        except Exception:  # a page that cannot be drawn only has no say in the print masks
            log.warning("page %d of %s cannot be drawn; the print masks are learned without it", number,
                        posixpath.basename(name), exc_info=True)
            return None
        return None if got is None else np.asarray(got[0].convert("L"))

    return gray


def _own_reading(source: TrainingSource, name: str, ocr_fn: OcrFn) -> OcrDocument:
    return parse_ocr(ocr_fn(source.read(name)))


def _read_ocr(source: TrainingSource, name: str, files: set[str], ocr_fn: OcrFn,
              report: DocReport) -> tuple[OcrDocument | None, bool]:
    """(reading, whether it is the given `.ocr.json`): the given file when it parses, else the engine's."""
    ocr_name = name + ".ocr.json"
    if ocr_name in files:
        try:
            return parse_ocr(_load_json(source, ocr_name)), True
        except (LabelFormatError, OcrFormatError) as exc:
            report.error("InvalidOcrFile", f"{posixpath.basename(ocr_name)} cannot be used ({exc}); "
                         "the engine's own OCR was used instead.")
    try:
        return _own_reading(source, name, ocr_fn), False
    except Exception as exc:  # one unreadable document must not stop the run
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        report.error("UnreadableDocument", f"The document could not be read: {message}", fatal=True)
        return None, False


def _match(labels: LabelFile, ocr: OcrDocument, given: bool, source: TrainingSource, name: str,
           ocr_fn: OcrFn, field_types: dict[str, str]
           ) -> tuple[OcrDocument, dict[str, MatchedField], list[str], str | None]:
    """Match the labels; when a given `.ocr.json` leaves labels unmatched, read the document with the
    engine too and keep the reading that matches more labels (the given one on a tie). Returns the
    reading, the matches, the problems and a note when the engine's reading replaced the given one."""
    matched, problems = match_labels(labels, ocr, field_types)
    if not given or not problems:
        return ocr, matched, problems, None
    try:
        own = _own_reading(source, name, ocr_fn)
    except Exception:  # the engine cannot read it: the given reading is all there is
        log.info("engine could not re-read a training document", extra={"document": name})
        return ocr, matched, problems, None
    own_matched, own_problems = match_labels(labels, own, field_types)
    if len(own_matched) <= len(matched):
        return ocr, matched, problems, None
    note = (f"{posixpath.basename(name)}.ocr.json does not fit the labels ({len(problems)} label(s) found "
            f"no words in it, {len(own_problems)} in the engine's own reading); the engine's own reading "
            "was used for this document.")
    return own, own_matched, own_problems, note


def _field_types(source: TrainingSource, files: list[str], prefix: str,
                 errors: list[dict[str, str]]) -> dict[str, str]:
    candidates = sorted((f for f in files if posixpath.basename(f) == "fields.json"),
                        key=lambda f: f.count("/"))
    if not candidates:
        return {}
    try:
        return parse_fields(_load_json(source, candidates[0]))
    except LabelFormatError as exc:
        errors.append({"code": "InvalidFieldsFile", "message": f"{candidates[0]}: {exc}; all fields are "
                       "treated as strings."})
        return {}


def run_training(source: TrainingSource, prefix: str, include_subfolders: bool, use_labels: bool,
                 ocr_fn: OcrFn, model_name: str = "", image_fn: ImageFn | None = None) -> TrainingOutcome:
    """`image_fn` draws the training pages so the print in each field's place is learned (dropped before
    the place is read at analysis); without it the model has no print masks."""
    files = select_names(source.names(prefix), prefix, include_subfolders)
    fileset = set(files)
    documents = [f for f in files if is_document(f)]
    run_errors: list[dict[str, str]] = []
    field_types = _field_types(source, files, prefix, run_errors) if use_labels else {}
    reports: list[DocReport] = []
    labeled: list[tuple[str, OcrDocument, dict[str, MatchedField]]] = []
    labeled_names: list[str] = []  # the source's name of each, to draw its pages
    table_docs: list[tuple[OcrDocument, TableCells]] = []
    ocr_docs: list[tuple[str, OcrDocument]] = []
    for name in documents:
        if use_labels and name + ".labels.json" not in fileset:
            continue  # not trained on: neither read nor listed (a listed form counts as trained on)
        report = DocReport(_display_name(name, prefix))
        reports.append(report)
        ocr, given = _read_ocr(source, name, fileset, ocr_fn, report)
        if ocr is None:
            continue
        if not use_labels or name + ".labels.json" not in fileset:
            report.pages = len(ocr.pages)
            ocr_docs.append((report.documentName, ocr))
            continue
        try:
            labels = parse_labels(_load_json(source, name + ".labels.json"))
        except LabelFormatError as exc:
            report.pages = len(ocr.pages)
            ocr_docs.append((report.documentName, ocr))
            report.error("InvalidLabelFile", f"{posixpath.basename(name)}.labels.json: {exc}", fatal=True)
            continue
        ocr, matched, problems, note = _match(labels, ocr, given, source, name, ocr_fn, field_types)
        report.pages = len(ocr.pages)
        ocr_docs.append((report.documentName, ocr))
        if note:
            report.error("OcrFileMismatch", note)
        for p in problems:
            code = "LabelPageNotFound" if "does not exist" in p else "LabelNotMatched"
            report.error(code, p)
        if not matched:
            report.error("NoUsableLabels", "No label of this document could be used.", fatal=True)
            continue
        scalars, cells = split_cells(matched)
        labeled.append((report.documentName, ocr, scalars))
        labeled_names.append(name)
        table_docs.append((ocr, cells))
    docset = set(documents)
    for f in files:
        if f.endswith(".labels.json") and f[: -len(".labels.json")] not in docset:
            orphan = DocReport(_display_name(f[: -len(".labels.json")], prefix))
            orphan.error("MissingDocument", f"{posixpath.basename(f)} has no document "
                         f"'{posixpath.basename(f[: -len('.labels.json')])}' beside it.", fatal=True)
            reports.append(orphan)
    result: dict[str, Any] = {"trainingDocuments": [r.as_dict() for r in reports], "errors": run_errors}
    if not use_labels:
        if not ocr_docs:
            result["errors"] = [*run_errors, {"code": "2012", "message": "No readable training document "
                                              f"(pdf, jpeg, png, bmp, tiff) under prefix '{prefix}'."}]
            return TrainingOutcome("invalid", result)
        params, keys = train_unlabeled(ocr_docs)
        return TrainingOutcome("ready", result, params=params, keys=keys)
    # every page in one frame before anything is measured (the matched words move with their pages)
    registration = reference([ocr for _, ocr, _ in labeled])
    for _, ocr, scalars in labeled:
        register_document(ocr, registration)
        for mf in scalars.values():  # a drawn region and a label's boxes move with their page
            if mf.region:
                mf.region = _in_frame(ocr, *mf.region)
            mf.boxes = [_in_frame(ocr, n, b) for n, b in mf.boxes]
    train_docs = [TrainDoc.build(name, ocr, scalars) for name, ocr, scalars in labeled]
    if len(train_docs) < MIN_LABELED_DOCS:
        result["errors"] = [*run_errors, {"code": "2012", "message": (
            f"Training with labels needs at least {MIN_LABELED_DOCS} usable labeled documents; found "
            f"{len(train_docs)} under prefix '{prefix}' ({len(documents)} document(s) in all).")}]
        return TrainingOutcome("invalid", result)
    params, report = train(train_docs, field_types, model_name)
    params["tables"] = train_tables(table_docs, field_types)
    params["registration"] = registration
    if image_fn is not None and params.get("regions"):
        params["dropout"] = learn_from_documents(params["regions"], [
            (ocr, scalars, _gray_pages(source, name, image_fn))
            for name, (_, ocr, scalars) in zip(labeled_names, labeled, strict=True)])
    accuracy = {**report.field_accuracy, **table_accuracy_fields(params["tables"])}
    fields = [{"fieldName": k, "accuracy": v} for k, v in sorted(accuracy.items())]
    result["fields"] = fields
    top = [*report.field_accuracy.values(), *(table_accuracy(m) for m in params["tables"].values())]
    average = sum(top) / len(top) if top else 0.0  # a table counts once, not once per column
    result["averageModelAccuracy"] = round(average, 3)
    return TrainingOutcome("ready", result, params=params)
