"""Glue between the conversation store, the engine host and the conversation view.

Runs on the GUI thread. It owns the one reply in flight: its request id, its text, and the
stored message it is saved into while it streams (at most every SAVE_INTERVAL_S, so a crash
loses less than that).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication

from desktop.engines.base import SamplingParams
from desktop.engines.context import POLICIES
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
    parent_id: int | None = None  # the message it answers
    sent_ids: list = field(default_factory=list)  # stored id of each message sent (None: system)
    policy: str = "rolling"
    chunks: list[str] = field(default_factory=list)
    widget: MessageWidget | None = None
    last_save: float = 0.0
    stopping: bool = False

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def effective_params(model_defaults: dict, settings: dict, overrides: dict | None = None) -> dict:
    """Sampling for a reply: the app's defaults, then the model's, then the chat's own settings."""
    params = asdict(SamplingParams())
    for source in (model_defaults, settings.get("sampling") or {}, overrides or {}):
        params.update({k: v for k, v in source.items() if k in params})
    if settings.get("context_policy") in POLICIES:
        params["context_policy"] = settings["context_policy"]
    return params


class ChatController(QObject):
    """Signals:

    conversations_changed(): the list of conversations (titles, order) changed.
    conversation_opened(int): the view now shows this conversation.
    history_hidden(int): how many older messages of the open chat are not shown (0: none).
    busy_changed(bool): a reply started or ended.
    reply_finished(dict): the finished reply's stats (for the status bar).
    error_reported(str): something for the user to read.
    settings_changed(dict): the open chat's settings (system prompt, sampling, policy).
    history_changed(): the messages the next reply would see changed (for the context meter).
    context_full(int, str): a chat whose policy is "stop" no longer fits: the user message's id
        and the explanation; answer with resend(id, policy) or withdraw(id).
    delete_requested(int): the user asked to delete a stored message.
    """

    conversations_changed = Signal()
    conversation_opened = Signal(int)
    history_hidden = Signal(int)
    busy_changed = Signal(bool)
    reply_finished = Signal(dict)
    error_reported = Signal(str)
    settings_changed = Signal(dict)
    history_changed = Signal()
    context_full = Signal(int, str)
    delete_requested = Signal(int)  # a message's Delete: the window confirms, then delete_message

    def __init__(self, store: ConversationStore, host: EngineHost, view: ChatView, parent=None):
        super().__init__(parent)
        self.store, self.host, self.view = store, host, view
        self.current_id: int | None = None
        self.reply: _Reply | None = None
        self.model_defaults: dict = {}  # the loaded model's recommended sampling
        self.settings: dict = {}  # the open chat's settings (kept here until a new chat is stored)
        self.params: dict = {}  # overrides on top of everything (tests, benchmarks)
        self.widgets: dict[int, MessageWidget] = {}  # stored message id -> its widget on screen
        self.shown = PAGE  # how many of the open chat's newest messages are on screen
        host.chunk_generated.connect(self._on_chunk)
        host.generation_finished.connect(self._on_finished)
        host.generation_failed.connect(self._on_failed)
        host.context_full.connect(self._on_context_full)

    @property
    def busy(self) -> bool:
        return self.reply is not None

    # -- settings ------------------------------------------------------------------------
    def set_settings(self, settings: dict) -> None:
        """The open chat's settings; a chat not stored yet gets them when it is."""
        self.settings = dict(settings)
        if self.current_id is not None:
            self.store.set_conversation_settings(self.current_id, self.settings)
        self.history_changed.emit()

    def reply_params(self, policy: str | None = None) -> dict:
        params = effective_params(self.model_defaults, self.settings, self.params)
        if policy is not None:
            params["context_policy"] = policy
        return params

    def prompt_messages(self) -> tuple[list[dict], list]:
        """What the next reply would be sent (system prompt and the chat on screen), with the
        stored id of each message (None for the system prompt)."""
        path = self.store.messages(self.current_id) if self.current_id is not None else []
        return self._history(path)

    def _history(self, path) -> tuple[list[dict], list]:
        messages, ids = [], []
        system = (self.settings.get("system_prompt") or "").strip()
        if system:
            messages.append({"role": "system", "content": system})
            ids.append(None)
        for m in path:
            # A failed reply, or an empty one, is not something the model said.
            if m.status == "error" or (m.role == "assistant" and not m.content):
                continue
            messages.append({"role": m.role, "content": m.content})
            ids.append(m.id)
        return messages, ids

    # -- conversations -------------------------------------------------------------------
    def new_conversation(self) -> None:
        """Start an empty chat; it is stored when its first message is sent."""
        self._save_reply()
        self.current_id = None
        self.view.clear()
        self.widgets.clear()
        self.settings = {}
        self.history_hidden.emit(0)
        self.conversation_opened.emit(-1)
        self.settings_changed.emit(self.settings)
        self.history_changed.emit()

    def open_conversation(self, conversation_id: int, include_message: int | None = None) -> None:
        """Show a chat from its newest messages (back far enough to include one, if given)."""
        shown = PAGE
        if include_message is not None:
            if self.store.count_messages(conversation_id, include_message) == 0 and not self.busy:
                self.store.show_version(include_message)  # a hit in a version not on screen
            shown = max(PAGE, self.store.count_messages(conversation_id, include_message))
        if conversation_id == self.current_id and shown <= self.shown:
            return
        self._show(conversation_id, shown)

    def show_earlier(self) -> None:
        if self.current_id is not None:
            self._show(self.current_id, self.shown + PAGE)

    def _show(self, conversation_id: int, shown: int) -> None:
        self._save_reply()
        if conversation_id != self.current_id:
            self.settings = self.store.conversation_settings(conversation_id)
            self.settings_changed.emit(self.settings)
        self.current_id = conversation_id
        self.shown = shown
        self.view.clear()
        self.widgets.clear()
        reply = self.reply
        left_out: list[int] = []
        for message in self.store.messages(conversation_id, last=shown):
            live = reply is not None and reply.message_id == message.id
            text = reply.text if live else message.content
            widget = self._add_widget(message.id, message.role, text, message.status)
            if live:
                reply.widget = widget
            elif message.status == "error" and message.meta.get("error"):
                widget.set_status("error", message.meta["error"])
            elif message.meta.get("stats"):
                widget.set_status(message.status, _describe(message.meta["stats"]))
            if message.role == "assistant" and not live:
                left_out = message.meta.get("left_out") or []
        self._mark_left_out(left_out)
        self.history_hidden.emit(max(self.store.count_messages(conversation_id) - shown, 0))
        self.conversation_opened.emit(conversation_id)
        self.history_changed.emit()

    def _add_widget(self, message_id: int, role: str, text: str, status: str = "complete"):
        widget = self.view.add_message(role, text, status)
        self.widgets[message_id] = widget
        versions = self.store.versions(message_id)
        if len(versions) > 1:
            widget.set_versions(versions.index(message_id) + 1, len(versions))
        widget.set_actions_enabled(not self.busy)
        widget.action_requested.connect(lambda action: self._on_action(message_id, action))
        widget.edit_submitted.connect(lambda text: self.edit(message_id, text))
        return widget

    def _mark_left_out(self, ids) -> None:
        self.view.set_left_out({self.widgets[i] for i in ids if i in self.widgets})

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

    # -- message actions -----------------------------------------------------------------
    def _on_action(self, message_id: int, action: str) -> None:
        if action == "copy":
            self.copy_message(message_id)
        elif action == "edit":
            widget = self.widgets.get(message_id)
            if widget is not None and not self.busy:
                widget.start_edit()
        elif action == "regenerate":
            self.regenerate(message_id)
        elif action == "delete":
            self.delete_requested.emit(message_id)
        elif action in ("previous", "next"):
            self.switch_version(message_id, -1 if action == "previous" else 1)

    def copy_message(self, message_id: int) -> str:
        message = self.store.message(message_id)
        text = message.content if message else ""
        if message_id in self.widgets and self.reply is not None and self.reply.message_id == message_id:
            text = self.reply.text
        QGuiApplication.clipboard().setText(text)
        return text

    def regenerate(self, message_id: int) -> bool:
        """A new version of a reply, answering the same message; the old one is kept."""
        message = self.store.message(message_id)
        if self.busy or message is None or message.role != "assistant":
            return False
        return self._start_reply(message.conversation_id, message.parent_id)

    def edit(self, message_id: int, text: str) -> bool:
        """Send an edited copy of a user message as a new version, and answer it."""
        text = text.strip()
        message = self.store.message(message_id)
        if self.busy or message is None or message.role != "user" or not text:
            return False
        edited = self.store.add_message(message.conversation_id, "user", text,
                                        parent_id=message.parent_id)
        return self._start_reply(message.conversation_id, edited.id)

    def switch_version(self, message_id: int, step: int) -> bool:
        versions = self.store.versions(message_id)
        if self.busy or message_id not in versions:
            return False
        at = versions.index(message_id) + step
        if not 0 <= at < len(versions):
            return False
        self.store.show_version(versions[at])
        self._show(self.current_id, self.shown)
        return True

    def delete_message(self, message_id: int) -> int:
        """Delete a message (a version goes with its branch: see the store). Not while writing."""
        if self.busy:
            return 0
        message = self.store.message(message_id)
        if message is None:
            return 0
        count = self.store.delete_message(message_id)
        self._show(message.conversation_id, self.shown)
        self.conversations_changed.emit()
        return count

    # -- replies -------------------------------------------------------------------------
    def send(self, text: str) -> bool:
        """Store the user's message and ask for a reply. False if one is already running."""
        text = text.strip()
        if not text or self.reply is not None:
            return False
        if self.current_id is None:
            title = " ".join(text.split())[:TITLE_LENGTH] or "New chat"
            self.current_id = self.store.create_conversation(title).id
            if self.settings:
                self.store.set_conversation_settings(self.current_id, self.settings)
            self.conversation_opened.emit(self.current_id)
        user = self.store.add_message(self.current_id, "user", text)
        self._add_widget(user.id, "user", text)
        return self._start_reply(self.current_id, user.id, append=True)

    def resend(self, user_message_id: int, policy: str) -> bool:
        """Answer a message again with another context policy (after a "stop" refused it)."""
        message = self.store.message(user_message_id)
        if self.busy or message is None:
            return False
        return self._start_reply(message.conversation_id, user_message_id, policy=policy)

    def withdraw(self, user_message_id: int) -> str:
        """Take back an unanswered message (the user chose not to send it): its text returns."""
        message = self.store.message(user_message_id)
        if self.busy or message is None:
            return ""
        self.store.delete_message(user_message_id)
        self._show(message.conversation_id, self.shown)
        return message.content

    def _start_reply(self, conversation_id: int, parent_id: int, append: bool = False,
                     policy: str | None = None) -> bool:
        history, ids = self._history(self.store.path_to(parent_id))
        params = self.reply_params(policy)
        stored = self.store.add_message(conversation_id, "assistant", "", status="streaming",
                                        parent_id=parent_id)
        request_id = self.host.generate(history, params)
        self.reply = _Reply(request_id, conversation_id, stored.id, parent_id, ids,
                            params["context_policy"], last_save=time.monotonic())
        if append:
            self.reply.widget = self._add_widget(stored.id, "assistant", "", "streaming")
        else:
            self._show(conversation_id, self.shown)  # the chat now runs through the new version
        self._set_actions_enabled(False)
        self.conversations_changed.emit()
        self.busy_changed.emit(True)
        return True

    def _set_actions_enabled(self, enabled: bool) -> None:
        for widget in self.widgets.values():
            widget.set_actions_enabled(enabled)

    def stop(self) -> None:
        if self.reply is not None and not self.reply.stopping:
            self.reply.stopping = True
            self.host.cancel(self.reply.request_id)
            if self.reply.widget is not None:
                self.reply.widget.set_status("streaming", self.tr("Stopping…"))

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
        left_out = [reply.sent_ids[i] for i in stats.get("dropped_indices") or []
                    if i < len(reply.sent_ids) and reply.sent_ids[i] is not None]
        meta = {"stats": stats, "context_policy": reply.policy}
        if left_out:
            meta["left_out"] = left_out
        self.store.update_message(reply.message_id, reply.text, status=status, meta=meta)
        if reply.widget is not None and self.current_id == reply.conversation_id:
            reply.widget.set_status(status, _describe(stats))
            self._mark_left_out(left_out)
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

    @Slot(int, str)
    def _on_context_full(self, request_id: int, message: str) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return
        # Nothing was written: the empty reply goes, the user's message stays until they choose.
        self.store.delete_message(reply.message_id)
        self._end_reply()
        if self.current_id == reply.conversation_id:
            self._show(reply.conversation_id, self.shown)
        self.context_full.emit(reply.parent_id, message)

    def _end_reply(self) -> None:
        self.reply = None
        self._set_actions_enabled(True)
        self.busy_changed.emit(False)
        self.history_changed.emit()

    def shutdown(self) -> None:
        """Keep what was written of a reply that is still running."""
        if self.reply is not None:
            self.host.cancel(self.reply.request_id)
            self.store.update_message(self.reply.message_id, self.reply.text, status="stopped")
            self.reply = None


def _describe(stats: dict) -> str:
    parts = []
    if stats.get("completion_tokens"):
        parts.append(QCoreApplication.translate("ChatController", "{count} tokens").format(
            count=stats["completion_tokens"]))
    if stats.get("tokens_per_s"):
        parts.append(QCoreApplication.translate("ChatController", "{rate} tok/s").format(
            rate=f"{stats['tokens_per_s']:.1f}"))
    if stats.get("ttft_s") is not None:
        parts.append(QCoreApplication.translate("ChatController", "first token {seconds} s").format(
            seconds=f"{stats['ttft_s']:.2f}"))
    if stats.get("model"):
        parts.append(QCoreApplication.translate("ChatController", "{model} on {engine} ({device})").format(
            model=stats["model"], engine=stats.get("backend", "?"), device=stats.get("device", "?")))
    if stats.get("dropped_messages"):
        parts.append(QCoreApplication.translate(
            "ChatController", "{count} earlier messages left out to fit the context").format(
            count=stats["dropped_messages"]))
    return " · ".join(parts)
