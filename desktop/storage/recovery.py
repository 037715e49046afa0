"""Opening the conversation database at start, whatever state it is in.

A damaged file (garbage in its header or in its pages: a bad disk, a crash of the file system,
another program writing into it) used to end every start in a traceback, so the app could not
be used at all until someone found and removed the file by hand. Now a database that SQLite says
is damaged is moved aside, never deleted (what can be rescued from it is the user's), and the
app starts on a fresh one, telling the user where the old one went.

Only damage moves a file: a database that is locked by another program, unreadable for lack of
permission, or written by a newer EdgeChat is fine and stays where it is (StoreError).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from desktop.storage.errors import DamagedDatabaseError, StoreError
from desktop.storage.store import ConversationStore
from desktop.text import translate

# The files SQLite keeps beside a database; they belong to it and move with it (a WAL left
# behind would be replayed into the fresh database).
_COMPANIONS = ("-wal", "-shm", "-journal")
_HEADER = b"SQLite format 3\x00"


def open_store(path: str | Path) -> tuple[ConversationStore, str | None]:
    """The store, and a notice for the user when the old database had to be moved aside.

    Raises StoreError (with a message for the user, never another exception) when the database
    cannot be opened and is not damaged, or when a damaged one cannot be moved aside."""
    path = Path(path)
    # A file that is not SQLite's is not handed to SQLite at all: closing it, SQLite deletes
    # the -wal beside it, which may be all that is left of the last changes.
    if not _foreign(path):
        try:
            store = ConversationStore(path)
        except DamagedDatabaseError:
            pass
        else:
            try:
                problems = store.check()
            except DamagedDatabaseError:
                problems = ["unreadable"]
            if not problems:
                return store, None
            store.close()
    moved = move_aside(path)
    try:
        store = ConversationStore(path)
    except (sqlite3.Error, OSError) as exc:  # StoreError itself goes to the caller as it is
        raise StoreError(translate(
            "Core", "Cannot open the conversation database {path}: {reason}").format(
            path=path, reason=exc)) from None
    return store, translate(
        "Core", "The conversation database was damaged, so EdgeChat started with an empty one. "
                "The damaged file was kept as {path}.").format(path=moved)


def _foreign(path: Path) -> bool:
    """Whether the file exists, is not empty (SQLite makes an empty file a new database) and
    does not start with SQLite's header."""
    try:
        with open(path, "rb") as f:
            start = f.read(len(_HEADER))
    except OSError:
        return False  # absent (created next) or unreadable (SQLite says why)
    return bool(start) and start != _HEADER


def move_aside(path: Path) -> Path:
    """Rename a database and its companion files to ``<name>.damaged-<date>-<time>``. All or
    nothing: a failure puts back what was moved and raises StoreError."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 2
    while any(Path(str(target) + suffix).exists() for suffix in ("", *_COMPANIONS)):
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        n += 1
    moves = [(Path(str(path) + suffix), Path(str(target) + suffix))
             for suffix in (*_COMPANIONS, "")]  # the database last: it is what says "done"
    done: list[tuple[Path, Path]] = []
    try:
        for source, destination in moves:
            if source.exists() or source == path:
                os.rename(source, destination)  # the target name was free a moment ago
                done.append((source, destination))
    except OSError as exc:
        for source, destination in reversed(done):
            with contextlib.suppress(OSError):
                os.rename(destination, source)
        raise StoreError(translate(
            "Core", "The conversation database {path} is damaged and could not be moved aside "
                    "({reason}). Move or rename it yourself, then start EdgeChat again.").format(
            path=path, reason=exc.strerror or exc)) from None
    return target
