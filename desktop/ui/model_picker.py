"""The model picker above the chat: which model answers, and a way to choose another.

A button names the loaded model (or the one loading); its menu lists the models on this
computer (the bundled one and the library's), with format and size and a check on the loaded
one, the models of saved servers when remote engines are there, and "Get more models…",
"Connect to a server…" and "Load settings…". Picking a model loads it through the window's own
load path (its load settings applied) and keeps the open chat.

The picker also remembers the last model the user chose that loaded (settings_keys.LAST_MODEL),
which the app loads at the next start (``startup_model``). Only a choice is remembered: the
bundled model loaded in place of one that is gone or would not load (a drive not plugged in, a
server that is down) is said in a notice and not saved, so the user's pick loads again once it
is back. A model file opened from the File menu is added to
the library once it loads (an "opened" entry), so it stays in this menu and in the library's
Installed tab until it is removed there.

Each reply keeps the id of the model that wrote it (meta "model_id"): a chat opened while
another model is loaded gets a line under the picker, "This chat was written with X", with a
button that loads X.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engines.base import is_remote
from desktop.ui import settings_keys
from desktop.ui.icons import set_icon
from desktop.units import format_bytes

log = logging.getLogger(__name__)
# How far back a reopened chat is searched for the model of its latest reply.
CHAT_MODEL_LOOKBACK = 20


@dataclass(frozen=True)
class ModelEntry:
    id: str  # a GGUF path, an ONNX folder, or remote://server/model
    name: str
    format: str  # "GGUF" | "ONNX" | "Server"
    size: int = 0
    detail: str = ""  # "bundled", the server's name...
    missing: bool = False  # the file is gone


def same_model(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    if is_remote(a) or is_remote(b):
        return a == b
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


def bundled_model() -> str | None:
    from desktop.models.default_model import DefaultModelMissing, default_model_path

    try:
        return str(default_model_path())
    except DefaultModelMissing:
        return None


def local_models() -> list[ModelEntry]:
    """The bundled model first, then the library's installed models (by name)."""
    entries: list[ModelEntry] = []
    bundled = bundled_model()
    if bundled:
        from desktop.models.default_model import FILENAME

        entries.append(ModelEntry(bundled, FILENAME.split(".")[0], "GGUF",
                                  _size(bundled), "bundled"))
    try:
        from desktop.models.library import Library, LibraryError

        try:
            installed = Library().models()
        except LibraryError:
            installed = []  # a damaged list is the library window's to report
    except ImportError:
        installed = []
    for model in installed:
        if any(same_model(model.path, e.id) for e in entries):
            continue
        entries.append(ModelEntry(model.path, model.name, model.format.upper(), model.size,
                                  model.source, not os.path.exists(model.path)))
    return entries


def remote_models() -> list[ModelEntry]:
    """Models of the servers the user connected to (desktop.models.remotes)."""
    from desktop.models.remotes import saved_models

    try:
        saved = saved_models()
    except Exception:  # noqa: BLE001 - a damaged list is said by its reader; local models still show
        log.warning("could not read the saved servers", exc_info=True)
        return []
    return [ModelEntry(m.id, m.model, "Server", 0, m.server_name) for m in saved]


def _lists_stamp() -> tuple:
    """What changes when the model lists on disk do: library.json's and remotes.json's stat
    (a write replaces the file: a new inode, time or size). Two stats instead of reading both
    files and every model's: the picker asks at each state change."""
    from desktop.models import remotes
    from desktop.models.library import REGISTRY, models_dir
    from desktop.paths import data_dir

    stamp = []
    for path in (models_dir() / REGISTRY, data_dir() / remotes.FILE):
        try:
            st = path.stat()
        except OSError:
            stamp.append(None)
            continue
        stamp.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(stamp)


def chat_model(store, conversation_id: int) -> str | None:
    """The id of the model that wrote the chat's latest reply on screen (None: not recorded,
    as in chats written before replies kept it, or imported ones)."""
    for message in reversed(store.messages(conversation_id, last=CHAT_MODEL_LOOKBACK)):
        meta = message.meta if isinstance(message.meta, dict) else {}
        model = meta.get("model_id")
        if message.role == "assistant" and isinstance(model, str) and model:
            return model
    return None


def _size(path: str) -> int:
    from desktop.paths import disk_size

    return disk_size(path)


