"""The thin layer between the chat session and the conversation view.

It owns the message widgets and nothing else: every event from the session names a message by
its stored id, and is applied to the widget showing that id *now*, if any. When the view is
rebuilt (another chat opened while a reply is written) the old widgets are forgotten with it,
so nothing can reach a deleted one.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication

from desktop.ui.chat_view import ChatView, MessageWidget
from desktop.workers.chat_session import ChatPage, ChatSession, MessageItem


class ChatBinder(QObject):
    """Signals: delete_requested(int): a message's Delete (the window confirms first);
    action_handled(str): a message action was carried out ("copy", "edit", "regenerate",
    "delete", "previous", "next", or "done" for a code block's copy or an edit sent or
    cancelled): the window puts the keys back in its input, except after "edit" (the keys are
    in the edit box then)."""

    delete_requested = Signal(int)
    action_handled = Signal(str)

    def __init__(self, session: ChatSession, view: ChatView, parent=None):
        super().__init__(parent)
        self.session, self.view = session, view
        self.widgets: dict[int, MessageWidget] = {}  # stored message id -> its widget on screen
        self._busy = False
        self._finished: int | None = None  # the reply whose status last became final
        session.page_shown.connect(self._show_page)
        session.message_appended.connect(self._append)
        session.reply_text.connect(self._on_text)
        session.reply_thinking.connect(self._on_thinking)
        session.reply_thought.connect(self._on_thought)
        session.message_status.connect(self._on_status)
        session.left_out_changed.connect(self._mark_left_out)
        session.busy_changed.connect(self._on_busy)
        session.reply_finished.connect(self._on_finished)
        view.action_done.connect(lambda: self.action_handled.emit("done"))
        # A reply being written shows the loaded model's badge from its start: put on at the
        # end, the badge would push the reply down under the reader's eyes.
        self._model = ""
        loaded = getattr(session.host, "model_loaded", None)
        if loaded is not None:
            loaded.connect(self._on_model_loaded)

    @Slot(object)
    def _show_page(self, page: ChatPage) -> None:
        self.view.clear()
        self.widgets.clear()
        self._busy = page.busy
        for item in page.messages:
            self._add(item)
        self._mark_left_out(page.left_out)

    @Slot(object)
    def _append(self, item: MessageItem) -> None:
        self._add(item)

    def _add(self, item: MessageItem) -> MessageWidget:
        widget = self.view.add_message(item.role, item.text, item.status)
        if item.thinking:
            widget.set_thinking(item.thinking, item.thinking_s,
                                live=item.status == "streaming" and not item.text)
        if item.detail:
            widget.set_status(item.status, item.detail)
        self.widgets[item.id] = widget
        if item.version[1] > 1:
            widget.set_versions(*item.version)
        if item.model:
            widget.set_model(item.model)
        elif item.role == "assistant" and item.status == "streaming":
            widget.set_model(self._model)
        widget.set_actions_enabled(not self._busy)
        message_id = item.id
        widget.action_requested.connect(lambda action: self._on_action(message_id, action))
        widget.edit_submitted.connect(lambda text: self.session.edit(message_id, text))
        return widget

    @Slot(int, str)
    def _on_text(self, message_id: int, text: str) -> None:
        widget = self.widgets.get(message_id)
        if widget is not None:
            widget.append_text(text)

    @Slot(int, str)
    def _on_thinking(self, message_id: int, text: str) -> None:
        widget = self.widgets.get(message_id)
        if widget is not None:
            widget.append_thinking(text)

    @Slot(int, float)
    def _on_thought(self, message_id: int, seconds: float) -> None:
        widget = self.widgets.get(message_id)
        if widget is not None:
            widget.end_thinking(seconds)

    @Slot(int, str, str)
    def _on_status(self, message_id: int, status: str, detail: str) -> None:
        widget = self.widgets.get(message_id)
        if status != "streaming":
            self._finished = message_id
        if widget is not None:
            widget.set_status(status, detail)

    @Slot(object)
    def _on_model_loaded(self, info) -> None:
        self._model = str(getattr(info, "name", "") or "")

    @Slot(object)
    def _on_finished(self, stats) -> None:
        # The badge of a reply just written: the stats name the model that wrote it.
        widget = self.widgets.get(self._finished) if self._finished is not None else None
        if widget is not None and getattr(stats, "model", None):
            widget.set_model(stats.model)

    @Slot(object)
    def _mark_left_out(self, ids) -> None:
        self.view.set_left_out({self.widgets[i] for i in ids if i in self.widgets})

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in self.widgets.values():
            widget.set_actions_enabled(not busy)

    def _on_action(self, message_id: int, action: str) -> None:
        if action == "copy":
            self.copy_message(message_id)
            widget = self.widgets.get(message_id)
            if widget is not None:
                widget.show_copied()
        elif action == "edit":
            widget = self.widgets.get(message_id)
            if widget is not None and not self.session.busy:
                widget.start_edit()
        elif action == "regenerate":
            self.session.regenerate(message_id)
        elif action == "delete":
            self.delete_requested.emit(message_id)
        elif action in ("previous", "next"):
            self.session.switch_version(message_id, -1 if action == "previous" else 1)
        # Done: the next thing typed goes to the input, not to a button or a message.
        self.action_handled.emit(action)

    def copy_message(self, message_id: int) -> str:
        text = self.session.message_text(message_id)
        QGuiApplication.clipboard().setText(text)
        return text

    def show_message(self, message_id: int) -> bool:
        """Scroll the open conversation to a message (a search hit)."""
        widget = self.widgets.get(message_id)
        if widget is None:
            return False
        self.view.ensureWidgetVisible(widget, 0, 40)
        return True
