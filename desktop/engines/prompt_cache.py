"""The prompt cache: model states kept by what the model saw, so a prompt resumes from the longest
prefix of it that was already read.

A state is found by its *space* (the model file's identity, the load settings that shape the KV
state, the chat template; see ``cache_space``) and then by the longest common token prefix with
the new prompt. Nothing here knows an engine's internals: an entry is tokens plus an opaque value
of a known size.

- ``PrefixLRU``: an in-memory LRU bounded by bytes. The llama.cpp engine stores sequence-state
  bytes; the ONNX engine stores live generators.
- ``DiskTier``: files in the user cache folder (``paths.cache_dir()/prompt-cache``), bounded in
  bytes, oldest evicted. A damaged, truncated, foreign or undecryptable file is skipped with a
  log line and the prompt recomputed.
- ``PromptCache``: the two together, as the llama.cpp engine uses them.

What reaches the disk holds no token and no text in clear. A file is found by *chained block
hashes*, as vLLM's prefix cache finds its blocks: the tokens in blocks of BLOCK_TOKENS, each
block's hash covering the previous one, keyed with the install's secret (cache_key.py) so that
the hash of a known prompt (a stock system prompt) cannot be looked up. Two chains share their
first k hashes exactly when the token sequences share their first k blocks. The tokens and the
state itself are encrypted (AES-GCM, the clear header as associated data, so it is checked too);
after decrypting, the exact common prefix is counted on the tokens.

Each state belongs to an *owner* (a chat of the window; None for the command line and the API
server), kept on disk as a keyed hash: deleting a chat deletes its states. States are not written
after every reply: only the newest state of each owner waits in RAM (the ones it supersedes are
dropped, and what waits counts against the disk budget), and it is written when the user leaves
the chat (``persist``), when the app has been idle for IDLE_PERSIST_S, or at close (``flush``).

Qt-free.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Format 1 kept the prompt's token ids in clear: such files are deleted on sight.
FORMAT_VERSION = 2
MAGIC = b"EDGEKV\x00\x01"
SUFFIX = ".kvstate"
_HEAD = struct.Struct("<8sII")  # magic, format version, length of the JSON meta that follows
BLOCK_TOKENS = 16  # tokens per hashed block: a state is found to within one block, then exactly
_HASH_SIZE = 16
_NONCE_SIZE = 12
_TAG_SIZE = 16
_CHUNK = 1 << 20  # encrypted a megabyte at a time: the window's thread gets the GIL in between
# A state waits in RAM until its chat is left, or until nothing has been asked for this long.
IDLE_PERSIST_S = 30.0
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

    def drop(self, predicate: Callable[[Entry], bool]) -> int:
        """Remove (through on_evict) every entry ``predicate`` picks; returns how many."""
        picked = [(key, e) for key, e in self._entries.items() if predicate(e)]
        for key, e in picked:
            del self._entries[key]
            self._evicted(e)
        return len(picked)


# -- the disk tier ------------------------------------------------------------------------------


def prompt_cache_dir() -> Path:
    from desktop.paths import cache_dir

    return cache_dir() / "prompt-cache"


def disk_budget_bytes() -> int:
    from desktop import config

    mb = config.prompt_cache_disk_mb()
    return DEFAULT_DISK_BUDGET_BYTES if mb is None else max(mb, 0) * MIB


def _state_files(root: Path):
    """Every state file under ``root`` (one folder per space)."""
    if not root.is_dir():
        return []
    return [f for f in root.glob("*/*" + SUFFIX) if f.is_file()]


def disk_cache_bytes(folder: Path | None = None) -> int:
    """How much the saved states take on disk."""
    from desktop.paths import disk_size

    return disk_size(folder or prompt_cache_dir())


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


def _as_tokens(tokens: Sequence[int]) -> np.ndarray:
    return np.ascontiguousarray(tokens, dtype="<i4")


class Sealer:
    """What the install's secret does for the disk tier: keyed hashes (chains, owners, file
    names) and AES-GCM. The secret never leaves this object."""

    def __init__(self, secret: bytes):
        if len(secret) != 32:
            raise ValueError("the prompt cache's key must be 32 bytes")
        self._secret = bytes(secret)
        # Names the key in each file's header, so a file sealed with another one (another
        # install, a key that was lost) is recognised without trying to decrypt it.
        self.key_id = self._hash(b"ec-key-id", b"", 8).hex()

    def __repr__(self) -> str:
        return f"Sealer(key_id={self.key_id!r})"

    def _hash(self, person: bytes, data: bytes, size: int = _HASH_SIZE) -> bytes:
        return hashlib.blake2b(data, key=self._secret, person=person, digest_size=size).digest()

    def chain(self, space: str, tokens: Sequence[int]) -> bytes:
        """The chained hashes of the whole blocks of ``tokens``, _HASH_SIZE bytes each:
        hash_i = H(key, hash_{i-1} + block_i), starting from the space."""
        data = _as_tokens(tokens)
        n = len(data) // BLOCK_TOKENS
        raw = data[: n * BLOCK_TOKENS].tobytes()
        step = 4 * BLOCK_TOKENS
        key = self._secret
        h = self._hash(b"ec-chain-root", space.encode("utf-8"))
        out = bytearray(n * _HASH_SIZE)
        for i in range(n):
            h = hashlib.blake2b(h + raw[i * step:(i + 1) * step], key=key, digest_size=_HASH_SIZE).digest()
            out[i * _HASH_SIZE:(i + 1) * _HASH_SIZE] = h
        return bytes(out)

    def owner_tag(self, owner: str | None) -> str | None:
        """What a file says of its owner: a keyed hash (a chat's id is not written down)."""
        return None if owner is None else self._hash(b"ec-owner", owner.encode("utf-8")).hex()

    def file_name(self, space: str, tokens: Sequence[int]) -> str:
        """A state's file name: the same tokens give the same name (a rewrite replaces the file);
        keyed, so the name says nothing of the tokens."""
        return self._hash(b"ec-file", space.encode("utf-8") + _as_tokens(tokens).tobytes(), 12).hex()

    def _cipher(self, mode):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

        return Cipher(algorithms.AES(self._secret), mode)

    def encryptor(self, nonce: bytes, associated: bytes):
        from cryptography.hazmat.primitives.ciphers import modes

        enc = self._cipher(modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(associated)
        return enc

    def decryptor(self, nonce: bytes, tag: bytes, associated: bytes):
        from cryptography.hazmat.primitives.ciphers import modes

        dec = self._cipher(modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(associated)
        return dec


def shared_blocks(a: bytes, b: bytes) -> int:
    """How many leading block hashes two chains share."""
    n = min(len(a), len(b)) // _HASH_SIZE
    if n == 0:
        return 0
    x = np.frombuffer(a, dtype=np.uint64, count=2 * n).reshape(n, 2)
    y = np.frombuffer(b, dtype=np.uint64, count=2 * n).reshape(n, 2)
    diff = np.flatnonzero((x != y).any(axis=1))
    return int(diff[0]) if len(diff) else n


@dataclass
class Held:
    """What a state file's clear header says: no token, no text."""

    chain: bytes
    n_tokens: int
    owner: str | None  # the owner's keyed hash
    size: int


class _Skip(Exception):
    """A file that is not a usable state; ``stale`` when it should be deleted."""

    def __init__(self, reason: str, stale: bool = False):
        super().__init__(reason)
        self.stale = stale


def _read_meta(f) -> tuple[int, dict, bytes]:
    """The version, meta and raw bytes of a state file's clear head (up to its meta)."""
    head = f.read(_HEAD.size)
    if len(head) < _HEAD.size:
        raise _Skip("truncated header")
    magic, version, meta_len = _HEAD.unpack(head)
    if magic != MAGIC:
        raise _Skip("not an EdgeChat state file")
    if version == 1:
        raise _Skip("an old format that kept the prompt in clear", stale=True)
    if version != FORMAT_VERSION:
        raise _Skip(f"format version {version}, expected {FORMAT_VERSION}")
    if meta_len > 1 << 16:
        raise _Skip("damaged header")
    raw = f.read(meta_len)
    if len(raw) != meta_len:
        raise _Skip("truncated header")
    meta = json.loads(raw.decode("utf-8"))
    if not isinstance(meta, dict):
        raise _Skip("damaged header")
    return version, meta, head + raw


def _layout(meta: dict) -> tuple[int, int, int]:
    n_tokens, payload_bytes, block = int(meta["n_tokens"]), int(meta["payload_bytes"]), int(meta["block"])
    if n_tokens < 0 or payload_bytes < 0 or block != BLOCK_TOKENS:
        raise _Skip("damaged header")
    return n_tokens, payload_bytes, n_tokens // BLOCK_TOKENS * _HASH_SIZE


def read_state_header(path: Path, key_id: str | None = None) -> tuple[dict, Held] | None:
    """A state file's clear header; None (logged) when it is not ours, from another format
    (an old one is deleted: it held the prompt in clear), sealed with another key than
    ``key_id``, or not the size its header says."""
    try:
        with open(path, "rb") as f:
            _, meta, clear = _read_meta(f)
            n_tokens, payload_bytes, chain_bytes = _layout(meta)
            if key_id is not None and meta.get("key") != key_id:
                raise _Skip("sealed with another key (another install, or a key that was lost)")
            chain = f.read(chain_bytes)
            size = os.fstat(f.fileno()).st_size
        expected = len(clear) + chain_bytes + _NONCE_SIZE + 4 * n_tokens + payload_bytes + _TAG_SIZE
        if len(chain) != chain_bytes or size != expected:
            raise _Skip(f"{size} bytes, expected {expected} (truncated or damaged)")
        owner = meta.get("owner")
        return meta, Held(chain, n_tokens, owner if isinstance(owner, str) else None, size)
    except _Skip as skip:
        _skipped(path, skip)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        log.warning("prompt cache: ignoring %s: %s", path.name, exc)
    return None


def _skipped(path: Path, skip: _Skip) -> None:
    if skip.stale:
        log.warning("prompt cache: deleting %s: %s", path.name, skip)
        _unlink(path)
    else:
        log.warning("prompt cache: ignoring %s: %s", path.name, skip)


def write_state_file(path: Path, space: str, tokens: Sequence[int], payload, sealer: Sealer,
                     owner: str | None = None) -> Held:
    """Write a sealed state atomically (a temporary name, then a rename).

    Layout: head, meta (JSON), chain, nonce in clear, all of it the associated data of AES-GCM;
    then the tokens and the payload encrypted, then the tag."""
    tokens = _as_tokens(tokens)
    chain = sealer.chain(space, tokens)
    meta = {"space": space, "key": sealer.key_id, "owner": sealer.owner_tag(owner),
            "block": BLOCK_TOKENS, "n_tokens": int(len(tokens)), "payload_bytes": len(payload)}
    meta_bytes = json.dumps(meta, sort_keys=True).encode("utf-8")
    nonce = os.urandom(_NONCE_SIZE)
    clear = _HEAD.pack(MAGIC, FORMAT_VERSION, len(meta_bytes)) + meta_bytes + chain + nonce
    enc = sealer.encryptor(nonce, clear)
    out = bytearray(_CHUNK + 16)  # update_into wants room for one more block than it is given
    out_view = memoryview(out)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(clear)
            for part in (memoryview(tokens.tobytes()), memoryview(payload).cast("B")):
                for start in range(0, len(part), _CHUNK):
                    n = enc.update_into(part[start:start + _CHUNK], out)
                    f.write(out_view[:n])  # file writes release the GIL; so does each chunk's end
            enc.finalize()
            f.write(enc.tag)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    size = len(clear) + 4 * len(tokens) + len(payload) + _TAG_SIZE
    return Held(chain, int(len(tokens)), sealer.owner_tag(owner), size)


def read_state(path: Path, space: str, sealer: Sealer) -> tuple[np.ndarray, bytearray] | None:
    """A state's tokens and payload, decrypted and authenticated; None (logged) otherwise."""
    from cryptography.exceptions import InvalidTag

    try:
        with open(path, "rb") as f:
            _, meta, clear = _read_meta(f)
            n_tokens, payload_bytes, chain_bytes = _layout(meta)
            if meta.get("space") != space:
                raise _Skip("saved for another model or settings")
            if meta.get("key") != sealer.key_id:
                raise _Skip("sealed with another key (another install, or a key that was lost)")
            rest = f.read(chain_bytes + _NONCE_SIZE)
            size = os.fstat(f.fileno()).st_size
            expected = len(clear) + len(rest) + 4 * n_tokens + payload_bytes + _TAG_SIZE
            if len(rest) != chain_bytes + _NONCE_SIZE or size != expected:
                raise _Skip(f"{size} bytes, expected {expected} (truncated or damaged)")
            clear += rest
            f.seek(size - _TAG_SIZE)
            tag = f.read(_TAG_SIZE)
            f.seek(len(clear))
            dec = sealer.decryptor(rest[-_NONCE_SIZE:], tag, clear)
            token_bytes = bytearray(4 * n_tokens + 16)
            done = dec.update_into(f.read(4 * n_tokens), token_bytes)
            payload = bytearray(payload_bytes + 16)
            view = memoryview(payload)
            chunk = memoryview(bytearray(min(_CHUNK, max(payload_bytes, 1))))
            at = 0
            while at < payload_bytes:
                got = f.readinto(chunk[: min(len(chunk), payload_bytes - at)])
                if not got:
                    raise _Skip("truncated")
                at += dec.update_into(chunk[:got], view[at:])
            try:
                dec.finalize()
            except InvalidTag:
                raise _Skip("checksum mismatch: damaged, or altered") from None
        if done != 4 * n_tokens or at != payload_bytes:
            raise _Skip("damaged")
        view.release()
        del payload[payload_bytes:]
        return np.frombuffer(bytes(token_bytes[:done]), dtype="<i4").astype(np.int32), payload
    except _Skip as skip:
        _skipped(path, skip)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, struct.error) as exc:
        log.warning("prompt cache: ignoring %s: %s", path.name, exc)
    return None


def forget_owner_files(root: Path, owner_tag: str) -> int:
    """Delete the states of one owner in every space under ``root``; returns how many."""
    count = 0
    for f in _state_files(root):
        try:
            with open(f, "rb") as fh:
                _, meta, _ = _read_meta(fh)
        except (_Skip, OSError, ValueError, UnicodeDecodeError):
            continue
        if meta.get("owner") == owner_tag:
            _unlink(f)
            count += 1
    return count


def forget_owner_on_disk(owner: str, root: Path | None = None) -> int:
    """Delete one owner's saved states, with no engine loaded (the key is read only when there
    are files to look at)."""
    root = root or prompt_cache_dir()
    if not _state_files(root):
        return 0
    from desktop.engines import cache_key

    return forget_owner_files(root, Sealer(cache_key.load().secret).owner_tag(owner))


@dataclass
class _Pending:
    tokens: np.ndarray
    payload: object
    owner: str | None
    size: int
    due: bool = False  # its chat was left: write it now, not when the app is idle
    cancelled: bool = False  # its owner was forgotten while it was being written


class DiskTier:
    """Saved states of one space in ``root/<space>/``, within ``budget_bytes`` for all spaces
    together (the oldest files go first). One background thread writes them (see the module's
    docstring for when); it ends when nothing waits."""

    def __init__(self, root: Path, space: str, budget_bytes: int, secret: bytes | None = None,
                 idle_s: float | None = None):
        self.root = Path(root)
        self.space = space
        self.budget_bytes = max(int(budget_bytes), 0)
        self.folder = self.root / space
        self.idle_s = IDLE_PERSIST_S if idle_s is None else float(idle_s)
        if secret is None:
            from desktop.engines import cache_key

            secret = cache_key.load().secret
        self.sealer = Sealer(secret)
        self._index: dict[Path, Held] = {}
        self._lock = threading.Condition()
        self._pending: OrderedDict[str | None, _Pending] = OrderedDict()  # by owner, oldest first
        self._writing: _Pending | None = None
        self._thread: threading.Thread | None = None
        self._last_activity = time.monotonic()
        self._busy = False
        self._scan()

    def _scan(self) -> None:
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            ours = folder == self.folder
            for f in folder.iterdir():
                if f.name.endswith(".tmp"):
                    if ours:  # a write cut short by an exit (another space's may be under way)
                        _unlink(f)
                    continue
                if not f.is_file():
                    continue
                if not f.name.endswith(SUFFIX):
                    if ours:
                        log.warning("prompt cache: ignoring %s: not a state file", f.name)
                    continue
                if not ours:
                    _delete_if_old_format(f)
                    continue
                head = read_state_header(f, self.sealer.key_id)
                if head is None:
                    continue
                meta, held = head
                if meta.get("space") != self.space:
                    log.warning("prompt cache: ignoring %s: saved for another model or settings", f.name)
                    continue
                self._index[f] = held

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def activity(self, busy: bool) -> None:
        """A request starts (``busy``) or ends: waiting states are written once the engine has
        been idle for ``idle_s``, never while it is reading or writing."""
        with self._lock:
            self._busy = busy
            self._last_activity = time.monotonic()
            self._lock.notify_all()

    def best(self, tokens: Sequence[int]) -> tuple[Path | None, int]:
        """The file sharing the most whole blocks with ``tokens``, and how many tokens those
        blocks hold (the exact count is known once it is decrypted: up to a block more)."""
        with self._lock:
            items = list(self._index.items())
        if not items:
            return None, 0
        chain = self.sealer.chain(self.space, tokens)
        best, best_n = None, 0
        for path, held in items:
            n = shared_blocks(held.chain, chain) * BLOCK_TOKENS
            if n > best_n:
                best, best_n = path, n
        return best, best_n

    def n_tokens(self, path: Path) -> int | None:
        with self._lock:
            held = self._index.get(path)
        return None if held is None else held.n_tokens

    def owner_of(self, path: Path) -> str | None:
        with self._lock:
            held = self._index.get(path)
        return None if held is None else held.owner

    def load(self, path: Path) -> tuple[np.ndarray, bytearray] | None:
        found = read_state(path, self.space, self.sealer)
        if found is None:
            self.forget(path, delete=True)
            return None
        with self._lock:
            if path in self._index:
                _touch(path)
        return found

    def forget(self, path: Path, delete: bool = False) -> None:
        with self._lock:
            self._index.pop(path, None)
        if delete:
            _unlink(path)

    # -- writing ---------------------------------------------------------------------------
    def save(self, tokens: Sequence[int], payload, owner: str | None = None) -> None:
        """Keep a state to write later, in place of its owner's previous one. The payload must
        not change after."""
        tokens = _as_tokens(tokens).copy()
        size = _HEAD.size + 512 + 4 * len(tokens) + len(payload) + _TAG_SIZE
        size += len(tokens) // BLOCK_TOKENS * _HASH_SIZE
        if self.budget_bytes <= 0 or size > self.budget_bytes:
            return
        with self._lock:
            self._pending.pop(owner, None)  # superseded: only the newest state of a chat waits
            self._pending[owner] = _Pending(tokens, payload, owner, size)
            while sum(p.size for p in self._pending.values()) > self.budget_bytes:
                self._pending.popitem(last=False)
            self._last_activity = time.monotonic()
            self._start_writer()
            self._lock.notify_all()

    @property
    def pending(self) -> int:
        """How many states wait to be written."""
        with self._lock:
            return len(self._pending)

    def persist(self) -> None:
        """Write what waits now, in the background (the user left a chat)."""
        with self._lock:
            for item in self._pending.values():
                item.due = True
            if self._pending:
                self._start_writer()
            self._lock.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Write what waits and wait for it; False if still writing after ``timeout``."""
        self.persist()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._pending or self._writing is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def _start_writer(self) -> None:  # under the lock
        if self._thread is None:
            self._thread = threading.Thread(target=self._writer, name="prompt-cache-writer", daemon=True)
            self._thread.start()

    def _next(self) -> _Pending | None:
        """The next state to write, once it is due or the app is idle; None when none waits."""
        with self._lock:
            while True:
                if not self._pending:
                    self._thread = None
                    self._lock.notify_all()
                    return None
                due = [owner for owner, item in self._pending.items() if item.due]
                idle_for = time.monotonic() - self._last_activity
                if due or (idle_for >= self.idle_s and not self._busy):
                    item = self._pending.pop(due[0] if due else next(iter(self._pending)))
                    self._writing = item
                    return item
                self._lock.wait(None if self._busy else self.idle_s - idle_for)

    def _writer(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._write(item)
            except Exception as exc:  # noqa: BLE001 - a failed save only costs a recomputation
                log.warning("prompt cache: could not save a state: %s", exc)
            finally:
                with self._lock:
                    self._writing = None
                    self._lock.notify_all()

    def _write(self, item: _Pending) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._enforce_budget(reserve=item.size)
        tokens = item.tokens
        path = self.folder / (self.sealer.file_name(self.space, tokens) + SUFFIX)
        held = write_state_file(path, self.space, tokens, item.payload, self.sealer, item.owner)
        with self._lock:
            if item.cancelled:  # its chat was deleted while it was written
                _unlink(path)
                return
            # A state this one extends is redundant: the longer one serves its prefix too.
            for old, h in list(self._index.items()):
                if old == path or h.n_tokens > len(tokens):
                    continue
                if shared_blocks(h.chain, held.chain) * _HASH_SIZE == len(h.chain) and \
                        old.name == self.sealer.file_name(self.space, tokens[: h.n_tokens]) + SUFFIX:
                    del self._index[old]
                    _unlink(old)
            self._index[path] = held

    def _enforce_budget(self, reserve: int) -> None:
        """Make room for ``reserve`` more bytes, and for what still waits, oldest files first."""
        with self._lock:
            reserve += sum(p.size for p in self._pending.values())
        files = []
        for f in _state_files(self.root):
            try:
                st = f.stat()
            except OSError:
                continue
            files.append((st.st_mtime_ns, st.st_size, f))
        total = sum(size for _, size, _ in files) + reserve
        for _, size, f in sorted(files):
            if total <= self.budget_bytes:
                break
            self.forget(f, delete=True)
            total -= size

    # -- forgetting --------------------------------------------------------------------------
    def forget_owner(self, owner: str) -> None:
        """Delete every state of ``owner``: waiting, being written, and on disk in every space."""
        tag = self.sealer.owner_tag(owner)
        with self._lock:
            self._pending.pop(owner, None)
            if self._writing is not None and self._writing.owner == owner:
                self._writing.cancelled = True
            for path, held in list(self._index.items()):
                if held.owner == tag:
                    del self._index[path]
            self._lock.notify_all()
        forget_owner_files(self.root, tag)

    def clear(self) -> None:
        """Drop every state, waiting or written, of every space."""
        with self._lock:
            self._pending.clear()
            if self._writing is not None:
                self._writing.cancelled = True
            self._index.clear()
            self._lock.notify_all()
        clear_disk_cache(self.root)


def _delete_if_old_format(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD.size)
    except OSError:
        return
    if len(head) == _HEAD.size:
        magic, version, _ = _HEAD.unpack(head)
        if magic == MAGIC and version == 1:
            _skipped(path, _Skip("an old format that kept the prompt in clear", stale=True))


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
    """States as bytes: in RAM (``PrefixLRU``), and on disk when a ``DiskTier`` is given.

    RAM entries carry their owner (``meta["owner"]``), or for a state read back from disk the
    owner's keyed hash (``meta["tag"]``), so forgetting an owner finds both."""

    def __init__(self, space: str, ram_budget_bytes: int, disk: DiskTier | None = None):
        self.space = space
        self.ram = PrefixLRU(ram_budget_bytes)
        self.disk = disk

    def lookup(self, tokens: Sequence[int]) -> tuple[object | None, int]:
        """The best source for ``tokens``: an Entry in RAM or a Path on disk, and how many tokens
        it shares (on disk, in whole blocks); RAM wins a tie (no read)."""
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
        tag = self.disk.owner_of(source)
        found = self.disk.load(source)
        if found is None:
            return None
        tokens, payload = found
        self.ram.put(tokens, payload, len(payload), {"tag": tag})
        return tokens, payload

    def store(self, tokens: Sequence[int], payload, owner: str | None = None, to_disk: bool = True) -> None:
        self.ram.put(tokens, payload, len(payload), {"owner": owner})
        if to_disk and self.disk is not None:
            self.disk.save(tokens, payload, owner)

    def busy(self, busy: bool) -> None:
        """The engine starts (True) or ends (False) a request: see DiskTier.activity."""
        if self.disk is not None:
            self.disk.activity(busy)

    def persist(self) -> None:
        if self.disk is not None:
            self.disk.persist()

    def flush(self, timeout: float | None = None) -> bool:
        return self.disk.flush(timeout) if self.disk is not None else True

    def forget_owner(self, owner: str) -> None:
        tag = self.disk.sealer.owner_tag(owner) if self.disk is not None else None
        self.ram.drop(lambda e: e.meta.get("owner") == owner
                      or (tag is not None and e.meta.get("tag") == tag))
        if self.disk is not None:
            self.disk.forget_owner(owner)

    def clear(self) -> None:
        self.ram.clear()
        if self.disk is not None:
            self.disk.clear()