def describe_entry(entry: ModelEntry) -> str:
    parts = [entry.format]
    if entry.size:
        parts.append(format_bytes(entry.size))
    if entry.detail and entry.format == "Server":
        parts.append(entry.detail)
    return " · ".join(parts)


def remembered_model() -> str | None:
    value = QSettings().value(settings_keys.LAST_MODEL, "", type=str)
    return value or None


def startup_model() -> tuple[str | None, str]:
    """The model to load at start and a notice for the user ('' when none is due): the one used
    last, or the bundled one when that is gone."""
    from PySide6.QtCore import QCoreApplication

    last = remembered_model()
    bundled = bundled_model()
    if not last:
        return bundled, ""
    if is_remote(last) or os.path.exists(last):
        return last, ""
    name = Path(last).name
    if bundled:
        notice = QCoreApplication.translate(
            "ModelPicker", "The model you used last, {name}, is no longer at {path}; the bundled "
            "model is loaded instead. Choose another model above the chat.").format(name=name, path=last)
    else:
        notice = QCoreApplication.translate(
            "ModelPicker", "The model you used last, {name}, is no longer at {path}.").format(
            name=name, path=last)
    return bundled, notice


def load_at_start(window) -> bool:
    """Load the model for a new start into ``window``; False when there is none to load."""
    from PySide6.QtCore import QCoreApplication

    model_id, notice = startup_model()
    picker = window.model_picker
    if model_id is None:
        from desktop.models.default_model import DefaultModelMissing, default_model_path

        try:
            default_model_path()
        except DefaultModelMissing as exc:
            window.show_error(notice + ("\n" if notice else "") + str(exc))
        window.model_label.setText(QCoreApplication.translate("ModelPicker", "No model loaded"))
        return False
    picker.pending_notice = notice
    bundled = bundled_model()
    if notice:
        # The remembered model is away (an unplugged drive): the bundled one stands in for it
        # without taking its place.
        picker.not_remembered = model_id
    elif bundled and not same_model(model_id, bundled):
        # The remembered model exists but may no longer load (a damaged file, a server gone).
        picker.fallback_id = bundled
        picker.fallback_notice = QCoreApplication.translate(
            "ModelPicker", "The model you used last could not be loaded, so the bundled model is "
            "loaded instead.")
    window.load_model(model_id)
    return True


