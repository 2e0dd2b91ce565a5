"""tfstudio's log file: a rotating file in the platform's log folder (:func:`tfstudio.paths.log_dir`).

No Qt here: the app sets it up at start (:func:`setup_logging`), and a command could too.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path

from tfstudio import __version__
from tfstudio.paths import log_dir

__all__ = ["LOG_NAME", "current_log_file", "log_exception", "setup_logging"]

LOG_NAME = "tfstudio.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger("tfstudio")
_lock = threading.Lock()
_handler: logging.handlers.RotatingFileHandler | None = None


def setup_logging(
    folder: Path | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    backups: int = BACKUPS,
    level: int = logging.INFO,
) -> Path | None:
    """Send the ``tfstudio`` logger to ``folder/tfstudio.log`` (the platform's log folder by
    default), rotated at ``max_bytes`` with ``backups`` old files kept; the file's path.

    Called again, it moves the log to the new folder. None when the folder cannot be made or
    written (a read-only home): the app runs without a log rather than not at all.
    """
    global _handler
    path = Path(folder if folder is not None else log_dir()) / LOG_NAME
    with _lock:
        if _handler is not None and Path(_handler.baseFilename) == path.resolve():
            return path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=False
            )
        except OSError as error:
            print(f"warning: no log file ({error})", file=sys.stderr)
            return None
        handler.setFormatter(logging.Formatter(FORMAT))
        if _handler is not None:
            logger.removeHandler(_handler)
            _handler.close()
        _handler = handler
        logger.addHandler(handler)
        logger.setLevel(level)
    logger.info("tfstudio %s, Python %s, %s", __version__, sys.version.split()[0], sys.platform)
    return path


def current_log_file() -> Path | None:
    """The file the log goes to, or None before :func:`setup_logging` (or when it failed)."""
    return Path(_handler.baseFilename) if _handler is not None else None


def log_exception(kind: type[BaseException], value: BaseException, tb: object) -> None:
    """Write an uncaught exception with its traceback to the log."""
    logger.error("uncaught exception", exc_info=(kind, value, tb))  # type: ignore[arg-type]
