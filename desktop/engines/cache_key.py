"""The per-install secret that seals saved prompt states (see prompt_cache.py).

32 random bytes, made on first use and kept in the OS keyring, like the Hugging Face token
(desktop/keyring_store.py). Where there is no keyring (a bare Linux session: keyring's "fail"
backend, or a chainer with nothing behind it) it is kept in a file of the data folder that only
the user can read (0600), and Settings ▸ Privacy says so. A keyring that exists but refuses
(locked, an error) gets a key for this run only: states saved then do not survive a restart,
and no secret is written to disk behind a keyring's back.

The key does two things: it encrypts each state (AES-GCM), and it keys the hashes that find
states, so that a file's clear header cannot be matched against the hash of a known prompt.

Qt-free.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

USERNAME = "prompt-cache-key"
FILE_NAME = "prompt-cache.key"
KEY_BYTES = 32

# Where the key is kept.
KEYRING, FILE, MEMORY = "keyring", "file", "memory"


@dataclass(frozen=True)
class CacheKey:
    secret: bytes
    where: str  # KEYRING, FILE or MEMORY
    detail: str  # the keyring backend's name, or the file's path

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"CacheKey(where={self.where!r}, detail={self.detail!r})"


def key_file() -> Path:
    from desktop.paths import data_dir

    return data_dir() / FILE_NAME


def _decode(text) -> bytes | None:
    try:
        raw = base64.b64decode(str(text).strip(), validate=True)
    except (ValueError, TypeError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def _read_file(path: Path) -> bytes | None:
    try:
        return _decode(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return None


def _write_file(path: Path, secret: bytes) -> None:
    """Create the key file readable by its owner alone, atomically: a half-written key would
    make every state unreadable."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, base64.b64encode(secret) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _keyring():
    """The keyring backend, or None where there is no usable one (the same test as for tokens)."""
    from desktop import keyring_store

    return keyring_store.usable()


def load() -> CacheKey:
    """The install's key: from the keyring (made there on first use), else from the key file."""
    from desktop.keyring_store import SERVICE

    backend = _keyring()
    path = key_file()
    if backend is not None:
        name = type(backend).__name__
        try:
            secret = _decode(backend.get_password(SERVICE, USERNAME) or "")
            if secret is None:
                # A key file from a session without a keyring moves into the keyring, so the
                # states it sealed stay readable and no key is left on disk.
                secret = _read_file(path) or secrets.token_bytes(KEY_BYTES)
                backend.set_password(SERVICE, USERNAME, base64.b64encode(secret).decode("ascii"))
                with contextlib.suppress(OSError):
                    path.unlink()
            return CacheKey(secret, KEYRING, name)
        except Exception as exc:  # noqa: BLE001 - a locked or broken keyring: a key for this run
            log.warning("prompt cache: the keyring (%s) refused its key (%s); saved states last "
                        "this run only", name, type(exc).__name__)
            return CacheKey(secrets.token_bytes(KEY_BYTES), MEMORY, name)
    secret = _read_file(path)
    if secret is None:
        secret = secrets.token_bytes(KEY_BYTES)
        try:
            _write_file(path, secret)
        except OSError as exc:
            log.warning("prompt cache: cannot write the key file %s (%s); saved states last this "
                        "run only", path, exc)
            return CacheKey(secret, MEMORY, str(path))
    elif os.name == "posix":
        with contextlib.suppress(OSError):
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)  # copied in by hand, or restored from a backup
    return CacheKey(secret, FILE, str(path))


def where() -> tuple[str, str]:
    """Where the key is (or would be) kept, without making or reading it: (KEYRING, backend
    name) or (FILE, path)."""
    backend = _keyring()
    if backend is not None:
        return KEYRING, type(backend).__name__
    return FILE, str(key_file())

