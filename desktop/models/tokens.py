"""The Hugging Face access token, kept only in the OS keyring.

Never in a settings file, a log or an error message. Where there is no real keyring (a bare
Linux session without a Secret Service, or only a plaintext "keyring"), the token is refused
with a way to get one, rather than written somewhere readable.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from desktop import keyring_store
from desktop.errors import UserError
from desktop.keyring_store import SERVICE
from desktop.text import QT_TRANSLATE_NOOP, translate

USERNAME = "huggingface-token"

NO_KEYRING_HELP = QT_TRANSLATE_NOOP(
    "Core",
    "No OS keyring is available, so EdgeChat will not store a token (it never writes tokens in "
    "plain text). On Linux, install and unlock a Secret Service keyring (GNOME Keyring: "
    "'gnome-keyring' with 'libsecret', or KWallet) and sign in again; Windows Credential "
    "Manager and the macOS Keychain work out of the box."
)


class TokenStoreError(UserError):
    pass


@dataclass(frozen=True)
class KeyringStatus:
    available: bool
    backend: str
    message: str


def status() -> KeyringStatus:
    ring = keyring_store.find()
    if ring.problem:
        return KeyringStatus(False, ring.name, f"{translate('Core', NO_KEYRING_HELP)} ({ring.problem})")
    if ring.backend is None:
        return KeyringStatus(False, ring.name, translate("Core", NO_KEYRING_HELP))
    stored = translate("Core", "Tokens are stored in the OS keyring ({name}).")
    return KeyringStatus(True, ring.name, stored.format(name=ring.name))


def _require_keyring():
    state = status()
    if not state.available:
        raise TokenStoreError(state.message)
    return keyring_store.usable()


def get_token() -> str | None:
    """The stored token, or None (also when there is no usable keyring)."""
    return keyring_store.get(USERNAME)


def set_token(token: str) -> None:
    token = token.strip()
    if not token:
        raise TokenStoreError(translate("Core", "The token is empty."))
    if not token.startswith("hf_") or len(token) < 10 or any(c.isspace() for c in token):
        raise TokenStoreError(translate(
            "Core", "That does not look like a Hugging Face token (they start with 'hf_')."))
    backend = _require_keyring()
    try:
        backend.set_password(SERVICE, USERNAME, token)
    except Exception as exc:  # noqa: BLE001
        raise TokenStoreError(translate(
            "Core", "The keyring refused to store the token: {reason}").format(
            reason=type(exc).__name__)) from None


def clear_token() -> None:
    backend = _require_keyring()
    # Nothing stored is fine too: the goal is "no token".
    with contextlib.suppress(Exception):
        backend.delete_password(SERVICE, USERNAME)


def scrub(text: str, token: str | None = None) -> str:
    """Remove the token from a message before it is shown or logged."""
    token = token if token is not None else get_token()
    if token:
        text = text.replace(token, "hf_***")
    return text
