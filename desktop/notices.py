"""Notices for the user from code that has no window: a damaged settings file moved aside, a
database recovered at start. Qt-free.

The core posts a plain sentence; the window (or the CLI) takes what was posted and shows it until
the user closes it. Posting never fails and never blocks: a notice is said, not required.
"""

from __future__ import annotations

import contextlib
import threading

_lock = threading.Lock()
_pending: list[str] = []
_listeners: list = []


def post(message: str) -> None:
    """Say ``message`` to the user. Listeners (the window) hear it at once, on the posting thread;
    it is also kept until ``drain`` so a notice posted before the window exists is not lost."""
    message = str(message).strip()
    if not message:
        return
    with _lock:
        if message in _pending:  # the same file read twice before anyone looked
            return
        _pending.append(message)
        listeners = list(_listeners)
    for listener in listeners:
        # A notice must never break the code that posts it.
        with contextlib.suppress(Exception):
            listener(message)


def drain() -> list[str]:
    """The notices posted and not yet taken, oldest first; they are taken."""
    with _lock:
        out = list(_pending)
        _pending.clear()
    return out


def subscribe(listener) -> None:
    """Call ``listener(message)`` for each later notice (from any thread: a Qt listener must hop
    to its own thread, e.g. through a queued signal)."""
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)
