"""The main window: the chat list on the left (collapsible), the chat in the middle under a top
bar (the model picker), this chat's settings in a drawer on the right, the model in the status
bar."""

from __future__ import annotations

import html
import sys

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.engines.base import GenerationStats, ModelInfo
from desktop.models import speed
from desktop.storage import ConversationStore
from desktop.ui import file_dialogs, settings_keys
from desktop.ui.banner import BannerStack, banner_style
from desktop.ui.chat_binder import ChatBinder
from desktop.ui.chat_settings import ChatSettings
from desktop.ui.chat_view import ChatView
from desktop.ui.context_meter import ContextMeter
from desktop.ui.conversation_list import DRAFT_ID, ConversationListModel, ConversationListView, Roles
from desktop.ui.model_picker import ModelPicker
from desktop.ui.prompt_edit import PromptEdit
from desktop.ui.search_panel import SearchPanel
from desktop.ui.welcome import WelcomeView
from desktop.workers.base import shutdown_all
from desktop.workers.chat_session import PAGE, ChatSession
from desktop.workers.context import ContextCounter
from desktop.workers.generation import EngineHost

# Closing the window ends every background thread within this (killing a busy engine process
# if it must), so the app never hangs on exit.
SHUTDOWN_S = 4.0
SIDEBAR_WIDTH, DRAWER_WIDTH, CHAT_MIN = 240, 300, 340
RECOMMEND_DELAY_MS = 1500
COMPOSER_MAX = 840  # the conversation's column (chat_view.COLUMN_MAX) and its margins
# Keys of the banner's rows (desktop/ui/banner.py): one error at a time, the loaded model's notes.
ERROR_KEY, MODEL_KEY = "error", "model"


def reply_key(conversation_id: int) -> str:
    """The banner row of a reply that failed in a chat not on screen."""
    return f"reply:{conversation_id}"

# The shell's own sheet: colours only from the palette, re-read on a theme switch (_restyle).
SHELL_STYLE = """
QWidget#sidebar { background: palette(window); }
QWidget#top_bar { border-bottom: 1px solid palette(mid); }
QToolButton#top_bar_button { border: none; padding: 4px; border-radius: 6px; }
QToolButton#top_bar_button:hover, QToolButton#top_bar_button:checked {
    background: rgba(128, 128, 128, 0.22); }
"""


def restart_command() -> tuple[str, list[str]]:
    """The program and arguments that started this process, to start it again: the interpreter
    with its own options (-m desktop, a script) from source, the executable when frozen."""
    if getattr(sys, "frozen", False):
        return sys.executable, list(sys.argv[1:])
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    return sys.executable, argv[1:]


def _start_again(program: str, args: list[str]) -> None:
    from PySide6.QtCore import QProcess

    QProcess.startDetached(program, args)


def _quit_soon() -> None:
    # Closing the window usually quits already; the library or a dialog may still be open.
    QTimer.singleShot(0, QCoreApplication.quit)


