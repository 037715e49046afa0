"""The OS keyring, where EdgeChat keeps every secret (the Hugging Face token, server API keys, the
prompt cache's key), or None where there is no real one: a bare Linux session without a Secret
Service, or only a "keyring" that fails, drops secrets or writes them in plain text. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE = "EdgeChat"

# Backends that are not a keyring at all: they fail, drop secrets, or store them in plain text.
_REFUSED = ("fail", "null", "plaintext", "unencrypted", "keyrings.alt")


@dataclass(frozen=True)
class Keyring:
    backend: object | None  # the usable keyring, or None
    name: str  # its class name; "none" when keyring could not even start
    problem: str = ""  # why keyring could not start (the exception's type), if it could not


def _usable(backend) -> bool:
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    if any(bad in name for bad in _REFUSED):
        return False
    try:
        priority = backend.priority
    except Exception:  # noqa: BLE001 - a backend that cannot even say is not usable
        return False
    if "chainer" in name:
        return any(_usable(b) for b in getattr(backend, "backends", ()))
    return priority > 0


def find() -> Keyring:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - keyring raises many kinds at import/init
        return Keyring(None, "none", type(exc).__name__)
    return Keyring(backend if _usable(backend) else None, type(backend).__name__)


def usable():
    """The OS keyring, or None where there is no usable one."""
    return find().backend


def get(username: str) -> str | None:
    """The secret kept for ``username``, or None: none stored, no usable keyring, or a locked or
    broken one (each caller then behaves as if nothing were stored)."""
    backend = usable()
    if backend is None:
        return None
    try:
        return backend.get_password(SERVICE, username) or None
    except Exception:  # noqa: BLE001 - a locked or broken keyring
        return None
