"""No telemetry, and a "Work offline" switch. Qt-free, imported first by every entry point.

What each dependency could send or keep about the user, and what stops it (checked against
onnxruntime 1.32, onnxruntime-genai 0.18, huggingface_hub 2.5, openai 2.x):

- onnxruntime and onnxruntime-genai (Linux builds): the native libraries write a persistent
  ``deviceid`` and SQLite event queues (process, OS, run statistics) under
  ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/`` for Microsoft's 1DS collector
  (mobile.events.data.microsoft.com), as soon as a model (or an ``onnxruntime`` session) is
  created. ``ORT_DISABLE_TELEMETRY=1`` in the environment stops it; it is read when the runtime
  starts, so it must be set before. ``disable_telemetry_events()`` alone, after import, does not
  stop it: it is called too, as a second layer (``disable_runtime_telemetry``).
- huggingface_hub: with telemetry on, every request's headers ask the Hub for its list of "AI
  agent harnesses" (one more request, a file written in ``~/.cache/huggingface``) and report the
  torch version. ``HF_HUB_DISABLE_TELEMETRY`` (and ``DO_NOT_TRACK``) turn that off.
  ``HF_HUB_DISABLE_IMPLICIT_TOKEN`` keeps a token saved by ``hf auth login`` from being sent
  where EdgeChat did not pass one (it always passes its own, or none). ``HF_HUB_DISABLE_UPDATE_CHECK``
  silences the ``hf`` command's PyPI check, should anything run it. Its Xet client is not used.
- openai: talks only to servers the user added; it sends its own version, the OS and the
  Python version in ``X-Stainless-*`` headers to that server, and nothing elsewhere.
- llama-cpp-python, uvicorn, starlette, sse-starlette, jinja2, cryptography, filelock, psutil,
  platformdirs, qtawesome (fonts shipped in the package), PySide6 (QtNetwork is not used): no
  network, nothing kept. keyring talks to the OS keyring (D-Bus on Linux, a local socket).
- pip, torch, transformers: not used by the app (install and test-fixture tools only).

Work offline (Settings, ``edgechat --offline``, ``EDGECHAT_OFFLINE=1``): Hub search and
downloads refuse with a message that says why, servers on other computers are refused (those on
this one keep working), ``HF_HUB_OFFLINE=1`` stops huggingface_hub too, and a guard refuses any
other connection or name look-up that would leave the machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import sys
from urllib.parse import urlsplit

from desktop import config
from desktop.errors import UserError
from desktop.text import translate

# Forced, not defaults: a variable left in the user's shell cannot turn telemetry back on.
NO_TELEMETRY = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
}
HF_OFFLINE = "HF_HUB_OFFLINE"


def harden_environment() -> None:
    """Turn every dependency's telemetry off. Call it before anything imports them (the runtime
    reads its switch when it starts); cheap and safe to call again."""
    os.environ.update(NO_TELEMETRY)
    if config.offline():
        _apply_offline()


def disable_runtime_telemetry() -> None:
    """The runtimes' own switches, for whichever of them is loaded. ``onnxruntime``'s Python
    module is not imported for this: the app never uses it (onnxruntime-genai loads the runtime
    library by itself), and importing it costs a second copy of the runtime."""
    for name in ("onnxruntime_genai", "onnxruntime"):
        switch = getattr(sys.modules.get(name), "disable_telemetry_events", None)
        if callable(switch):
            with contextlib.suppress(Exception):  # an older build without it: the variable holds
                switch()


def import_genai():
    """``onnxruntime_genai``, imported with its telemetry off. Raises ImportError as the import
    would."""
    harden_environment()
    import onnxruntime_genai

    disable_runtime_telemetry()
    return onnxruntime_genai


# -- Work offline -------------------------------------------------------------------------------


class WorkOfflineError(UserError):
    """Something needs the internet while Work offline is on."""


class OfflineBlocked(ConnectionRefusedError):
    """A connection the guard refused: an OSError, so callers handle it as a failed connection."""


_chosen = False  # the window's setting (set_offline); --offline and EDGECHAT_OFFLINE force it on
_held: dict | None = None  # HF_HUB_OFFLINE as it was before Work offline set it
_guard_installed = False


def offline() -> bool:
    """Whether Work offline is on: from Settings, ``--offline`` or ``EDGECHAT_OFFLINE=1``."""
    return _chosen or config.offline()


def forced() -> bool:
    """On for this run whatever Settings say (``--offline`` or ``EDGECHAT_OFFLINE=1``)."""
    return config.offline()


def set_offline(on: bool) -> None:
    """The window's Work offline setting (kept in QSettings by the UI)."""
    global _chosen
    _chosen = bool(on)
    _apply_offline()