class _OneLineFirst(QLabel):
    """Words on one line where there is room, on more in a narrow column (a drawer open at 800
    pixels) rather than widening the window; never cut."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # A wrapped label's own hint picks a narrow width of its choosing: ask for one line.
        width = self.fontMetrics().horizontalAdvance(self.text()) + 2 * self.margin() + 2
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        widest = max((self.fontMetrics().horizontalAdvance(w) for w in self.text().split()), default=0)
        return QSize(widest + 2, super().minimumSizeHint().height())


class ModelPicker(QWidget):
    """The top bar of the chat column. Built by the main window with itself as ``window``: the
    picker uses its load path (load_model/_switch_model), library and host events.

    model_chosen(str): the user picked a model (the window loads it).
    """

    model_chosen = Signal(str)

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.loaded_id: str | None = None
        self.loaded_name = ""
        self.pending_id: str | None = None  # the newest load asked for and not answered yet
        self._requests: list[str] = []  # every load asked for, in order: each gets one answer
        # The model to load instead when the one asked for at start fails (the bundled one).
        self.fallback_id: str | None = None
        self.fallback_notice = ""
        self.pending_notice = ""  # said once the next model is loaded (a load hides the banner)
        # The next load asked for that stands in for the user's choice (set_loading takes it):
        # said, never remembered.
        self.not_remembered: str | None = None
        self._remember: list[bool] = []  # for each load in _requests: remember it once loaded
        self.loaded_remembered = True  # False while a stand-in is loaded
        self._watching_banner = False
        self._load_settings_dialog = None
        # The models on this computer and on servers, as last read, and the stamp of the files
        # they were read from (_lists_stamp): read again only when those change, or as the menu
        # opens (a drive plugged in or out changes no file of ours).
        self._lists: tuple[list[ModelEntry], list[ModelEntry]] = ([], [])
        self._lists_read: tuple | None = None

        self.button = QToolButton()
        self.button.setObjectName("modelPicker")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.button.setToolTip(self.tr("Choose the model that answers"))
        self.button.setAccessibleName(self.tr("Model"))
        set_icon(self.button, "mdi6.cube-outline")
        # Room for the menu arrow, so it never sits on the model's name.
        self.button.setStyleSheet("QToolButton#modelPicker { padding: 3px 18px 3px 6px; }"
                                  "QToolButton#modelPicker::menu-indicator { subcontrol-origin: padding;"
                                  " subcontrol-position: right center; right: 4px; }")
        self.menu = QMenu(self)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.button.setMenu(self.menu)
        self.settings_button = QToolButton()
        self.settings_button.setAutoRaise(True)
        self.settings_button.setToolTip(self.tr("Load settings: context length, threads, GPU…"))
        self.settings_button.setAccessibleName(self.tr("Load settings"))
        set_icon(self.settings_button, "mdi6.tune-variant", tone="muted")
        self.settings_button.clicked.connect(lambda: self.open_load_settings())
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # a load reports no fraction: busy until it is done
        self.progress.setTextVisible(False)
        self.progress.setFixedSize(80, 6)
        self.progress.hide()
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setStyleSheet("color: palette(placeholder-text);")
        # Under the picker while the open chat was written with another model than the loaded one.
        self.chat_model_id: str | None = None
        self.chat_offer = QWidget()
        self.chat_offer.setObjectName("chatModelOffer")
        self.chat_offer_label = _OneLineFirst()
        self.chat_offer_label.setTextFormat(Qt.TextFormat.PlainText)  # a model's name is not markup
        self.chat_offer_label.setStyleSheet("color: palette(placeholder-text);")
        self.chat_offer_button = QPushButton(self.tr("Switch"))
        self.chat_offer_button.setFlat(True)
        set_icon(self.chat_offer_button, "mdi6.swap-horizontal", tone="accent")
        self.chat_offer_button.clicked.connect(self.switch_to_chat_model)
        offer = QHBoxLayout(self.chat_offer)
        offer.setContentsMargins(6, 0, 0, 0)
        offer.addWidget(self.chat_offer_label)
        offer.addWidget(self.chat_offer_button)
        offer.addStretch(1)
        self.chat_offer.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.settings_button)
        row.addWidget(self.progress)
        row.addWidget(self.detail)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.chat_offer)

        self.load_settings_action = QAction(self.tr("&Load settings…"), self)
        self.load_settings_action.triggered.connect(lambda: self.open_load_settings())
        host = window.host
        host.model_loaded.connect(self._on_loaded)
        host.model_load_failed.connect(self._on_failed)
        host.model_unloaded.connect(self._on_unloaded)
        self.model_chosen.connect(window._switch_model)
        meter = getattr(window, "context_meter", None)
        if meter is not None and hasattr(meter, "settings_requested"):
            # "Context length…" beside a message too long to fit opens where it is raised.
            meter.settings_requested.connect(lambda: self.open_load_settings("n_ctx"))
        if meter is not None and hasattr(meter, "library_requested"):
            # ...and what helps when the model can take no more: a model made for longer texts.
            meter.library_requested.connect(self.find_longer_context_model)
        session = getattr(window, "session", None)
        if session is not None:
            session.conversation_opened.connect(self._on_chat_opened)
            session.reply_finished.connect(lambda _stats: self._on_chat_opened(session.current_id))
        self.model_menu: QMenu | None = None
        self._show_state()

    def add_menu(self, menubar, before: QMenu | None = None) -> QMenu:
        """The Model menu (Model ▸ Load settings…, the name error messages use)."""
        menu = QMenu(self.tr("&Model"), menubar)
        choose = menu.addAction(self.tr("&Choose model…"))
        choose.triggered.connect(self.button.showMenu)
        menu.addAction(self.load_settings_action)
        menu.addSeparator()
        more = menu.addAction(self.tr("&Get more models…"))
        more.triggered.connect(self.get_more_models)
        if before is not None:
            menubar.insertMenu(before.menuAction(), menu)
        else:
            menubar.addMenu(menu)
        self.model_menu = menu
        return menu

    # -- state ---------------------------------------------------------------------------
    def set_loading(self, model_id: str) -> None:
        """The window asked for a model: say so until it is loaded or fails."""
        stand_in, self.not_remembered = self.not_remembered, None
        self._requests.append(str(model_id))
        self._remember.append(not same_model(stand_in, model_id))
        self.pending_id = self._requests[-1]
        self._show_state()

    def _answered(self) -> bool:
        """One load ended (loaded or failed): the worker answers them in the order asked.
        True when it was the user's choice (a load nobody asked the picker for counts as one)."""
        remember = True
        if self._requests:
            self._requests.pop(0)
            remember = self._remember.pop(0)
        self.pending_id = self._requests[-1] if self._requests else None
        return remember

    def _on_loaded(self, info) -> None:
        remember = self._answered()
        self.loaded_remembered = remember
        self.fallback_id, self.fallback_notice = None, ""
        self.loaded_id = info.path
        self.loaded_name = info.name
        meter = getattr(self.window_, "context_meter", None)
        if meter is not None and hasattr(meter, "model_context"):
            meter.model_context = (info.n_ctx, info.context_length)
        if info.path:
            if remember:
                # Remembered only once it loads: a model that fails is not the next start's.
                QSettings().setValue(settings_keys.LAST_MODEL, info.path)
            self._keep_opened(info.path)
        self._show_state()
        notice, self.pending_notice = self.pending_notice, ""
        if notice:
            self.window_.show_notice(notice)

    def _on_failed(self, message: str) -> None:
        self._answered()
        fallback, self.fallback_id = self.fallback_id, None
        self._show_state()
        if fallback:
            notice, self.fallback_notice = self.fallback_notice, ""
            self.pending_notice = "\n".join(n for n in (self.pending_notice, notice, message) if n)
            self.not_remembered = fallback
            self.window_.load_model(fallback)

    def _on_unloaded(self) -> None:
        self.loaded_id = None
        self.loaded_name = ""
        meter = getattr(self.window_, "context_meter", None)
        if meter is not None and hasattr(meter, "model_context"):
            meter.model_context = (None, None)
        self._show_state()

    def _keep_opened(self, model_id: str) -> None:
        """A loaded model file that nothing lists (File ▸ Open model file…, a start with a file
        named) goes into the library, so it is offered again after another model is picked."""
        if is_remote(model_id) or not os.path.exists(model_id):
            return
        if any(same_model(e.id, model_id) for e in self.model_lists()[0]):
            return
        try:
            from desktop.models.library import Library

            Library().add_opened(model_id, "onnx" if os.path.isdir(model_id) else "gguf")
        except Exception:  # noqa: BLE001 - the model is loaded all the same; it is only not kept
            log.warning("could not keep %s in the library", model_id, exc_info=True)
            return
        library = getattr(self.window_, "library_window", None)
        if library is not None:
            library.refresh_installed()

    def _show_state(self) -> None:
        loading = self.pending_id is not None
        self.progress.setVisible(loading)
        if loading:
            text = self.tr("Loading {name}…").format(name=self._name_of(self.pending_id))
        elif self.loaded_id:
            text = self.loaded_name or self._name_of(self.loaded_id)
        else:
            text = self.tr("Choose a model")
        self.button.setText(text)
        self.settings_button.setEnabled(bool(self.loaded_id or self.pending_id)
                                        and not is_remote(self.loaded_id or ""))
        self.load_settings_action.setEnabled(self.settings_button.isEnabled())
        self.detail.setText("")
        if not loading and self.loaded_id:
            entry = self._entry(self.loaded_id)
            if entry is not None:
                self.detail.setText(describe_entry(entry))
        self._show_chat_offer()

    # -- the model a chat was written with -----------------------------------------------
    def _on_chat_opened(self, conversation_id) -> None:
        session = getattr(self.window_, "session", None)
        model = None
        if session is not None and isinstance(conversation_id, int) and conversation_id >= 0:
            model = chat_model(session.store, conversation_id)
        self.chat_model_id = model
        self._show_chat_offer()

    def _chat_model_available(self, model_id: str) -> bool:
        local, servers = self.model_lists()
        if is_remote(model_id):
            return any(e.id == model_id for e in servers)
        listed = next((e for e in local if same_model(e.id, model_id)), None)
        return not listed.missing if listed is not None else os.path.exists(model_id)

    def _show_chat_offer(self) -> None:
        model = self.chat_model_id
        offered = bool(model and self.pending_id is None and self.loaded_id
                       and not same_model(model, self.loaded_id) and self._chat_model_available(model))
        if offered:
            name = self._name_of(model)
            self.chat_offer_label.setText(self.tr("This chat was written with {name}.").format(name=name))
            self.chat_offer_button.setAccessibleName(self.tr("Switch to {name}").format(name=name))
            self.chat_offer_button.setToolTip(self.tr("Load {name} for this chat (the chat stays open)")
                                              .format(name=name))
        self.chat_offer.setVisible(offered)
        # One line of words beside the picker at a time: the offer says more than the format.
        self.detail.setVisible(not offered)

    def switch_to_chat_model(self) -> None:
        """Load the model the open chat was written with."""
        if self.chat_model_id:
            self.choose(self.chat_model_id)

    def _name_of(self, model_id: str) -> str:
        entry = self._entry(model_id)
        if entry is not None:
            return entry.name
        if is_remote(model_id):
            return model_id.rsplit("/", 1)[-1]
        return Path(model_id).name

    def _entry(self, model_id: str) -> ModelEntry | None:
        for entry in self.entries():
            if same_model(entry.id, model_id):
                return entry
        return None

    def model_lists(self, fresh: bool = False) -> tuple[list[ModelEntry], list[ModelEntry]]:
        """The local models and the servers' (local_models, remote_models), read again when
        library.json or remotes.json changed since the last read (a download, another window,
        the command line) or when ``fresh``."""
        stamp = _lists_stamp()
        if fresh or stamp != self._lists_read:
            self._lists = (local_models(), remote_models())
            # The stamp from before the read: a write during it is seen at the next look.
            self._lists_read = stamp
        return self._lists

    def entries(self, fresh: bool = False) -> list[ModelEntry]:
        """Every model the menu lists: local ones, then servers' (see model_lists)."""
        local, servers = self.model_lists(fresh)
        entries = list(local)
        loaded = self.loaded_id
        if loaded and not any(same_model(e.id, loaded) for e in entries + servers):
            # Opened as a file (File ▸ Open model file…), not installed: still the one loaded.
            fmt = "Server" if is_remote(loaded) else (
                "ONNX" if os.path.isdir(loaded) else "GGUF")
            size = 0 if fmt == "Server" else _size(loaded)
            entries.append(ModelEntry(loaded, self.loaded_name or Path(loaded).name, fmt, size, "opened"))
        return entries + [e for e in servers if not any(same_model(e.id, x.id) for x in entries)]

    # -- menu ----------------------------------------------------------------------------
    def _fill_menu(self) -> None:
        menu = self.menu
        menu.clear()
        group = QActionGroup(menu)
        entries = self.entries(fresh=True)  # as the user looks: files may be gone or back
        local = [e for e in entries if e.format != "Server"]
        remote = [e for e in entries if e.format == "Server"]
        menu.addSection(self.tr("On this computer"))
        for entry in local:
            self._add_entry(menu, group, entry)
        if remote:
            menu.addSection(self.tr("On servers"))
            for entry in remote:
                self._add_entry(menu, group, entry)
        menu.addSeparator()
        more = menu.addAction(self.tr("Get more models…"))
        set_icon(more, "mdi6.download-outline")
        more.triggered.connect(self.get_more_models)
        connect = menu.addAction(self.tr("Connect to a server…"))
        set_icon(connect, "mdi6.server-network")
        connect.triggered.connect(self.connect_to_server)
        menu.addAction(self.load_settings_action)
        self.load_settings_action.setEnabled(self.settings_button.isEnabled())

    def _add_entry(self, menu: QMenu, group: QActionGroup, entry: ModelEntry) -> None:
        label = f"{entry.name}\t{describe_entry(entry)}"
        if entry.detail == "bundled":
            label = self.tr("{name} (bundled)").format(name=entry.name) + f"\t{describe_entry(entry)}"
        action = menu.addAction(label)
        action.setCheckable(True)
        action.setActionGroup(group)
        action.setData(entry.id)
        action.setChecked(same_model(entry.id, self.loaded_id))
        action.setToolTip(entry.id)
        if entry.missing:
            action.setEnabled(False)
            action.setText(action.text() + " " + self.tr("(file missing)"))
        action.triggered.connect(lambda _checked=False, model_id=entry.id: self.choose(model_id))

    def find_longer_context_model(self):
        """The library's catalog, where each model says how long a text it was made for."""
        library = self.window_.show_library()
        tabs = getattr(library, "tabs", None)
        if tabs is not None and tabs.count() > 1:
            tabs.setCurrentIndex(1)
        return library

    def get_more_models(self) -> None:
        """The library, on the model recommended for this computer when it knows one."""
        recommended = getattr(self.window_, "show_recommended_model", None)
        (recommended or self.window_.show_library)()

    def choose(self, model_id: str) -> None:
        """Load this model (nothing to do if it is the one loaded)."""
        if same_model(model_id, self.loaded_id) and self.pending_id is None:
            if not self.loaded_remembered:
                # The stand-in loaded at start, now chosen: from here on it is the user's pick.
                QSettings().setValue(settings_keys.LAST_MODEL, self.loaded_id)
                self.loaded_remembered = True
            self._show_state()
            return
        self.model_chosen.emit(model_id)

    def connect_to_server(self):
        from desktop.ui.remote_dialog import RemoteDialog

        dialog = RemoteDialog(self.window_)
        # "Add and use" loads the server's model like any other pick (its dialog shuts its own
        # worker down when it closes).
        dialog.model_chosen.connect(self.choose)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- load settings -------------------------------------------------------------------
    def offer_fix(self, message: str) -> None:
        """Under an error that names the context length setting, a button that opens it."""
        from desktop.engines.context import context_setting

        button = getattr(self.window_, "banner_fix", None)
        if button is None:
            return
        if not self._watching_banner:
            # The button goes when the banner does (a send, a model loaded, a new message).
            self.window_.banner.installEventFilter(self)
            button.clicked.connect(self._banner_fix_clicked)
            self._watching_banner = True
        if context_setting() in message and self.settings_button.isEnabled():
            # The context length helps only while the model can take more; at its limit, what
            # helps is a model made for longer texts.
            self._banner_fix_raises = self._can_raise_context()
            if self._banner_fix_raises:
                button.setText(self.tr("Change the context length…"))
                set_icon(button, "mdi6.tune-variant", tone="accent")
            else:
                button.setText(self.tr("Models for longer texts…"))
                set_icon(button, "mdi6.download-outline", tone="accent")
            button.show()
        else:
            button.hide()

    _banner_fix_raises = True

    def _banner_fix_clicked(self) -> None:
        if self._banner_fix_raises:
            self.open_load_settings("n_ctx")
        else:
            self.find_longer_context_model()

    def _can_raise_context(self) -> bool:
        info = getattr(self.window_, "model_info", None)
        if info is None or not same_model(info.path, self.loaded_id):
            return True
        return not (info.n_ctx and info.context_length and info.n_ctx >= info.context_length)

    def eventFilter(self, watched, event):  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Hide and watched is getattr(self.window_, "banner", None):
            self.window_.banner_fix.hide()
        return super().eventFilter(watched, event)

    def _load_settings_unreadable(self, dialog, message: str) -> None:
        """The model went away or changed since it loaded: said above the chat, as any error."""
        dialog.close()
        self.window_.show_error(message)

    def settings_model(self) -> str | None:
        """The model the load settings are for: the loaded one, else the one loading."""
        return self.loaded_id or self.pending_id

    def open_load_settings(self, focus: str | None = None):
        """Show the load settings of the loaded model; ``focus`` is a field ("n_ctx")."""
        model_id = self.settings_model()
        if not model_id:
            self.window_.show_error(self.tr("Load a model first: its load settings are kept per model."))
            return None
        from desktop.ui.load_settings_dialog import LoadSettingsDialog

        info = getattr(self.window_, "model_info", None)
        if info is not None and not same_model(info.path, model_id):
            info = None
        # Shown at once; the model's header and the hardware are read on the job thread.
        dialog = LoadSettingsDialog(model_id, info, self.window_, tasks=self.window_.background_tasks())
        dialog.reload_requested.connect(self.window_.load_model)
        dialog.read_failed.connect(lambda message: self._load_settings_unreadable(dialog, message))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._load_settings_dialog = dialog
        dialog.destroyed.connect(lambda *_: setattr(self, "_load_settings_dialog", None))
        if focus:
            dialog.focus_field(focus)
        dialog.open()
        return dialog
