"""The Hugging Face access token, kept only in the OS keyring.

Never in a settings file, a log or an error message. Where there is no real keyring (a bare
Linux session without a Secret Service, or only a plaintext "keyring"), the token is refused
with a way to get one, rather than written somewhere readable.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from desktop.errors import UserError
from desktop.text import QT_TRANSLATE_NOOP, translate

SERVICE = "EdgeChat"
USERNAME = "huggingface-token"

# Backends that are not a keyring at all: they fail, drop secrets, or store them in plain text.
_REFUSED = ("fail", "null", "plaintext", "unencrypted", "keyrings.alt")

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


def _backend():
    import keyring

    return keyring.get_keyring()


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


def status() -> KeyringStatus:
    try:
        backend = _backend()
    except Exception as exc:  # noqa: BLE001 - keyring raises many kinds at import/init
        return KeyringStatus(False, "none", f"{translate('Core', NO_KEYRING_HELP)} ({type(exc).__name__})")
    name = type(backend).__name__
    if not _usable(backend):
        return KeyringStatus(False, name, translate("Core", NO_KEYRING_HELP))
    stored = translate("Core", "Tokens are stored in the OS keyring ({name}).")
    return KeyringStatus(True, name, stored.format(name=name))


def _require_keyring():
    state = status()
    if not state.available:
        raise TokenStoreError(state.message)
    return _backend()


def get_token() -> str | None:
    """The stored token, or None (also when there is no usable keyring)."""
    if not status().available:
        return None
    try:
        return _backend().get_password(SERVICE, USERNAME) or None
    except Exception:  # noqa: BLE001 - a locked or broken keyring: behave as "no token"
        return None


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
