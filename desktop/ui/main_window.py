"""The main window: conversations on the left, the chat on the right, the model in the status bar."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.storage import ConversationStore
from desktop.ui.chat_controller import ChatController
from desktop.ui.chat_view import ChatView
from desktop.ui.conversation_list import ConversationListModel, Roles
from desktop.ui.prompt_edit import PromptEdit
from desktop.ui.search_panel import SearchPanel
from desktop.workers.generation import EngineHost


class MainWindow(QMainWindow):
    def __init__(self, store: ConversationStore, host: EngineHost, parent=None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.resize(1000, 700)
        self.store, self.host = store, host
        self.model_info: dict | None = None
        self.last_stats: dict | None = None
        self._loading = False  # a model load is queued on the worker

        # Sidebar
        self.new_button = QPushButton("New chat")
        self.conversation_model = ConversationListModel(self)
        self.conversation_list = QListView()
        self.conversation_list.setModel(self.conversation_model)
        self.conversation_list.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed | QAbstractItemView.EditTrigger.DoubleClicked
        )
        self.conversation_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.conversation_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.conversation_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversation_list.setUniformItemSizes(True)
        sidebar = QWidget()
        side_layout = QVBoxLayout(sidebar)
        side_layout.setContentsMargins(6, 6, 0, 6)
        self.search_panel = SearchPanel(store)
        side_layout.addWidget(self.new_button)
        side_layout.addWidget(self.search_panel)
        side_layout.addWidget(self.conversation_list, 1)

        # Chat
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setObjectName("banner")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        self.chat_view = ChatView()
        self.earlier_button = QPushButton()
        self.earlier_button.setFlat(True)
        self.earlier_button.hide()
        self.prompt = PromptEdit()
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        input_row = QHBoxLayout()
        input_row.addWidget(self.prompt, 1)
        input_row.addLayout(buttons)
        chat = QWidget()
        chat_layout = QVBoxLayout(chat)
        chat_layout.setContentsMargins(0, 6, 6, 6)
        chat_layout.addWidget(self.banner)
        chat_layout.addWidget(self.earlier_button)
        chat_layout.addWidget(self.chat_view, 1)
        chat_layout.addLayout(input_row)

        self.splitter = QSplitter()
        self.splitter.addWidget(sidebar)
        self.splitter.addWidget(chat)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([240, 760])
        self.setCentralWidget(self.splitter)

        # Status bar: model · engine · device · speed
        self.model_label = QLabel("Loading model…")
        self.speed_label = QLabel()
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(self.speed_label)

        self.controller = ChatController(store, host, self.chat_view, self)
        self._build_menu()
        self._connect()
        self.refresh_conversations()
        self._restore_geometry()
        self.prompt.setFocus()

    # -- wiring --------------------------------------------------------------------------
    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = QAction("&New chat", self, shortcut=QKeySequence.StandardKey.New)
        self.open_model_action = QAction("&Open model file…", self, shortcut=QKeySequence("Ctrl+O"))
        self.open_folder_action = QAction("Open ONNX model &folder…", self,
                                          shortcut=QKeySequence("Ctrl+Shift+O"))
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        self.stop_action = QAction("&Stop", self, shortcut=QKeySequence(Qt.Key.Key_Escape))
        self.focus_action = QAction("Focus input", self, shortcut=QKeySequence("Ctrl+L"))
        self.library_action = QAction("Model &library…", self, shortcut=QKeySequence("Ctrl+Shift+M"))
        self.settings_action = QAction("&Settings…", self, shortcut=QKeySequence.StandardKey.Preferences)
        self.search_action = QAction("&Search chats", self, shortcut=QKeySequence.StandardKey.Find)
        self.export_md_action = QAction("Export chat as &Markdown…", self)
        self.export_json_action = QAction("Export chat as &JSON…", self)
        self.import_action = QAction("&Import chat…", self)
        self.search_action.triggered.connect(self.search_panel.focus)
        self.export_md_action.triggered.connect(lambda: self._export("md"))
        self.export_json_action.triggered.connect(lambda: self._export("json"))
        self.import_action.triggered.connect(self._import_chat)
        chat_menu = self.menuBar().addMenu("&Chat")
        for action in (self.search_action, self.export_md_action, self.export_json_action,
                       self.import_action):
            chat_menu.addAction(action)
        self.library_action.triggered.connect(self.show_library)
        self.settings_action.triggered.connect(self.show_settings)
        for action in (self.new_action, self.open_model_action, self.open_folder_action,
                       self.library_action, self.settings_action, self.stop_action,
                       self.focus_action, quit_action):
            file_menu.addAction(action)
        self.new_action.triggered.connect(self.controller.new_conversation)
        self.open_model_action.triggered.connect(self._choose_model)
        self.open_folder_action.triggered.connect(self._choose_folder)
        self.stop_action.triggered.connect(self.controller.stop)
        self.focus_action.triggered.connect(self.prompt.setFocus)
        quit_action.triggered.connect(self.close)

    def _connect(self) -> None:
        self.new_button.clicked.connect(self.controller.new_conversation)
        self.send_button.clicked.connect(lambda: self.send(self.prompt.toPlainText()))
        self.prompt.submitted.connect(self.send)
        self.stop_button.clicked.connect(self.controller.stop)
        self.conversation_list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.conversation_list.customContextMenuRequested.connect(self._context_menu)
        self.conversation_model.title_edited.connect(self.rename_conversation)
        self.search_panel.searching_changed.connect(
            lambda searching: self.conversation_list.setVisible(not searching))
        self.search_panel.hit_chosen.connect(self._open_hit)
        c = self.controller
        c.conversations_changed.connect(self.refresh_conversations)
        c.history_hidden.connect(self._on_history_hidden)
        self.earlier_button.clicked.connect(c.show_earlier)
        c.conversation_opened.connect(self._select_conversation)
        c.busy_changed.connect(self._on_busy_changed)
        c.reply_finished.connect(self._on_reply_finished)
        c.error_reported.connect(self.show_error)
        self.host.model_loaded.connect(self._on_model_loaded)
        self.host.model_load_failed.connect(self._on_model_load_failed)
        self.host.model_unloaded.connect(self._on_model_unloaded)

    # -- actions -------------------------------------------------------------------------
    @Slot(str)
    def send(self, text: str) -> None:
        if not text.strip():
            return
        if self.model_info is None and not self._loading:
            self.show_error("No model is loaded. Open a model file (File ▸ Open model file…).")
            return
        if self.controller.send(text):
            self.prompt.clear()
            self.banner.hide()

    def load_model(self, path: str, **options) -> None:
        self._loading = True
        self.model_label.setText(f"Loading {path.rsplit('/', 1)[-1]}…")
        self.host.load(path, **options)

    def _choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a model", "", "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self._switch_model(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an ONNX GenAI model folder")
        if path:
            self._switch_model(path)

    library_window = None

    def show_library(self):
        if self.library_window is None:
            from desktop.ui.library_window import LibraryWindow

            self.library_window = LibraryWindow(parent=self)
            self.library_window.model_chosen.connect(self._switch_model)
        self.library_window.show()
        self.library_window.raise_()
        return self.library_window

    def show_settings(self) -> None:
        from desktop.ui.settings_dialog import SettingsDialog

        SettingsDialog(self).exec()

    def _switch_model(self, path: str) -> None:
        if self.controller.busy:
            self.controller.stop()
        self.load_model(path)

    @Slot(str)
    def show_error(self, message: str) -> None:
        self._show_banner(message, "background: #fdecea; color: #611a15;")
        self.statusBar().showMessage(message, 10_000)

    def show_notice(self, message: str) -> None:
        self._show_banner(message, "background: #fff4e5; color: #663c00;")

    def _show_banner(self, message: str, colors: str) -> None:
        self.banner.setText(message)
        self.banner.setStyleSheet(f"QLabel#banner {{ {colors} padding: 8px; border-radius: 4px; }}")
        self.banner.show()

    # -- search, export, import ------------------------------------------------------------
    def _on_history_hidden(self, hidden: int) -> None:
        from desktop.ui.chat_controller import PAGE

        self.earlier_button.setText(f"Show {min(hidden, PAGE)} earlier messages ({hidden} not shown)")
        self.earlier_button.setVisible(hidden > 0)

    def _open_hit(self, conversation_id: int, message_id: int) -> None:
        self.controller.open_conversation(conversation_id, include_message=message_id)
        self._select_conversation(conversation_id)
        # After the layout has sized the new widgets, so the scroll lands on the hit.
        QTimer.singleShot(0, lambda: self.controller.show_message(message_id))

    def export_conversation(self, path: str, kind: str) -> None:
        import json

        conversation_id = self.controller.current_id
        if conversation_id is None:
            self.show_error("Open a chat to export it.")
            return
        data = (self.store.export_markdown(conversation_id) if kind == "md"
                else json.dumps(self.store.export_json(conversation_id), ensure_ascii=False, indent=1))
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(data)
        except OSError as exc:
            self.show_error(f"Could not write {path}: {exc.strerror or exc}")
            return
        self.statusBar().showMessage(f"Exported to {path}", 5000)

    def import_conversation(self, path: str) -> None:
        import json

        from desktop.storage.store import StoreError

        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            conversation = self.store.import_json(data)
        except (OSError, ValueError) as exc:
            self.show_error(f"Could not read {path}: {exc}")
            return
        except StoreError as exc:
            self.show_error(str(exc))
            return
        self.refresh_conversations()
        self.controller.open_conversation(conversation.id)
        self._select_conversation(conversation.id)

    def _export(self, kind: str) -> None:
        current = self.store.conversation(self.controller.current_id or -1)
        if current is None:
            self.show_error("Open a chat to export it.")
            return
        suffix, label = (".md", "Markdown (*.md)") if kind == "md" else (".json", "JSON (*.json)")
        path, _ = QFileDialog.getSaveFileName(self, "Export chat", current.title + suffix, label)
        if path:
            self.export_conversation(path, kind)

    def _import_chat(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import chat", "", "EdgeChat export (*.json)")
        if path:
            self.import_conversation(path)

    # -- conversations -------------------------------------------------------------------
    def refresh_conversations(self) -> None:
        self.conversation_model.set_conversations(self.store.conversations())
        self._select_conversation(self.controller.current_id or -1)

    @Slot(int)
    def _select_conversation(self, conversation_id: int) -> None:
        row = self.conversation_model.row_of(conversation_id)
        selection = self.conversation_list.selectionModel()
        blocked = selection.blockSignals(True)
        if row >= 0:
            index = self.conversation_model.index(row)
            self.conversation_list.setCurrentIndex(index)
        else:
            self.conversation_list.clearSelection()
            selection.clearCurrentIndex()
        selection.blockSignals(blocked)

    def _on_current_changed(self, current, _previous) -> None:
        conversation_id = current.data(Roles.ConversationId) if current.isValid() else None
        if conversation_id is not None:
            self.controller.open_conversation(conversation_id)

    def _context_menu(self, pos) -> None:
        index = self.conversation_list.indexAt(pos)
        if not index.isValid():
            return
        conversation_id = index.data(Roles.ConversationId)
        menu = QMenu(self)
        rename = menu.addAction("Rename…")
        delete = menu.addAction("Delete")
        chosen = menu.exec(self.conversation_list.viewport().mapToGlobal(pos))
        if chosen is rename:
            self.rename_conversation(conversation_id)
        elif chosen is delete:
            self.delete_conversation(conversation_id)

    def rename_conversation(self, conversation_id: int, title: str | None = None) -> None:
        if title is None:
            current = self.store.conversation(conversation_id)
            title, ok = QInputDialog.getText(self, "Rename chat", "Name:",
                                             text=current.title if current else "")
            if not ok:
                return
        if title.strip():
            self.controller.rename_conversation(conversation_id, title)

    def delete_conversation(self, conversation_id: int, confirm: bool = True) -> None:
        if confirm:
            current = self.store.conversation(conversation_id)
            answer = QMessageBox.question(
                self, "Delete chat",
                f"Delete “{current.title if current else ''}” and all its messages?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.controller.delete_conversation(conversation_id)

    # -- state ---------------------------------------------------------------------------
    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)

    @Slot(dict)
    def _on_model_loaded(self, info: dict) -> None:
        self._loading = False
        self.model_info = info
        self.banner.hide()
        self._update_model_label()
        if info.get("fallback_reason"):
            # Say which device runs the model and why it is not the one expected.
            self.show_notice(f"{info['name']} runs on {info['device']}: {info['fallback_reason']}.")

    @Slot()
    def _on_model_unloaded(self) -> None:
        self.model_info = None

    @Slot(str)
    def _on_model_load_failed(self, message: str) -> None:
        self._loading = False
        self._update_model_label()
        self.show_error(message)

    @Slot(dict)
    def _on_reply_finished(self, stats: dict) -> None:
        self.last_stats = stats
        rate = stats.get("tokens_per_s")
        self.speed_label.setText(f"{rate:.1f} tok/s" if rate else "")

    def _update_model_label(self) -> None:
        info = self.model_info
        if info is None:
            self.model_label.setText("No model loaded")
            return
        details = [info["name"]]
        if info.get("quantization"):
            details[0] += f" ({info['quantization']})"
        details.append(info["backend"])
        device = info["device"]
        threads = info.get("extra", {}).get("threads")
        if threads and device == "CPU":
            device += f", {threads} threads"
        details.append(device)
        self.model_label.setText(" · ".join(details))
        tip = info["path"]
        if info.get("fallback_reason"):
            tip += f"\nDevice: {info['device']} ({info['fallback_reason']})"
        self.model_label.setToolTip(tip)

    # -- lifecycle -----------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = settings.value("main/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def closeEvent(self, event):  # noqa: N802
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        self.controller.shutdown()
        if self.library_window is not None:
            self.library_window.shutdown()
        self.host.shutdown()
        super().closeEvent(event)
