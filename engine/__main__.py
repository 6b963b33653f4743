"""`python -m engine --host 127.0.0.1 --port 5050 --api-key KEY --data-dir DIR [--workers N]`."""

from __future__ import annotations

import faulthandler
import logging

import uvicorn

from engine.app import create_app
from engine.config import EngineConfig
from engine.logs import setup_logging


def main(argv: list[str] | None = None) -> None:
    faulthandler.enable()  # a crash in native code (Tesseract, PDFium) leaves every thread's stack in the log
    config = EngineConfig.from_env_and_args(argv)
    log_config = setup_logging(config.log_level)
    logging.getLogger("engine").info("starting engine", extra={
        "host": config.host, "port": config.port, "data_dir": str(config.data_dir), "workers": config.workers,
        "max_pending": config.max_pending, "result_ttl_s": config.result_ttl_s,
        "allowed_hosts": list(config.allowed_hosts)})
    app = create_app(config)
    uvicorn.run(app, host=config.host, port=config.port, log_config=log_config, access_log=False,
                timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
