"""One running window per data folder.

Two windows on one data folder would write the same conversations database and library files
behind each other's backs, and a second click on the app icon usually means "show me the app",
not "start another one". So the first instance listens on a local socket (a named pipe on
Windows) whose name comes from the data folder and the user; a later launch connects, asks it
to come forward, and exits.

A file lock in the data folder makes "is anyone listening? if not, listen" one step: two
launches at the same moment would otherwise both find nobody and both become the first. A
socket file left behind by a crash answers nobody, so it is removed before listening.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("edgechat.instance")

ACTIVATE = b"activate\n"
LOCK_NAME = "instance.lock"


def _user() -> str:
    # The uid where there is one: getpass.getuser() falls back to a passwd lookup, which may ask
    # nscd or a directory service over a socket, and start-up must not talk to anything.
    if hasattr(os, "getuid"):
        return str(os.getuid())
    return os.environ.get("USERNAME") or "user"


def server_name(folder: str | Path) -> str:
    """The local socket name for a data folder: the same for every launch of this user on this
    folder, however the path was written."""
    resolved = os.path.normcase(str(Path(folder).resolve()))
    digest = hashlib.sha256(f"{_user()}\0{resolved}".encode()).hexdigest()[:24]
    return f"edgechat-{digest}"


class SingleInstance(QObject):
    """Signals: activate_requested(): another launch on this data folder wants this window."""

    activate_requested = Signal()

    def __init__(self, folder: str | Path | None = None, parent=None, *,
                 connect_timeout_ms: int = 1000, lock_timeout_s: float = 10.0):
        super().__init__(parent)
        if folder is None:
            from desktop.paths import data_dir

            folder = data_dir()
        self.folder = Path(folder)
        self.name = server_name(self.folder)
        self._connect_timeout_ms = connect_timeout_ms
        self._lock_timeout_s = lock_timeout_s
        self.server: QLocalServer | None = None

    def start(self) -> bool:
        """True when this is the first instance (now listening); False when another one answered
        and was asked to come forward."""
        from filelock import FileLock, Timeout

        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.folder / LOCK_NAME), timeout=self._lock_timeout_s)
        try:
            lock.acquire()
        except Timeout:
            # Another launch is stuck between its check and its listen. Checking without the lock
            # is still right far more often than refusing to start.
            log.warning("the instance lock %s stayed taken; going on without it", lock.lock_file)
            return self._claim()
        try:
            return self._claim()
        finally:
            lock.release()

    def _claim(self) -> bool:
        if self._ask_to_activate():
            return False
        # Nobody answered: whatever socket is left under this name is a crashed instance's.
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # The app still works; only a second launch will not find this one.
            log.warning("cannot listen on %s: %s", self.name, server.errorString())
            server.deleteLater()
            return True
        server.newConnection.connect(self._on_new_connection)
        self.server = server
        return True

    def _ask_to_activate(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(self._connect_timeout_ms):
            return False
        socket.write(ACTIVATE)
        socket.flush()
        socket.waitForBytesWritten(self._connect_timeout_ms)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(self._connect_timeout_ms)
        log.info("another EdgeChat window runs on %s; asked it to come forward", self.folder)
        return True

    def _on_new_connection(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.setParent(self)
            # The request may be read at once, arrive later, or come with the disconnect.
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater, Qt.ConnectionType.QueuedConnection)
            self._read(socket)
            if socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
                socket.deleteLater()  # gone before we looked: no disconnected signal to come

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data())
            if line == ACTIVATE:
                log.info("another launch asked this window to come forward")
                self.activate_requested.emit()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server.deleteLater()
            self.server = None


def bring_to_front(window) -> None:
    """Show a window over the others, un-minimised, with the focus."""
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
