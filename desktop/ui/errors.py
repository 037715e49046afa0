"""The window's last line of defence: an exception nobody caught, and Qt's own warnings.

Without these hooks an exception raised in a slot is printed to a console a windowed app does
not have, and the user sees nothing happen; one raised in a thread is lost the same way. With
them it is logged with its traceback and the window shows a banner saying where the log is.
Qt's warnings and criticals go to the log too.

``install_error_hooks()`` replaces ``sys.excepthook``, ``threading.excepthook`` and Qt's message
handler, and ``ErrorHooks.uninstall()`` puts back exactly what was there: pytest-qt installs its
own hooks for every test, and a test that installs these must leave them as it found them.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    Qt,
    QtMsgType,
    Signal,
    Slot,
    qInstallMessageHandler,
)

from desktop.logs import log_file

log = logging.getLogger("edgechat")
qt_log = logging.getLogger("edgechat.qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

_current: ErrorHooks | None = None


def unexpected_error_message() -> str:
    return QCoreApplication.translate(
        "ErrorHooks", "Something went wrong — details in the log.\n{path}").format(path=log_file())


class ErrorHooks(QObject):
    """Signals: reported(str): the message for the user about an unexpected exception, always
    delivered on the thread this object lives on (the GUI thread)."""

    reported = Signal(str)
    # Emitted from whichever thread raised; queued over to this object's thread.
    _posted = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._installed = False
        self._previous: tuple | None = None
        self._posted.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        if self._installed:
            return
        previous_qt = qInstallMessageHandler(self._qt_message)
        self._previous = (sys.excepthook, threading.excepthook, previous_qt)
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook
        self._installed = True

    def uninstall(self) -> None:
        if not self._installed:
            return
        # PySide6 hands back None for a handler installed from Python (pytest-qt's), so this can
        # restore only Qt's default handler or one installed from C++.
        sys_hook, thread_hook, qt_handler = self._previous
        sys.excepthook = sys_hook
        threading.excepthook = thread_hook
        qInstallMessageHandler(qt_handler)
        self._installed = False

    # -- hooks: may run on any thread, and must never raise ---------------------------------
    def _excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C in a terminal still ends the app
            self._previous[0](exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb)

    def _thread_excepthook(self, args) -> None:
        if issubclass(args.exc_type, SystemExit):  # a thread's way to end, as by default
            return
        name = args.thread.name if args.thread is not None else "?"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, f" in thread {name}")

    def report(self, exc_type, exc, tb, where: str = "") -> None:
        """Log an unexpected exception with its traceback and tell the user (from any thread)."""
        try:
            log.error("Unexpected error%s", where, exc_info=(exc_type, exc, tb))
            self._posted.emit(unexpected_error_message())
        except Exception:  # noqa: BLE001 - a hook that raises would hide the first error
            sys.__excepthook__(exc_type, exc, tb)

    def _qt_message(self, mode, context, message) -> None:
        try:
            where = f" ({context.file}:{context.line})" if context is not None and context.file else ""
            qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s%s", message, where)
        except Exception:  # noqa: BLE001, S110 - nothing may escape into Qt's C++ frames
            pass

    @Slot(str)
    def _deliver(self, message: str) -> None:
        self.reported.emit(message)


def install_error_hooks(show: Callable[[str], None] | None = None) -> ErrorHooks:
    """Install the hooks (once) from the GUI thread; ``show`` gets each message for the user."""
    global _current
    if _current is None:
        _current = ErrorHooks(QCoreApplication.instance())
    _current.install()
    if show is not None:
        _current.reported.connect(show)
    return _current


def uninstall_error_hooks() -> None:
    global _current
    if _current is not None:
        _current.uninstall()
        _current.deleteLater()
        _current = None
