"""Queue trigger: poll with a lease, invoke, delete; on failure make visible again or poison.

As the real host: a message is leased (made invisible) while it runs; a failure makes it visible
again after host.json `visibilityTimeout`; once its dequeue count reaches `maxDequeueCount` it is
copied unchanged to `<queue>-poison` and deleted. Polling backs off to `maxPollingInterval` when
the queue is empty and returns to fast polling as soon as a message arrives.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from datetime import timedelta
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient
from azure.storage.queue import QueueMessage as StorageMessage

from devhost.app_loader import FunctionSpec
from devhost.inflight import InFlight, short_error, sleep_or_stop
from devhost.invoker import Attempt, Invoker
from devhost.settings import HostConfig

log = logging.getLogger("devhost")

MIN_POLL_SECONDS = 0.05
LEASE_MARGIN = timedelta(seconds=30)
MAX_LEASE = timedelta(days=7)


def decode_body(text: str, encoding: str = "base64") -> bytes:
    """The body the host hands over: base64-decoded when that gives UTF-8 text, else the text itself."""
    if encoding == "base64":
        try:
            decoded = base64.b64decode(text, validate=True)
            decoded.decode("utf-8")
        except (binascii.Error, ValueError):
            pass
        else:
            if text:
                return decoded
    return text.encode("utf-8")


def to_argument(message: StorageMessage, annotation: Any, encoding: str) -> Any:
    """The azure.functions QueueMessage (or str/bytes when the parameter asks for that)."""
    body = decode_body(str(message.content or ""), encoding)
    if annotation is bytes:
        return body
    if annotation is str:
        return body.decode("utf-8", errors="replace")
    return QueueMessage(
        id=message.id,
        body=body,
        dequeue_count=message.dequeue_count,
        expiration_time=message.expires_on,
        insertion_time=message.inserted_on,
        time_next_visible=message.next_visible_on,
        pop_receipt=message.pop_receipt,
    )


class QueueListener:
    """Drives one queue-triggered function with up to `workers` messages in flight."""

    def __init__(
        self,
        spec: FunctionSpec,
        queue: QueueClient,
        poison: QueueClient,
        *,
        invoker: Invoker,
        config: HostConfig,
        workers: int,
    ) -> None:
        self.spec = spec
        self.queue = queue
        self._poison = poison
        self._invoker = invoker
        self._config = config
        self._workers = max(1, workers)
        lease = (config.function_timeout or timedelta(minutes=10)) + LEASE_MARGIN
        self._lease_seconds = int(min(lease, MAX_LEASE).total_seconds())
        self.inflight = InFlight()
        self._free = self._workers
        self._freed = asyncio.Event()
        self._missing_logged = False

    async def run(self, stopping: asyncio.Event) -> None:
        delay = MIN_POLL_SECONDS
        max_delay = max(MIN_POLL_SECONDS, self._config.max_polling_interval.total_seconds())
        while not stopping.is_set():
            if self._free == 0:
                self._freed.clear()
                await _wait_either(self._freed, stopping)
                continue
            take = min(self._free, self._config.batch_size)
            try:
                messages = await asyncio.to_thread(self._receive, take)
            except AzureError as exc:
                log.warning(
                    "receiving from queue %s failed, retrying: %s", self.queue.queue_name, short_error(exc)
                )
                messages = []
                delay = max_delay
            self._free -= len(messages)
            for message in messages:
                self.inflight.spawn(self._handle(message))
            if messages:
                delay = MIN_POLL_SECONDS
                continue
            await sleep_or_stop(stopping, delay)
            delay = min(max_delay, delay * 2)

    def _receive(self, count: int) -> list[StorageMessage]:
        try:
            messages = list(
                self.queue.receive_messages(max_messages=count, visibility_timeout=self._lease_seconds)
            )
        except ResourceNotFoundError:
            if not self._missing_logged:
                log.info("queue %s does not exist yet; watching for it", self.queue.queue_name)
                self._missing_logged = True
            return []
        self._missing_logged = False
        return messages[:count]

    async def _handle(self, message: StorageMessage) -> None:
        try:
            await self._process(message)
        except AzureError as exc:
            log.warning(
                "queue %s message %s: storage error: %s", self.queue.queue_name, message.id, short_error(exc)
            )
        except asyncio.CancelledError:
            # Abandoned at shutdown: hand the message back at once instead of after the lease.
            await asyncio.shield(asyncio.to_thread(self._release, message, 0))
            raise
        finally:
            self._free += 1
            self._freed.set()

    async def _process(self, message: StorageMessage) -> None:
        max_count = self._config.max_dequeue_count
        if message.dequeue_count and message.dequeue_count > max_count:
            await asyncio.to_thread(self._to_poison, message)
            return
        argument = to_argument(message, self.spec.annotation, self._config.message_encoding)
        reason = (
            f"New queue message detected on '{self.queue.queue_name}', id {message.id}, "
            f"dequeue count {message.dequeue_count}"
        )
        attempt = Attempt(message.dequeue_count or 1, max_count)
        outcome = await self._invoker.invoke(self.spec, argument, reason, attempt=attempt)
        if outcome.succeeded:
            await asyncio.to_thread(self.queue.delete_message, message)
        elif (message.dequeue_count or 0) >= max_count:
            await asyncio.to_thread(self._to_poison, message)
        else:
            await asyncio.to_thread(
                self._release, message, int(self._config.visibility_timeout.total_seconds())
            )

    def _release(self, message: StorageMessage, seconds: int) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self.queue.update_message(message, pop_receipt=message.pop_receipt, visibility_timeout=seconds)

    def _to_poison(self, message: StorageMessage) -> None:
        """Copy the message unchanged to `<queue>-poison`, then delete the original."""
        with contextlib.suppress(ResourceExistsError):
            self._poison.create_queue()
        self._poison.send_message(message.content)
        self.queue.delete_message(message)
        log.error(
            "message %s on queue %s reached dequeue count %s (max %d): moved to %s",
            message.id,
            self.queue.queue_name,
            message.dequeue_count,
            self._config.max_dequeue_count,
            self._poison.queue_name,
        )


async def _wait_either(first: asyncio.Event, second: asyncio.Event) -> None:
    waiters = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
    _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()
