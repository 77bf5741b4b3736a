"""The debugging log: `tunedeck.log` in the data directory, with secrets masked."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path

from core.redact import RedactingFilter

LOG_FILE = "tunedeck.log"


def configure_logging(home: Path, level: str, secrets: Iterable[str] = ()) -> Path:
    """Send the `tunedeck`, `openai` and `httpx2` loggers to a rotating file in `home`.

    Every record passes through a filter that masks the given secrets and anything shaped
    like an API key, so a key never reaches the log even at DEBUG level.
    """
    path = home / LOG_FILE
    home.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    for name in ("tunedeck", "openai", "httpx2", "httpx"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers = [handler]
        logger.propagate = False
    return path
