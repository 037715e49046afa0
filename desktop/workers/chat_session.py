"""The open chat, without widgets: conversations, the reply in flight, versions, edits, saving.

``ChatSession`` runs on the GUI thread but knows no widget (QtCore only, checked by the import
contracts). It tells the view what to show through events that name messages by their stored
id (``page_shown``, ``message_appended``, ``reply_text``, ``message_status``...); the view, a
thin binder in ui/, looks each id up in what it is showing *now*. Nothing here keeps a handle
to a widget, so a view that rebuilt itself (another chat opened mid-reply) can never be reached
through a stale one.

A reply is saved while it streams, at most every SAVE_INTERVAL_S, so a crash loses less than
that; the next start marks it "interrupted".
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import asdict, dataclass, field

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from desktop.engines.base import SAMPLING_RANGES, GenerationStats, SamplingParams
from desktop.engines.context import POLICIES, prompt_limit
from desktop.storage import ConversationStore
from desktop.workers.context import CountRequest
from desktop.workers.generation import EngineHost

SAVE_INTERVAL_S = 0.5
# A step of scrubbing deleted text from the database's index takes a few milliseconds; between
# steps the window's thread is free.
SCRUB_INTERVAL_MS = 40
TITLE_LENGTH = 48
# A long chat opens on its newest messages; older ones come a page at a time when asked for.
# A widget per message is what makes a 5,000-message chat slow to open, not the database.
PAGE = 60


@dataclass(frozen=True)
class MessageItem:
    """One message as the view shows it."""

    id: int
    role: str
    text: str
    status: str = "complete"
    detail: str = ""  # the footer's note: stats, or the error
    version: tuple[int, int] = (1, 1)  # (index from 1, count)
    thinking: str = ""  # a reasoning model's thinking, kept apart from the answer
    thinking_s: float | None = None  # how long it thought (None: still thinking, or unknown)
    model: str = ""  # the model that wrote a reply (its badge), from the stored stats


@dataclass(frozen=True)
class ChatPage:
    """What the view shows of the open chat: its newest messages, in order."""

    conversation_id: int  # -1: a new chat, not stored yet
    messages: tuple[MessageItem, ...] = ()
    left_out: tuple[int, ...] = ()  # messages the latest reply did not see
    hidden: int = 0  # older messages not on screen
    busy: bool = False


@dataclass
class _Reply:
    request_id: int
    conversation_id: int
    message_id: int
    parent_id: int | None = None  # the message it answers
    sent_ids: list = field(default_factory=list)  # stored id of each message sent (None: system)
    policy: str = "rolling"
    chunks: list[str] = field(default_factory=list)
    thoughts: list[str] = field(default_factory=list)
    thinking_from: float | None = None  # when the first thought came, and the answer after it
    thinking_until: float | None = None
    last_save: float = 0.0
    stopping: bool = False

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def thinking(self) -> str:
        return "".join(self.thoughts)

    def thinking_s(self, stats: GenerationStats | None = None) -> float | None:
        """The engine's measure when it has one, else the time between the events here."""
        if stats is not None and _stat({"s": stats.thinking_s}, "s") is not None:
            return float(stats.thinking_s)
        if self.thinking_from is None:
            return None
        return (self.thinking_until or time.monotonic()) - self.thinking_from

    def meta(self) -> dict:
        """What a reply keeps of its thinking (stored stripped: the tags' newlines go)."""
        thinking = self.thinking.strip()
        return {"thinking": thinking} if thinking else {}


