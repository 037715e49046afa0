"""Server ▸ API server…: serve the loaded model to other apps over the OpenAI API.

A small non-modal window: the switch, the address with Copy, the API key (needed, and made, only
when other computers may connect; shown once, with Copy) and a live log of the requests. The
serving itself is desktop/workers/server_bridge.py.
"""

from __future__ import annotations

import socket
import time

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import UserError

LOG_LINES = 500


def install(window) -> None:
    """Add the Server menu to the main window (before Help); the bridge is made when first used.
    Its words have their own context: window.tr() from here would look them up under the
    window's class, where lupdate never puts them."""
    menu = window.menuBar().addMenu(QCoreApplication.translate("ServerMenu", "Se&rver"))
    help_menu = getattr(window, "help_menu", None)
    if help_menu is not None:
        window.menuBar().insertMenu(help_menu.menuAction(), menu)
    window.server_menu = menu
    window.server_action = QAction(QCoreApplication.translate("ServerMenu", "&API server…"), window)
    window.server_action.setToolTip(QCoreApplication.translate(
        "ServerMenu", "Serve the loaded model to other apps (OpenAI API)"))
    window.server_action.triggered.connect(lambda: show_panel(window))
    menu.addAction(window.server_action)
    window.server_bridge = None
    window.server_panel = None


def bridge_for(window):
    if window.server_bridge is None:
        from desktop.workers.server_bridge import ServerBridge

        bridge = ServerBridge(window.host, window)
        bridge.set_model(getattr(window, "model_info", None))
        bridge.set_loading(bool(getattr(window, "_loading", False)))
        window.server_bridge = bridge
        # Said in the status bar while it serves, so a closed panel does not hide an open port.
        label = QLabel()
        label.setVisible(False)
        window.statusBar().addPermanentWidget(label)

        def show_state(running: bool) -> None:
            text = QCoreApplication.translate("ServerMenu", "Serving at {url}").format(
                url=address_for_others(bridge.url or ""))
            label.setText(text if running else "")
            label.setVisible(running)

        bridge.running_changed.connect(show_state)
    return window.server_bridge


def show_panel(window) -> ServerPanel:
    if window.server_panel is None:
        window.server_panel = ServerPanel(bridge_for(window), window)
    panel = window.server_panel
    if panel.isVisible():  # already open behind the window: bring it forward
        panel.raise_()
        panel.activateWindow()
    panel.show()
    return panel


