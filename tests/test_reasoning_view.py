"""A reasoning model in the real chat view: a scripted engine streams "<think>…</think>answer"
through the real splitter, worker, session and binder."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtGui import QGuiApplication

from desktop.engines import reasoning
from desktop.engines.base import Engine, GenerationStats, ModelInfo
from desktop.storage import ConversationStore
from desktop.ui.chat_binder import ChatBinder
from desktop.ui.chat_view import ChatView
from desktop.workers.chat_session import ChatSession
from desktop.workers.generation import EngineHost

TOKENS = ["<th", "ink>", "\nLet me", " count", " the r's.", "\n</th", "ink>", "\n\n", "There are", " three."]


class ThinkingEngine(Engine):
    """Streams TOKENS as a model would, pausing mid-thought until the test lets it go on."""

    backend = "scripted"
    go_on = threading.Event()
    sent: list = []

    def __init__(self, path, **_options):
        self._info = ModelInfo(path=str(path), name="Thinker", backend=self.backend, device="CPU",
                               extra={"thinking": {"switch": True, "starts_inside": False}})
        self._stats = None

    @property
    def info(self):
        return self._info

    @property
    def last_stats(self):
        return self._stats

    def count_tokens(self, text):
        return len(text.split())

    def stream(self, messages, params, cancel=None):
        ThinkingEngine.sent.append([dict(m) for m in messages])
        stats = self._stats = GenerationStats(completion_tokens=len(TOKENS))
        thinking = reasoning.stream_for("{{ '<think>' }}", "<|im_start|>assistant\n")
        try:
            for token in TOKENS:
                if token == "\n</th":
                    ThinkingEngine.go_on.wait(10)
                if cancel is not None and cancel.is_set():
                    stats.finish_reason = "cancelled"
                    return
                time.sleep(0.05)  # each token its own batch: the view sees it arrive
                yield from thinking.feed(token)
            yield from thinking.finish()
        finally:
            thinking.fill(stats)

    def close(self):
        pass


@pytest.fixture
def chat(qtbot, tmp_path, model_path):
    ThinkingEngine.go_on.clear()
    ThinkingEngine.sent.clear()
    store = ConversationStore(tmp_path / "chats.sqlite3")
    host = EngineHost(ThinkingEngine)
    session = ChatSession(store, host)
    view = ChatView()
    qtbot.addWidget(view)
    binder = ChatBinder(session, view)
    view.show()
    with qtbot.waitSignal(host.model_loaded, timeout=10_000):
        host.load(str(model_path))  # checked as a real GGUF, then opened by the factory
    yield session, view, binder, store
    ThinkingEngine.go_on.set()
    assert host.shutdown()
    store.close()


def test_the_thinking_streams_open_then_folds_when_the_answer_comes(qtbot, chat):
    session, view, binder, store = chat
    session.send("How many r's in strawberry?")
    reply = view.messages()[-1]
    qtbot.waitUntil(lambda: reply.thinking is not None and "the r's." in reply.thinking.text, timeout=10_000)
    block = reply.thinking
    assert block.live and block.expanded and block.toggle.text() == "Thinking…"
    assert block.label.isVisible() and reply.text == ""
    ThinkingEngine.go_on.set()
    qtbot.waitUntil(lambda: not session.busy, timeout=10_000)
    assert reply.text == "There are three."
    assert not block.live and not block.expanded and not block.label.isVisible()
    assert block.toggle.text().startswith("Thought for ") and block.toggle.text().endswith(" s")
    block.toggle.click()  # a click opens it
    assert block.expanded and block.label.isVisible()
    assert block.label.text() == "Let me count the r's."

    message_id = next(i for i, w in binder.widgets.items() if w is reply)
    assert binder.copy_message(message_id) == "There are three."
    assert QGuiApplication.clipboard().text() == "There are three."
    assert block.copy() == "Let me count the r's."

    stored = store.message(message_id)
    assert stored.content == "There are three." and stored.meta["thinking"] == "Let me count the r's."
    assert stored.meta["stats"]["thinking_tokens"] > 0
    markdown = store.export_markdown(session.current_id)
    assert "<details><summary>Thought for " in markdown
    assert markdown.index("Let me count") < markdown.index("There are three.")

    # The next turn sends the answer as content and the thinking beside it.
    session.send("And in raspberry?")
    qtbot.waitUntil(lambda: len(ThinkingEngine.sent) == 2, timeout=10_000)
    assert ThinkingEngine.sent[1][1] == {"role": "assistant", "content": "There are three.",
                                         "reasoning_content": "Let me count the r's."}
    qtbot.waitUntil(lambda: not session.busy, timeout=10_000)

    # Opened again, the stored reply shows its thinking folded.
    session.new_conversation()
    session.open_conversation(stored.conversation_id)
    again = view.messages()[1]
    assert again.thinking is not None and not again.thinking.expanded
    assert again.thinking.toggle.text().startswith("Thought for ")


def test_stopped_mid_thought_says_so(qtbot, chat):
    session, view, _binder, store = chat
    session.send("Think hard")
    reply = view.messages()[-1]
    qtbot.waitUntil(lambda: reply.thinking is not None and "count" in reply.thinking.text, timeout=10_000)
    session.stop()
    ThinkingEngine.go_on.set()
    qtbot.waitUntil(lambda: not session.busy, timeout=10_000)
    assert reply.thinking.toggle.text().startswith("Stopped while thinking")
    assert reply.text == ""
    assert store.messages(session.current_id)[-1].status == "stopped"


def test_the_think_switch_shows_for_a_model_that_has_one_and_edits_the_chat(qtbot, tmp_path):
    from desktop.ui.chat_settings import ChatSettings

    store = ConversationStore(tmp_path / "s.sqlite3")
    panel = ChatSettings(store)
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.think_check.isVisible()
    panel.set_thinking_switch(True)
    panel.load({"thinking": False})
    assert panel.think_check.isVisible() and not panel.think_check.isChecked()
    with qtbot.waitSignal(panel.settings_edited) as edited:
        panel.think_check.click()
    assert edited.args[0]["thinking"] is True
    panel.load({})
    assert panel.think_check.isChecked()  # on unless the chat turned it off
    store.close()
