""""Connect to a server…": an OpenAI-compatible server (vLLM, the llama.cpp server, Ollama, LM
Studio, another EdgeChat) and the models to use from it.

The address and the models chosen are saved in remotes.json, the API key only in the OS keyring
(desktop/models/remotes.py). Testing the connection lists the server's models on a worker
(desktop/workers/remote.py) with a busy bar and Cancel; a failure is said in plain words and
nothing typed is lost. "Add and use" saves the server and loads the first model chosen: from then
on chats go to that server, and the status bar says so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from desktop.engines.remote_engine import READ_TIMEOUT_S
from desktop.errors import UserError
from desktop.models import remotes
from desktop.workers.remote import RemoteLister, ServerListing

NEW_SERVER = ""


class RemoteDialog(QDialog):
    """Signals: model_chosen(str): the remote model id to load after "Add and use";
    saved(object): the RemoteServer saved."""

    model_chosen = Signal(str)
    saved = Signal(object)

    def __init__(self, parent=None, lister: RemoteLister | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Connect to a server"))
        self.setMinimumWidth(520)
        self._lister = lister  # made on first use: a dialog never tested holds no thread
        self._owns_lister = lister is None
        self._lister_connected = False
        self._listing: ServerListing | None = None
        self.server_combo = QComboBox()
        self.server_combo.setAccessibleName(self.tr("Saved servers"))
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("http://192.168.1.20:8000/v1")
        self.url_edit.setAccessibleName(self.tr("Server address"))
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(self.tr("optional, e.g. GPU box"))
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("optional"))
        self.key_edit.setAccessibleName(self.tr("API key"))
        self.key_note = QLabel(remotes.keyring_note())
        self.key_note.setWordWrap(True)
        self.key_note.setObjectName("hint")
        self.context_spin = QSpinBox()
        self.context_spin.setRange(0, 10_000_000)
        self.context_spin.setSingleStep(1024)
        self.context_spin.setSpecialValueText(self.tr("as the server reports (else 4,096)"))
        self.context_spin.setToolTip(self.tr(
            "The context length to assume when the server does not report one (vLLM and the "
            "llama.cpp server do). Used for the context meter and for fitting long chats."))
        self.timeout_spin = QSpinBox()
        self.timeout_spin.setRange(5, 3600)
        self.timeout_spin.setSuffix(self.tr(" s"))
        self.timeout_spin.setValue(int(READ_TIMEOUT_S))
        self.timeout_spin.setToolTip(self.tr(
            "How long the server may stay silent (reading a long prompt, or between words) before "
            "the reply is given up."))
        form = QFormLayout()
        form.addRow(self.tr("Server"), self.server_combo)
        form.addRow(self.tr("Address"), self.url_edit)
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("API key"), self.key_edit)
        form.addRow("", self.key_note)
        form.addRow(self.tr("Context length"), self.context_spin)
        form.addRow(self.tr("Wait for the server"), self.timeout_spin)

        self.test_button = QPushButton(self.tr("Test connection"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setVisible(False)
        self.remove_button = QPushButton(self.tr("Forget this server"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # one request: no fraction to show, only that it runs
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # server messages are not markup
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.models_list = QListWidget()
        self.models_list.setAccessibleName(self.tr("Models on the server"))
        self.models_list.setMinimumHeight(140)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.cancel_button)
        test_row.addStretch(1)
        test_row.addWidget(self.remove_button)

        self.buttons = QDialogButtonBox()
        roles = QDialogButtonBox.ButtonRole
        self.add_button = self.buttons.addButton(self.tr("Add and use"), roles.AcceptRole)
        self.save_button = self.buttons.addButton(self.tr("Save"), roles.ApplyRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        # Enter tests the address typed; adding is always a click.
        for button in self.buttons.buttons():
            button.setAutoDefault(False)
        self.test_button.setDefault(True)
        privacy = QLabel(self.tr(
            "Chats with a server's model are sent to that server. Models on this computer never "
            "send anything."))
        privacy.setWordWrap(True)
        privacy.setObjectName("hint")

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(test_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(QLabel(self.tr("Models to use:")))
        layout.addWidget(self.models_list, 1)
        layout.addWidget(privacy)
        layout.addWidget(self.buttons)

        self.test_button.clicked.connect(self.test_connection)
        self.cancel_button.clicked.connect(self.cancel_test)
        self.remove_button.clicked.connect(self.forget_server)
        self.add_button.clicked.connect(self.add_and_use)
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.url_edit.textEdited.connect(self._on_address_edited)
        self.models_list.itemChanged.connect(self._update_buttons)
        self.server_combo.currentIndexChanged.connect(self._on_server_chosen)
        self._fill_servers()
        self._update_buttons()

    @property
    def lister(self) -> RemoteLister:
        if self._lister is None:
            self._lister = RemoteLister(self)
        if not self._lister_connected:
            self._lister.finished_listing.connect(self._on_listed)
            self._lister.failed_listing.connect(self._on_list_failed)
            self._lister_connected = True
        return self._lister

    # -- saved servers ---------------------------------------------------------------------
    def _fill_servers(self, select: str | None = None) -> None:
        blocked = self.server_combo.blockSignals(True)
        self.server_combo.clear()
        self.server_combo.addItem(self.tr("New server"), NEW_SERVER)
        for server in remotes.servers():
            self.server_combo.addItem(f"{server.name} ({server.host})", server.id)
        index = self.server_combo.findData(select) if select else 0
        self.server_combo.setCurrentIndex(max(index, 0))
        self.server_combo.blockSignals(blocked)
        self._on_server_chosen()

    def current_server(self) -> remotes.RemoteServer | None:
        server_id = self.server_combo.currentData()
        return remotes.server(server_id) if server_id else None

    @Slot()
    def _on_server_chosen(self) -> None:
        server = self.current_server()
        self._listing = None
        self.models_list.clear()
        self.key_edit.clear()
        if server is None:
            self.url_edit.clear()
            self.name_edit.clear()
            self.context_spin.setValue(0)
            self.timeout_spin.setValue(int(READ_TIMEOUT_S))
            self.key_edit.setPlaceholderText(self.tr("optional"))
        else:
            self.url_edit.setText(server.base_url)
            self.name_edit.setText(server.name)
            self.context_spin.setValue(server.context_length or 0)
            self.timeout_spin.setValue(int(server.read_timeout or READ_TIMEOUT_S))
            has_key = remotes.get_api_key(server.id) is not None
            self.key_edit.setPlaceholderText(self.tr("a key is stored: type to replace it") if has_key
                                             else self.tr("optional"))
            for model in server.models:  # what was chosen, until the server is asked again
                self._add_item(model, None, True)
        self.remove_button.setVisible(server is not None)
        self.status.clear()
        self._update_buttons()

    @Slot()
    def _on_address_edited(self) -> None:
        self._listing = None  # the list shown belongs to the address before

    # -- testing ---------------------------------------------------------------------------
    def _api_key(self) -> str | None:
        typed = self.key_edit.text().strip()
        if typed:
            return typed
        server = self.current_server()
        return remotes.get_api_key(server.id) if server is not None else None

    @Slot()
    def test_connection(self) -> None:
        url = self.url_edit.text().strip()
        try:
            from desktop.engines.remote_engine import normalize_base_url

            normalize_base_url(url)
        except UserError as exc:
            self._say(str(exc), error=True)
            self.url_edit.setFocus()
            return
        self.lister.list_models(url, self._api_key())
        self._set_busy(True)
        self._say(self.tr("Asking {url} for its models…").format(url=url))

    @Slot()
    def cancel_test(self) -> None:
        self.lister.cancel()
        self._set_busy(False)
        self._say(self.tr("Cancelled. Nothing was changed."))

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.test_button.setEnabled(not busy)
        self._update_buttons()

    @Slot(object)
    def _on_listed(self, listing: ServerListing) -> None:
        self._set_busy(False)
        self._listing = listing
        server = self.current_server()
        chosen = set(server.models) if server is not None else set()
        self.url_edit.setText(listing.base_url)
        self.models_list.clear()
        for model in listing.models:
            self._add_item(model.id, model.context_length, model.id in chosen or len(listing.models) == 1)
        if not listing.models:
            self._say(self.tr("Connected, but the server offers no models. Load one on the server, "
                              "then test again."), error=True)
        else:
            self._say(self.tr("Connected: {count} models. Tick the ones to use.").format(
                count=len(listing.models)) if len(listing.models) != 1 else
                self.tr("Connected: 1 model."))
        self._update_buttons()

    @Slot(str)
    def _on_list_failed(self, message: str) -> None:
        self._set_busy(False)
        self._say(message, error=True)

    def _add_item(self, model: str, context_length: int | None, checked: bool) -> None:
        label = model
        if context_length:
            label += "  " + self.tr("({tokens} tokens of context)").format(tokens=f"{context_length:,}")
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, model)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.models_list.addItem(item)

    def checked_models(self) -> list[str]:
        items = (self.models_list.item(i) for i in range(self.models_list.count()))
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

    @Slot()
    def _update_buttons(self) -> None:
        idle = self._lister is None or not self._lister.busy
        has = bool(self.checked_models())
        self.add_button.setEnabled(idle and has)
        self.save_button.setEnabled(idle and (has or self.current_server() is not None))

    # -- saving ----------------------------------------------------------------------------
    def _save(self) -> remotes.RemoteServer | None:
        server = self.current_server()
        typed_key = self.key_edit.text().strip()
        try:
            saved = remotes.save_server(
                self.url_edit.text(), self.checked_models(), name=self.name_edit.text(),
                api_key=typed_key or None, context_length=self.context_spin.value(),
                read_timeout=float(self.timeout_spin.value()),
                server_id=server.id if server is not None else None)
        except UserError as exc:
            self._say(str(exc), error=True)  # the typed values stay for another try
            return None
        self.saved.emit(saved)
        return saved

    @Slot()
    def save(self) -> None:
        saved = self._save()
        if saved is not None:
            self._fill_servers(select=saved.id)
            self._say(self.tr("Saved {name}.").format(name=saved.name))

    @Slot()
    def add_and_use(self) -> None:
        models = self.checked_models()
        saved = self._save() if models else None
        if saved is None:
            return
        self.model_chosen.emit(remotes.make_id(saved.id, models[0]))  # the picker loads it
        self.accept()

    @Slot()
    def forget_server(self) -> None:
        server = self.current_server()
        if server is None:
            return
        remotes.remove_server(server.id)
        self._fill_servers()
        self._say(self.tr("Forgot {name} and its key.").format(name=server.name))

    def done(self, result: int) -> None:
        if self._lister is not None:
            self._lister.cancel()
        if self._owns_lister and self._lister is not None:
            # A request still running out its timeout is not waited for: its thread is left to
            # end on its own (kept referenced, see workers/base.py) and its answer is dropped.
            self.lister.shutdown(timeout_s=0.5)
        super().done(result)
