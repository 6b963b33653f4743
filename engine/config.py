"""Engine settings: every command-line flag also comes from an ENGINE_* environment variable.

This is the only place that reads the environment, so the set of knobs is documented in one spot.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ALLOWED_HOSTS = "127.0.0.1,localhost,*.blob.core.windows.net"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


@dataclass(frozen=True)
class EngineConfig:
    host: str
    port: int
    api_key: str
    data_dir: Path
    workers: int
    result_ttl_s: int
    allowed_hosts: tuple[str, ...]
    max_pending: int
    log_level: str = "info"

    @classmethod
    def from_env_and_args(cls, argv: list[str] | None = None) -> EngineConfig:
        """Flags win over environment variables, which win over defaults."""
        p = argparse.ArgumentParser(prog="python -m engine", description="Local Form Recognizer v2.x engine")
        p.add_argument("--host", default=_env("ENGINE_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(_env("ENGINE_PORT", "5050")))
        p.add_argument("--api-key", default=_env("ENGINE_API_KEY", ""))
        p.add_argument("--data-dir", default=_env("ENGINE_DATA_DIR", ".formloop/engine"))
        p.add_argument("--workers", type=int, default=int(_env("ENGINE_WORKERS", "0")),
                       help="worker threads for operations (0 = number of cores)")
        p.add_argument("--result-ttl-hours", type=float, default=float(_env("ENGINE_RESULT_TTL_HOURS", "24")))
        p.add_argument("--allowed-hosts", default=_env("ENGINE_ALLOWED_HOSTS", DEFAULT_ALLOWED_HOSTS))
        p.add_argument("--max-pending", type=int, default=int(_env("ENGINE_MAX_PENDING", "64")))
        p.add_argument("--log-level", default=_env("ENGINE_LOG_LEVEL", "info"))
        a = p.parse_args(argv)
        if not a.api_key:
            p.error("an API key is required (--api-key or ENGINE_API_KEY)")
        workers = a.workers if a.workers > 0 else (os.cpu_count() or 1)
        hosts = tuple(h.strip().lower() for h in a.allowed_hosts.split(",") if h.strip())
        return cls(
            host=a.host,
            port=a.port,
            api_key=a.api_key,
            data_dir=Path(a.data_dir),
            workers=workers,
            result_ttl_s=max(1, int(a.result_ttl_hours * 3600)),
            allowed_hosts=hosts,
            max_pending=max(1, a.max_pending),
            log_level=a.log_level,
        )
