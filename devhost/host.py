"""Wire the app's functions to listeners, run them, and stop cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from azure.core.exceptions import AzureError

from devhost import settings
from devhost.app_loader import FunctionSpec, load_functions
from devhost.blob_listener import POISON_QUEUE, BlobListener
from devhost.blob_path import BlobPathError, parse_blob_path
from devhost.connections import HOST_STORAGE, resolve_connection
from devhost.http_listener import PortError, build_http_listener
from devhost.http_routes import RouteError
from devhost.inflight import InFlight, log_crash, short_error
from devhost.invoker import Invoker
from devhost.queue_listener import QueueListener
from devhost.receipts import BlobReceipts, ensure_hosts_container
from devhost.schedule_status import ScheduleStatusStore
from devhost.settings import HostConfig
from devhost.timer_listener import TimerListener, parse_schedule, timer_options

log = logging.getLogger("devhost")


class StartupError(RuntimeError):
    """The host cannot start; the message is meant for the user as is."""


@dataclass(frozen=True)
class Options:
    """Command-line choices (see `python -m devhost --help`)."""

    app_dir: Path
    workers: int = 1
    blob_workers: int | None = None
    scan_interval: float = 0.25
    max_scan_interval: float = 0.25
    grace: float = 10.0
    only: tuple[str, ...] = ()
    http_port: int | None = None  # None: DEVHOST_HTTP_PORT, else 7071
    http_port_file: Path | None = None


class Listener(Protocol):
    spec: FunctionSpec
    inflight: InFlight

    async def run(self, stopping: asyncio.Event) -> None: ...


def _describe(spec: FunctionSpec, detail: str) -> str:
    return f"{spec.name}: {spec.trigger_type} ({detail})"


def blob_parallelism(config: HostConfig, options: Options) -> int:
    """Concurrent invocations per blob function: `--blob-workers`, else host.json
    `extensions.blobs.maxDegreeOfParallelism`, else `--workers` (the real host's default, 8 x cores,
    would swamp a laptop running Azurite and the engine on the same cores)."""
    return max(1, options.blob_workers or config.blob_parallelism or options.workers)


HTTP_THREADS = 4  # threads a sync HTTP function may keep busy at least: a page makes requests in parallel


def _threads(spec: FunctionSpec, blob_workers: int, options: Options) -> int:
    if spec.trigger_type == "blobTrigger":
        return blob_workers
    if spec.trigger_type == "httpTrigger":
        return max(HTTP_THREADS, options.workers)
    return options.workers


def _http_listener(
    specs: list[FunctionSpec], config: HostConfig, options: Options, invoker: Invoker
) -> Listener:
    """One server for all HTTP functions."""
    try:
        port = settings.http_port() if options.http_port is None else options.http_port
        return build_http_listener(
            specs,
            prefix=config.http_route_prefix,
            port=port,
            invoker=invoker,
            max_body_bytes=settings.http_max_body_bytes(),
            port_file=options.http_port_file,
            grace=options.grace,
        )
    except (settings.SettingsError, RouteError, PortError) as exc:
        raise StartupError(str(exc)) from exc


def build_listeners(specs: list[FunctionSpec], config: HostConfig, options: Options) -> list[Listener]:
    """One listener per function, with its `%SETTING%` expressions and connection resolved (and one
    for all HTTP functions: they share a port)."""
    host_id = settings.host_id()
    blob_workers = blob_parallelism(config, options)
    threads = sum(_threads(s, blob_workers, options) for s in specs)
    invoker = Invoker(config.function_timeout, max_threads=max(4, threads))
    http_specs = [s for s in specs if s.trigger_type == "httpTrigger"]
    specs = [s for s in specs if s.trigger_type != "httpTrigger"]
    # HTTP functions need no storage (like the real host, which wants AzureWebJobsStorage for the others)
    host_blobs = resolve_connection(HOST_STORAGE).blob_service() if specs else None
    listeners: list[Listener] = []
    for spec in specs:
        binding = spec.binding
        try:
            if spec.trigger_type == "blobTrigger":
                path = parse_blob_path(settings.resolve_expression(str(binding["path"])))
                connection = resolve_connection(binding.get("connection"))
                assert host_blobs is not None
                listener: Listener = BlobListener(
                    spec,
                    path,
                    data_service=connection.blob_service(),
                    receipts=BlobReceipts(host_blobs, host_id, spec.function_id),
                    poison_queue=connection.queue_service().get_queue_client(POISON_QUEUE),
                    invoker=invoker,
                    config=config,
                    workers=blob_workers,
                    scan_interval=options.scan_interval,
                    max_scan_interval=options.max_scan_interval,
                )
                source = binding.get("source") or "LogsAndContainerScan"
                log.info(
                    "%s, source %s: devhost scans the container, up to %d blob(s) at once",
                    _describe(spec, str(binding["path"])),
                    source,
                    blob_workers,
                )
            elif spec.trigger_type == "queueTrigger":
                name = settings.resolve_expression(str(binding["queueName"])).lower()
                queues = resolve_connection(binding.get("connection")).queue_service()
                listener = QueueListener(
                    spec,
                    queues.get_queue_client(name),
                    queues.get_queue_client(f"{name}-poison"),
                    invoker=invoker,
                    config=config,
                    workers=options.workers,
                )
                log.info("%s", _describe(spec, f"queue {name}"))
            else:
                schedule = parse_schedule(settings.resolve_expression(str(binding["schedule"])))
                run_on_startup, use_monitor = timer_options(binding)
                assert host_blobs is not None
                listener = TimerListener(
                    spec,
                    schedule,
                    ScheduleStatusStore(host_blobs, host_id, spec.function_id),
                    invoker=invoker,
                    run_on_startup=run_on_startup,
                    use_monitor=use_monitor,
                )
                log.info(
                    "%s", _describe(spec, f"schedule {schedule.expression}, run_on_startup={run_on_startup}")
                )
        except (settings.SettingsError, BlobPathError, LookupError) as exc:
            raise StartupError(f"function {spec.name}: {exc}") from exc
        listeners.append(listener)
    if http_specs:  # last: its port is taken only once everything else is known to be fine
        listeners.append(_http_listener(http_specs, config, options, invoker))
    return listeners


def prepare(options: Options) -> tuple[list[Listener], HostConfig]:
    """Everything that can fail before the loop starts: settings, app import, bindings."""
    app_dir = options.app_dir.resolve()
    try:
        applied = settings.load_local_settings(app_dir)
        config = settings.load_host_config(app_dir)
    except settings.SettingsError as exc:
        raise StartupError(str(exc)) from exc
    if applied:
        log.info(
            "loaded %d setting(s) from local.settings.json (the environment wins on clashes)", len(applied)
        )
    from devhost.app_loader import AppLoadError

    try:
        specs = load_functions(app_dir)
    except AppLoadError as exc:
        raise StartupError(str(exc)) from exc
    os.chdir(app_dir)
    port_file = options.http_port_file
    if port_file is not None and not port_file.parent.is_dir():
        raise StartupError(f"--http-port-file {port_file}: folder {port_file.parent} does not exist")
    if options.only:
        unknown = set(options.only) - {s.name for s in specs}
        if unknown:
            raise StartupError(f"--functions names unknown function(s): {', '.join(sorted(unknown))}")
        specs = [s for s in specs if s.name in options.only]
    enabled = []
    for spec in specs:
        if settings.function_disabled(spec.name):
            log.info("function %s is disabled (AzureWebJobs.%s.Disabled)", spec.name, spec.name)
        else:
            enabled.append(spec)
    return build_listeners(enabled, config, options), config


async def serve(listeners: list[Listener], options: Options) -> int:
    """Run until a signal; then let running invocations finish for `grace` seconds and abandon the rest."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            log.info(
                "stopping: waiting up to %.0fs for running invocations (Ctrl-C again to abandon them)",
                options.grace,
            )
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    if any(listener.spec.trigger_type != "httpTrigger" for listener in listeners):
        try:
            await asyncio.to_thread(ensure_hosts_container, resolve_connection(HOST_STORAGE).blob_service())
        except AzureError as exc:
            log.warning(
                "host storage is not reachable yet (%s); listeners will keep retrying", short_error(exc)
            )
    if not listeners:
        log.warning(
            "No job functions found. devhost serves blob, queue, timer and HTTP triggers of function_app.py"
        )
    runs = [
        loop.create_task(listener.run(stopping), name=f"listener {listener.spec.name}")
        for listener in listeners
    ]
    for run in runs:
        run.add_done_callback(log_crash)
    functions = sum(len(getattr(listener, "specs", (listener.spec,))) for listener in listeners)
    log.info("Host started (%d function(s)). Press Ctrl-C to stop.", functions)

    await stopping.wait()
    drains = [loop.create_task(listener.inflight.drain(options.grace)) for listener in listeners]
    while drains and not all(d.done() for d in drains):
        before = signals
        await asyncio.wait(drains, timeout=0.1)
        if signals > before and signals > 1:
            for listener in listeners:
                with contextlib.suppress(Exception):
                    await listener.inflight.drain(0)
    counts = [0 if d.cancelled() else d.result() for d in drains]
    abandoned = sum(counts)
    http = [listener.spec.trigger_type == "httpTrigger" for listener in listeners]
    answered = sum(n for n, is_http in zip(counts, http, strict=True) if is_http)
    for listener in listeners:  # e.g. the blob receipts checkpoint, now that nothing runs any more
        close = getattr(listener, "close", None)
        if close is not None:
            await close()
    for run in runs:
        if not run.done():
            run.cancel()
    await asyncio.gather(*runs, return_exceptions=True)
    if abandoned > answered:
        log.warning(
            "abandoned %d running invocation(s); their messages/blobs will be retried", abandoned - answered
        )
    if answered:
        log.warning("abandoned %d running HTTP invocation(s); their requests were answered 503", answered)
    log.info("Host stopped.")
    return 0
