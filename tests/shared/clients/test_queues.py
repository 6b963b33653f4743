"""Queue messages and training requests (shared/clients/queues.py): the message format, requests
coalesced per folder and process, one request owed per burst of OCRs."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from shared.clients.queues import (
    BURST_DEFER_SECONDS,
    BadMessage,
    Coalescer,
    FolderBursts,
    make_message,
    parse_message,
)


def test_queue_messages() -> None:
    assert parse_message(make_message("purchase-orders")) == "purchase-orders"
    assert parse_message(make_message("f" * 1024)) == "f" * 1024
    for bad in ("not json", "[]", json.dumps({"folder": 3}), json.dumps({"other": "x"}),
                make_message("f" * 1025)):
        with pytest.raises(BadMessage):
            parse_message(bad)


def test_training_requests_are_coalesced_per_folder_and_process() -> None:
    clock = [100.0]
    sent: list[tuple[str, int]] = []
    coalescer = Coalescer(clock=lambda: clock[0])

    def sender(name: str) -> Callable[[int], None]:
        return lambda delay: sent.append((name, delay))

    assert coalescer.send(("q", "a"), 2, sender("a1"))
    clock[0] += 1.0
    assert not coalescer.send(("q", "a"), 2, sender("a2"))  # the first is still invisible: covers this
    assert coalescer.send(("q", "b"), 2, sender("b1"))  # another folder is independent
    clock[0] += 0.9  # 1.9 s after the first: within 10% of it becoming visible, send again
    assert coalescer.send(("q", "a"), 2, sender("a3"))
    assert coalescer.send(("q", "a"), 0, sender("a4")) and coalescer.send(("q", "a"), 0, sender("a5"))
    assert sent == [("a1", 2), ("b1", 2), ("a3", 2), ("a4", 0), ("a5", 0)]

    def failing(delay: int) -> None:
        raise RuntimeError("queue down")

    with pytest.raises(RuntimeError):
        coalescer.send(("q", "c"), 2, failing)
    assert coalescer.send(("q", "c"), 2, sender("c1"))  # a failed send suppressed nothing


def test_a_burst_of_ocrs_owes_one_training_request_sent_when_the_last_ends() -> None:
    clock = [0.0]
    bursts = FolderBursts(clock=lambda: clock[0])
    a, b = ("q", "a"), ("q", "b")
    for _ in range(3):
        bursts.started(a)
    bursts.started(b)
    assert bursts.finished(a, owes=True) == ""  # two more OCRs of the folder still run
    assert bursts.finished(a, owes=False) == ""
    assert bursts.finished(b, owes=False) == ""  # nothing owed: nothing to send
    assert bursts.finished(a, owes=False) == "ended"  # the last one ends: the owed request is due
    assert bursts.finished(a, owes=False) == ""  # ...once

    bursts.started(a)
    bursts.started(a)
    bursts.started(a)
    assert bursts.finished(a, owes=True) == ""
    clock[0] += BURST_DEFER_SECONDS  # a long burst still gets a decision every few seconds
    assert bursts.finished(a, owes=False) == "waited"
    assert bursts.finished(a, owes=False) == ""  # the last ended, but its request was already sent

    assert not bursts.defer(a)  # a labels file with no OCR of its folder running: send now
    bursts.started(a)
    assert bursts.defer(a)  # amid a burst: the running OCR sends it when it ends
    assert bursts.finished(a, owes=False) == "ended"
    bursts.started(a)
    assert bursts.defer(a)
    clock[0] += BURST_DEFER_SECONDS
    assert not bursts.defer(a)  # waited long enough: this one is sent now...
    assert bursts.finished(a, owes=False) == ""  # ...and the OCR owes nothing more
