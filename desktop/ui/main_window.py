"""The main window: conversations on the left, the chat on the right, the model in the status bar."""

from __future__ import annotations

import html

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
from desktop.engines.base import GenerationStats, ModelInfo
from desktop.storage import ConversationStore
from desktop.ui import settings_keys
from desktop.ui.chat_binder import ChatBinder
from desktop.ui.chat_settings import ChatSettings
from desktop.ui.chat_view import ChatView
from desktop.ui.context_meter import ContextMeter
from desktop.ui.conversation_list import ConversationListModel, Roles
from desktop.ui.prompt_edit import PromptEdit
from desktop.ui.search_panel import SearchPanel
from desktop.workers.base import shutdown_all
from desktop.workers.chat_session import PAGE, ChatSession
from desktop.workers.context import ContextCounter
from desktop.workers.generation import EngineHost

# Closing the window ends every background thread within this (killing a busy engine process
# if it must), so the app never hangs on exit.
SHUTDOWN_S = 4.0


class MainWindow(QMainWindow):
    def __init__(self, store: ConversationStore, host: EngineHost, parent=None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.resize(1000, 700)
        self.store, self.host = store, host
        self.model_info: ModelInfo | None = None
        self.last_stats: dict | None = None
        self._loading = False  # a model load is queued on the worker

        # Sidebar
        self.new_button = QPushButton(self.tr("New chat"))
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
        # Banners quote engines, templates and the Hub: their text must never become links or images.
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        self.chat_view = ChatView()
        self.earlier_button = QPushButton()
        self.earlier_button.setFlat(True)
        self.earlier_button.hide()
        self.prompt = PromptEdit()
        self.send_button = QPushButton(self.tr("Send"))
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setEnabled(False)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        input_row = QHBoxLayout()
        input_row.addWidget(self.prompt, 1)
        input_row.addLayout(buttons)
        self.context_meter = ContextMeter()
        self.chat_settings_button = QPushButton(self.tr("Chat settings"))
        self.chat_settings_button.setCheckable(True)
        self.chat_settings_button.setFlat(True)
        meter_row = QHBoxLayout()
        meter_row.addWidget(self.context_meter, 1)
        meter_row.addWidget(self.chat_settings_button)
        chat = QWidget()
        chat_layout = QVBoxLayout(chat)
        chat_layout.setContentsMargins(0, 6, 6, 6)
        chat_layout.addWidget(self.banner)
        chat_layout.addWidget(self.earlier_button)
        chat_layout.addWidget(self.chat_view, 1)
        chat_layout.addLayout(input_row)
        chat_layout.addLayout(meter_row)
        self.chat_settings = ChatSettings(store)
        self.chat_settings.hide()

        self.splitter = QSplitter()
        self.splitter.addWidget(sidebar)
        self.splitter.addWidget(chat)
        self.splitter.addWidget(self.chat_settings)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([240, 760, 280])
        self.setCentralWidget(self.splitter)

        # Status bar: model · engine · device · speed
        self.model_label = QLabel(self.tr("Loading model…"))
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # a model's name is the file's
        self.speed_label = QLabel()
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(self.speed_label)

        self.session = ChatSession(store, host, self)
        self.binder = ChatBinder(self.session, self.chat_view, self)
        self.counter = ContextCounter(self)
        # Counting waits for a pause in typing; the counter also skips requests gone stale.
        self._count_timer = QTimer(self, singleShot=True, interval=150)
        self._build_menu()
        self._build_help_menu()
        self._connect()
        self.chat_settings.load(self.session.settings)
        self.refresh_conversations()
        self._restore_geometry()
        self.prompt.setFocus()

    # -- wiring --------------------------------------------------------------------------
    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.new_action = QAction(self.tr("&New chat"), self, shortcut=QKeySequence.StandardKey.New)
        self.open_model_action = QAction(self.tr("&Open model file…"), self, shortcut=QKeySequence("Ctrl+O"))
        self.open_folder_action = QAction(self.tr("Open ONNX model &folder…"), self,
                                          shortcut=QKeySequence("Ctrl+Shift+O"))
        quit_action = QAction(self.tr("&Quit"), self, shortcut=QKeySequence.StandardKey.Quit)
        self.stop_action = QAction(self.tr("&Stop"), self, shortcut=QKeySequence(Qt.Key.Key_Escape))
        self.focus_action = QAction(self.tr("Focus input"), self, shortcut=QKeySequence("Ctrl+L"))
        self.library_action = QAction(self.tr("Model &library…"), self,
                                      shortcut=QKeySequence("Ctrl+Shift+M"))
        self.settings_action = QAction(self.tr("&Settings…"), self,
                                       shortcut=QKeySequence.StandardKey.Preferences)
        self.search_action = QAction(self.tr("&Search chats"), self, shortcut=QKeySequence.StandardKey.Find)
        self.export_md_action = QAction(self.tr("Export chat as &Markdown…"), self)
        self.export_json_action = QAction(self.tr("Export chat as &JSON…"), self)
        self.import_action = QAction(self.tr("&Import chat…"), self)
        self.search_action.triggered.connect(self.search_panel.focus)
        self.export_md_action.triggered.connect(lambda: self._export("md"))
        self.export_json_action.triggered.connect(lambda: self._export("json"))
        self.import_action.triggered.connect(self._import_chat)
        self.chat_settings_action = QAction(self.tr("Chat se&ttings"), self, checkable=True,
                                            shortcut=QKeySequence("Ctrl+Shift+P"))
        self.chat_settings_action.toggled.connect(self.show_chat_settings)
        self.chat_settings_button.toggled.connect(self.show_chat_settings)
        chat_menu = self.menuBar().addMenu(self.tr("&Chat"))
        for action in (self.search_action, self.chat_settings_action, self.export_md_action,
                       self.export_json_action, self.import_action):
            chat_menu.addAction(action)
        self.library_action.triggered.connect(self.show_library)
        self.settings_action.triggered.connect(self.show_settings)
        for action in (self.new_action, self.open_model_action, self.open_folder_action,
                       self.library_action, self.settings_action, self.stop_action,
                       self.focus_action, quit_action):
            file_menu.addAction(action)
        self.new_action.triggered.connect(self.session.new_conversation)
        self.open_model_action.triggered.connect(self._choose_model)
        self.open_folder_action.triggered.connect(self._choose_folder)
        self.stop_action.triggered.connect(self.session.stop)
        self.focus_action.triggered.connect(self.prompt.setFocus)
        quit_action.triggered.connect(self.close)

    def _connect(self) -> None:
        self.new_button.clicked.connect(self.session.new_conversation)
        self.send_button.clicked.connect(lambda: self.send(self.prompt.toPlainText()))
        self.prompt.submitted.connect(self.send)
        self.stop_button.clicked.connect(self.session.stop)
        self.conversation_list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.conversation_list.customContextMenuRequested.connect(self._context_menu)
        self.conversation_model.title_edited.connect(self.rename_conversation)
        self.search_panel.searching_changed.connect(
            lambda searching: self.conversation_list.setVisible(not searching))
        self.search_panel.hit_chosen.connect(self._open_hit)
        c = self.session
        c.conversations_changed.connect(self.refresh_conversations)
        c.page_shown.connect(lambda page: self._on_history_hidden(page.hidden))
        self.earlier_button.clicked.connect(c.show_earlier)
        c.conversation_opened.connect(self._select_conversation)
        c.busy_changed.connect(self._on_busy_changed)
        c.reply_finished.connect(self._on_reply_finished)
        c.error_reported.connect(self.show_error)
        c.settings_changed.connect(self._on_chat_settings_changed)
        c.history_changed.connect(self._count_timer.start)
        self.binder.delete_requested.connect(self.delete_message)
        c.context_full.connect(self._ask_context_full)
        self.chat_settings.settings_edited.connect(c.set_settings)
        self.prompt.textChanged.connect(self._count_timer.start)
        self._count_timer.timeout.connect(self._request_count)
        self.counter.latest_counted.connect(self._on_counted)
        self.counter.count_failed.connect(self.context_meter.set_unknown)
        self.counter.opened.connect(lambda _path: self._count_timer.start())
        self.host.model_loaded.connect(self._on_model_loaded)
        self.host.model_load_failed.connect(self._on_model_load_failed)
        self.host.model_unloaded.connect(self._on_model_unloaded)

    # -- actions -------------------------------------------------------------------------
    @Slot(str)
    def send(self, text: str) -> None:
        if not text.strip():
            return
        if self.model_info is None and not self._loading:
            self.show_error(self.tr("No model is loaded. Open a model file (File ▸ Open model file…)."))
            return
        if self.session.send(text):
            self.prompt.clear()
            self.banner.hide()

    def load_model(self, path: str, **options) -> None:
        self._loading = True
        self.model_label.setText(self.tr("Loading {name}…").format(name=path.rsplit("/", 1)[-1]))
        self.host.load(path, **options)

    def _choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a model"), "", self.tr("GGUF models (*.gguf);;All files (*)")
        )
        if path:
            self._switch_model(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Open an ONNX GenAI model folder"))
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
        if self.session.busy:
            self.session.stop()
        self.load_model(path)

    @Slot(str)
    def show_error(self, message: str) -> None:
        self._show_banner(message, "background: #fdecea; color: #611a15;")
        self.statusBar().showMessage(message, 10_000)

    def show_notice(self, message: str) -> None:
        self._show_banner(message, "background: #fff4e5; color: #663c00;")

    def _build_help_menu(self) -> None:
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.open_log_action = QAction(self.tr("Open &log folder"), self)
        self.open_log_action.triggered.connect(self.open_log_folder)
        self.about_action = QAction(self.tr("&About EdgeChat"), self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.open_log_action)
        help_menu.addAction(self.about_action)

    def open_log_folder(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from desktop.logs import log_folder

        folder = log_folder()
        folder.mkdir(parents=True, exist_ok=True)  # a fresh install has logged nothing yet
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.show_notice(self.tr("The log is in {folder}").format(folder=folder))

    def show_about(self) -> None:
        from desktop import __version__

        text = self.tr("Offline chat with small local language models. Everything runs on this "
                       "computer.")
        QMessageBox.about(self, self.tr("About EdgeChat"),
                          f"<p><b>{APP_NAME}</b> {__version__}</p><p>{text}</p>")

    def _show_banner(self, message: str, colors: str) -> None:
        self.banner.setText(message)
        self.banner.setStyleSheet(f"QLabel#banner {{ {colors} padding: 8px; border-radius: 4px; }}")
        self.banner.show()

    # -- search, export, import ------------------------------------------------------------
    def _on_history_hidden(self, hidden: int) -> None:
        self.earlier_button.setText(self.tr("Show {count} earlier messages ({hidden} not shown)").format(
            count=min(hidden, PAGE), hidden=hidden))
        self.earlier_button.setVisible(hidden > 0)

    def _open_hit(self, conversation_id: int, message_id: int) -> None:
        self.session.open_conversation(conversation_id, include_message=message_id)
        self._select_conversation(conversation_id)
        # After the layout has sized the new widgets, so the scroll lands on the hit.
        QTimer.singleShot(0, lambda: self.binder.show_message(message_id))

    def export_conversation(self, path: str, kind: str) -> None:
        import json

        conversation_id = self.session.current_id
        if conversation_id is None:
            self.show_error(self.tr("Open a chat to export it."))
            return
        data = (self.store.export_markdown(conversation_id) if kind == "md"
                else json.dumps(self.store.export_json(conversation_id), ensure_ascii=False, indent=1))
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(data)
        except OSError as exc:
            self.show_error(self.tr("Could not write {path}: {reason}").format(
                path=path, reason=exc.strerror or exc))
            return
        self.statusBar().showMessage(self.tr("Exported to {path}").format(path=path), 5000)

    def import_tasks(self):
        """The import thread (started on first use): a big export takes seconds to check and
        write, which froze the window when it was done here."""
        tasks = getattr(self, "_imports", None)
        if tasks is None:
            from desktop.workers.imports import ImportTasks

            tasks = self._imports = ImportTasks(self.store.path, self)
            tasks.progressed.connect(self._on_import_progress)
            tasks.imported.connect(self._on_imported)
            tasks.import_cancelled.connect(self._on_import_cancelled)
            tasks.failed.connect(self._on_import_failed)
        return tasks

    def import_conversation(self, path: str) -> None:
        """Start importing an export; the chat opens when it is in (import_tasks().imported)."""
        from pathlib import Path

        from PySide6.QtWidgets import QProgressDialog

        tasks = self.import_tasks()
        if not tasks.import_file(path):
            self.show_error(self.tr("A chat is being imported already."))
            return
        label = self.tr("Importing {name}…").format(name=Path(path).name)
        # Shown only if the import takes longer than half a second; most take less.
        dialog = self._import_dialog = QProgressDialog(label, self.tr("Cancel"), 0, 100, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(500)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(tasks.cancel)
        dialog.setValue(0)
        self.statusBar().showMessage(label)

    def _on_import_progress(self, progress) -> None:
        from pathlib import Path

        dialog = getattr(self, "_import_dialog", None)
        if dialog is not None:
            dialog.setValue(int(progress.fraction * 100))
        self.statusBar().showMessage(self.tr("Importing {name}… {percent}%").format(
            name=Path(progress.path).name, percent=int(progress.fraction * 100)))

    def _end_import(self) -> None:
        dialog, self._import_dialog = getattr(self, "_import_dialog", None), None
        if dialog is not None:
            dialog.canceled.disconnect()  # closing a progress dialog counts as a cancel
            dialog.close()
            dialog.deleteLater()
        self.statusBar().clearMessage()

    def _on_imported(self, conversation_id: int) -> None:
        self._end_import()
        self.refresh_conversations()
        self.session.open_conversation(conversation_id)
        self._select_conversation(conversation_id)
        conversation = self.store.conversation(conversation_id)
        if conversation is not None:
            self.statusBar().showMessage(self.tr("Imported “{title}”").format(
                title=conversation.title), 5000)

    def _on_import_cancelled(self) -> None:
        self._end_import()
        self.statusBar().showMessage(self.tr("Import cancelled; nothing was added."), 5000)

    def _on_import_failed(self, failure) -> None:
        self._end_import()
        self.show_error(failure.message)

    def _export(self, kind: str) -> None:
        current = self.store.conversation(self.session.current_id or -1)
        if current is None:
            self.show_error(self.tr("Open a chat to export it."))
            return
        if kind == "md":
            suffix, label = ".md", self.tr("Markdown (*.md)")
        else:
            suffix, label = ".json", self.tr("JSON (*.json)")
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export chat"), current.title + suffix, label)
        if path:
            self.export_conversation(path, kind)

    def _import_chat(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Import chat"), "",
                                              self.tr("EdgeChat export (*.json)"))
        if path:
            self.import_conversation(path)

    # -- conversations -------------------------------------------------------------------
    def refresh_conversations(self) -> None:
        self.conversation_model.set_conversations(self.store.conversations())
        self._select_conversation(self.session.current_id or -1)

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
            self.session.open_conversation(conversation_id)

    def _context_menu(self, pos) -> None:
        index = self.conversation_list.indexAt(pos)
        if not index.isValid():
            return
        conversation_id = index.data(Roles.ConversationId)
        menu = QMenu(self)
        rename = menu.addAction(self.tr("Rename…"))
        delete = menu.addAction(self.tr("Delete"))
        chosen = menu.exec(self.conversation_list.viewport().mapToGlobal(pos))
        if chosen is rename:
            self.rename_conversation(conversation_id)
        elif chosen is delete:
            self.delete_conversation(conversation_id)

    def rename_conversation(self, conversation_id: int, title: str | None = None) -> None:
        if title is None:
            current = self.store.conversation(conversation_id)
            title, ok = QInputDialog.getText(self, self.tr("Rename chat"), self.tr("Name:"),
                                             text=current.title if current else "")
            if not ok:
                return
        if title.strip():
            self.session.rename_conversation(conversation_id, title)

    def delete_conversation(self, conversation_id: int, confirm: bool = True) -> None:
        if confirm:
            current = self.store.conversation(conversation_id)
            answer = QMessageBox.question(
                self, self.tr("Delete chat"),
                self.tr("Delete “{title}” and all its messages?").format(
                    title=current.title if current else ""),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.session.delete_conversation(conversation_id)

    # -- chat settings, context meter, message actions --------------------------------------
    def show_chat_settings(self, visible: bool, focus: bool = True) -> None:
        self.chat_settings.setVisible(visible)
        for toggle in (self.chat_settings_button, self.chat_settings_action):
            blocked = toggle.blockSignals(True)
            toggle.setChecked(visible)
            toggle.blockSignals(blocked)
        if visible and focus:
            self.chat_settings.focus()

    def _on_chat_settings_changed(self, settings: dict) -> None:
        self.chat_settings.load(settings, self.session.model_defaults)

    def _request_count(self) -> None:
        info = self.model_info
        if info is None or not info.n_ctx:
            return
        self.counter.count(self.session.count_request(self.prompt.toPlainText(), info.n_ctx))

    def _on_counted(self, _request_id: int, result) -> None:
        info = self.model_info
        if info is None or not info.n_ctx:
            return
        self.context_meter.show_count(result, info.n_ctx, info.n_ctx - result.limit, result.policy)

    def delete_message(self, message_id: int, confirm: bool = True) -> None:
        message = self.store.message(message_id)
        if message is None:
            return
        if confirm:
            versions = self.store.versions(message_id)
            text = (self.tr("Delete this version and the messages that follow it?")
                    if len(versions) > 1 else self.tr("Delete this message?"))
            answer = QMessageBox.question(self, self.tr("Delete message"), text)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.session.delete_message(message_id)

    def _ask_context_full(self, user_message_id: int, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("The chat is full"), self.tr(
            "This chat no longer fits the model's context. What should the model leave out for "
            "this reply? The chat itself keeps every message."), parent=self)
        box.setDetailedText(message)
        rolling = box.addButton(self.tr("Leave out the oldest messages"), QMessageBox.ButtonRole.AcceptRole)
        keep_first = box.addButton(self.tr("Keep the first turn, leave out the middle"),
                                   QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Don't send"), QMessageBox.ButtonRole.RejectRole)
        box.exec()
        chosen = box.clickedButton()
        if chosen is rolling:
            self.session.resend(user_message_id, "rolling")
        elif chosen is keep_first:
            self.session.resend(user_message_id, "keep_first")
        else:
            text = self.session.withdraw(user_message_id)
            if text and not self.prompt.toPlainText().strip():
                self.prompt.setPlainText(text)  # nothing typed is lost

    # -- state ---------------------------------------------------------------------------
    _counter_pending: str | None = None

    def _open_counter(self) -> None:
        path, self._counter_pending = self._counter_pending, None
        if path:
            self.counter.open(path)

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)
        if not busy:
            self._open_counter()

    @Slot(object)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self._loading = False
        self.model_info = info
        self.banner.hide()
        self._update_model_label()
        defaults = (info.extra or {}).get("sampling") or {}
        self.session.model_defaults = defaults
        self.chat_settings.set_model_defaults(defaults)
        self.chat_settings.set_system_role((info.extra or {}).get("system_role") is not False)
        thinking = (info.extra or {}).get("thinking")
        self.chat_settings.set_thinking_switch(isinstance(thinking, dict) and bool(thinking.get("switch")))
        self.context_meter.set_unknown(self.tr("Context: counting…"))
        # Loading the tokenizer takes a core for a moment: not while the first reply is read.
        self._counter_pending = info.path
        if not self.session.busy:
            self._open_counter()
        notices = []
        if info.fallback_reason:
            # Say which device runs the model and why it is not the one expected.
            notices.append(self.tr("{name} runs on {device}: {reason}.").format(
                name=info.name, device=info.device, reason=info.fallback_reason))
        if (info.extra or {}).get("template_note"):  # no usable chat template: the family's format
            notices.append(info.extra["template_note"])
        if notices:
            self.show_notice("\n".join(notices))

    @Slot()
    def _on_model_unloaded(self) -> None:
        self.model_info = None

    @Slot(str)
    def _on_model_load_failed(self, message: str) -> None:
        self._loading = False
        self._update_model_label()
        self.show_error(message)

    @Slot(object)
    def _on_reply_finished(self, stats: GenerationStats) -> None:
        self.last_stats = stats
        rate = stats.tokens_per_s
        self.speed_label.setText(f"{rate:.1f} tok/s" if rate else "")

    def _update_model_label(self) -> None:
        info = self.model_info
        if info is None:
            self.model_label.setText(self.tr("No model loaded"))
            return
        details = [info.name]
        if info.quantization:
            details[0] += f" ({info.quantization})"
        details.append(info.backend)
        device = info.device
        threads = (info.extra or {}).get("threads")
        if threads and device == "CPU":
            device += self.tr(", {threads} threads").format(threads=threads)
        details.append(device)
        self.model_label.setText(" · ".join(details))
        tip = info.path
        if info.fallback_reason:
            tip += "\n" + self.tr("Device: {device} ({reason})").format(
                device=info.device, reason=info.fallback_reason)
        if (info.extra or {}).get("template_preview"):  # how the model is spoken to, as sent
            tip += "\n\n" + self.tr("The prompt this model reads for a sample chat:") + "\n\n" + \
                info.extra["template_preview"]
        # Escaped: a tooltip has no plain-text switch, and a prompt is full of <tags>.
        self.model_label.setToolTip(f"<p style='white-space:pre-wrap'>{html.escape(tip)}</p>")

    # -- lifecycle -----------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value(settings_keys.GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = settings.value(settings_keys.SPLITTER)
        if splitter is not None:
            self.splitter.restoreState(splitter)
        shown = settings.value(settings_keys.CHAT_SETTINGS_SHOWN, False, type=bool)
        self.show_chat_settings(shown, focus=False)
        # Back where the user left off: the chat that was open.
        last = settings.value(self._last_chat_key(), -1, type=int)
        if last > 0 and self.store.conversation(last) is not None:
            self.session.open_conversation(last)
            self._select_conversation(last)

    def _last_chat_key(self) -> str:
        # Per database: another data folder has other chats with the same ids.
        import zlib

        return settings_keys.last_chat(f"{zlib.crc32(str(self.store.path.resolve()).encode()):08x}")

    def closeEvent(self, event):  # noqa: N802
        settings = QSettings()
        settings.setValue(settings_keys.GEOMETRY, self.saveGeometry())
        settings.setValue(settings_keys.SPLITTER, self.splitter.saveState())
        settings.setValue(settings_keys.CHAT_SETTINGS_SHOWN, self.chat_settings.isVisible())
        settings.setValue(self._last_chat_key(), self.session.current_id or -1)
        self.session.shutdown()
        # Every thread is asked to stop at once and waited for against one deadline: closing
        # takes the slowest of them (a prefill, a download, an import), never their sum.
        owners = [self.host, self.counter, getattr(self, "_imports", None)]
        if self.library_window is not None:
            owners += self.library_window.worker_owners()
        shutdown_all(owners, SHUTDOWN_S)
        super().closeEvent(event)
