"""One base class for errors whose message is written for the user, and plain words for the
failures that come from outside the app (the network, the disk, memory).

Anything raised as a ``UserError`` (engine, GGUF/ONNX, store, download, Hub, library, catalog,
keyring errors) is shown as it is; any other exception is a bug: it is logged with its traceback
and the user is told that something went wrong and where the log is. Qt-free: the core and the
command line use it too.
"""

from __future__ import annotations

import errno
import re
import sys

from desktop.text import QT_TRANSLATE_NOOP, translate


class UserError(Exception):
    """An error whose message is meant for the user, as it is."""


def fail(message: str, code: int = 1) -> int:
    """Say a command's failure on stderr, as every ``edgechat`` command says it; the exit code."""
    print(f"edgechat: {message}", file=sys.stderr)
    return code


# What an operating system error means for the user, by errno: a sentence to follow "because".
_ERRNO_REASONS = {
    errno.ECONNREFUSED: QT_TRANSLATE_NOOP("Core", "nothing is answering at that address"),
    errno.ECONNRESET: QT_TRANSLATE_NOOP("Core", "the connection was cut off"),
    errno.ECONNABORTED: QT_TRANSLATE_NOOP("Core", "the connection was cut off"),
    errno.EPIPE: QT_TRANSLATE_NOOP("Core", "the connection was cut off"),
    errno.ETIMEDOUT: QT_TRANSLATE_NOOP("Core", "it took too long to answer"),
    errno.EHOSTUNREACH: QT_TRANSLATE_NOOP("Core", "this computer cannot reach that address"),
    errno.ENETUNREACH: QT_TRANSLATE_NOOP("Core", "this computer is not connected to that network"),
    errno.ENETDOWN: QT_TRANSLATE_NOOP("Core", "this computer is not connected to a network"),
    errno.EADDRINUSE: QT_TRANSLATE_NOOP("Core", "another program already uses that port"),
    errno.EADDRNOTAVAIL: QT_TRANSLATE_NOOP("Core", "that address does not belong to this computer"),
    errno.EACCES: QT_TRANSLATE_NOOP("Core", "EdgeChat is not allowed to use it"),
    errno.EPERM: QT_TRANSLATE_NOOP("Core", "EdgeChat is not allowed to use it"),
    errno.ENOENT: QT_TRANSLATE_NOOP("Core", "it is not there"),
    errno.ENOSPC: QT_TRANSLATE_NOOP("Core", "the disk is full"),
    errno.EROFS: QT_TRANSLATE_NOOP("Core", "the disk can only be read, not written"),
    errno.ENOMEM: QT_TRANSLATE_NOOP("Core", "this computer ran out of memory"),
}
# The same for exceptions that carry no errno, by class name (so that the core need not import
# httpx, ssl or socket to recognise theirs); the first match along the class's ancestry wins.
_NAMED_REASONS = {
    "gaierror": QT_TRANSLATE_NOOP("Core", "the server's name could not be found"),
    "SSLCertVerificationError": QT_TRANSLATE_NOOP(
        "Core", "the server's certificate is not trusted by this computer"),
    "SSLError": QT_TRANSLATE_NOOP("Core", "a secure connection could not be set up"),
    "RemoteProtocolError": QT_TRANSLATE_NOOP("Core", "the server closed the connection unexpectedly"),
    "ConnectTimeout": QT_TRANSLATE_NOOP("Core", "it took too long to answer"),
    "ReadTimeout": QT_TRANSLATE_NOOP("Core", "it took too long to answer"),
    "TimeoutException": QT_TRANSLATE_NOOP("Core", "it took too long to answer"),
    "TimeoutError": QT_TRANSLATE_NOOP("Core", "it took too long to answer"),
    "ConnectionRefusedError": QT_TRANSLATE_NOOP("Core", "nothing is answering at that address"),
    "ConnectionResetError": QT_TRANSLATE_NOOP("Core", "the connection was cut off"),
    "ConnectionError": QT_TRANSLATE_NOOP("Core", "the connection failed"),
    "ConnectError": QT_TRANSLATE_NOOP("Core", "the connection failed"),
    "MemoryError": QT_TRANSLATE_NOOP("Core", "this computer ran out of memory"),
    "PermissionError": QT_TRANSLATE_NOOP("Core", "EdgeChat is not allowed to use it"),
    "FileNotFoundError": QT_TRANSLATE_NOOP("Core", "it is not there"),
}
# A library that words an OS error itself ("[Errno 111] Connection refused") without keeping it.
_ERRNO_TEXT = re.compile(r"\[Errno (-?\d+)\]")
_NAME_ERRORS = (-2, -3, -5)  # getaddrinfo's EAI_NONAME, EAI_AGAIN, EAI_NODATA (as socket.gaierror)


def plain_reason(exc: BaseException | None) -> str | None:
    """Why ``exc`` happened, in a few plain words for the user ("nothing is answering at that
    address"), for failures from outside the app: the network, the disk, memory. Follows the
    chain of causes (a client library wraps the OS's error in its own, often twice). None when
    it is not one of those: the caller then says something went wrong and where the log is."""
    seen: set[int] = set()
    chain: list[BaseException] = []
    while exc is not None and id(exc) not in seen and len(chain) < 16:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    # The deepest cause is the most precise: a refused connection, not "ConnectError".
    for item in reversed(chain):
        number = item.errno if isinstance(item, OSError) and isinstance(item.errno, int) else None
        if number is None:
            found = _ERRNO_TEXT.search(str(item))
            number = int(found.group(1)) if found else None
        if number in _NAME_ERRORS:
            return translate("Core", _NAMED_REASONS["gaierror"])
        if number in _ERRNO_REASONS:
            return translate("Core", _ERRNO_REASONS[number])
    for item in reversed(chain):
        for cls in type(item).__mro__:
            if cls.__name__ in _NAMED_REASONS:
                return translate("Core", _NAMED_REASONS[cls.__name__])
    return None