class MainWindow(QMainWindow):
    _notice_posted = Signal()  # desktop.notices heard something (from any thread)

    def __init__(self, store: ConversationStore, host: EngineHost, parent=None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.resize(1100, 720)
        self.store, self.host = store, host
        self.model_info: ModelInfo | None = None
        self.last_stats: dict | None = None
        self._loading = False  # a model load is queued on the worker
        self._restart_requested = False
        self._palette_key = ""

        # Sidebar: new chat, search, the chats by date
        self.new_button = QPushButton(self.tr("New chat"))
        self.new_button.setObjectName("new_chat")
        self.conversation_model = ConversationListModel(self)
        self.conversation_list = ConversationListView()
        self.conversation_list.setModel(self.conversation_model)
        self.sidebar = QWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setMinimumWidth(160)
        side_layout = QVBoxLayout(self.sidebar)
        side_layout.setContentsMargins(6, 6, 0, 6)
        self.search_panel = SearchPanel(store)
        side_layout.addWidget(self.new_button)
        side_layout.addWidget(self.search_panel)
        side_layout.addWidget(self.conversation_list, 1)

        # Top bar of the chat column: the chat list's switch, then the model picker (C7: it goes
        # in at index 1 of self.top_bar), then whatever else asks for a place.
        self.sidebar_button = QToolButton()
        self.sidebar_button.setObjectName("top_bar_button")
        self.sidebar_button.setAutoRaise(True)
        self.top_bar_widget = QWidget()
        self.top_bar_widget.setObjectName("top_bar")
        self.top_bar = QHBoxLayout(self.top_bar_widget)
        self.top_bar.setContentsMargins(4, 2, 4, 2)
        self.top_bar.addWidget(self.sidebar_button)
        self.top_bar.addStretch(1)

        # Chat: above it the app's errors and notices, each until closed or no longer true.
        self.banner = BannerStack()
        self.banner.dismissed.connect(self._on_banner_dismissed)
        self.banner.closed_by_user.connect(lambda had_keys: had_keys and self.focus_input())
        self._reply_errors: list[str] = []  # failures said in their reply, not again above it
        self.chat_view = ChatView()
        self.welcome = WelcomeView()
        # The empty chat shows the welcome; a chat with messages shows them.
        self.chat_stack = QStackedWidget()
        self.chat_stack.addWidget(self.welcome)
        self.chat_stack.addWidget(self.chat_view)
        # The messages scroll: in a short window they give up height before the input and the
        # meter below do (a refusal's explanation was cut off under the welcome's full height).
        self.chat_stack.setMinimumHeight(120)
        self.earlier_button = QPushButton()
        self.earlier_button.setFlat(True)
        self.earlier_button.hide()
        self.prompt = PromptEdit()
        self.prompt.setAccessibleName(self.tr("Message"))
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setEnabled(False)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        input_row = QHBoxLayout()
        input_row.addWidget(self.prompt, 1)
        input_row.addLayout(buttons)
        # A long meter text (a count, what is left out, why a message was not sent) wraps: it
        # is read whole, and never pushes the columns (it once squeezed the chat list to 110 px).
        self.context_meter = ContextMeter()
        # Its width is the column's, never its text's: a minimum that followed the count's text
        # moved the columns whenever the count changed (and a restored layout with it).
        self.context_meter.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.context_meter.setMinimumWidth(0)
        self.chat_settings_button = QPushButton(self.tr("Chat settings"))
        self.chat_settings_button.setCheckable(True)
        self.chat_settings_button.setFlat(True)
        # Its own tip: in the meter, it would show the meter's count breakdown instead.
        self.chat_settings_button.setToolTip(self.tr("This chat's system prompt and sampling (Ctrl+Shift+P)"))
        self.context_meter.add_trailing(self.chat_settings_button)
        chat = QWidget()
        chat.setObjectName("chat_column")
        chat_layout = QVBoxLayout(chat)
        chat_layout.setContentsMargins(0, 0, 6, 6)
        chat_layout.addWidget(self.top_bar_widget)
        inner = QVBoxLayout()
        inner.setContentsMargins(6, 0, 0, 0)
        inner.addWidget(self.banner)
        # Under a message that names a setting: opens it (shown by the model picker's offer_fix).
        self.banner_fix = QPushButton()
        self.banner_fix.setFlat(True)
        self.banner_fix.hide()
        inner.addWidget(self.banner_fix, 0, Qt.AlignmentFlag.AlignRight)
        inner.addWidget(self.earlier_button)
        inner.addWidget(self.chat_stack, 1)
        # The input lines up with the conversation's column: as wide, centred in the window.
        self.composer = QWidget()
        self.composer.setObjectName("composer")
        self.composer.setMaximumWidth(COMPOSER_MAX)
        self.composer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        composer_layout = QVBoxLayout(self.composer)
        composer_layout.setContentsMargins(0, 4, 0, 0)
        composer_layout.addLayout(input_row)
        composer_layout.addWidget(self.context_meter)
        composer_row = QHBoxLayout()
        composer_row.addStretch(1)
        composer_row.addWidget(self.composer, 1000)  # all the width up to its maximum
        composer_row.addStretch(1)
        inner.addLayout(composer_row)
        chat_layout.addLayout(inner, 1)
        self.chat_column = chat
        self.chat_settings = ChatSettings(store)
        self.chat_settings.setObjectName("chat_settings_drawer")
        self.chat_settings.hide()

        self.splitter = QSplitter()
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(chat)
        self.splitter.addWidget(self.chat_settings)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([SIDEBAR_WIDTH, 760, DRAWER_WIDTH])
        self.setCentralWidget(self.splitter)
        self.setStyleSheet(SHELL_STYLE)

        # Status bar: model · engine · device · speed
        self.model_label = QLabel(self.tr("Loading model…"))
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # a model's name is the file's
        self.model_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.speed_label = QLabel()
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(self.speed_label)
        # Work offline holds from the start (Settings, or --offline for the run): a remembered
        # server model on another computer is refused before it loads.
        from desktop import privacy

        privacy.set_offline(QSettings().value(settings_keys.OFFLINE, False, type=bool))
        self.offline_label = QLabel(self.tr("Offline"))
        self.offline_label.setObjectName("offline_label")
        self.offline_label.setToolTip(self.tr(
            "Work offline is on: EdgeChat connects to nothing outside this computer."))
        self.statusBar().addPermanentWidget(self.offline_label)
        self._show_offline()

        self.session = ChatSession(store, host, self)
        self.binder = ChatBinder(self.session, self.chat_view, self)
        self.counter = ContextCounter(self)
        # Counting waits for a pause in typing; the counter also skips requests gone stale.
        self._count_timer = QTimer(self, singleShot=True, interval=150)
        self._build_menu()
        self._build_help_menu()
        from desktop.ui import server_panel  # Server ▸ API server… (issue 15)

        server_panel.install(self)
        self._connect()
        self._set_tab_order()
        self.chat_settings.load(self.session.settings)
        self.refresh_conversations()
        self._restore_geometry()
        self._update_chat_page()
        # C7: the model picker (desktop/ui/model_picker.py) wires itself to the host and this window.
        self.model_picker = ModelPicker(self)
        self.model_picker.add_menu(self.menuBar(), before=self.view_menu)
        self._place_model_picker()
        self.prompt.setFocus()
        # The palette the sheets were applied with: only a real change re-applies them.
        self._palette_key = self.palette().color(self.palette().ColorRole.Window).name()

    # -- wiring --------------------------------------------------------------------------
    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.new_action = QAction(self.tr("&New chat"), self, shortcut=QKeySequence.StandardKey.New)
        self.open_model_action = QAction(self.tr("&Open model file…"), self, shortcut=QKeySequence("Ctrl+O"))
        self.open_folder_action = QAction(self.tr("Open ONNX model &folder…"), self,
                                          shortcut=QKeySequence("Ctrl+Shift+O"))
        quit_action = QAction(self.tr("&Quit"), self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action = quit_action
        # Esc: close the drawer or the search it is in, else stop the reply (on_escape).
        self.stop_action = QAction(self.tr("&Stop"), self, shortcut=QKeySequence(Qt.Key.Key_Escape))
        self.focus_action = QAction(self.tr("Focus input"), self, shortcut=QKeySequence("Ctrl+L"))
        self.library_action = QAction(self.tr("Model &library…"), self,
                                      shortcut=QKeySequence("Ctrl+Shift+M"))
        # Its own menu on Linux and Windows; on macOS Qt moves it to the app menu (PreferencesRole).
        self.settings_action = QAction(self.tr("&Settings…"), self, shortcut=QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.search_action = QAction(self.tr("&Search chats"), self, shortcut=QKeySequence.StandardKey.Find)
        self.export_md_action = QAction(self.tr("Export chat as &Markdown…"), self)
        self.export_json_action = QAction(self.tr("Export chat as &JSON…"), self)
        self.import_action = QAction(self.tr("&Import chat…"), self)
        self.rename_action = QAction(self.tr("&Rename chat"), self, shortcut=QKeySequence(Qt.Key.Key_F2))
        self.delete_chat_action = QAction(self.tr("&Delete chat…"), self)
        self.search_action.triggered.connect(self.focus_search)
        self.export_md_action.triggered.connect(lambda: self._export("md"))
        self.export_json_action.triggered.connect(lambda: self._export("json"))
        self.import_action.triggered.connect(self._import_chat)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_chat_action.triggered.connect(self._delete_current)
        self.chat_settings_action = QAction(self.tr("Chat se&ttings"), self, checkable=True,
                                            shortcut=QKeySequence("Ctrl+Shift+P"))
        self.chat_settings_action.toggled.connect(self.show_chat_settings)
        self.chat_settings_button.toggled.connect(self.show_chat_settings)
        self.sidebar_action = QAction(self.tr("Chat &list"), self, checkable=True, checked=True,
                                      shortcut=QKeySequence("Ctrl+B"))
        self.sidebar_action.setToolTip(self.tr("Show or hide the chat list (Ctrl+B)"))
        self.sidebar_action.toggled.connect(self.show_sidebar)
        self.sidebar_button.setDefaultAction(self.sidebar_action)
        self.sidebar_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for action in (self.new_action, self.open_model_action, self.open_folder_action,
                       self.library_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        for action in (self.import_action, self.export_md_action, self.export_json_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        chat_menu = self.menuBar().addMenu(self.tr("&Chat"))
        for action in (self.focus_action, self.stop_action, self.search_action, self.rename_action,
                       self.delete_chat_action):
            chat_menu.addAction(action)
        self.file_menu, self.chat_menu = file_menu, chat_menu
        self.view_menu = self.menuBar().addMenu(self.tr("&View"))
        self.view_menu.addAction(self.sidebar_action)
        self.view_menu.addAction(self.chat_settings_action)
        if sys.platform == "darwin":
            # Qt moves it to the app menu (PreferencesRole); a menu of its own would stay empty.
            self.settings_menu = file_menu
            file_menu.addAction(self.settings_action)
        else:
            self.settings_menu = self.menuBar().addMenu(self.tr("S&ettings"))
            self.settings_menu.addAction(self.settings_action)
        self.library_action.triggered.connect(self.show_library)
        self.settings_action.triggered.connect(self.show_settings)
        self.new_action.triggered.connect(self.new_chat)
        self.open_model_action.triggered.connect(self._choose_model)
        self.open_folder_action.triggered.connect(self._choose_folder)
        self.stop_action.triggered.connect(self.on_escape)
        self.focus_action.triggered.connect(self.focus_input)
        quit_action.triggered.connect(self.close)
        self._set_shell_icons()

    def _set_shell_icons(self) -> None:
        try:
            from desktop.ui.icons import set_icon
        except ImportError:  # the icon set is optional for the shell: text stays
            return
        try:
            set_icon(self.sidebar_action, "mdi6.dock-left")
            set_icon(self.new_button, "mdi6.square-edit-outline")
            set_icon(self.chat_settings_button, "mdi6.tune-variant", tone="muted")
            set_icon(self.send_button, "mdi6.send", tone="accent")
            set_icon(self.stop_button, "mdi6.stop-circle-outline")
        except Exception:  # noqa: BLE001 - an icon that fails to draw must not stop the window
            import logging

            logging.getLogger(__name__).exception("could not draw the shell's icons")

    def _connect(self) -> None:
        self.new_button.clicked.connect(self.new_chat)
        self.send_button.clicked.connect(lambda: self.send(self.prompt.toPlainText()))
        self.prompt.submitted.connect(self.send)
        self.stop_button.clicked.connect(self.session.stop)
        self.conversation_list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.conversation_list.customContextMenuRequested.connect(self._context_menu)
        self.conversation_model.title_edited.connect(self.rename_conversation)
        self.search_panel.searching_changed.connect(
            lambda searching: self.conversation_list.setVisible(not searching))
        self.search_panel.hit_chosen.connect(self._open_hit)
        self.welcome.prompt_chosen.connect(self._send_example)
        self.welcome.library_requested.connect(self.show_recommended_model)
        c = self.session
        c.conversations_changed.connect(self.refresh_conversations)
        c.page_shown.connect(lambda page: self._on_history_hidden(page.hidden))
        c.page_shown.connect(lambda _page: self._update_chat_page())
        c.message_appended.connect(lambda _item: self._update_chat_page())
        self.earlier_button.clicked.connect(c.show_earlier)
        c.conversation_opened.connect(self._select_conversation)
        c.busy_changed.connect(self._on_busy_changed)
        c.reply_finished.connect(self._on_reply_finished)
        c.error_reported.connect(self._on_session_error)
        c.message_status.connect(self._on_message_status)
        # Another chat (a deleted one's place taken by a new chat): its count, not the last one's.
        c.conversation_opened.connect(self._on_conversation_opened)
        c.settings_changed.connect(self._on_chat_settings_changed)
        c.history_changed.connect(self._count_timer.start)
        c.history_changed.connect(self._update_chat_page)
        self.binder.delete_requested.connect(self.delete_message)
        # After a message's action (copy, regenerate, a version switch...) the keys go back to
        # the input: the next message typed is never lost on a button.
        handled = getattr(self.binder, "action_handled", None)
        if handled is not None:
            handled.connect(self._after_message_action)
        QApplication.instance().focusChanged.connect(self._on_focus_changed)
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
        # What the Qt-free core says (a damaged file moved aside): posted before the window was
        # made, or later from any thread.
        from desktop import notices

        self._notice_posted.connect(self._show_posted_notices, Qt.ConnectionType.QueuedConnection)
        notices.subscribe(self._on_notice_posted)
        self._show_posted_notices()

    def _set_tab_order(self) -> None:
        """Input → Send → Stop → Chat settings, then the messages; the top bar and the list
        after them. (Qt skips a disabled button, so Tab from the input reaches Send or Stop,
        whichever works now.)"""
        chain = [self.prompt, self.send_button, self.stop_button, self.chat_settings_button,
                 self.chat_stack, self.sidebar_button, self.new_button, self.search_panel.field,
                 self.conversation_list]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _tab_groups(self) -> list[QWidget]:
        # The banner's close buttons right after the input's row: what needs attention first.
        return [self.composer, self.banner, self.chat_stack, self.top_bar_widget, self.chat_settings,
                self.sidebar]

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 - Qt's signature
        """Tab moves through the window in reading order: the input and its buttons, the
        messages, the top bar, the drawer, the chat list. Qt's own chain follows the order the
        widgets were made in, which put the oldest message's buttons right after the input."""
        current = QApplication.focusWidget()
        groups = [g for g in self._tab_groups() if g.isVisible()]
        if current is None or not any(g is current or g.isAncestorOf(current) for g in groups):
            return super().focusNextPrevChild(next)
        order = self._tab_chain(groups)
        if current not in order:
            return super().focusNextPrevChild(next)
        target = order[(order.index(current) + (1 if next else -1)) % len(order)]
        target.setFocus(Qt.FocusReason.TabFocusReason if next else Qt.FocusReason.BacktabFocusReason)
        return True

    def _tab_chain(self, groups: list[QWidget]) -> list[QWidget]:
        """The widgets Tab stops at, group by group; within a group in Qt's focus chain order."""
        members: dict[int, list[QWidget]] = {id(g): [] for g in groups}
        widget, seen = self.nextInFocusChain(), 0
        while widget is not None and widget is not self and seen < 100_000:
            seen += 1
            if (widget.focusPolicy() & Qt.FocusPolicy.TabFocus) == Qt.FocusPolicy.TabFocus \
                    and widget.isEnabled() and widget.isVisible() and widget.focusProxy() is None:
                for group in groups:
                    if group.isAncestorOf(widget):
                        members[id(group)].append(widget)
                        break
            widget = widget.nextInFocusChain()
        ordered = [w for g in groups for w in members[id(g)]]
        # The input's row: input, Send, Stop, Chat settings, whatever the chain says.
        head = [w for w in (self.prompt, self.send_button, self.stop_button, self.chat_settings_button)
                if w in ordered]
        return head + [w for w in ordered if w not in head]

    def _place_model_picker(self) -> None:
        """Put the model picker in the top bar when it has no place yet."""
        picker = getattr(self, "model_picker", None)
        if isinstance(picker, QWidget) and self.top_bar.indexOf(picker) < 0 \
                and picker.parentWidget() in (None, self):
            self.top_bar.insertWidget(1, picker)

    # -- actions -------------------------------------------------------------------------
    @Slot(str)
    def send(self, text: str) -> None:
        if not text.strip():
            return
        if self.context_meter.refuse(text):  # the message alone cannot fit: said in place
            return
        if self.model_info is None and not self._loading:
            self.show_error(self.tr("No model is loaded. Open a model file (File ▸ Open model file…)."))
            return
        if self.session.send(text):
            self.prompt.clear()
            self.banner.dismiss(ERROR_KEY)
            self._update_chat_page()

    def _send_example(self, text: str) -> None:
        """A welcome example: into the input (so it can be seen, and kept if it cannot go) and sent."""
        self.prompt.setPlainText(text)
        self.focus_input()
        self.send(text)

    def new_chat(self) -> None:
        """Ctrl+N: an empty chat, selected at the top of the list, with the cursor in the input."""
        if self.search_panel.query():
            self.search_panel.clear()  # the list, with the new chat on top, comes back
        self.session.new_conversation()
        self._select_conversation(DRAFT_ID)
        self.focus_input()

    def focus_input(self) -> None:
        self.prompt.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_search(self) -> None:
        if not self.sidebar.isVisible():
            self.show_sidebar(True)
        self.search_panel.focus()

    @Slot()
    def on_escape(self) -> None:
        """Esc: close the drawer or the search the keys are in; else stop a reply; else close
        whichever panel is open. The keys end up in the input."""
        focus = QApplication.focusWidget()
        in_drawer = focus is not None and self.chat_settings.isAncestorOf(focus)
        in_search = focus is not None and self.search_panel.isAncestorOf(focus)
        searching = bool(self.search_panel.query())
        in_banner = next((r for r in self.banner.rows() if r.isAncestorOf(focus)), None) \
            if focus is not None else None
        if in_banner is not None:  # on a message's close button: Esc closes it
            self.banner.close_row(in_banner)
        elif in_drawer and self.chat_settings.isVisible():
            self.show_chat_settings(False)
        elif in_search and searching:
            self.search_panel.clear()
        elif self.session.busy:
            self.session.stop()
            return
        elif self.chat_settings.isVisible():
            self.show_chat_settings(False)
        elif searching:
            self.search_panel.clear()
        self.focus_input()

    def show_sidebar(self, visible: bool) -> None:
        """Show or hide the chat list (Ctrl+B); remembered across starts."""
        if visible and not self.sidebar.isVisible():
            sizes = self.splitter.sizes()
            self.sidebar.setVisible(True)
            if sizes[0] == 0:
                sizes[0] = SIDEBAR_WIDTH
                sizes[1] = max(sizes[1] - SIDEBAR_WIDTH, 200)
                self.splitter.setSizes(sizes)
        elif not visible:
            if self.sidebar.isAncestorOf(QApplication.focusWidget()):
                self.focus_input()
            self.sidebar.setVisible(False)
        blocked = self.sidebar_action.blockSignals(True)
        self.sidebar_action.setChecked(visible)
        self.sidebar_action.blockSignals(blocked)

    def load_model(self, path: str, **options) -> None:
        from desktop.models.load_settings import options_for

        options = {**options_for(path), **options}  # this model's load settings, unless overridden
        self.model_picker.set_loading(path)
        self._loading = True
        self.speed_label.clear()  # the last reply's speed was another model's
        self.model_label.setText(self.tr("Loading {name}…").format(name=path.rsplit("/", 1)[-1]))
        self.host.load(path, **options)

    def _choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a model"), file_dialogs.start_folder("model"),
            self.tr("GGUF models (*.gguf);;All files (*)")
        )
        if path:
            file_dialogs.remember("model", path)
            self._switch_model(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Open an ONNX GenAI model folder"),
                                                file_dialogs.start_folder("onnx_folder"))
        if path:
            # The folder above the model's: the next one is most likely beside it.
            file_dialogs.remember("onnx_folder", path)
            self._switch_model(path)

    library_window = None

    def show_library(self):
        if self.library_window is None:
            from desktop.ui.library_window import LibraryWindow

            self.library_window = LibraryWindow(parent=self)
            self.library_window.model_chosen.connect(self._switch_model)
            self.library_window.set_loaded(self.model_info.path if self.model_info else None)
        self.library_window.show()
        self.library_window.raise_()
        return self.library_window

    def show_recommended_model(self):
        """The welcome's "Get it": the library, on the model recommended for this computer."""
        library = self.show_library()
        recommended = getattr(library, "show_recommended", None)
        if callable(recommended):
            # The model and variant the card names, not one worked out again.
            recommended(self.welcome.recommendation)
        return library

    def show_settings(self) -> None:
        from desktop.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        restart = getattr(dialog, "restart_requested", None)
        if restart is not None:
            # After the dialog has closed, from the event loop: a restart closes this window.
            restart.connect(lambda: QTimer.singleShot(0, self, self.restart))
        dialog.offline_changed.connect(self._show_offline)
        dialog.exec()

    def _show_offline(self, *_on) -> None:
        from desktop import privacy

        self.offline_label.setVisible(privacy.offline())

    def restart(self) -> None:
        """Close (saving the open chat, as at every close) and start EdgeChat again with the
        same arguments; the new process opens that chat again."""
        self._restart_requested = True
        program, args = restart_command()
        app = QCoreApplication.instance()
        # Started once this process is quitting: its single-instance guard is closed by then,
        # so the new process does not just bring this one forward.
        app.aboutToQuit.connect(lambda: _start_again(program, args))
        self.close()
        _quit_soon()

    def _switch_model(self, path: str) -> None:
        if self.session.busy:
            self.session.stop()
        self.load_model(path)

    @Slot(str)
    def show_error(self, message: str) -> None:
        """Something the app could not do (a model that would not load, a file it could not
        read): said once, above the chat, until closed or until what failed works again. A
        reply's own failure is said in the reply instead (_on_message_status)."""
        self.banner.show_message(message, "error", ERROR_KEY)
        self._style_banner()
        self.model_picker.offer_fix(message)

    def show_notice(self, message: str, key: str | None = None) -> None:
        """Something the user should know (a damaged file moved aside, a model that could not
        load at start): shown until they close it. Under a key it replaces what was said under
        that key before (the loaded model's notes go with the next model)."""
        self.banner.show_message(message, "notice", key)
        self._style_banner()

    def _on_banner_dismissed(self, key: str) -> None:
        if key == ERROR_KEY and hasattr(self, "banner_fix"):
            self.banner_fix.hide()  # it answers the error that went

    @Slot()
    def _show_posted_notices(self) -> None:
        """What the core said (desktop.notices) and nobody showed yet: each until closed."""
        from desktop import notices

        for message in notices.drain():
            self.show_notice(message)

    def _on_notice_posted(self, _message: str) -> None:
        # Any thread: the signal is queued over to the window's own.
        self._notice_posted.emit()

    @Slot(int, str, str)
    def _on_message_status(self, message_id: int, status: str, detail: str) -> None:
        """A reply's failure is said in the reply; only when that reply is not on screen (its
        chat was left while it was written) does a line above the chat say which chat. What was
        said about a chat goes once a reply there works, or the chat is opened."""
        message = self.store.message(message_id)
        if message is None:
            return
        key = reply_key(message.conversation_id)
        if status == "error":
            self._reply_errors = [*self._reply_errors[-9:], detail]
            if message_id not in self.binder.widgets:
                conversation = self.store.conversation(message.conversation_id)
                text = self.tr("The reply in “{title}” could not be finished: {reason}").format(
                    title=conversation.title if conversation else "", reason=detail)
                self.banner.show_message(text, "error", key)
                self._style_banner()
        elif status == "complete":
            self.banner.dismiss(key)

    @Slot(int)
    def _on_conversation_opened(self, conversation_id: int) -> None:
        # Another chat (a new one in a deleted one's place too): its own count, not the last one's.
        self._count_timer.start()
        self.banner.dismiss(reply_key(conversation_id))  # its reply shows what went wrong

    @Slot(str)
    def _on_session_error(self, message: str) -> None:
        if message in self._reply_errors:
            return  # in its reply already
        self.show_error(message)

    def _build_help_menu(self) -> None:
        help_menu = self.help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.shortcuts_action = QAction(self.tr("&Keyboard shortcuts"), self,
                                        shortcut=QKeySequence("Ctrl+/"))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.open_log_action = QAction(self.tr("Open &log folder"), self)
        self.open_log_action.triggered.connect(self.open_log_folder)
        self.about_action = QAction(self.tr("&About EdgeChat"), self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.open_log_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def show_shortcuts(self):
        from desktop.ui.shortcuts_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_log_folder(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from desktop.logs import log_folder

        folder = log_folder()
        folder.mkdir(parents=True, exist_ok=True)  # a fresh install has logged nothing yet
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.show_notice(self.tr("The log is in {folder}").format(folder=folder))

    def show_about(self):
        from desktop.ui.about_dialog import AboutDialog

        dialog = AboutDialog(self)
        dialog.show()
        return dialog

    def _style_banner(self) -> None:
        from desktop.ui.theme import is_dark

        sheet = banner_style(is_dark(self.palette()))
        if self.banner.styleSheet() != sheet:
            self.banner.setStyleSheet(sheet)

    # -- theme -----------------------------------------------------------------------------
    def changeEvent(self, event):  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # After this change has been handled everywhere: style sheets read the new palette.
            QTimer.singleShot(0, self, self._restyle)
        super().changeEvent(event)

    def _restyle(self) -> None:
        """Repaint the shell in the palette now in use (a theme switch): a style sheet that
        names palette colours reads them only when it is applied, so the sheets of the shell
        (list, drawer, meter, hints, welcome) are applied again."""
        key = self.palette().color(self.palette().ColorRole.Window).name()
        if key == self._palette_key:
            return
        self._palette_key = key
        for widget in [self, *self.findChildren(QWidget)]:
            sheet = widget.styleSheet()
            if sheet and "palette(" in sheet:
                widget.setStyleSheet("")
                widget.setStyleSheet(sheet)
        self._style_banner()
        self.conversation_list.viewport().update()

    # -- search, export, import ------------------------------------------------------------
    def _on_history_hidden(self, hidden: int) -> None:
        self.earlier_button.setText(self.tr("Show {count} earlier messages ({hidden} not shown)").format(
            count=min(hidden, PAGE), hidden=hidden))
        self.earlier_button.setVisible(hidden > 0)

    def _open_hit(self, conversation_id: int, message_id: int) -> None:
        self.session.open_conversation(conversation_id, include_message=message_id)
        self._select_conversation(conversation_id)
        query = self.search_panel.query()
        self.highlight_message(message_id, query)  # at once: marks the words
        # After the layout has sized the new widgets, so the scroll lands on the hit.
        QTimer.singleShot(0, lambda: self.binder.show_message(message_id))

    def highlight_message(self, message_id: int, query: str) -> bool:
        """Mark the search's words in a message on screen (the hit a search opened)."""
        widget = self.binder.widgets.get(message_id)
        body = getattr(widget, "body", None)
        if not isinstance(body, QTextEdit):
            return False
        words = [w for w in query.replace('"', " ").split() if w.upper() not in ("AND", "OR", "NOT")]
        fmt = QTextCharFormat()
        fmt.setBackground(self.palette().color(self.palette().ColorRole.Highlight))
        fmt.setForeground(self.palette().color(self.palette().ColorRole.HighlightedText))
        selections = []
        document = body.document()
        for word in words:
            cursor = QTextCursor(document)
            while True:
                cursor = document.find(word.strip("*"), cursor, QTextDocument.FindFlag(0))
                if cursor.isNull():
                    break
                selection = QTextEdit.ExtraSelection()
                selection.cursor, selection.format = cursor, fmt
                selections.append(selection)
        body.setExtraSelections(selections)
        self.highlighted = (message_id, len(selections))
        return bool(selections)

    def export_conversation(self, path: str, kind: str) -> None:
        import json

        conversation_id = self.session.current_id
        if conversation_id is None:
            self.show_error(self.tr("Open a chat to export it."))
            return
        data = (self.store.export_markdown(conversation_id) if kind == "md"
                else json.dumps(self.store.export_json(conversation_id), ensure_ascii=False, indent=1))
        failure = self.tr("Could not write {path}: {reason}")

        def write() -> None:  # on the job thread: a slow or network disk never freezes the window
            from desktop.errors import UserError

            try:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(data)
            except OSError as exc:
                raise UserError(failure.format(path=path, reason=exc.strerror or exc)) from exc

        self.background_tasks().run(
            write, context=self, failed=self.show_error,
            done=lambda _none: self.statusBar().showMessage(
                self.tr("Exported to {path}").format(path=path), 5000))

    _tasks = None

    def background_tasks(self):
        """The job thread for short work the window must not wait for (desktop/workers/tasks.py),
        started on first use."""
        if self._tasks is None:
            from desktop.workers.tasks import BackgroundTasks

            self._tasks = BackgroundTasks(self)
        return self._tasks

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
        from pathlib import Path

        suggested = Path(file_dialogs.start_folder("export")) / file_dialogs.file_name(current.title, suffix)
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export chat"), str(suggested), label)
        if path:
            file_dialogs.remember("export", path)
            self.export_conversation(path, kind)

    def _import_chat(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Import chat"),
                                              file_dialogs.start_folder("import"),
                                              self.tr("EdgeChat export (*.json)"))
        if path:
            file_dialogs.remember("import", path)
            self.import_conversation(path)

    # -- conversations -------------------------------------------------------------------
    def refresh_conversations(self) -> None:
        self.conversation_model.set_conversations(self.store.conversations(),
                                                  draft=self.session.current_id is None)
        self._select_conversation(self.session.current_id or DRAFT_ID)

    @Slot(int)
    def _select_conversation(self, conversation_id: int) -> None:
        """Show which chat is open: the new, unsaved one (DRAFT_ID) heads the list."""
        selection = self.conversation_list.selectionModel()
        blocked = selection.blockSignals(True)
        model = self.conversation_model
        if conversation_id == DRAFT_ID:
            model.set_draft(True)
        elif model.has_draft and self._list_choosing:
            # The new chat's row goes once the list is done with the click that opened a chat:
            # changed under it, the list selects by a stale position (it highlighted the row
            # below the chat that opened).
            QTimer.singleShot(0, self, self._drop_draft_row)
        else:
            model.set_draft(False)
        row = model.row_of(conversation_id)
        if row >= 0:
            index = self.conversation_model.index(row)
            self.conversation_list.setCurrentIndex(index)
        else:
            self.conversation_list.clearSelection()
            selection.clearCurrentIndex()
        selection.blockSignals(blocked)
        self.conversation_list.viewport().update()  # it did not hear of the change

    def _drop_draft_row(self) -> None:
        if self.session.current_id is None:
            return
        selection = self.conversation_list.selectionModel()
        # Quiet: the row going would move the current row to a neighbour and open it.
        blocked = selection.blockSignals(True)
        self.conversation_model.set_draft(False)
        selection.blockSignals(blocked)
        self.conversation_list.viewport().update()

    _list_choosing = False  # the chat list's own current row is opening a chat

    def _on_current_changed(self, current, _previous) -> None:
        conversation_id = current.data(Roles.ConversationId) if current.isValid() else None
        if conversation_id is not None and conversation_id != DRAFT_ID:
            self._list_choosing = True
            try:
                self.session.open_conversation(conversation_id)
            finally:
                self._list_choosing = False

    def rename_current(self) -> None:
        """F2: rename the open chat in place, in the list."""
        index = self.conversation_list.currentIndex()
        if not index.isValid() or index.data(Roles.ConversationId) == DRAFT_ID:
            return
        self.show_sidebar(True)
        if self.search_panel.query():
            self.search_panel.clear()
        self.conversation_list.setFocus()
        self.conversation_list.edit(index)

    def _delete_current(self) -> None:
        if self.session.current_id is not None:
            self.delete_conversation(self.session.current_id)

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
            self.conversation_list.setCurrentIndex(index)
            self.conversation_list.edit(index)  # in place, as F2 and a double-click do
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
    def show_chat_settings(self, visible: bool, focus: bool = True, fit: bool = True) -> None:
        """Open or close the chat settings drawer (it scrolls rather than clip when short);
        fit: make room for it (not when the user's own splitter sizes were just restored)."""
        opening = visible and fit and not self.chat_settings.isVisible()
        if not visible and self.chat_settings.isAncestorOf(QApplication.focusWidget()):
            self.focus_input()
        self.chat_settings.setVisible(visible)
        if opening:
            self._fit_drawer()
        for toggle in (self.chat_settings_button, self.chat_settings_action):
            blocked = toggle.blockSignals(True)
            toggle.setChecked(visible)
            toggle.blockSignals(blocked)
        if visible and focus:
            self.chat_settings.focus()

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        if self.chat_settings.isVisible():
            # Once the splitter has its new width: a narrower window takes from the drawer and
            # the list, not only from the chat.
            QTimer.singleShot(0, self, self._refit_drawer)

    def _refit_drawer(self) -> None:
        if self.chat_settings.isVisible() and self.splitter.sizes()[1] < CHAT_MIN:
            self._fit_drawer()

    def _fit_drawer(self) -> None:
        """Room for the opened drawer: from the chat column first, which keeps CHAT_MIN, then
        from the chat list down to its minimum; the drawer itself scrolls when short."""
        handles = self.splitter.handleWidth() * (2 if self.sidebar.isVisible() else 1)
        room = max(self.splitter.width() - handles, 0)
        side = self.splitter.sizes()[0] if self.sidebar.isVisible() else 0
        drawer = max(self.chat_settings.minimumWidth(), min(DRAWER_WIDTH, room - side - CHAT_MIN))
        if side and room - side - drawer < CHAT_MIN:
            side = max(self.sidebar.minimumWidth(), room - drawer - CHAT_MIN)
        self.splitter.setSizes([side, max(room - side - drawer, 0), drawer])

    def _on_chat_settings_changed(self, settings: dict) -> None:
        self.chat_settings.load(settings, self.session.model_defaults)

    def _request_count(self) -> None:
        info = self.model_info
        if info is None or not info.n_ctx:
            return
        self.context_meter.counting_draft = self.prompt.toPlainText().strip()
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
                self.focus_input()
                return
        self.session.delete_message(message_id)
        self.focus_input()

    @Slot(str)
    def _after_message_action(self, action: str = "") -> None:
        """Back to the input after a message's action, unless it opened an editor (Edit)."""
        if action == "edit":
            return
        QTimer.singleShot(0, self, self.focus_input)

    def _focus_back_from_view(self) -> None:
        focus = QApplication.focusWidget()
        if focus is None or isinstance(focus, QAbstractButton) or focus is self.chat_view \
                or (self.chat_view.isAncestorOf(focus) and not focus.inherits("QPlainTextEdit")):
            self.focus_input()

    def _on_focus_changed(self, _old, new) -> None:
        # A click on a message's button (or a code block's Copy) takes the keyboard focus with
        # it; once the click is handled the keys go back to the input, so the next message typed
        # lands there. A button reached with Tab keeps its focus.
        if (isinstance(new, QAbstractButton) and self.chat_view.isAncestorOf(new)
                and QApplication.mouseButtons() != Qt.MouseButton.NoButton):
            QTimer.singleShot(0, self, self._focus_back_from_view)

    def _update_chat_page(self) -> None:
        """The welcome in an empty chat, the messages otherwise."""
        empty = not self.chat_view.messages() and not self.session.busy
        self.chat_stack.setCurrentWidget(self.welcome if empty else self.chat_view)
        if empty and self._bundled_loaded and not self.welcome.fetched:
            QTimer.singleShot(RECOMMEND_DELAY_MS, self, self._recommend_if_welcome)

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
        self._update_chat_page()
        if busy:
            speed.reply_started()  # how busy other programs keep the CPU while it is written
        if not busy:
            self._open_counter()

    @Slot(object)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self._loading = False
        self.model_info = info
        self.context_meter.estimated = info.backend == "remote"
        if self.library_window is not None:
            self.library_window.set_loaded(info.path)
        # A model works now: the error about the last load is over, and so are the old model's
        # notes and speed. Notices about anything else stay until they are closed.
        self.banner.dismiss(ERROR_KEY)
        self.banner.dismiss(MODEL_KEY)
        self.speed_label.clear()
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
            self.show_notice("\n".join(notices), MODEL_KEY)
        self._bundled_loaded = self._is_bundled_model(info.path)
        if not self._bundled_loaded:
            self.welcome.show_recommendation_for(False)
        # Looked up a moment later and only for an empty chat: reading the hardware and the
        # catalog must not compete with the first reply for the CPU.
        QTimer.singleShot(RECOMMEND_DELAY_MS, self, self._recommend_if_welcome)

    _bundled_loaded = False

    def _recommend_if_welcome(self) -> None:
        if self._bundled_loaded and self.chat_stack.currentWidget() is self.welcome \
                and not self.session.busy:
            self.welcome.show_recommendation_for(True)

    @staticmethod
    def _is_bundled_model(path: str) -> bool:
        from pathlib import Path

        from desktop.models.default_model import DefaultModelMissing, default_model_path

        try:
            return Path(path).resolve() == default_model_path().resolve()
        except (DefaultModelMissing, OSError):
            return False

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
        info = self.model_info
        if info is not None and rate:
            # Replies at the defaults on a quiet machine refine this computer's speed figures,
            # over many of them (speed.record_reply says which count).
            speed.record_reply(info, stats)

    def _update_model_label(self) -> None:
        info = self.model_info
        # A chat leaves this computer only with a remote model: the status bar says so, and where.
        remote = info is not None and info.backend == "remote"
        self.model_label.setStyleSheet("color: palette(link); font-weight: 600;" if remote else "")
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
            device += (self.tr(", 1 thread") if threads == 1
                       else self.tr(", {threads} threads").format(threads=threads))
        details.append(device)
        self.model_label.setText(" · ".join(details))
        tip = info.path
        if remote:
            tip = self.tr("Chats go to {server} at {url}: your messages leave this computer.").format(
                server=(info.extra or {}).get("server_name") or info.device,
                url=(info.extra or {}).get("base_url") or info.device) + "\n" + tip
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
        self.show_chat_settings(shown, focus=False, fit=splitter is None)
        self.show_sidebar(settings.value(settings_keys.SIDEBAR_SHOWN, True, type=bool))
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
        from desktop import notices

        notices.unsubscribe(self._on_notice_posted)
        settings = QSettings()
        settings.setValue(settings_keys.GEOMETRY, self.saveGeometry())
        settings.setValue(settings_keys.SPLITTER, self.splitter.saveState())
        settings.setValue(settings_keys.CHAT_SETTINGS_SHOWN, self.chat_settings.isVisible())
        settings.setValue(settings_keys.SIDEBAR_SHOWN, self.sidebar_action.isChecked())
        settings.setValue(self._last_chat_key(), self.session.current_id or -1)
        self.session.shutdown()
        # Every thread is asked to stop at once and waited for against one deadline: closing
        # takes the slowest of them (a prefill, a download, an import), never their sum.
        # The API server first: it stops taking requests before the engine it feeds goes.
        owners = [getattr(self, "server_bridge", None), self.host, self.counter,
                  getattr(self, "_imports", None), self._tasks]
        if self.library_window is not None:
            owners += self.library_window.worker_owners()
        shutdown_all(owners, SHUTDOWN_S)
        super().closeEvent(event)