def _number(value, lo: float, hi: float):
    """A sampling value as a number in range, or None: settings may come from an imported file."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if lo <= value <= hi else None


def effective_params(model_defaults: dict, settings: dict, overrides: dict | None = None) -> dict:
    """Sampling for a reply: the app's defaults, then the model's, then the chat's own settings."""
    params = asdict(SamplingParams())
    sampling = settings.get("sampling") if isinstance(settings.get("sampling"), dict) else {}
    for source in (model_defaults or {}, sampling, overrides or {}):
        for key, value in source.items():
            if key not in params or key == "thinking":  # a chat setting, not a sampling one
                continue
            if key in SamplingParams.CALLER_FIELDS:  # per request, never a chat's or a file's
                continue
            if key in SAMPLING_RANGES:
                if key == "seed" and value is None:
                    params[key] = None
                    continue
                kind, low, high = SAMPLING_RANGES[key]
                # A string temperature from an imported chat is ignored, not a failed reply.
                value = _number(value, low, high)
                if value is None:
                    continue
                value = kind(value)
            params[key] = value
    if settings.get("context_policy") in POLICIES:
        params["context_policy"] = settings["context_policy"]
    params["thinking"] = settings["thinking"] if isinstance(settings.get("thinking"), bool) else True
    if params.get("context_policy") not in POLICIES:
        params["context_policy"] = "rolling"
    return params