class ServerPanel(QDialog):
    def __init__(self, bridge, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.setWindowTitle(self.tr("API server"))
        self.setModal(False)
        self.resize(780, 480)

        self.switch = QCheckBox(self.tr("Serve the loaded model to other apps"))
        self.remote = QCheckBox(self.tr("Allow other computers on the network (needs an API key)"))
        self.port = QSpinBox(minimum=1, maximum=65535, value=8080)
        self.address = QLineEdit(readOnly=True)
        self.copy_address = QPushButton(self.tr("Copy"))
        self.key = QLineEdit(readOnly=True)
        no_key = self.tr("No key needed: only apps on this computer can connect (web pages cannot)")
        self.key.setPlaceholderText(no_key)
        self.copy_key = QPushButton(self.tr("Copy"))
        self.new_key = QPushButton(self.tr("New key"))
        self.key_note = QLabel(wordWrap=True)
        self.key_note.setVisible(False)
        self.status = QLabel(wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log.setPlaceholderText(self.tr("Requests appear here as other apps send them."))

        form = QFormLayout()
        form.addRow(self.tr("Port:"), self.port)
        row = QHBoxLayout()
        row.addWidget(self.address, 1)
        row.addWidget(self.copy_address)
        form.addRow(self.tr("Address:"), row)
        row = QHBoxLayout()
        row.addWidget(self.key, 1)
        row.addWidget(self.copy_key)
        row.addWidget(self.new_key)
        form.addRow(self.tr("API key:"), row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.switch)
        layout.addWidget(self.remote)
        layout.addLayout(form)
        layout.addWidget(self.key_note)
        layout.addWidget(self.status)
        layout.addWidget(QLabel(self.tr("Requests:")))
        layout.addWidget(self.log, 1)

        self.switch.toggled.connect(self._toggle)
        self.remote.toggled.connect(self._update)
        self.copy_address.clicked.connect(lambda: self._copy(self.address.text()))
        self.copy_key.clicked.connect(lambda: self._copy(self.key.text()))
        self.new_key.clicked.connect(self._make_new_key)
        bridge.request_logged.connect(self._on_request)
        bridge.running_changed.connect(self._update)
        self._update()

    # -- actions ----------------------------------------------------------------------------
    @Slot(bool)
    def _toggle(self, on: bool) -> None:
        if on == self.bridge.running:
            return
        if not on:
            self.bridge.stop()
            return
        host = "0.0.0.0" if self.remote.isChecked() else "127.0.0.1"
        api_key = None
        if self.remote.isChecked():
            api_key = self._key_for_remote()
        try:
            self.bridge.start(host, self.port.value(), api_key=api_key)
        except UserError as exc:
            self.status.setText(str(exc))
            self.switch.blockSignals(True)
            self.switch.setChecked(False)
            self.switch.blockSignals(False)
            return
        self._update()

    def _key_for_remote(self) -> str:
        from desktop.server import keys

        key, new, kept = keys.ensure()
        self._show_key(key if new else None, kept)
        return key

    def _make_new_key(self) -> None:
        from desktop.server import keys

        key = keys.generate()
        kept = keys.store(key)
        self._show_key(key, kept)
        if self.bridge.running and self.bridge.api_key:  # the old key stops working now
            self.bridge.stop()
            self.switch.setChecked(True)

    def _show_key(self, key: str | None, kept: bool) -> None:
        if key:
            self.key.setText(key)
            self.key_note.setText(
                self.tr("This key is shown only now: copy it into the app that connects. It is kept in "
                        "the OS keyring.") if kept else
                self.tr("No OS keyring is available: this key lasts until EdgeChat closes. Copy it now."))
        else:
            self.key.clear()
            self.key.setPlaceholderText(self.tr("The key in the OS keyring (shown when it was made; "
                                                "New key makes another)"))
            self.key_note.clear()

    def _copy(self, text: str) -> None:
        if text:
            QGuiApplication.clipboard().setText(text)
            self.status.setText(self.tr("Copied."))

    # -- view -------------------------------------------------------------------------------
    @Slot()
    def _update(self, *_args) -> None:
        running = self.bridge.running
        self.switch.blockSignals(True)
        self.switch.setChecked(running)
        self.switch.blockSignals(False)
        self.remote.setEnabled(not running)
        self.port.setEnabled(not running)
        self.copy_key.setEnabled(bool(self.key.text()))
        self.new_key.setEnabled(self.remote.isChecked())
        self.key_note.setVisible(bool(self.key_note.text()))
        if not running:
            self.address.clear()
            self.status.setText(self.tr("Off. Other apps can use the loaded model through the OpenAI API "
                                        "once this is on."))
            return
        url = self.bridge.url or ""
        if "0.0.0.0" in url:
            url = url.replace("0.0.0.0", _lan_address())
        self.address.setText(url)
        models = self.bridge.models()
        model = models[0].id if models else self.tr("no model loaded yet")
        self.status.setText(self.tr("Serving {model}. Set the app's base URL to the address above.")
                            .format(model=model))

    @Slot(object)
    def _on_request(self, record) -> None:
        tokens = ""
        if record.prompt_tokens is not None:
            tokens = self.tr("{p}+{c} tokens").format(p=record.prompt_tokens, c=record.completion_tokens)
        line = "  ".join(part for part in (
            time.strftime("%H:%M:%S"), record.client.rsplit(":", 1)[0], record.method, record.path,
            str(record.status), record.model or "", self.tr("stream") if record.stream else "", tokens,
            f"{record.duration_s:.2f} s") if part)
        self.log.appendPlainText(line)


def address_for_others(url: str) -> str:
    """The address as another app or computer would type it: this computer's network address
    for a server on every interface (0.0.0.0 is where it listens, not where to connect), and
    localhost for one on this computer only."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in ("0.0.0.0", "::"):
        host = _lan_address()
    elif host in ("127.0.0.1", "::1"):
        host = "localhost"
    else:
        return url
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _lan_address() -> str:
    """This computer's address on the network, for the address shown to other computers."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing route
            return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()
