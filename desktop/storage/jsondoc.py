"""One small JSON file the app keeps (the model list, saved servers, load settings, paused
downloads, the speed calibration), written so that nothing in it is lost. Qt-free.

- Every change is a read-modify-write under a file lock beside the file (``<name>.lock``): the
  window, a download thread, the command line and a second instance all write these files, and
  a copy read before another's change would undo it when written back.
- A write goes to a temporary file in the same folder, is flushed and fsynced, renamed over the
  file, and the folder is fsynced (where the OS allows): a crash or a full disk leaves the old
  file or the new one, never half of one.
- The file carries a format version. A file without one is the format from before versions.
  A file from a newer EdgeChat is left exactly as it is: it is not read (its shape may have
  changed), never written over and never moved, so going back to an older version destroys
  nothing; the user is told once.
- A damaged file (not JSON, not UTF-8, not the shape this document has) is moved aside once, to
  ``<name>.damaged-<date>-<time>``, the user is told where, and the defaults carry on. It is
  never written over before that, and a second read does not copy it again: it is gone from its
  place.

    doc = JsonDocument(path, what=translate("Core", "The model list"), default=lambda: {"models": []})
    data = doc.read()
    doc.update(lambda data: data["models"].append(entry))
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from desktop import notices
from desktop.errors import UserError
from desktop.text import translate

log = logging.getLogger(__name__)

T = TypeVar("T")

# Long enough for a slow disk under another writer, short enough that a stuck holder becomes a
# message instead of a frozen window.
LOCK_TIMEOUT_S = 30.0
# Windows refuses to rename over a file another program has open (a reader, a virus scanner),
# usually for a moment only.
_REPLACE_TRIES = 20
_REPLACE_WAIT_S = 0.05

# (path, what happened) already told in this process: a newer or unreadable file is read again at
# every look at the list it holds, and one notice is enough.
_told: set[tuple[str, str]] = set()
_told_lock = threading.Lock()
# Lock files this thread holds: a read inside an update must not wait for its own lock.
_held = threading.local()


class DocumentError(UserError):
    """A JSON document could not be changed (its lock stayed taken, or the file on disk must be
    left as it is); the message says why, for the user."""


def _default_parse(raw: object) -> dict | None:
    return raw if isinstance(raw, dict) else None


class JsonDocument:
    """One JSON file holding one object (a dict).

    ``what`` names it for the user, as the subject of a sentence ("The model list"), already
    translated. ``default()`` makes its contents when the file is absent or damaged.
    ``parse(raw)`` turns what the file holds (any version up to ``version``, or the shape from
    before versions) into the current shape, or returns None when it is not this document at all
    (damaged). ``error`` is the exception class raised for the user (a module's own UserError).
    """

    def __init__(self, path: str | os.PathLike, *, what: str, default: Callable[[], dict] = dict,
                 version: int = 1, parse: Callable[[object], dict | None] = _default_parse,
                 lock_timeout: float = LOCK_TIMEOUT_S, error: type[Exception] = DocumentError):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.what = what
        self.version = version
        self._default = default
        self._parse = parse
        self.lock_timeout = lock_timeout
        self.error = error

    # -- the API ---------------------------------------------------------------------------------
    def read(self) -> dict:
        """The contents now (a fresh dict the caller may keep), or the defaults when the file is
        absent, damaged (then moved aside), from a newer version or unreadable."""
        state, data = self._load()
        if state == "damaged":
            return self._recover()
        if state != "ok":
            self._tell(state, data)
            return self.default()
        return data

    def update(self, change: Callable[[dict], T]) -> T:
        """Apply ``change`` (which edits the dict it is given in place) to the contents as they are
        on disk now, under the lock, and write them back; returns what ``change`` returned.
        Raises ``error`` when the lock stays taken or the file must not be written over (a newer
        version's, or one that could not be read or moved aside), OSError when the disk refuses."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.locked():
            data = self._load_locked(for_write=True)
            before = copy.deepcopy(data)
            result = change(data)
            if data != before or not self.path.exists():
                self._save(data)
        return result

    def write(self, data: dict) -> None:
        """Replace the contents with ``data`` (under the lock, as ``update``)."""

        def replace(current: dict) -> None:
            current.clear()
            current.update(copy.deepcopy(data))

        self.update(replace)

    def default(self) -> dict:
        data = self._default()
        data["version"] = self.version
        return data

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold this document's lock (reentrant within a thread). flock/LockFileEx locks belong
        to an open file, so two objects in one process exclude each other as two processes do."""
        from filelock import FileLock, Timeout

        held = _held.__dict__.setdefault("paths", set())
        key = str(self.lock_path)
        if key in held:
            yield
            return
        try:
            lock = FileLock(key, timeout=self.lock_timeout)
            lock.acquire()
        except Timeout:
            raise self.error(translate(
                "Core", "{what} is being changed by another EdgeChat window or command and did not "
                "become free within {seconds} s ({path}). Try again.").format(
                what=self.what, seconds=f"{self.lock_timeout:.0f}", path=self.path)) from None
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            lock.release()

    # -- reading -----------------------------------------------------------------------------------
    def _load(self) -> tuple[str, object]:
        """("ok", contents) | ("absent", None) | ("damaged", None) | ("newer", version found) |
        ("unreadable", the OSError)."""
        try:
            raw_bytes = self.path.read_bytes()
        except FileNotFoundError:
            return "absent", None
        except OSError as exc:
            return "unreadable", exc
        try:
            raw = json.loads(raw_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return "damaged", None
        if isinstance(raw, dict) and "version" in raw:
            found = raw["version"]
            if not isinstance(found, int) or isinstance(found, bool):
                return "damaged", None
            if found > self.version:
                return "newer", found
        try:
            data = self._parse(raw)
        except (TypeError, ValueError, KeyError, AttributeError):
            data = None
        if not isinstance(data, dict):
            return "damaged", None
        data["version"] = self.version
        return "ok", data

    def _load_locked(self, for_write: bool) -> dict:
        """The contents, with the lock held: a damaged file is moved aside here (only the lock
        holder may, so two readers never both move it, nor a writer write over it unread)."""
        state, data = self._load()
        if state == "ok":
            return data
        if state == "absent":
            return self.default()
        if state == "damaged":
            try:
                self._move_aside()
                return self.default()
            except OSError as exc:  # still in its place: it must not be written over
                state, data = "stuck", exc
        self._tell(state, data)
        if for_write:
            raise self.error(self._refusal(state, data))
        return self.default()

    def _recover(self) -> dict:
        """A read found the file damaged: move it aside under the lock, then carry on."""
        try:
            with self.locked():
                return self._load_locked(for_write=False)
        except (DocumentError, self.error):
            return self.default()  # another writer holds it; the next read tries again
        except OSError as exc:  # no lock file in a read-only folder: the file cannot move either
            self._tell("stuck", exc)
            return self.default()

    # -- writing -----------------------------------------------------------------------------------
    def _save(self, data: dict) -> None:
        payload = {"version": self.version, **{k: v for k, v in data.items() if k != "version"}}
        text = json.dumps(payload, indent=1)
        folder = self.path.parent
        for stale in folder.glob(f".{self.path.name}.*.tmp"):
            # Left by a writer that crashed between writing and renaming: only the lock holder
            # writes one, and the lock is ours.
            with contextlib.suppress(OSError):
                stale.unlink()
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            _replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_folder(folder)

    def _move_aside(self) -> Path | None:
        """Rename the damaged file to ``<name>.damaged-<date>-<time>`` (never over another) and
        tell the user where it went; None when it was gone already. OSError when it cannot move."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        n = 2
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
            n += 1
        try:
            os.rename(self.path, target)
        except FileNotFoundError:
            return None  # gone meanwhile (removed by the user): nothing to keep
        fsync_folder(self.path.parent)
        log.warning("%s was damaged; moved to %s", self.path, target)
        notices.post(translate(
            "Core", "{what} ({path}) was damaged; it was moved to {aside} and a new one was started."
        ).format(what=self.what, path=self.path, aside=target))
        return target

    # -- telling the user ----------------------------------------------------------------------------
    def _tell(self, state: str, detail: object) -> None:
        if state == "absent":
            return
        with _told_lock:
            if (str(self.path), state) in _told:
                return
            _told.add((str(self.path), state))
        log.warning("%s: %s (%s)", self.path, state, detail)
        if state == "newer":
            message = translate(
                "Core", "{what} ({path}) was written by a newer version of EdgeChat. This version "
                "leaves it as it is and uses its defaults instead; changes made now are not saved "
                "in it.")
        elif state == "unreadable":
            message = translate(
                "Core", "{what} ({path}) could not be read ({reason}). EdgeChat uses its defaults and "
                "leaves the file as it is.")
        else:
            message = translate(
                "Core", "{what} ({path}) is damaged and could not be moved aside ({reason}). EdgeChat "
                "uses its defaults and leaves the file as it is: move or delete it yourself.")
        notices.post(message.format(what=self.what, path=self.path, reason=_reason(detail)))

    def _refusal(self, state: str, detail: object) -> str:
        if state == "newer":
            return translate(
                "Core", "{what} ({path}) was written by a newer version of EdgeChat, so this version "
                "does not change it. Update EdgeChat, or move the file away to start a new one.").format(
                what=self.what, path=self.path)
        return translate(
            "Core", "{what} ({path}) cannot be read ({reason}), so it is not written over. Move it "
            "away to start a new one.").format(what=self.what, path=self.path, reason=_reason(detail))


def _reason(detail: object) -> str:
    if isinstance(detail, OSError):
        return detail.strerror or str(detail)
    return str(detail or "")


def _replace(source: str, target: Path) -> None:
    for attempt in range(_REPLACE_TRIES):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if os.name != "nt" or attempt == _REPLACE_TRIES - 1:
                raise
            time.sleep(_REPLACE_WAIT_S)


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable. Windows cannot open a folder for this (NTFS makes the
    rename durable itself); some file systems refuse it: both are fine to skip."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
