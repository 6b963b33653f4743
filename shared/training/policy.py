"""Whether a folder should be trained now: the labeled set, its fingerprint, and the rules.

A document counts as labeled when the folder holds its source, its `.ocr.json` and a valid
`.labels.json`. The fingerprint (names + label content hashes) identifies a labeled-set version:
one training run per version. Label verdicts are cached on the Documents row keyed by the labels
blob's ETag, so a listing plus one table query usually suffices; stale entries are re-checked here,
which is also how a missed label event is caught up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from shared.clients.records import Records, parse_iso
from shared.forms.inventory import FolderInventory
from shared.forms.labels import read_and_check, record_check
from shared.names import join
from shared.settings import Settings

SET_CHUNK = 30000  # characters per table property holding the labeled set (limit is 32 K chars)
SHORT_HASH = 16
TERMINAL_RUN_STATES = ("succeeded", "failed", "timedOut", "poisoned")
# What labeled_set reads: the verdict, and the pages the labels use against the pages the OCR found.
LABEL_VERDICT = ["labelsEtag", "labelsHash", "labelsStatus", "labelsErrorCode", "labelsErrorMessage",
                 "labelMaxPage", "pages", "status", "errorCode", "ocrApiVersion", "ocrSource"]
PAGE_NOT_FOUND = "LabelPageNotFound"


@dataclass
class LabeledSet:
    docs: dict[str, str] = field(default_factory=dict)  # document -> short label hash
    invalid: dict[str, str] = field(default_factory=dict)  # document -> why its labels are unusable
    waiting_for_ocr: list[str] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)  # of those, read by another API version: read again
    rechecked: list[str] = field(default_factory=list)  # labels checked here (their event was missed)

    @property
    def fingerprint(self) -> str:
        text = "\n".join(f"{name}\t{digest}" for name, digest in sorted(self.docs.items()))
        return hashlib.sha256(text.encode()).hexdigest()


def labeled_set(settings: Settings, records: Records, inv: FolderInventory) -> LabeledSet:
    rows = records.folder_documents(inv.folder, select=LABEL_VERDICT)
    result = LabeledSet()
    for doc in sorted(inv.labels):
        if doc not in inv.sources:
            result.invalid[doc] = "labels for a document that is not in the folder"
            continue
        row = rows.get(doc) or {}
        if doc in inv.ocr and _read_by_other_api(settings, row):
            result.waiting_for_ocr.append(doc)  # the sweep reads it again
            result.reread.append(doc)
            continue
        if doc not in inv.ocr:
            if row.get("status") == "failed":  # its OCR will not come: it cannot be trained on
                result.invalid[doc] = f"the form's OCR failed ({row.get('errorCode') or 'unknown'})"
            else:
                result.waiting_for_ocr.append(doc)
            continue
        verdict = _labels_verdict(settings, records, inv, doc, row, result)
        if verdict is None:
            continue
        ok, digest, why, max_page = verdict
        pages = int(row.get("pages") or 0)
        beyond = ok and pages > 0 and max_page > pages  # the engine would refuse them (LabelPageNotFound)
        if beyond:
            ok, why = False, f"the labels place a value on page {max_page}; the document has {pages} page(s)"
        if beyond != (row.get("labelsErrorCode") == PAGE_NOT_FOUND):
            records.merge_document(inv.folder, doc, labeled=not beyond,
                                   labelsStatus="failed" if beyond else "valid",
                                   labelsErrorCode=PAGE_NOT_FOUND if beyond else "",
                                   labelsErrorMessage=why if beyond else "")
        if ok:
            result.docs[doc] = digest[:SHORT_HASH]
        else:
            result.invalid[doc] = why
    return result


def _read_by_other_api(settings: Settings, row: dict[str, Any]) -> bool:
    """Whether the pipeline's reading of the form was made by another API version. A user's `.ocr.json`
    is what the labels were drawn on: the sweep never replaces it, so it counts under any version."""
    return row.get("ocrSource") != "user" and row.get("ocrApiVersion") not in (None, "", settings.fr_api)


def _labels_verdict(settings: Settings, records: Records, inv: FolderInventory, doc: str,
                    row: dict[str, Any], result: LabeledSet) -> tuple[bool, str, str, int] | None:
    """(usable, label hash, why not, highest page) of a document's labels: the row's verdict when it is
    about this labels version, else read and checked now (None: the file is gone). A verdict is final
    for its version, an unusable one too: a file too large has no hash, and reading 8 MiB of it again
    at every sweep and decision would change nothing."""
    known = row.get("labelsEtag") == inv.labels[doc]
    if known and (row.get("labelsHash") or row.get("labelsStatus") == "failed"):
        # A page verdict is re-decided every time: a new version of the form may have more pages.
        ok = row.get("labelsStatus") == "valid" or row.get("labelsErrorCode") == PAGE_NOT_FOUND
        return (ok, str(row.get("labelsHash") or ""), str(row.get("labelsErrorMessage", "")),
                int(row.get("labelMaxPage") or 0))
    labels_blob = join(inv.folder, doc) + ".labels.json"
    found = read_and_check(settings, labels_blob)
    if found is None:
        return None
    check, etag = found
    record_check(records, labels_blob, check, etag)
    result.rechecked.append(doc)
    return check.ok, check.sha256, check.message, check.max_page


def pack_set(docs: dict[str, str]) -> dict[str, Any]:
    """The labeled set as table properties (chunked: one property holds at most 32 K characters)."""
    text = json.dumps(docs, separators=(",", ":"), sort_keys=True)
    chunks = [text[i:i + SET_CHUNK] for i in range(0, len(text), SET_CHUNK)] or [""]
    props: dict[str, Any] = {f"lastLabeledSet{i}": chunk for i, chunk in enumerate(chunks)}
    props["lastLabeledSetChunks"] = len(chunks)
    return props


def unpack_set(row: dict[str, Any] | None) -> dict[str, str]:
    if not row:
        return {}
    count = int(row.get("lastLabeledSetChunks") or 0)
    text = "".join(str(row.get(f"lastLabeledSet{i}", "")) for i in range(count))
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class Decision:
    train: bool
    reason: str
    labeled_count: int = 0
    new_labels: int = 0
    fingerprint: str = ""
    run_id: str = ""


def run_in_flight(records: Records, folder: str, state: dict[str, Any] | None, stale_after: float,
                  now: float) -> bool:
    """Whether the folder's claimed run still blocks a new one.

    A claim whose run already ended (a crash between recording the end and releasing the claim), or
    a claim with no run row long after it was made (a crash right after claiming), does not block.
    """
    active = str((state or {}).get("activeRunId") or "")
    if not active:
        return False
    run = records.run(folder, active)
    if run is None:
        return now - parse_iso(str((state or {}).get("activeSince", ""))) < stale_after
    return str(run.get("status")) not in TERMINAL_RUN_STATES


def trained_api(records: Records, folder: str, state: dict[str, Any] | None) -> str:
    """The API version the folder's labeled set was last trained for: the last claim's, else (a state
    row written before claims kept it) its current model's; '' when the folder never trained."""
    if not state:
        return ""
    return str(state.get("lastApiVersion") or "") or records.current_model(folder, state)[1]