class ChatSession(QObject):
    """Signals (all on the GUI thread):

    conversations_changed(): the list of conversations (titles, order) changed.
    conversation_opened(int): the open chat (-1: a new one, not stored yet).
    page_shown(ChatPage): show these messages instead of what is shown.
    message_appended(MessageItem): add a message below the others.
    reply_text(int, str): a message's text grows (the reply being written).
    reply_thinking(int, str): a message's thinking grows (a reasoning model, before its answer).
    reply_thought(int, float): the thinking ended after this many seconds (-1: not known).
    message_status(int, str, str): a message's status and footer note changed.
    left_out_changed(tuple): the ids of the messages the latest reply did not see.
    busy_changed(bool): a reply started or ended.
    reply_finished(GenerationStats): the finished reply's stats (for the status bar).
    error_reported(str): something for the user to read.
    settings_changed(dict): the open chat's settings (system prompt, sampling, policy).
    history_changed(): the messages the next reply would see changed (for the context meter).
    context_full(int, str): a chat whose policy is "stop" no longer fits: the user message's id
        and the explanation; answer with resend(id, policy) or withdraw(id).
    """

    conversations_changed = Signal()
    conversation_opened = Signal(int)
    page_shown = Signal(object)
    message_appended = Signal(object)
    reply_text = Signal(int, str)
    reply_thinking = Signal(int, str)
    reply_thought = Signal(int, float)
    message_status = Signal(int, str, str)
    left_out_changed = Signal(object)
    busy_changed = Signal(bool)
    reply_finished = Signal(object)
    error_reported = Signal(str)
    settings_changed = Signal(dict)
    history_changed = Signal()
    context_full = Signal(int, str)

    def __init__(self, store: ConversationStore, host: EngineHost, parent=None):
        super().__init__(parent)
        self.store, self.host = store, host
        self.current_id: int | None = None
        self.reply: _Reply | None = None
        self.model_defaults: dict = {}  # the loaded model's recommended sampling
        self.settings: dict = {}  # the open chat's settings (kept here until a new chat is stored)
        self.params: dict = {}  # overrides on top of everything (tests, benchmarks)
        self.shown = PAGE  # how many of the open chat's newest messages are on screen
        # The loaded model's id (a path, an ONNX folder, remote://...): kept with each reply, so
        # that a chat reopened later can offer the model that wrote it.
        self.model_id: str | None = None
        host.model_loaded.connect(lambda info: setattr(self, "model_id", info.path or None))
        # Deleted text is scrubbed from the database's full-text index a step at a time.
        self._scrub = QTimer(self)
        self._scrub.setInterval(SCRUB_INTERVAL_MS)
        self._scrub.timeout.connect(self._scrub_step)
        if store.scrub_pending:
            self._scrub.start()
        host.chunk_generated.connect(self._on_chunk)
        host.thinking_generated.connect(self._on_thinking)
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

    def count_request(self, draft: str, n_ctx: int) -> CountRequest:
        """What the context meter counts: the next reply's prompt with the message being typed."""
        messages, _ids = self.prompt_messages()
        params = self.reply_params()
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
        return CountRequest(
            system=system,
            history=tuple((m["role"], m["content"]) for m in messages if m["role"] != "system"),
            draft=draft.strip(),
            limit=prompt_limit(n_ctx, params["max_tokens"]),
            policy=params["context_policy"],
            thinking=params["thinking"],
        )

    def _history(self, path) -> tuple[list[dict], list]:
        messages, ids = [], []
        system = self.settings.get("system_prompt")
        system = system.strip() if isinstance(system, str) else ""
        if system:
            messages.append({"role": "system", "content": system})
            ids.append(None)
        for m in path:
            # A failed reply, or an empty one, is not something the model said.
            if m.status == "error" or (m.role == "assistant" and not m.content):
                continue
            message = {"role": m.role, "content": m.content}
            # The thinking goes back apart from the answer: templates that show earlier thinking
            # (Qwen 3's, for turns after the latest question) read it; the others ignore it.
            thinking = m.meta.get("thinking") if isinstance(m.meta, dict) else None
            if m.role == "assistant" and isinstance(thinking, str) and thinking:
                message["reasoning_content"] = thinking
            messages.append(message)
            ids.append(m.id)
        return messages, ids

    # -- conversations -------------------------------------------------------------------
    def new_conversation(self) -> None:
        """Start an empty chat; it is stored when its first message is sent."""
        self._save_reply()
        self.host.persist_cache()  # the chat left behind: its prompt state goes to disk now
        self._show_empty()
        self.history_changed.emit()

    def _show_empty(self) -> None:
        """No chat open: the empty page with this session's defaults."""
        self.current_id = None
        self.settings = {}
        self.shown = PAGE
        self.page_shown.emit(ChatPage(-1, busy=self.busy))
        self.conversation_opened.emit(-1)
        self.settings_changed.emit(self.settings)

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
            self.host.persist_cache()  # the chat left behind: its prompt state goes to disk now
            self.settings = self.store.conversation_settings(conversation_id)
            if not isinstance(self.settings, dict):
                self.settings = {}
            self.settings_changed.emit(self.settings)
        self.current_id = conversation_id
        self.shown = shown
        reply = self.reply
        items, left_out = [], []
        for message in self.store.messages(conversation_id, last=shown):
            live = reply is not None and reply.message_id == message.id
            meta = message.meta if isinstance(message.meta, dict) else {}
            if live:
                item = MessageItem(message.id, message.role, reply.text, "streaming",
                                   thinking=reply.thinking,
                                   thinking_s=reply.thinking_s() if reply.chunks else None)
            else:
                detail = ""
                if message.status == "error" and isinstance(meta.get("error"), str):
                    detail = meta["error"]
                elif isinstance(meta.get("stats"), dict):
                    detail = describe(meta["stats"])
                stats = meta.get("stats") if isinstance(meta.get("stats"), dict) else {}
                model = stats.get("model") if isinstance(stats.get("model"), str) else ""
                item = MessageItem(message.id, message.role, message.content, message.status, detail,
                                   model=model, **_thinking(meta))
                if message.role == "assistant":
                    marks = meta.get("left_out")
                    left_out = [i for i in marks if isinstance(i, int)] if isinstance(marks, list) else []
            versions = self.store.versions(message.id)
            if len(versions) > 1:
                item = dataclasses.replace(item, version=(versions.index(message.id) + 1, len(versions)))
            items.append(item)
        hidden = max(self.store.count_messages(conversation_id) - shown, 0)
        self.page_shown.emit(ChatPage(conversation_id, tuple(items), tuple(left_out), hidden, self.busy))
        self.conversation_opened.emit(conversation_id)
        self.history_changed.emit()

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self.store.rename_conversation(conversation_id, title)
        self.conversations_changed.emit()

    def cache_owner(self, conversation_id: int) -> str | None:
        """Whose prompt states a reply in this chat leaves (SamplingParams.cache_owner): the chat's
        id and creation time, so that a later chat given the same id never meets its states."""
        conversation = self.store.conversation(conversation_id)
        return None if conversation is None else f"chat:{conversation.id}:{conversation.created_at!r}"

    def _forget(self, conversation_id: int) -> None:
        """Before a chat's text is deleted: its prompt states go too (RAM and disk)."""
        owner = self.cache_owner(conversation_id)
        if owner is not None:
            self.host.forget_cache_owner(owner)

    def delete_conversation(self, conversation_id: int) -> None:
        if self.reply is not None and self.reply.conversation_id == conversation_id:
            self.host.cancel(self.reply.request_id)
            self._end_reply()
        self._forget(conversation_id)
        self.store.delete_conversation(conversation_id)
        self._scrub.start()
        if conversation_id == self.current_id:
            self.current_id = None
            self.page_shown.emit(ChatPage(-1, busy=self.busy))
            self.conversation_opened.emit(-1)
        self.conversations_changed.emit()

    def delete_all_conversations(self) -> None:
        """Delete every chat, and with them every prompt state (the cache holds their text)."""
        if self.reply is not None:
            self.host.cancel(self.reply.request_id)
            self._end_reply()
        self.host.clear_cache()
        self.store.delete_all_conversations()
        self._show_empty()
        self.conversations_changed.emit()
        self.history_changed.emit()

    @Slot()
    def _scrub_step(self) -> None:
        if not self.store.scrub():
            self._scrub.stop()

    # -- message actions -----------------------------------------------------------------
    def message_text(self, message_id: int) -> str:
        """A message's text as it stands (a reply being written: what has arrived)."""
        if self.reply is not None and self.reply.message_id == message_id:
            return self.reply.text
        message = self.store.message(message_id)
        return message.content if message else ""

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
        self._forget(message.conversation_id)  # its states hold the deleted text
        count = self.store.delete_message(message_id)
        self._scrub.start()
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
        self.message_appended.emit(MessageItem(user.id, "user", text))
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
        params["cache_owner"] = self.cache_owner(conversation_id)
        stored = self.store.add_message(conversation_id, "assistant", "", status="streaming",
                                        parent_id=parent_id)
        request_id = self.host.generate(history, params)
        self.reply = _Reply(request_id, conversation_id, stored.id, parent_id, ids,
                            params["context_policy"], last_save=time.monotonic())
        self.busy_changed.emit(True)
        if append:
            self.message_appended.emit(MessageItem(stored.id, "assistant", "", "streaming"))
        else:
            self._show(conversation_id, self.shown)  # the chat now runs through the new version
        self.conversations_changed.emit()
        return True

    def stop(self) -> None:
        reply = self.reply
        if reply is not None and not reply.stopping:
            reply.stopping = True
            self.host.cancel(reply.request_id)
            self.message_status.emit(reply.message_id, "streaming",
                                     QCoreApplication.translate("ChatController", "Stopping…"))

    @Slot(int, str)
    def _on_chunk(self, request_id: int, text: str) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return  # a chunk from a request we stopped waiting for
        reply.chunks.append(text)
        if len(reply.chunks) == 1:
            if reply.thoughts:
                reply.thinking_until = time.monotonic()
                self.reply_thought.emit(reply.message_id, reply.thinking_s())
            if not reply.stopping:
                self.message_status.emit(reply.message_id, "complete", "")
        self.reply_text.emit(reply.message_id, text)
        now = time.monotonic()
        if now - reply.last_save >= SAVE_INTERVAL_S:
            self._save_reply(now)

    @Slot(int, str)
    def _on_thinking(self, request_id: int, text: str) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return
        if not reply.thoughts:
            reply.thinking_from = time.monotonic()
        reply.thoughts.append(text)
        self.reply_thinking.emit(reply.message_id, text)
        now = time.monotonic()
        if now - reply.last_save >= SAVE_INTERVAL_S:
            self._save_reply(now)

    def _save_reply(self, now: float | None = None) -> None:
        reply = self.reply
        if reply is not None:
            # The thinking so far is saved with the answer: a crash mid-thought keeps it too.
            self.store.update_message(reply.message_id, reply.text,
                                      meta=reply.meta() if reply.thoughts else None)
            reply.last_save = now or time.monotonic()

    @Slot(int, object)
    def _on_finished(self, request_id: int, stats: GenerationStats) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return
        status = "stopped" if stats.finish_reason == "cancelled" else "complete"
        left_out = [reply.sent_ids[i] for i in stats.dropped_indices
                    if 0 <= i < len(reply.sent_ids) and reply.sent_ids[i] is not None]
        meta = {"stats": stats.to_dict(), "context_policy": reply.policy, **reply.meta()}
        if self.model_id:
            meta["model_id"] = self.model_id
        if reply.thoughts:
            thinking_s = reply.thinking_s(stats)
            if thinking_s is not None:
                meta["thinking_s"] = round(thinking_s, 3)
                if not reply.chunks:  # it never got to the answer: the view says so now
                    self.reply_thought.emit(reply.message_id, thinking_s)
        if left_out:
            meta["left_out"] = left_out
        self.store.update_message(reply.message_id, reply.text, status=status, meta=meta)
        self.message_status.emit(reply.message_id, status, describe(meta["stats"]))
        if self.current_id == reply.conversation_id:
            self.left_out_changed.emit(tuple(left_out))
        self._end_reply()
        self.reply_finished.emit(stats)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        reply = self.reply
        if reply is None or request_id != reply.request_id:
            return
        self.store.update_message(reply.message_id, reply.text, status="error",
                                  meta={"error": message, **reply.meta()})
        self.message_status.emit(reply.message_id, "error", message)
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
        self.busy_changed.emit(False)
        self.history_changed.emit()

    def shutdown(self) -> None:
        """Keep what was written of a reply that is still running."""
        self._scrub.stop()  # what is left of a scrub is done at the next start
        if self.reply is not None:
            self.host.cancel(self.reply.request_id)
            self.store.update_message(self.reply.message_id, self.reply.text, status="stopped",
                                      meta=self.reply.meta() or None)
            self.reply = None


