"""Structured logs: one JSON object per line on stderr, so they can be grepped and shipped as is."""

from __future__ import annotations

import json
import logging
import sys
import time

_STD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
               "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in _STD and not k.startswith("_")})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup_logging(level: str = "info") -> dict:
    """Configure the root logger and return a uvicorn log_config that uses the same JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The Azure SDK logs every storage request and response with all headers at INFO (two thirds of a
    # training run's log); the engine's own "operation finished" line says what happened.
    logging.getLogger("azure").setLevel(max(logging.WARNING, root.level))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {"uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
                    "uvicorn.error": {"handlers": ["default"], "level": level.upper(), "propagate": False},
                    "uvicorn.access": {"handlers": ["default"], "level": "WARNING", "propagate": False}},
    }
