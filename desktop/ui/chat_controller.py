"""Glue between the conversation store, the engine host and the conversation view.

Runs on the GUI thread. It owns the one reply in flight: its request id, its text, and the
stored message it is saved into while it streams (at most every SAVE_INTERVAL_S, so a crash
loses less than that).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal, Slot

from desktop.storage import ConversationStore
from desktop.ui.chat_view import ChatView, MessageWidget
from desktop.workers.generation import EngineHost

SAVE_INTERVAL_S = 0.5
TITLE_LENGTH = 48
# A long chat opens on its newest messages; older ones come a page at a time when asked for.
# A widget per message is what makes a 5,000-message chat slow to open, not the database.
PAGE = 60


@dataclass
class _Reply:
    request_id: int
    conversation_id: int
    message_id: int
    chunks: list[str] = field(default_factory=list)
    widget: MessageWidget | None = None
    last_save: float = 0.0
    stopping: bool = False

    @property
    def text(self) -> str:
        return "".join(self.chunks)


class ChatController(QObject):
    """Signals:

    conversations_changed(): the list of conversations (titles, order) changed.
    conversation_opened(int): the view now shows this conversation.
    history_hidden(int): how many older messages of the open chat are not shown (0: none).
    busy_changed(bool): a reply started or ended.
    reply_finished(dict): the finished reply's stats (for the status bar).
    error_reported(str): something for the user to read.
    """

    conversations_changed = Signal()
    conversation_opened = Signal(int)
    history_hidden = Signal(int)
    busy_changed = Signal(bool)
    reply_finished = Signal(dict)
    error_reported = Signal(str)

    def __init__(self, store: ConversationStore, host: EngineHost, view: ChatView, parent=None):
        super().__init__(parent)
        self.store, self.host, self.view = store, host, view
        self.current_id: int | None = None
        self.reply: _Reply | None = None
        self.model_ready = False
        self.params: dict = {}
        self.widgets: dict[int, MessageWidget] = {}  # stored message id -> its widget on screen
        self.shown = PAGE  # how many of the open chat's newest messages are on screen
        host.chunk_generated.connect(self._on_chunk)
        host.generation_finished.connect(self._on_finished)
        host.generation_failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        return self.reply is not None

    # -- conversations -------------------------------------------------------------------
    def new_conversation(self) -> None:
        """Start an empty chat; it is stored when its first message is sent."""
        self._save_reply()
        self.current_id = None
        self.view.clear()
        self.widgets.clear()
        self.history_hidden.emit(0)
        self.conversation_opened.emit(-1)

    def open_conversation(self, conversation_id: int, include_message: int | None = None) -> None:
        """Show a chat from its newest messages (back far enough to include one, if given)."""
        shown = PAGE
        if include_message is not None:
            shown = max(PAGE, self.store.count_messages(conversation_id, include_message))
        if conversation_id == self.current_id and shown <= self.shown:
            return
        self._show(conversation_id, shown)

    def show_earlier(self) -> None:
        if self.current_id is not None:
            self._show(self.current_id, self.shown + PAGE)

    def _show(self, conversation_id: int, shown: int) -> None:
        self._save_reply()
        self.current_id = conversation_id
        self.shown = shown
        self.view.clear()
        self.widgets.clear()
        reply = self.reply
        for message in self.store.messages(conversation_id, last=shown):
            live = reply is not None and reply.message_id == message.id
            text = reply.text if live else message.content
            widget = self.view.add_message(message.role, text, message.status)
            self.widgets[message.id] = widget
            if live:
                reply.widget = widget
            elif message.status == "error" and message.meta.get("error"):
                widget.set_status("error", message.meta["error"])
        self.history_hidden.emit(max(self.store.count_messages(conversation_id) - shown, 0))
        self.conversation_opened.emit(conversation_id)

    def show_message(self, message_id: int) -> bool:
        """Scroll the open conversation to a message (a search hit)."""
        widget = self.widgets.get(message_id)
        if widget is None:
            return False
        self.view.ensureWidgetVisible(widget, 0, 40)
        return True

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self.store.rename_conversation(conversation_id, title)
        self.conversations_changed.emit()

    def delete_conversation(self, conversation_id: int) -> None:
        if self.reply is not None and self.reply.conversation_id == conversation_id:
            self.host.cancel(self.reply.request_id)
            self._end_reply()
        self.store.delete_conversation(conversation_id)
        if conversation_id == self.current_id:
            self.current_id = None
            self.view.clear()
            self.conversation_opened.emit(-1)
        self.conversations_changed.emit()

    # -- replies -------------------------------------------------------------------------
    def send(self, text: str) -> bool:
        """Store the user's message and ask for a reply. False if one is already running."""
        text = text.strip()
        if not text or self.reply is not None:
            return False
        if self.current_id is None:
            title = " ".join(text.split())[:TITLE_LENGTH] or "New chat"
            self.current_id = self.store.create_conversation(title).id
            self.conversation_opened.emit(self.current_id)
        conversation_id = self.current_id
        user = self.store.add_message(conversation_id, "user", text)
        self.widgets[user.id] = self.view.add_message("user", text)
        history = [
            {"role": m.role, "content": m.content}
            for m in self.store.messages(conversation_id)
            if m.status != "error" and (m.content or m.role != "assistant")
        ]
        stored = self.store.add_message(conversation_id, "assistant", "", status="streaming")
        widget = self.view.add_message("assistant", "", "streaming")
        self.widgets[stored.id] = widget
        request_id = self.host.generate(history, self.params)
        self.reply = _Reply(request_id, conversation_id, stored.id, widget=widget,
                            last_save=time.monotonic())
        self.conversations_changed.emit()
        self.busy_changed.emit(True)
        return True

    def stop(self) -> None:
        if self.reply is not None and not self.reply.stopping:
            self.reply.stopping = True
            self.host.cancel(self.reply.request_id)
            if self.reply.widget is not None:
                self.reply.widget.set_status("streaming", "Stopping…")

    @Slot(int, str)
    def _on_chunk(self, request_id: int, text: str) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return  # a chunk from a request we stopped waiting for
        reply.chunks.append(text)
        if reply.widget is not None and self.current_id == reply.conversation_id:
            if len(reply.chunks) == 1:
                reply.widget.set_status("complete")
            reply.widget.append_text(text)
        now = time.monotonic()
        if now - reply.last_save >= SAVE_INTERVAL_S:
            self._save_reply(now)

    def _save_reply(self, now: float | None = None) -> None:
        reply = self.reply
        if reply is not None:
            self.store.update_message(reply.message_id, reply.text)
            reply.last_save = now or time.monotonic()

    @Slot(int, dict)
    def _on_finished(self, request_id: int, stats: dict) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return
        status = "stopped" if stats.get("finish_reason") == "cancelled" else "complete"
        self.store.update_message(reply.message_id, reply.text, status=status, meta={"stats": stats})
        if reply.widget is not None and self.current_id == reply.conversation_id:
            reply.widget.set_status(status, _describe(stats))
        self._end_reply()
        self.reply_finished.emit(stats)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return
        self.store.update_message(reply.message_id, reply.text, status="error",
                                  meta={"error": message})
        if reply.widget is not None and self.current_id == reply.conversation_id:
            reply.widget.set_status("error", message)
        self._end_reply()
        self.error_reported.emit(message)

    def _end_reply(self) -> None:
        self.reply = None
        self.busy_changed.emit(False)

    def shutdown(self) -> None:
        """Keep what was written of a reply that is still running."""
        if self.reply is not None:
            self.host.cancel(self.reply.request_id)
            self.store.update_message(self.reply.message_id, self.reply.text, status="stopped")
            self.reply = None


def _describe(stats: dict) -> str:
    parts = []
    if stats.get("completion_tokens"):
        parts.append(f"{stats['completion_tokens']} tokens")
    if stats.get("tokens_per_s"):
        parts.append(f"{stats['tokens_per_s']:.1f} tok/s")
    if stats.get("ttft_s") is not None:
        parts.append(f"first token {stats['ttft_s']:.2f} s")
    if stats.get("model"):
        parts.append(f"{stats['model']} on {stats.get('backend', '?')} ({stats.get('device', '?')})")
    if stats.get("dropped_messages"):
        parts.append(f"{stats['dropped_messages']} older messages left out to fit the context")
    return " · ".join(parts)