def _thinking(meta: dict) -> dict:
    """A stored reply's thinking for its MessageItem; values from an imported chat are checked."""
    thinking = meta.get("thinking")
    if not isinstance(thinking, str) or not thinking:
        return {}
    seconds = _stat(meta, "thinking_s")
    return {"thinking": thinking, "thinking_s": float(seconds) if seconds is not None else None}


def _stat(stats: dict, key: str):
    """A number from stored stats, or None: stats may come from an old or imported chat."""
    value = stats.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def describe(stats: dict) -> str:
    """A reply's footer: its length, speed, first-token time and which model wrote it."""
    parts = []
    if _stat(stats, "completion_tokens"):
        parts.append(QCoreApplication.translate("ChatController", "{count} tokens").format(
            count=int(stats["completion_tokens"])))
    if _stat(stats, "tokens_per_s"):
        parts.append(QCoreApplication.translate("ChatController", "{rate} tok/s").format(
            rate=f"{stats['tokens_per_s']:.1f}"))
    if _stat(stats, "ttft_s") is not None:
        parts.append(QCoreApplication.translate("ChatController", "first token {seconds} s").format(
            seconds=f"{stats['ttft_s']:.2f}"))
    prompt, evaluated = _stat(stats, "prompt_tokens"), _stat(stats, "prompt_tokens_evaluated")
    if prompt and evaluated is not None and 0 <= evaluated < prompt:
        # The prompt cache's work: what the engine did not have to read again.
        parts.append(QCoreApplication.translate(
            "ChatController", "{reused} of {total} prompt tokens reused").format(
            reused=f"{int(prompt - evaluated):,}", total=f"{int(prompt):,}"))
    if isinstance(stats.get("model"), str) and stats["model"]:
        parts.append(QCoreApplication.translate("ChatController", "{model} on {engine} ({device})").format(
            model=stats["model"], engine=str(stats.get("backend") or "?"),
            device=str(stats.get("device") or "?")))
    if _stat(stats, "dropped_messages"):
        parts.append(QCoreApplication.translate(
            "ChatController", "{count} earlier messages left out to fit the context").format(
            count=int(stats["dropped_messages"])))
    return " · ".join(parts)
