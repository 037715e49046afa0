"""The prompt cache: model states kept by what the model saw, so a prompt resumes from the longest
prefix of it that was already read.

A state is found by its *space* (the model file's identity, the load settings that shape the KV
state, the chat template; see ``cache_space``) and then by the longest common token prefix with
the new prompt. Nothing here knows an engine's internals: an entry is tokens plus an opaque value
of a known size.

- ``PrefixLRU``: an in-memory LRU bounded by bytes. The llama.cpp engine stores sequence-state
  bytes; the ONNX engine stores live generators.
- ``DiskTier``: files in the user cache folder (``paths.cache_dir()/prompt-cache``), bounded in
  bytes, oldest evicted, written on a background thread after a reply ends, each checksummed. A
  damaged, truncated or foreign file is skipped with a log line and the prompt recomputed.
- ``PromptCache``: the two together, as the llama.cpp engine uses them.

Qt-free.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MAGIC = b"EDGEKV\x00\x01"
SUFFIX = ".kvstate"
_HEAD = struct.Struct("<8sII")  # magic, format version, length of the JSON meta that follows
_DIGEST_SIZE = 32
# A restore pays a copy of the whole state; below this many tokens gained, reading them is cheaper.
MIN_REUSE_TOKENS = 16
DEFAULT_DISK_BUDGET_BYTES = 2 * 1024**3
MIB = 1024**2


def common_prefix(a, b) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if len(diff) else n


def file_identity(path: str | os.PathLike) -> dict:
    """A model's identity on disk: its path, size and modification time (for a folder, those of
    every file in it), so a replaced or re-downloaded model never meets an old state."""
    p = Path(path)
    files = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
    stats = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stats.append([f.name, st.st_size, st.st_mtime_ns])
    return {"path": str(p.resolve()), "files": stats}


def cache_space(model_path: str | os.PathLike, settings: dict, template: str | None, backend: str) -> str:
    """The hex digest naming everything besides the tokens that decides a state's contents."""
    data = {
        "format": FORMAT_VERSION,
        "backend": backend,
        "model": file_identity(model_path),
        "settings": settings,
        "template": hashlib.blake2b((template or "").encode("utf-8"), digest_size=16).hexdigest(),
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def default_ram_budget_mb(model_bytes: int | None, n_ctx: int | None, available_ram_bytes: int | None) -> int:
    """A RAM budget for cached states: about four full-context states, within a tenth of the
    free memory (at least 64 MB, so a small model still keeps a few chats).

    A state's size is estimated from the file size, as bigger models have wider KV rows:
    ~16 KB per token plus ~1 KB per 40 MB of weights (SmolLM2-135M: 23 KB, Llama 3 8B: 128 KB).
    """
    model_bytes = max(int(model_bytes or 0), 0)
    n_ctx = max(int(n_ctx or 4096), 1)
    per_token = 16 * 1024 + model_bytes / 40_000
    wanted = 4 * n_ctx * per_token
    floor = 64 * MIB
    if available_ram_bytes:
        wanted = min(wanted, max(floor, 0.10 * available_ram_bytes))
    return int(max(wanted, floor) // MIB)


@dataclass
class Entry:
    tokens: np.ndarray
    value: object
    size: int
    meta: dict = field(default_factory=dict)


class PrefixLRU:
    """Entries found by the longest common token prefix, least recently used evicted past
    ``budget_bytes``. An entry whose tokens a newer entry extends is dropped (the newer one holds
    it all), so one chat keeps one entry however many turns it has."""

    def __init__(self, budget_bytes: int, on_evict=None):
        self.budget_bytes = max(int(budget_bytes), 0)
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._next = 0
        self._on_evict = on_evict

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def used_bytes(self) -> int:
        return sum(e.size for e in self._entries.values())

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def best(self, tokens: Sequence[int]) -> tuple[Entry | None, int]:
        """The entry sharing the most leading tokens with ``tokens``, and how many."""
        best, best_n = None, 0
        for entry in self._entries.values():
            n = common_prefix(entry.tokens, tokens)
            if n > best_n:
                best, best_n = entry, n
        return best, best_n

    def touch(self, entry: Entry) -> None:
        for key, e in self._entries.items():
            if e is entry:
                self._entries.move_to_end(key)
                return

    def take(self, entry: Entry) -> None:
        """Remove ``entry`` without calling on_evict (its value is handed back to the caller)."""
        for key, e in list(self._entries.items()):
            if e is entry:
                del self._entries[key]
                return

    def put(self, tokens: Sequence[int], value, size: int, meta: dict | None = None) -> Entry | None:
        tokens = np.asarray(tokens, dtype=np.int32)
        for key, e in list(self._entries.items()):
            if len(e.tokens) <= len(tokens) and common_prefix(e.tokens, tokens) == len(e.tokens):
                del self._entries[key]
                self._evicted(e)
        if size > self.budget_bytes:
            return None
        entry = Entry(tokens, value, int(size), meta or {})
        self._entries[self._next] = entry
        self._next += 1
        while self.used_bytes > self.budget_bytes and self._entries:
            _, old = self._entries.popitem(last=False)
            self._evicted(old)
        return entry

    def _evicted(self, entry: Entry) -> None:
        if self._on_evict is not None:
            self._on_evict(entry)

    def clear(self) -> None:
        entries = list(self._entries.values())
        self._entries.clear()
        for e in entries:
            self._evicted(e)


# -- the disk tier ------------------------------------------------------------------------------


def prompt_cache_dir() -> Path:
    from desktop.paths import cache_dir

    return cache_dir() / "prompt-cache"


def disk_budget_bytes() -> int:
    from desktop import config

    mb = config.prompt_cache_disk_mb()
    return DEFAULT_DISK_BUDGET_BYTES if mb is None else max(mb, 0) * MIB


def disk_cache_bytes(folder: Path | None = None) -> int:
    """How much the saved states take on disk."""
    folder = folder or prompt_cache_dir()
    total = 0
    if folder.is_dir():
        for f in folder.rglob("*"):
            with contextlib.suppress(OSError):
                if f.is_file():
                    total += f.stat().st_size
    return total


def clear_disk_cache(folder: Path | None = None) -> int:
    """Delete every saved state; returns the bytes freed."""
    folder = folder or prompt_cache_dir()
    freed = 0
    if not folder.is_dir():
        return 0
    for f in folder.rglob("*"):
        if f.is_file():
            try:
                size = f.stat().st_size
                f.unlink()
                freed += size
            except OSError as exc:
                log.warning("could not delete cached state %s: %s", f, exc)
    for d in sorted((d for d in folder.rglob("*") if d.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()
    return freed


def write_state_file(path: Path, space: str, tokens: Sequence[int], payload, meta: dict | None = None) -> int:
    """Write a state file atomically (a temporary name, then a rename); returns its size."""
    tokens = np.asarray(tokens, dtype=np.int32)
    info = dict(meta or {})
    info.update(space=space, n_tokens=int(len(tokens)), payload_bytes=len(payload), created=time.time())
    meta_bytes = json.dumps(info, sort_keys=True).encode("utf-8")
    head = _HEAD.pack(MAGIC, FORMAT_VERSION, len(meta_bytes))
    digest = hashlib.blake2b(digest_size=_DIGEST_SIZE)
    token_bytes = tokens.tobytes()
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        for part in (head, meta_bytes, token_bytes, payload):
            digest.update(part)  # hashlib and file writes release the GIL on large buffers
            f.write(part)
        f.write(digest.digest())
    os.replace(tmp, path)
    return len(head) + len(meta_bytes) + len(token_bytes) + len(payload) + _DIGEST_SIZE


def read_state_header(path: Path) -> tuple[dict, np.ndarray] | None:
    """A state file's meta and tokens, without its payload; None (logged) when it is not ours,
    from another format version, or shorter than its header says."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD.size)
            if len(head) < _HEAD.size:
                log.warning("prompt cache: ignoring %s: truncated header", path.name)
                return None
            magic, version, meta_len = _HEAD.unpack(head)
            if magic != MAGIC:
                log.warning("prompt cache: ignoring %s: not an EdgeChat state file", path.name)
                return None
            if version != FORMAT_VERSION:
                log.warning("prompt cache: ignoring %s: format version %s, expected %s", path.name, version,
                            FORMAT_VERSION)
                return None
            if meta_len > 1 << 20:
                log.warning("prompt cache: ignoring %s: damaged header", path.name)
                return None
            meta = json.loads(f.read(meta_len).decode("utf-8"))
            n_tokens, payload_bytes = int(meta["n_tokens"]), int(meta["payload_bytes"])
            token_bytes = f.read(4 * n_tokens)
            if len(token_bytes) != 4 * n_tokens:
                log.warning("prompt cache: ignoring %s: truncated", path.name)
                return None
            size = os.fstat(f.fileno()).st_size
        expected = _HEAD.size + meta_len + 4 * n_tokens + payload_bytes + _DIGEST_SIZE
        if size != expected:
            log.warning("prompt cache: ignoring %s: %d bytes, expected %d (truncated or damaged)",
                        path.name, size, expected)
            return None
        return meta, np.frombuffer(token_bytes, dtype=np.int32).copy()
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        log.warning("prompt cache: ignoring %s: %s", path.name, exc)
        return None


def read_state_payload(path: Path, space: str) -> bytearray | None:
    """A state file's payload, checked against its checksum and space; None (logged) otherwise."""
    try:
        with open(path, "rb") as f:
            data = bytearray(os.fstat(f.fileno()).st_size)
            view = memoryview(data)
            got = f.readinto(view)
        if got != len(data) or len(data) < _HEAD.size + _DIGEST_SIZE:
            log.warning("prompt cache: ignoring %s: truncated", path.name)
            return None
        digest = bytes(view[-_DIGEST_SIZE:])
        with view[:-_DIGEST_SIZE] as body:
            actual = hashlib.blake2b(body, digest_size=_DIGEST_SIZE).digest()
        if actual != digest:
            log.warning("prompt cache: ignoring %s: checksum mismatch (damaged)", path.name)
            return None
        magic, version, meta_len = _HEAD.unpack_from(view)
        if magic != MAGIC or version != FORMAT_VERSION:
            log.warning("prompt cache: ignoring %s: not a state file of this version", path.name)
            return None
        meta = json.loads(bytes(view[_HEAD.size:_HEAD.size + meta_len]).decode("utf-8"))
        if meta.get("space") != space:
            log.warning("prompt cache: ignoring %s: saved for another model or settings", path.name)
            return None
        start = _HEAD.size + meta_len + 4 * int(meta["n_tokens"])
        payload_bytes = int(meta["payload_bytes"])
        if start + payload_bytes != len(data) - _DIGEST_SIZE:
            log.warning("prompt cache: ignoring %s: damaged header", path.name)
            return None
        view.release()
        del data[: start]
        del data[payload_bytes:]
        return data
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, struct.error) as exc:
        log.warning("prompt cache: ignoring %s: %s", path.name, exc)
        return None


class DiskTier:
    """Saved states of one space in ``root/<space>/``, within ``budget_bytes`` for all spaces
    together (the oldest files go first). Writes run on one background thread."""

    def __init__(self, root: Path, space: str, budget_bytes: int):
        self.root = Path(root)
        self.space = space
        self.budget_bytes = max(int(budget_bytes), 0)
        self.folder = self.root / space
        self._index: dict[Path, np.ndarray] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._scan()

    def _scan(self) -> None:
        if not self.folder.is_dir():
            return
        for f in self.folder.iterdir():
            if f.name.endswith(".tmp"):  # a write cut short by an exit
                _unlink(f)
                continue
            if not f.is_file():
                continue
            if not f.name.endswith(SUFFIX):
                log.warning("prompt cache: ignoring %s: not a state file", f.name)
                continue
            head = read_state_header(f)
            if head is None:
                continue
            meta, tokens = head
            if meta.get("space") != self.space:
                log.warning("prompt cache: ignoring %s: saved for another model or settings", f.name)
                continue
            self._index[f] = tokens

    def best(self, tokens: Sequence[int]) -> tuple[Path | None, int]:
        best, best_n = None, 0
        with self._lock:
            items = list(self._index.items())
        for path, held in items:
            n = common_prefix(held, tokens)
            if n > best_n:
                best, best_n = path, n
        return best, best_n

    def tokens_of(self, path: Path) -> np.ndarray | None:
        with self._lock:
            return self._index.get(path)

    def load(self, path: Path) -> bytearray | None:
        payload = read_state_payload(path, self.space)
        if payload is None:
            self.forget(path, delete=True)
            return None
        with self._lock:
            if path in self._index:
                _touch(path)
        return payload

    def forget(self, path: Path, delete: bool = False) -> None:
        with self._lock:
            self._index.pop(path, None)
        if delete:
            _unlink(path)

    def save(self, tokens: Sequence[int], payload, meta: dict | None = None) -> None:
        """Queue a write; it happens on the writer thread. The payload must not change after."""
        if self.budget_bytes <= 0:
            return
        self._queue.put((np.asarray(tokens, dtype=np.int32).copy(), payload, dict(meta or {})))
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._writer, name="prompt-cache-writer", daemon=True)
            self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for the queued writes; False if they are still running after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _writer(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=5.0)
            except queue.Empty:
                return
            try:
                self._write(*item)
            except Exception as exc:  # noqa: BLE001 - a failed save only costs a recomputation
                log.warning("prompt cache: could not save a state: %s", exc)
            finally:
                self._queue.task_done()

    def _write(self, tokens: np.ndarray, payload, meta: dict) -> None:
        size = _HEAD.size + 4 * len(tokens) + len(payload) + _DIGEST_SIZE
        if size > self.budget_bytes:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.blake2b(tokens.tobytes(), digest_size=12).hexdigest() + SUFFIX
        path = self.folder / name
        write_state_file(path, self.space, tokens, payload, meta)
        with self._lock:
            # A state this one extends is redundant: the longer one serves its prefix too.
            for old, held in list(self._index.items()):
                if old != path and len(held) <= len(tokens) and common_prefix(held, tokens) == len(held):
                    del self._index[old]
                    _unlink(old)
            self._index[path] = tokens
        self._enforce_budget(keep=path)

    def _enforce_budget(self, keep: Path) -> None:
        files = []
        for f in self.root.rglob("*" + SUFFIX):
            try:
                st = f.stat()
            except OSError:
                continue
            files.append((st.st_mtime_ns, st.st_size, f))
        total = sum(size for _, size, _ in files)
        for _, size, f in sorted(files):
            if total <= self.budget_bytes:
                break
            if f == keep:
                continue
            self.forget(f, delete=True)
            total -= size


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)  # "oldest" means least recently used


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("prompt cache: could not delete %s: %s", path, exc)


class PromptCache:
    """States as bytes: in RAM (``PrefixLRU``), and on disk when a ``DiskTier`` is given."""

    def __init__(self, space: str, ram_budget_bytes: int, disk: DiskTier | None = None):
        self.space = space
        self.ram = PrefixLRU(ram_budget_bytes)
        self.disk = disk

    def lookup(self, tokens: Sequence[int]) -> tuple[object | None, int]:
        """The best source for ``tokens``: an Entry in RAM or a Path on disk, and how many tokens
        it shares; RAM wins a tie (no read)."""
        entry, n = self.ram.best(tokens)
        if self.disk is not None:
            path, n_disk = self.disk.best(tokens)
            if n_disk > n:
                return path, n_disk
        return entry, n

    def fetch(self, source) -> tuple[np.ndarray, object] | None:
        """The tokens and payload of what ``lookup`` found; None when a file proved damaged."""
        if isinstance(source, Entry):
            self.ram.touch(source)
            return source.tokens, source.value
        tokens = self.disk.tokens_of(source)
        payload = self.disk.load(source)
        if payload is None or tokens is None:
            return None
        self.ram.put(tokens, payload, len(payload))
        return tokens, payload

    def store(self, tokens: Sequence[int], payload, to_disk: bool = True) -> None:
        self.ram.put(tokens, payload, len(payload))
        if to_disk and self.disk is not None:
            self.disk.save(tokens, payload)

    def flush(self, timeout: float | None = None) -> bool:
        return self.disk.flush(timeout) if self.disk is not None else True
