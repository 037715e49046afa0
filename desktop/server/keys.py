"""The API key for a server reachable from other machines: generated here, kept only in the OS
keyring (like the Hugging Face token, see desktop/keyring_store.py), shown to the user once."""

from __future__ import annotations

import contextlib
import secrets

from desktop import keyring_store

USERNAME = "api-server-key"
PREFIX = "ec-"


def given(key: str | None) -> str | None:
    """A key as a caller passed it: blank is no key (a script passing an unset variable sends
    ""), and surrounding spaces are not part of it (a client's token is compared stripped)."""
    if key is None:
        return None
    return key.strip() or None


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def stored() -> str | None:
    return keyring_store.get(USERNAME)


def store(key: str) -> bool:
    """Keep the key in the OS keyring; False where there is none (the key then lives only for
    this run, and the user is told)."""
    backend = keyring_store.usable()
    if backend is None:
        return False
    try:
        backend.set_password(keyring_store.SERVICE, USERNAME, key)
    except Exception:  # noqa: BLE001
        return False
    return True


def forget() -> None:
    backend = keyring_store.usable()
    if backend is not None:
        with contextlib.suppress(Exception):  # nothing stored is fine too
            backend.delete_password(keyring_store.SERVICE, USERNAME)


def ensure() -> tuple[str, bool, bool]:
    """(key, new, kept): the stored key, else a new one, stored when a keyring allows. ``new``
    says it was just made (show it once); ``kept`` that the keyring holds it."""
    key = stored()
    if key:
        return key, False, True
    key = generate()
    return key, True, store(key)
