"""`python -m devhost [APP_DIR]`: serve a v2-model app's blob, queue, timer and HTTP triggers locally."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from devhost.host import Options, StartupError, prepare, serve

REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> tuple[Options, str]:
    parser = argparse.ArgumentParser(
        prog="python -m devhost",
        description="Local stand-in for the Azure Functions host: blob, queue and timer triggers "
        "against Azurite or a real storage account, HTTP triggers on 127.0.0.1.",
    )
    parser.add_argument(
        "app_dir",
        nargs="?",
        type=Path,
        default=REPO_ROOT,
        help="folder with function_app.py (default: the repository root)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="concurrent invocations per function (default 1)"
    )
    parser.add_argument(
        "--blob-workers",
        type=int,
        default=None,
        help="concurrent invocations per blob function (default: host.json "
        "extensions.blobs.maxDegreeOfParallelism, else --workers)",
    )
    parser.add_argument(
        "--scan-interval",
        type=float,
        default=0.25,
        help="seconds between blob container scans (default 0.25)",
    )
    parser.add_argument(
        "--max-scan-interval",
        type=float,
        default=0.25,
        help="scan interval reached while a container stays unchanged (default 0.25; large "
        "containers are listed less often: at most 5%% of the time while idle)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=10.0,
        help="seconds running invocations get to finish at shutdown (default 10)",
    )
    parser.add_argument(
        "--functions", nargs="+", default=(), metavar="NAME", help="serve only these functions"
    )
    parser.add_argument(
        "--http-port",
        type=int,
        default=None,
        help="port of the HTTP functions on 127.0.0.1 (default: DEVHOST_HTTP_PORT, else 7071); when it is "
        "taken, the next free one of the following 19; 0 = any free port",
    )
    parser.add_argument(
        "--http-port-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the HTTP port devhost listens on to this file once it listens",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("DEVHOST_LOG_LEVEL", "INFO"),
        help="DEBUG, INFO (default), WARNING",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.blob_workers is not None and args.blob_workers < 1:
        parser.error("--blob-workers must be at least 1")
    if args.scan_interval <= 0:
        parser.error("--scan-interval must be positive")
    if args.http_port is not None and not 0 <= args.http_port <= 65535:
        parser.error("--http-port must be a port number (0-65535)")
    options = Options(
        app_dir=args.app_dir,
        workers=args.workers,
        blob_workers=args.blob_workers,
        scan_interval=args.scan_interval,
        max_scan_interval=max(args.scan_interval, args.max_scan_interval),
        grace=max(0.0, args.grace),
        only=tuple(args.functions),
        http_port=args.http_port,
        http_port_file=args.http_port_file.resolve() if args.http_port_file else None,
    )
    return options, str(args.log_level).upper()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The storage SDK logs every HTTP request at INFO: far too loud for a host log.
    logging.getLogger("azure").setLevel(logging.WARNING)
    # uvicorn (the HTTP front door) logs its start and stop at INFO; devhost says what matters itself.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    options, level = parse_args(argv)
    configure_logging(level)
    try:
        listeners, _config = prepare(options)
    except StartupError as exc:
        print(f"devhost: error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(serve(listeners, options))


if __name__ == "__main__":
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # A sync function abandoned at shutdown keeps its thread; do not wait for it.
    os._exit(code)
