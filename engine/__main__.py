"""`python -m engine --host 127.0.0.1 --port 5050 --api-key KEY --data-dir DIR [--workers N]`.

Ctrl-C (SIGINT) and SIGTERM stop it the same way, with exit code 0 and no traceback: uvicorn stops
taking requests and gives running ones SHUTDOWN_GRACE_S to finish (then answers them 503); running
operations get SHUTDOWN_GRACE_S more to record their results; a second signal cuts either wait short.
Operations, and training runs, still running then are abandoned (the next start closes them as
failed): the process exits without joining their threads, so it never hangs on a long OCR job.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI

from engine.app import create_app
from engine.config import EngineConfig
from engine.logs import setup_logging

log = logging.getLogger("engine")

SHUTDOWN_GRACE_S = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class EngineServer(uvicorn.Server):
    """uvicorn's server that tells the app when a signal asks it to stop (so requests cut off by the
    shutdown are answered 503, not logged as crashes) and does not re-raise the signal afterwards
    (uvicorn does, so SIGTERM ended the process with -15 and a late Ctrl-C with a traceback)."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's; after a second Ctrl-C (force_exit, which skips the waits) running requests are
        still cut off here (503) and the app still shut down: uvicorn leaves both to asyncio.run, whose
        cancelling the app's lifespan logs a traceback."""
        await super().shutdown(sockets)
        if self.force_exit:
            for task in list(self.server_state.tasks):
                task.cancel()
            await self.lifespan.shutdown()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


class UvicornRecords(logging.Filter):
    """uvicorn's server log is the logger "uvicorn.error", errors or not: its lines say "uvicorn", so
    that "error" in engine.log means an error. Cutting off requests at the end of the graceful-shutdown
    wait is a warning, not an ERROR: on a Ctrl-C it is expected (each request gets its own line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.name = "uvicorn"
        if record.levelno == logging.ERROR and str(record.msg).startswith("Cancel %s running task(s)"):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _on_stop_signals(event: threading.Event) -> None:
    """SIGINT and SIGTERM just set `event` (no KeyboardInterrupt, no death by signal)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: event.set())


def _finish(app: FastAPI, grace: float) -> None:
    """After the server stopped: let running operations record their results (bounded; another
    signal ends the wait), then say what was abandoned."""
    hurry = threading.Event()
    _on_stop_signals(hurry)
    running = app.state.operations.shutdown(0.0)
    if running:
        log.info("waiting for running operations", extra={"running": running, "grace_s": grace})
        running = app.state.operations.shutdown(grace, hurry)
    if running:
        log.warning("abandoned running operations; the next start closes them as failed",
                    extra={"running": running})
    log.info("engine stopped")


def main(argv: list[str] | None = None) -> int:
    faulthandler.enable()  # a crash in native code (Tesseract, PDFium) leaves every thread's stack in the log
    early = threading.Event()  # a signal while starting up: stop once the app is built, quietly
    _on_stop_signals(early)
    config = EngineConfig.from_env_and_args(argv)
    log_config = setup_logging(config.log_level)
    log.info("starting engine", extra={
        "host": config.host, "port": config.port, "data_dir": str(config.data_dir), "workers": config.workers,
        "max_pending": config.max_pending, "result_ttl_s": config.result_ttl_s,
        "allowed_hosts": list(config.allowed_hosts)})
    app = create_app(config)
    server = EngineServer(
        uvicorn.Config(app, host=config.host, port=config.port, log_config=log_config, access_log=False,
                       timeout_graceful_shutdown=int(SHUTDOWN_GRACE_S)),
        app.state.stopping,
    )
    logging.getLogger("uvicorn.error").addFilter(UvicornRecords())  # after uvicorn.Config set up logging
    for sig in STOP_SIGNALS:  # what the server restores when it is done: a late signal stays harmless
        signal.signal(sig, server.handle_exit)
    if early.is_set():
        log.info("engine stopped before it started")
        return 0
    server.run()
    _finish(app, SHUTDOWN_GRACE_S)
    return 0 if server.started else 1


if __name__ == "__main__":
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads of abandoned operations and training runs are not joined: exiting must not wait on them.
    os._exit(code)