def decide(settings: Settings, labeled: LabeledSet, state: dict[str, Any] | None, in_flight: bool,
           last_api: str = "") -> Decision:
    """Whether the folder trains now. `last_api` is the API version its set was last trained for: a
    model of another version cannot be used after FORM_RECOGNIZER_API changed, so the same labeled set
    is trained again for the new one (once: the claim records the version)."""
    count = len(labeled.docs)
    fingerprint = labeled.fingerprint
    previous = unpack_set(state)
    new = sum(1 for doc, digest in labeled.docs.items() if previous.get(doc) != digest)
    base = {"labeled_count": count, "new_labels": new, "fingerprint": fingerprint}
    switched = bool(last_api) and last_api != settings.fr_api
    if in_flight:
        return Decision(False, "a training run is in flight for this folder", **base)
    if labeled.reread:
        return Decision(False, f"{len(labeled.reread)} labeled document(s) were read by another API version "
                               f"than FORM_RECOGNIZER_API={settings.fr_api} (e.g. {labeled.reread[0]!r}); "
                               f"the sweep reads them again before they count", **base)
    if count < settings.training_threshold:
        return Decision(False, f"{count} labeled documents, below the threshold of "
                               f"{settings.training_threshold}", **base)
    if not switched and state and state.get("lastFingerprint") == fingerprint:
        return Decision(False, "the labeled set is unchanged since the last run", **base)
    if not switched and state and state.get("lastFingerprint") and new < settings.retrain_min_new_labels:
        return Decision(False, f"{new} new or changed labels, fewer than RETRAIN_MIN_NEW_LABELS="
                               f"{settings.retrain_min_new_labels}", **base)
    if labeled.waiting_for_ocr:
        # The service trains on every labeled form under the prefix, reading any OCR it lacks itself:
        # training now would train on more than was decided (and again once their OCR lands).
        waiting = labeled.waiting_for_ocr
        return Decision(False, f"{len(waiting)} labeled document(s) still wait for their OCR "
                               f"(e.g. {waiting[0]!r}); training waits for them", **base)
    if switched:
        return Decision(True, f"{count} labeled documents ({new} new or changed), last trained for API "
                              f"{last_api}: training a model for FORM_RECOGNIZER_API={settings.fr_api}, "
                              f"which cannot use one of {last_api}", **base)
    return Decision(True, f"{count} labeled documents ({new} new or changed)", **base)