def take_offline_flag(argv: list[str]) -> list[str]:
    """``argv`` without ``--offline`` (accepted before or after the command); when it was there,
    ``EDGECHAT_OFFLINE=1`` is set, so child processes and a restart keep it."""
    rest, seen = [], False
    for i, arg in enumerate(argv):
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--offline":
            seen = True
        else:
            rest.append(arg)
    if seen:
        os.environ["EDGECHAT_OFFLINE"] = "1"
        _apply_offline()
    return rest


def _apply_offline() -> None:
    global _held
    constants = sys.modules.get("huggingface_hub.constants")
    if offline():
        if _held is None:  # what was there before, to give back when going online again
            _held = {"env": os.environ.get(HF_OFFLINE),
                     "constant": getattr(constants, "HF_HUB_OFFLINE", None)}
        os.environ[HF_OFFLINE] = "1"
        # huggingface_hub reads the variable once, at import: once loaded, its constant is the switch.
        if constants is not None:
            constants.HF_HUB_OFFLINE = True
        _install_guard()
    elif _held is not None:
        if _held["env"] is None:
            os.environ.pop(HF_OFFLINE, None)
        else:
            os.environ[HF_OFFLINE] = _held["env"]
        if constants is not None:
            before = _held["constant"]
            constants.HF_HUB_OFFLINE = before if before is not None else (
                (_held["env"] or "").upper() in ("1", "ON", "YES", "TRUE"))
        _held = None


def _mode_note() -> str:
    if forced():
        return translate("Core", "It was turned on for this run (--offline or EDGECHAT_OFFLINE=1).")
    return translate("Core", "Turn it off in Settings ▸ Network to go online.")


def offline_message(doing: str) -> str:
    """Why ``doing`` (a translated phrase: "searching the Hugging Face Hub") is refused."""
    return translate("Core", "Work offline is on: {doing} needs the internet.").format(
        doing=doing) + " " + _mode_note()


def require_online(doing: str, error: type[Exception] = WorkOfflineError) -> None:
    """Raise ``error`` with offline_message(doing) while Work offline is on."""
    if offline():
        raise error(offline_message(doing))


def is_loopback_host(host: str | bytes | None) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1, IPv4-mapped too). A name is never
    looked up: that would be a DNS query."""
    if host is None:
        return False
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def require_local_server(base_url: str, error: type[Exception] = WorkOfflineError) -> None:
    """While Work offline is on, a server on another computer is refused; one on this computer
    (loopback) keeps working."""
    if not offline():
        return
    host = urlsplit(base_url if "://" in base_url else f"http://{base_url}").hostname
    if not is_loopback_host(host):
        raise error(translate(
            "Core", "Work offline is on: the server at {host} is on another computer, so EdgeChat "
            "does not connect to it. Servers on this computer (localhost) still work.").format(
            host=host or base_url) + " " + _mode_note())


# -- the guard: nothing else leaves the machine while offline --------------------------------
_NAME_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"}
_SEND_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg"}


def _may_resolve(host) -> bool:
    if host in (None, "", b""):
        return True  # a wildcard for binding: no look-up
    if is_loopback_host(host):
        return True
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return False  # a name: resolving it may ask a DNS server
    return True  # an address resolves to itself; connecting to it is checked on its own


def _audit(event: str, args) -> None:
    # Called for every audited event in the process: the cheap test first.
    if event not in _SEND_EVENTS and event not in _NAME_EVENTS:
        return
    if not offline():
        return
    if event in _SEND_EVENTS:
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return  # a local (Unix) socket: D-Bus for the keyring, the single-instance guard
        if address is None or is_loopback_host(address[0]):
            return
        raise OfflineBlocked(translate("Core", "Work offline is on: no connection to {host}.").format(
            host=address[0]))
    host = args[0] if args else None
    if event == "socket.gethostbyaddr" and is_loopback_host(host):
        return
    if event != "socket.gethostbyaddr" and _may_resolve(host):
        return
    raise OfflineBlocked(translate("Core", "Work offline is on: {host} is not looked up.").format(
        host=host))


def _install_guard() -> None:
    # An audit hook cannot be removed: installed once, on the first switch to offline, it then
    # follows offline().
    global _guard_installed
    if not _guard_installed:
        sys.addaudithook(_audit)
        _guard_installed = True
