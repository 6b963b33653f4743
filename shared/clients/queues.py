"""The `training-requests` queue: the message format, sending (coalesced), and the poison queue.

Coalescing: a burst of label/OCR events for one folder needs one training decision, not one per
event (each decision lists the folder and queries its rows: O(n) work per event, O(n^2) per burst).
A request is sent with an initial invisibility of `TRAINING_REQUEST_DELAY_SECONDS`; while that
message is still invisible, this process sends no further request for the folder. That loses
nothing: every caller wrote its state (labels row, `.ocr.json`) before asking, so the pending
message, which becomes visible only after the window, is handled after those writes.

Bursts: while several OCRs of one folder run in this process (an upload of many forms), neither a
labeled form whose OCR ends nor a labels file of the folder asks at once; the request they owe is
sent when the last of those OCRs ends (at once and visible: nothing is left to coalesce with), or
coalesced `BURST_DEFER_SECONDS` after it was first owed, whichever comes first. The folder cannot
become trainable before its OCRs end, so nothing is lost but decisions that could only say "not
yet" (each lists the folder and queries its rows). If the process dies first, the sweep finds the
trainable folder.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from shared.clients.storage import queue_service
from shared.settings import Settings

MAX_FOLDER_CHARS = 1024  # Azure blob names are at most 1024 characters; no folder can be longer


class BadMessage(ValueError):
    """A queue message that can never be processed (retrying it would only fill the logs)."""


def make_message(folder: str) -> str:
    return json.dumps({"folder": folder})


def parse_message(body: str) -> str:
    """The folder a training request is for; raises BadMessage for anything else."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BadMessage(f"message is not JSON: {body[:200]!r}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("folder"), str):
        raise BadMessage(f"message must be an object with a string 'folder': {body[:200]!r}")
    folder = data["folder"].strip("/")
    if any(ord(c) < 32 for c in folder):
        raise BadMessage("folder name holds control characters")
    if len(folder) > MAX_FOLDER_CHARS:
        raise BadMessage(f"folder name is {len(folder)} characters long; blob names, and so folders, have "
                         f"at most {MAX_FOLDER_CHARS}")
    return folder


WINDOW_SHARE = 0.9  # stop suppressing a little before the pending message becomes visible


class Coalescer:
    """Per-process memory of which folders have a delayed request still pending (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pending_until: dict[tuple[str, str], float] = {}

    def send(self, key: tuple[str, str], delay: int, send: Callable[[int], None]) -> bool:
        """Call `send(delay)` unless a request for `key` sent by this process is still invisible;
        returns whether a message was sent. A failed send suppresses nothing."""
        if delay <= 0:
            send(0)
            return True
        started = self._clock()
        with self._lock:
            if started < self._pending_until.get(key, 0.0):
                return False
        send(delay)
        with self._lock:
            self._pending_until[key] = max(self._pending_until.get(key, 0.0),
                                           started + delay * WINDOW_SHARE)
            if len(self._pending_until) > 10000:  # forget expired windows now and then
                now = self._clock()
                self._pending_until = {k: v for k, v in self._pending_until.items() if v > now}
        return True


_coalescer = Coalescer()
BURST_DEFER_SECONDS = 5.0


class FolderBursts:
    """OCRs running per folder in this process, and since when a finished one owes a request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], int] = {}
        self._owed_since: dict[tuple[str, str], float] = {}

    def started(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._running[key] = self._running.get(key, 0) + 1

    def defer(self, key: tuple[str, str]) -> bool:
        """Whether a request for `key` can wait for the folder's running OCRs (it is added to what
        they owe); False when none runs here, or the debt is already old enough to be sent."""
        with self._lock:
            if not self._running.get(key):
                return False
            now = self._clock()
            since = self._owed_since.setdefault(key, now)
            if now - since >= BURST_DEFER_SECONDS:
                del self._owed_since[key]
                return False
            return True

    def finished(self, key: tuple[str, str], owes: bool) -> str:
        """One OCR ended; whether the folder's owed request is due now: "" (no), "ended" (the burst
        is over: nothing left to coalesce with) or "waited" (owed for BURST_DEFER_SECONDS)."""
        with self._lock:
            left = self._running.get(key, 1) - 1
            if left > 0:
                self._running[key] = left
            else:
                self._running.pop(key, None)
            now = self._clock()
            if owes:
                self._owed_since.setdefault(key, now)
            since = self._owed_since.get(key)
            if since is None or (left > 0 and now - since < BURST_DEFER_SECONDS):
                return ""
            del self._owed_since[key]
            return "waited" if left > 0 else "ended"


_bursts = FolderBursts()


def _key(settings: Settings, folder: str) -> tuple[str, str]:
    return f"{settings.connection_string or settings.queue_service_uri}|{settings.training_queue}", folder


def ocr_started(settings: Settings, folder: str) -> None:
    _bursts.started(_key(settings, folder))


def request_training_after_burst(settings: Settings, folder: str) -> bool:
    """`request_training`, unless OCRs of the folder run in this process: then the last of them sends
    it (a labels file landing amid an upload burst)."""
    if _bursts.defer(_key(settings, folder)):
        return False
    return request_training(settings, folder)


def ocr_finished(settings: Settings, folder: str, owes_training: bool) -> bool:
    """Call once per `ocr_started`, also on failure; sends the folder's training request when it is
    owed and no other OCR of the folder runs here (at once and visible: the burst already collapsed
    its requests, so a coalescing delay would only postpone training), or coalesced when it has
    waited long enough amid a burst."""
    due = _bursts.finished(_key(settings, folder), owes_training)
    if not due:
        return False
    return request_training(settings, folder, coalesce=due != "ended")


def request_training(settings: Settings, folder: str, coalesce: bool = True) -> bool:
    """Ask the queue-triggered function to (re)consider a folder; duplicates are harmless.

    `coalesce=False` sends at once and visibly (the sweep and the end of a run: rare, deliberate).
    Returns whether a message was sent (False: a pending request of this process covers it)."""
    queue = queue_service(settings).get_queue_client(settings.training_queue)

    def send(delay: int) -> None:
        queue.send_message(make_message(folder), visibility_timeout=delay or None)

    if not coalesce:
        send(0)
        return True
    return _coalescer.send(_key(settings, folder), settings.training_request_delay_seconds, send)


def send_to_poison(settings: Settings, body: str, queue: str = "") -> None:
    """Move a message that can never succeed to `<queue>-poison` (default: the training queue's), as the
    host would after retries."""
    queue_service(settings).get_queue_client(queue or settings.poison_queue).send_message(body)


# The `prediction-requests` queue: one message per model that became current (no coalescing).
def request_repredict(settings: Settings, folder: str, model_id: str) -> None:
    queue = queue_service(settings).get_queue_client(settings.prediction_queue)
    queue.send_message(json.dumps({"folder": folder, "modelId": model_id}))


def parse_request(body: str) -> tuple[str, str]:
    folder = parse_message(body)  # the same checks as a training request's folder
    model_id = json.loads(body).get("modelId")
    if not isinstance(model_id, str) or not model_id or len(model_id) > 1024:
        raise BadMessage(f"message must name a 'modelId': {body[:200]!r}")
    return folder, model_id
