"""The training-request queue trigger: decide whether a folder trains now and start at most one run.

A malformed message goes straight to the poison queue with a row; any other failure re-raises (the host
retries), and on the last allowed attempt a row first records why the message is about to be poisoned.
"""

from __future__ import annotations

import logging

from shared.clients.formrecognizer import FormRecognizerClient, FormRecognizerError
from shared.clients.queues import BadMessage, parse_message, send_to_poison
from shared.clients.records import Records, new_run_id, now_iso
from shared.settings import Settings
from shared.training.policy import Decision
from shared.training.start import start_training_if_due

__all__ = ["INVALID_MESSAGES_PARTITION", "on_training_request", "record_poisoned"]

log = logging.getLogger(__name__)
INVALID_MESSAGES_PARTITION = "!invalid-messages"

MAX_RECORDED_MESSAGE = 2000


def record_poisoned(records: Records, folder: str, body: str, code: str, message: str,
                    dequeue_count: int) -> str:
    run_id = new_run_id()
    if len(body) > MAX_RECORDED_MESSAGE:  # a table property holds 32K characters; the row must be written
        body = body[:MAX_RECORDED_MESSAGE] + f"… ({len(body)} characters in all)"
    records.merge_run(folder, run_id, status="poisoned", errorCode=code, errorMessage=message,
                      queueMessage=body, dequeueCount=dequeue_count, finishedAt=now_iso())
    return run_id


def on_training_request(settings: Settings, body: str, dequeue_count: int,
                        client: FormRecognizerClient, records: Records) -> Decision | None:
    """The queue function's body. A malformed message goes straight to the poison queue with a row;
    any other failure re-raises (the host retries), and on the last allowed attempt a row first
    records why the message is about to be poisoned."""
    try:
        folder = parse_message(body)
    except BadMessage as exc:
        record_poisoned(records, INVALID_MESSAGES_PARTITION, body, "BadMessage", str(exc), dequeue_count)
        send_to_poison(settings, body)
        log.error("training request poisoned: %s", exc)
        return None
    try:
        return start_training_if_due(settings, folder, client, records)
    except Exception as exc:
        if dequeue_count >= settings.queue_max_dequeue_count:
            code = exc.code if isinstance(exc, FormRecognizerError) else type(exc).__name__
            message = exc.message if isinstance(exc, FormRecognizerError) else str(exc)
            record_poisoned(records, folder, body, code, f"failed {dequeue_count} times; last: {message}",
                            dequeue_count)
        raise
