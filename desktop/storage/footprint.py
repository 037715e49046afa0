"""What EdgeChat keeps on this computer, where, and how big: the chats, the prompt cache, the
logs and the prompt cache's key (Settings ▸ Privacy shows it; the README's "Privacy" section
says the same). Qt-free.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from desktop.paths import disk_size

# The database's companions: its write-ahead log and index, and the marker of a pending scrub.
DATABASE_SUFFIXES = ("", "-wal", "-shm", ".scrub")


@dataclass(frozen=True)
class Place:
    path: Path
    size: int  # bytes


def _database(database: Path | None) -> Path:
    if database is None:
        from desktop.paths import database_path

        database = database_path()
    return database


def chats(database: Path | None = None) -> Place:
    """The conversation database (the chats, their settings, the presets), with its
    write-ahead log and any damaged copy kept aside (see recovery.py)."""
    database = _database(database)
    size = sum(disk_size(database.with_name(database.name + s)) for s in DATABASE_SUFFIXES)
    return Place(database, size + sum(disk_size(f) for f in set_aside(database)))


def set_aside(database: Path | None = None) -> list[Path]:
    """Damaged copies of the database, moved aside at a start (they hold chats too)."""
    database = _database(database)
    if not database.parent.is_dir():
        return []
    return sorted(f for f in database.parent.glob(database.name + ".damaged-*") if f.is_file())


def delete_set_aside(database: Path | None = None) -> int:
    """Delete the damaged copies; returns the bytes freed."""
    freed = 0
    for f in set_aside(database):
        with contextlib.suppress(OSError):
            size = f.stat().st_size
            f.unlink()
            freed += size
    return freed


def prompt_cache() -> Place:
    from desktop.engines.prompt_cache import disk_cache_bytes, prompt_cache_dir

    folder = prompt_cache_dir()
    return Place(folder, disk_cache_bytes(folder))


def logs() -> Place:
    from desktop.logs import log_folder

    folder = log_folder()
    return Place(folder, disk_size(folder))


def delete_logs() -> int:
    """Delete the log files (the one being written too: the next line starts a new one);
    returns the bytes freed."""
    from desktop.logs import FILE_NAME, LOGGER_NAME, _ours, log_folder

    folder = log_folder()
    handlers = [h for h in _ours(logging.getLogger(LOGGER_NAME)) if isinstance(h, logging.FileHandler)]
    for handler in handlers:
        handler.acquire()  # no line is written while its file goes
    try:
        for handler in handlers:
            stream, handler.stream = handler.stream, None  # reopened (a new file) by the next line
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        freed = 0
        for f in folder.glob(FILE_NAME + "*") if folder.is_dir() else ():
            with contextlib.suppress(OSError):
                size = f.stat().st_size
                f.unlink()
                freed += size
        return freed
    finally:
        for handler in handlers:
            handler.release()
