"""Where EdgeChat writes down what went wrong: one rotating log file in the data folder.

The window, the command line and the workers all log under the ``edgechat`` logger. A windowed
bundle has no console (``sys.stderr`` is None there), so the file is the only place a traceback
survives; when there is a console, warnings go to it as well. Qt-free: the command line uses it.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER_NAME = "edgechat"
# Modules that log under their own name (logging.getLogger(__name__)) are under "desktop".
_LOGGERS = (LOGGER_NAME, "desktop")
FILE_NAME = "edgechat.log"
# Five files of 1 MB: enough for the tracebacks of a bad week, never a disk-filler.
MAX_BYTES = 1_000_000
BACKUPS = 5
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
# Marks the handlers setup_logging added, so that a second call replaces them instead of adding
# more (each would write every line once again).
_OURS = "_edgechat_handler"


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest swaps it; a windowed bundle has
    none), not to the stream that was there when logging was set up."""

    def __init__(self):
        super().__init__(None)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass

    def emit(self, record):
        if sys.stderr is not None:
            super().emit(record)


def _ours(logger: logging.Logger) -> list[logging.Handler]:
    return [h for h in logger.handlers if getattr(h, _OURS, False)]


def default_log_folder() -> Path:
    from desktop.paths import data_dir

    return data_dir() / "logs"


def log_folder() -> Path:
    """The folder the log is written to: the one setup_logging chose, else the default one."""
    for handler in _ours(logging.getLogger(LOGGER_NAME)):
        if isinstance(handler, RotatingFileHandler):
            return Path(handler.baseFilename).parent
    return default_log_folder()


def log_file() -> Path:
    return log_folder() / FILE_NAME


def setup_logging(folder: str | Path | None = None, *, max_bytes: int = MAX_BYTES,
                  backups: int = BACKUPS, level: int = logging.INFO) -> Path | None:
    """Log the ``edgechat`` logger to <folder>/edgechat.log (default: <data folder>/logs) and,
    when there is a console, its warnings to stderr. Calling it again replaces what an earlier
    call installed. Returns the log file, or None when the folder cannot be written to (the app
    still runs; only the console gets the log then)."""
    shutdown_logging()
    loggers = [logging.getLogger(name) for name in _LOGGERS]

    path: Path | None = Path(folder) / FILE_NAME if folder is not None else None
    try:
        if path is None:
            path = default_log_folder() / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                           encoding="utf-8", delay=True)
    except OSError as exc:
        file_handler, path = None, None
        failure = exc
    else:
        failure = None
        file_handler.setFormatter(logging.Formatter(_FORMAT))
        setattr(file_handler, _OURS, True)

    console = _Stderr()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("edgechat: %(levelname)s %(name)s: %(message)s"))
    setattr(console, _OURS, True)
    for logger in loggers:
        logger.setLevel(level)
        for handler in (file_handler, console):
            if handler is not None:
                logger.addHandler(handler)
    if failure is not None:
        loggers[0].warning("cannot write the log file: %s", failure)
    return path


def shutdown_logging() -> None:
    """Remove (and close) the handlers setup_logging installed."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for handler in _ours(logger):
            logger.removeHandler(handler)
            handler.close()
