"""Blob trigger: scan the container, fire once per blob version (ETag), retry, then poison.

Cheap by design: one listing call per scan (per 5000 blobs); the content is downloaded only when the
function reads it; a version done with at once goes into a checkpoint written once a second. Receipts
live in host storage, so a restart does not refire; a receipt still pending at startup (the host
stopped mid-way) is resumed with its attempt count.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.functions.blob import InputStream
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from devhost.app_loader import FunctionSpec
from devhost.blob_path import BlobPath
from devhost.blob_stream import LazyBlobStream
from devhost.inflight import InFlight, short_error, sleep_or_stop
from devhost.invoker import Attempt, Invoker
from devhost.listing import Listed, list_versions, listed_properties
from devhost.receipts import BlobReceipts, BlobVersion
from devhost.settings import HostConfig

log = logging.getLogger("devhost")

POISON_QUEUE = "webjobs-blobtrigger-poison"
BACKLOG_ROUNDS = 2  # no listing while this many rounds of work (x workers) wait for a worker
BACKLOG_CHECK_SECONDS = 0.05
BUSY_LISTING_FACTOR = 2  # sleep at least this many times the last listing's duration...
IDLE_LISTING_FACTOR = 19  # ...and this many while nothing changed (listing <= 5% of the time)


def quoted_etag(etag: str) -> str:
    """Listings and headers spell ETags differently; receipts always use the quoted header form."""
    return etag if etag.startswith('"') else f'"{etag}"'


def poison_message(function_id: str, blob_type: str, version: BlobVersion) -> dict[str, str]:
    """The message the real host writes to `webjobs-blobtrigger-poison`."""
    return {
        "Type": "BlobTrigger",
        "FunctionId": function_id,
        "BlobType": blob_type,
        "ContainerName": version.container,
        "BlobName": version.name,
        "ETag": version.etag,
    }


@dataclass
class _Work:
    version: BlobVersion
    blob_type: str
    attempts: int  # attempts that ended (a crash in the middle of one does not count it)
    listed: Listed | None = None  # the listing entry that found it (None: resumed from a receipt)


class BlobListener:
    """Drives one blob-triggered function."""

    def __init__(
        self,
        spec: FunctionSpec,
        path: BlobPath,
        *,
        data_service: BlobServiceClient,
        receipts: BlobReceipts,
        poison_queue: QueueClient,
        invoker: Invoker,
        config: HostConfig,
        workers: int,
        scan_interval: float,
        max_scan_interval: float = 0.25,
    ) -> None:
        self.spec = spec
        self.path = path
        self._container = data_service.get_container_client(path.container)
        self._receipts = receipts
        self._poison = poison_queue
        self._invoker = invoker
        self._config = config
        self._workers = max(1, workers)
        self._scan_interval = scan_interval
        self._max_scan_interval = max(scan_interval, max_scan_interval)
        self._backlog_limit = BACKLOG_ROUNDS * self._workers
        self._known: dict[str, str] = {}
        self._scanned = False  # whether _known holds a complete listing yet
        self._known_since = 0.0  # when the listing behind _known started (monotonic)
        self._taken: set[BlobVersion] = set()
        self._work: asyncio.Queue[_Work] = asyncio.Queue()
        self.inflight = InFlight()
        self._missing_logged = False

    async def run(self, stopping: asyncio.Event) -> None:
        """Scan until `stopping` is set; invocations run as in-flight tasks the host drains."""
        await self._startup(stopping)
        for _ in range(self._workers):
            self.inflight.spawn(self._worker(stopping))
        interval = self._scan_interval
        while not stopping.is_set():
            if self._receipts.flush_due():
                await self.close()
            if self._work.qsize() >= self._backlog_limit:
                # Back-pressure: what the last scans found is enough work for a while, so a listing
                # now (the costliest call devhost makes: every blob of the container) could not start
                # anything sooner. Watching the backlog costs nothing; the listing starts as soon as
                # it drops below the limit, which leaves the workers a full round of work to do
                # while the listing runs (with a limit of one round they ran dry under load).
                await sleep_or_stop(stopping, BACKLOG_CHECK_SECONDS)
                continue
            started = time.monotonic()
            try:
                new = await asyncio.to_thread(self._scan, self._emitter(asyncio.get_running_loop()))
            except AzureError as exc:
                log.warning("blob scan of %s failed, retrying: %s", self.path.container, short_error(exc))
                new = []
            elapsed = time.monotonic() - started
            # Fast right after a change, easing off to max_scan_interval while nothing changes; and
            # however large the container, listing takes at most a third of the time while blobs keep
            # coming and a twentieth while the container stays unchanged (idle CPU ~ container size).
            if new:
                interval, floor = self._scan_interval, BUSY_LISTING_FACTOR * elapsed
            else:
                interval = min(self._max_scan_interval, interval * 1.5)
                floor = IDLE_LISTING_FACTOR * elapsed
            await sleep_or_stop(stopping, max(interval, floor))

    async def close(self) -> None:
        """Write the completed-versions checkpoint (periodically, and once more after the host drained)."""
        listing = (self.path.container, self._known, self._known_since) if self._scanned else None
        try:
            await asyncio.to_thread(self._receipts.flush, listing)  # also drops deleted blobs
        except AzureError as exc:
            log.warning("writing the blob receipts checkpoint failed, will retry: %s", short_error(exc))

    async def _startup(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                receipts = await asyncio.to_thread(self._receipts.list_all)
                break
            except AzureError as exc:
                log.warning("reading blob receipts failed, retrying: %s", short_error(exc))
                await sleep_or_stop(stopping, 2.0)
        else:
            return
        for version, receipt in receipts.items():
            if version.container != self.path.container:
                continue
            self._taken.add(version)
            if receipt.pending:
                log.info(
                    "resuming %s/%s (%s): pending since the last run",
                    version.container,
                    version.name,
                    version.etag,
                )
                self._work.put_nowait(_Work(version, "BlockBlob", receipt.attempts))

    def _emitter(self, loop: asyncio.AbstractEventLoop) -> Callable[[_Work], None]:
        """Hand work from the scan thread to the workers at once: the first blob of a burst need not
        wait until receipts for all the others are written."""
        return lambda work: loop.call_soon_threadsafe(self._work.put_nowait, work)

    def _scan(self, emit: Callable[[_Work], None]) -> list[_Work]:
        """List the container once; take on (and `emit`) every version not seen before (blocking)."""
        seen: dict[str, str] = {}
        new: list[_Work] = []
        started = time.monotonic()
        try:
            items = list(list_versions(self._container, self.path.prefix or None))
        except ResourceNotFoundError:
            if not self._missing_logged:
                log.info("container %s does not exist yet; watching for it", self.path.container)
                self._missing_logged = True
            return new
        self._missing_logged = False
        for item in items:
            name, blob_type = item.name, item.blob_type
            etag = quoted_etag(item.etag)
            seen[name] = etag
            if self._known.get(name) == etag or self.path.match(name) is None:
                continue
            version = BlobVersion(self.path.container, name, etag)
            if version in self._taken:
                continue
            # No receipt yet: the version goes into the completed checkpoint when it is done with, or
            # gets a receipt blob when it fails; what start-up reads of both keeps a restart from refiring.
            work = _Work(version, blob_type, 0, item)
            emit(work)
            new.append(work)
            self._taken.add(version)
        self._known, self._known_since, self._scanned = seen, started, True
        return new

    async def _worker(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            getter = asyncio.ensure_future(self._work.get())
            stop_waiter = asyncio.ensure_future(stopping.wait())
            done, _ = await asyncio.wait({getter, stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
            stop_waiter.cancel()
            if getter not in done:
                getter.cancel()
                return
            work = getter.result()
            try:
                await self._process(work, stopping)
            except AzureError as exc:
                log.warning(
                    "blob %s/%s: storage error, will retry: %s",
                    work.version.container,
                    work.version.name,
                    short_error(exc),
                )
                self._retry_later(work, stopping)

    async def _process(self, work: _Work, stopping: asyncio.Event) -> None:
        version = work.version
        if work.attempts >= self._config.poison_blob_threshold:
            await asyncio.to_thread(self._send_to_poison, work)
            return
        argument = self._lazy_argument(work)
        if argument is None:
            argument = await asyncio.to_thread(self._download, version)
        if argument is None:
            await asyncio.to_thread(self._receipts.complete, version)
            return
        invocation_id = str(uuid.uuid4())
        attempt = Attempt(work.attempts + 1, self._config.poison_blob_threshold)
        reason = f"New blob detected(LogsAndContainerScan): {version.container}/{version.name}"
        if work.attempts > 0:
            reason += f", attempt {attempt.number}/{attempt.limit}"
        outcome = await self._invoker.invoke(self.spec, argument, reason, attempt=attempt)
        if isinstance(argument, LazyBlobStream) and argument.gone:
            self._log_gone(version)
            await asyncio.to_thread(self._receipts.complete, version)
            return
        work.attempts += 1
        if outcome.succeeded:
            await asyncio.to_thread(self._receipts.complete, version)
        elif work.attempts >= self._config.poison_blob_threshold:
            await asyncio.to_thread(self._send_to_poison, work)
        else:
            await asyncio.to_thread(self._receipts.record_failure, version, invocation_id, work.attempts)
            self._retry_later(work, stopping)

    def _retry_later(self, work: _Work, stopping: asyncio.Event) -> None:
        async def later() -> None:
            await sleep_or_stop(stopping, self._config.visibility_timeout.total_seconds())
            if not stopping.is_set():
                self._work.put_nowait(work)

        self.inflight.spawn(later())

    def _lazy_argument(self, work: _Work) -> LazyBlobStream | None:
        """An InputStream that downloads on first read, when the listing gave its properties and the
        function takes an InputStream (a `bytes`/`str` parameter needs the content up front)."""
        if work.listed is None or self.spec.annotation in (bytes, str):
            return None
        version = work.version
        return LazyBlobStream(
            self._container.get_blob_client(version.name),
            name=f"{version.container}/{version.name}",
            etag=version.etag,
            properties=listed_properties(work.listed, version.etag),
        )

    @staticmethod
    def _log_gone(version: BlobVersion) -> None:
        log.info(
            "skipping %s/%s (%s): the blob was deleted or changed since",
            version.container,
            version.name,
            version.etag,
        )

    def _download(self, version: BlobVersion) -> Any:
        """The trigger argument, or None when this version is gone (deleted or overwritten meanwhile)."""
        client = self._container.get_blob_client(version.name)
        try:
            downloader = client.download_blob(
                etag=version.etag, match_condition=MatchConditions.IfNotModified
            )
            data = downloader.readall()
        except (ResourceNotFoundError, ResourceModifiedError):
            self._log_gone(version)
            return None
        props = downloader.properties
        if self.spec.annotation is bytes:
            return data
        if self.spec.annotation is str:
            return data.decode("utf-8")
        blob_type = str(getattr(props.blob_type, "value", props.blob_type) or "BlockBlob")
        return InputStream(
            data=data,
            name=f"{version.container}/{version.name}",
            uri=client.url,
            length=props.size,
            blob_properties=listed_properties(
                Listed(version.name, version.etag, blob_type, props), version.etag
            ),
            metadata=dict(props.metadata or {}),
        )

    def _send_to_poison(self, work: _Work) -> None:
        message = json.dumps(poison_message(self.spec.function_id, work.blob_type, work.version))
        if self._config.message_encoding == "base64":
            message = base64.b64encode(message.encode()).decode()
        with contextlib.suppress(ResourceExistsError):
            self._poison.create_queue()
        self._poison.send_message(message)
        self._receipts.complete(work.version)
        log.error(
            "blob %s/%s (%s) failed %d times: moved to queue %s",
            work.version.container,
            work.version.name,
            work.version.etag,
            work.attempts,
            POISON_QUEUE,
        )
