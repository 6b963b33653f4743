"""Queue trigger semantics against a real Azurite and a real devhost process."""

from __future__ import annotations

import base64
import signal
from collections.abc import Callable

from azure.storage.queue import QueueClient

from tests.helpers.devhost import AppUnderTest, DevhostRun, ensure_queue, peek, wait_until


def _queue(app: AppUnderTest) -> QueueClient:
    return ensure_queue(app.queue_client())


def test_base64_and_plain_messages_are_decoded(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    queue = _queue(app)
    run = devhost(app, "--functions", "on_message")
    queue.send_message(base64.b64encode(b'{"folder": "po"}').decode())
    queue.send_message("plain text, not base64")
    queue.send_message("abcd")  # valid base64, but decodes to bytes that are not UTF-8: stays plain

    records = wait_until(lambda: len(app.read("queue")) == 3 and app.read("queue"), "three invocations", run)
    assert sorted(r["body"] for r in records) == sorted(
        ['{"folder": "po"}', "plain text, not base64", "abcd"]
    )
    assert {r["type"] for r in records} == {"QueueMessage"}
    assert {r["dequeue_count"] for r in records} == {1}
    assert all(r["inserted"] for r in records)
    wait_until(lambda: queue.get_queue_properties().approximate_message_count == 0, "the queue to drain", run)


def test_failing_message_goes_to_poison_after_max_dequeue_count(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app(
        host_json={
            "version": "2.0",
            "extensions": {"queues": {"maxDequeueCount": 3, "visibilityTimeout": "00:00:00"}},
        }
    )
    queue = _queue(app)
    run = devhost(app, "--functions", "on_message")
    raw = base64.b64encode(b"fail please").decode()
    queue.send_message(raw)

    poison = app.queue_client(f"{app.queue}-poison")
    messages = wait_until(lambda: peek(poison), "the poison message", run)
    assert [m.content for m in messages] == [raw]  # copied unchanged
    assert [r["dequeue_count"] for r in app.read("queue")] == [1, 2, 3]
    # the copy lands in the poison queue before the original is deleted: wait for the delete too
    wait_until(lambda: queue.get_queue_properties().approximate_message_count == 0, "the delete", run)
    assert "moved to " + f"{app.queue}-poison" in run.log()
    # One line per failed attempt; the traceback only with the last one (the one that poisons).
    failed = [line for line in run.log().splitlines() if "(Failed," in line]
    assert [line.split("attempt ")[1][:3] for line in failed] == ["1/3", "2/3", "3/3"]
    assert all("ValueError: message 'fail please' asked to fail" in line for line in failed)
    assert run.log().count("Traceback") == 1


def test_two_workers_process_one_queue_in_parallel(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    queue = _queue(app)
    run = devhost(app, "--functions", "on_message", "--workers", "2")
    queue.send_message("pair-1")
    queue.send_message("pair-2")

    records = wait_until(lambda: len(app.read("queue")) >= 2 and app.read("queue"), "both invocations", run)
    # Each invocation waited for the other to start: both saw their partner on the first delivery.
    assert [(r["partner"], r["dequeue_count"]) for r in records] == [(True, 1), (True, 1)]


def test_ctrl_c_abandons_running_invocation_and_returns_message(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    queue = _queue(app)
    run = devhost(app, "--functions", "on_message", "--grace", "0.5")
    queue.send_message("sleep forever")
    wait_until(lambda: "Executing 'Functions.on_message'" in run.log(), "the invocation to start", run)

    assert run.process is not None
    run.process.send_signal(signal.SIGINT)
    assert run.process.wait(timeout=20) == 0
    log = run.log()
    assert "Abandoned 'Functions.on_message'" in log
    assert "Host stopped." in log
    assert "Traceback" not in log
    # The message went back at once (not after the lease) with its dequeue count kept.
    (message,) = wait_until(lambda: list(queue.receive_messages(max_messages=1)), "the message to be visible")
    assert message.dequeue_count == 2


def test_sigterm_stops_idle_host_cleanly(
    make_app: Callable[..., AppUnderTest], devhost: Callable[..., DevhostRun]
) -> None:
    app = make_app()
    run = devhost(app)
    assert run.process is not None
    run.process.send_signal(signal.SIGTERM)
    assert run.process.wait(timeout=20) == 0
    assert "Host stopped." in run.log()
    assert "Traceback" not in run.log()
