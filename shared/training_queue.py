"""The `training-requests` queue: the message format, sending, and the poison queue."""

from __future__ import annotations

import json

from shared.settings import Settings
from shared.storage import queue_service


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
    return folder


def request_training(settings: Settings, folder: str) -> None:
    """Ask the queue-triggered function to (re)consider a folder; duplicates are harmless."""
    queue_service(settings).get_queue_client(settings.training_queue).send_message(make_message(folder))


def send_to_poison(settings: Settings, body: str) -> None:
    """Move a message that can never succeed to `<queue>-poison`, as the host would after retries."""
    queue_service(settings).get_queue_client(settings.poison_queue).send_message(body)
