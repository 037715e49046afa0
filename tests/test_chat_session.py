"""The chat session without widgets: a scripted engine host answers exactly as told.

These are fast unit tests of the reply state machine (stop, regenerate, edit, versions,
overflow policies, saving while streaming, switching chats mid-reply). The real model drives
the same session in test_main_window.py, test_chat_features.py and test_seams.py.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject

from desktop.engines.base import GenerationStats
from desktop.storage import ConversationStore
from desktop.workers import chat_session
from desktop.workers.base import with_events
from desktop.workers.chat_session import ChatPage, ChatSession, MessageItem, effective_params
from desktop.workers.generation import EVENTS


class ScriptedHost(with_events(QObject, EVENTS)):
    """Stands in for EngineHost: records requests; the test says what the engine answers."""

    def __init__(self):
        super().__init__()
        self.requests: list[tuple[int, list, dict]] = []
        self.cancelled: list[int] = []
        self.cache_calls: list[tuple] = []
        self._next = 0

    def generate(self, messages, params=None) -> int:
        self._next += 1
        self.requests.append((self._next, [dict(m) for m in messages], dict(params or {})))
        return self._next

    def cancel(self, request_id=None) -> None:
        self.cancelled.append(request_id)

    # The prompt cache's commands (see EngineHost): recorded, as there is no engine.
    def persist_cache(self) -> None:
        self.cache_calls.append(("persist_cache",))

    def forget_cache_owner(self, owner: str) -> None:
        self.cache_calls.append(("forget_cache_owner", owner))

    def clear_cache(self) -> None:
        self.cache_calls.append(("clear_cache",))

    @property
    def last(self) -> int:
        return self.requests[-1][0]

    def answer(self, text: str, request_id: int | None = None, **stats) -> None:
        request_id = request_id or self.last
        for piece in text.split(" "):
            self.chunk_generated.emit(request_id, piece + " ")
        self.generation_finished.emit(request_id, GenerationStats(
            completion_tokens=len(text.split()), model="Scripted", backend="test", device="CPU", **stats))


class Events(QObject):
    """Everything the session tells the view, in order."""

    def __init__(self, session: ChatSession):
        super().__init__()
        self.log: list[tuple] = []
        for name in ("page_shown", "message_appended", "reply_text", "message_status",
                     "left_out_changed", "busy_changed", "context_full", "error_reported"):
            getattr(session, name).connect(lambda *args, n=name: self.log.append((n, *args)))

    def of(self, name: str) -> list[tuple]:
        return [e[1:] for e in self.log if e[0] == name]


@pytest.fixture
def chat(qapp, tmp_path):
    store = ConversationStore(tmp_path / "chats.sqlite3")
    host = ScriptedHost()
    session = ChatSession(store, host)
    events = Events(session)
    yield session, host, store, events
    store.close()


def test_a_reply_streams_into_the_message_it_was_announced_with(chat):
    session, host, store, events = chat
    assert session.send("Hello there")
    (user,), (reply,) = [i for (i,) in events.of("message_appended") if i.role == "user"], \
        [i for (i,) in events.of("message_appended") if i.role == "assistant"]
    assert isinstance(user, MessageItem) and reply.status == "streaming"
    host.answer("General Kenobi")
    assert "".join(t for mid, t in events.of("reply_text") if mid == reply.id) == "General Kenobi "
    assert events.of("message_status")[-1][:2] == (reply.id, "complete")
    assert "Scripted on test (CPU)" in events.of("message_status")[-1][2]
    stored = store.messages(session.current_id)
    assert [m.content for m in stored] == ["Hello there", "General Kenobi "]
    assert stored[1].meta["stats"]["model"] == "Scripted"
    assert events.of("busy_changed") == [(True,), (False,)]


def test_switching_chats_mid_reply_keeps_the_reply_and_stop_still_works(chat):
    session, host, store, events = chat
    session.send("first chat")
    first = session.current_id
    reply_id = session.reply.message_id
    host.chunk_generated.emit(host.last, "part one ")
    session.new_conversation()  # the view is rebuilt: the reply's widget is gone
    assert session.send("second chat") is False  # one reply at a time
    session.stop()
    assert host.cancelled == [host.last]
    # The Stop names the reply by id; a view not showing it simply has nothing to update.
    assert events.of("message_status")[-1] == (reply_id, "streaming", "Stopping…")
    host.chunk_generated.emit(host.last, "part two")
    host.generation_finished.emit(host.last, GenerationStats(finish_reason="cancelled"))
    assert not session.busy
    assert store.messages(first)[-1].content == "part one part two"
    assert store.messages(first)[-1].status == "stopped"
    # Opening the first chat again shows the stopped reply as stored.
    session.open_conversation(first)
    page = events.of("page_shown")[-1][0]
    assert isinstance(page, ChatPage) and page.messages[-1].text == "part one part two"
    assert page.messages[-1].status == "stopped"


def test_reopening_the_chat_being_written_shows_what_has_arrived(chat):
    session, host, _store, events = chat
    session.send("question")
    first = session.current_id
    host.chunk_generated.emit(host.last, "so far")
    session.new_conversation()
    session.open_conversation(first)
    page = events.of("page_shown")[-1][0]
    assert page.busy and page.messages[-1].text == "so far" and page.messages[-1].status == "streaming"
    host.chunk_generated.emit(host.last, ", more")
    assert events.of("reply_text")[-1] == (page.messages[-1].id, ", more")


def test_the_reply_is_saved_while_it_streams(chat, monkeypatch):
    session, host, store, _events = chat
    clock = [1000.0]
    monkeypatch.setattr(chat_session.time, "monotonic", lambda: clock[0])
    session.send("tell me")
    reply_id = session.reply.message_id
    host.chunk_generated.emit(host.last, "a")
    assert store.message(reply_id).content == ""  # not yet: at most every SAVE_INTERVAL_S
    clock[0] += chat_session.SAVE_INTERVAL_S
    host.chunk_generated.emit(host.last, "b")
    assert store.message(reply_id).content == "ab"
    assert store.message(reply_id).status == "streaming"  # a crash now leaves "interrupted"


def test_regenerate_adds_a_version_and_switching_shows_each(chat):
    session, host, store, events = chat
    session.send("pick a number")
    host.answer("seven")
    first_reply = store.messages(session.current_id)[-1].id
    assert session.regenerate(first_reply)
    # The regenerated reply answers the same question, without the old answer in its history.
    assert [m["content"] for m in host.requests[-1][1]] == ["pick a number"]
    host.answer("eleven")
    page = events.of("page_shown")[-1][0]
    assert page.messages[-1].version == (2, 2)
    second_reply = store.messages(session.current_id)[-1].id
    assert store.messages(session.current_id)[-1].content == "eleven "
    assert session.switch_version(second_reply, -1)
    page = events.of("page_shown")[-1][0]
    assert page.messages[-1].text == "seven " and page.messages[-1].version == (1, 2)


def test_edit_sends_a_new_version_of_the_question(chat):
    session, host, store, _events = chat
    session.send("capital of France?")
    host.answer("Paris")
    question = store.messages(session.current_id)[0].id
    assert session.edit(question, "capital of Italy?")
    assert host.requests[-1][1][-1]["content"] == "capital of Italy?"
    host.answer("Rome")
    assert [m.content for m in store.messages(session.current_id)] == ["capital of Italy?", "Rome "]
    assert len(store.versions(question)) == 2


def test_nothing_that_starts_a_reply_runs_while_one_is_written(chat):
    session, host, store, _events = chat
    session.send("one")
    reply = session.reply.message_id
    assert not session.send("two")
    assert not session.regenerate(reply)
    assert not session.edit(store.messages(session.current_id)[0].id, "changed")
    assert session.delete_message(reply) == 0
    assert len(host.requests) == 1


def test_a_failed_reply_is_kept_with_its_error_and_not_sent_again(chat):
    session, host, store, events = chat
    session.send("hello")
    host.chunk_generated.emit(host.last, "partial")
    host.generation_failed.emit(host.last, "The engine fell over")
    stored = store.messages(session.current_id)[-1]
    assert stored.status == "error" and stored.content == "partial"
    assert events.of("error_reported") == [("The engine fell over",)]
    session.send("again")
    # The failed reply is not something the model said: it is left out of the next prompt.
    assert [m["content"] for m in host.requests[-1][1]] == ["hello", "again"]


def test_stop_policy_asks_and_withdraw_returns_the_text(chat):
    session, host, store, events = chat
    session.set_settings({"context_policy": "stop"})
    session.send("a very long message")
    assert host.requests[-1][2]["context_policy"] == "stop"
    user_id = store.messages(session.current_id)[0].id
    host.context_full.emit(host.last, "does not fit")
    assert events.of("context_full") == [(user_id, "does not fit")]
    assert [m.role for m in store.messages(session.current_id)] == ["user"]  # the empty reply went
    assert session.withdraw(user_id) == "a very long message"
    assert store.messages(session.current_id) == []


def test_resend_with_another_policy_answers_the_same_message(chat):
    session, host, store, events = chat
    session.set_settings({"context_policy": "stop"})
    session.send("long")
    user_id = store.messages(session.current_id)[0].id
    host.context_full.emit(host.last, "does not fit")
    assert session.resend(user_id, "keep_first")
    assert host.requests[-1][2]["context_policy"] == "keep_first"
    host.answer("fits now", dropped_messages=0)
    assert store.messages(session.current_id)[-1].meta["context_policy"] == "keep_first"


def test_left_out_marks_name_the_messages_the_engine_dropped(chat):
    session, host, store, events = chat
    session.set_settings({"system_prompt": "Be brief."})
    for text in ("one", "two"):
        session.send(text)
        host.answer("ok")
    session.send("three")
    ids = [m.id for m in store.messages(session.current_id)]
    # Sent: system, one, ok, two, ok, three; the engine dropped "one" and its answer.
    host.answer("fine", dropped_messages=2, dropped_indices=[1, 2])
    assert events.of("left_out_changed")[-1] == ((ids[0], ids[1]),)
    assert store.messages(session.current_id)[-1].meta["left_out"] == [ids[0], ids[1]]


def test_a_stored_chat_with_foreign_values_still_opens(chat):
    session, _host, store, events = chat
    conversation = store.create_conversation("odd")
    user = store.add_message(conversation.id, "user", "hi")
    store.add_message(conversation.id, "assistant", "hello", parent_id=user.id, meta={
        "stats": {"tokens_per_s": "fast", "completion_tokens": None, "ttft_s": float("nan"),
                  "model": ["not", "a", "name"]},
        "left_out": ["x", 99999],
    })
    store.set_conversation_settings(conversation.id, {"sampling": {"temperature": "hot", "top_k": 1e300}})
    session.open_conversation(conversation.id)
    page = events.of("page_shown")[-1][0]
    assert [m.text for m in page.messages] == ["hi", "hello"]
    params = session.reply_params()
    assert params["temperature"] == effective_params({}, {})["temperature"]
    assert params["top_k"] == effective_params({}, {})["top_k"]


def test_deleting_the_chat_being_written_cancels_its_reply(chat):
    session, host, store, events = chat
    session.send("doomed")
    doomed = session.current_id
    session.delete_conversation(doomed)
    assert host.cancelled == [host.last] and not session.busy
    assert store.conversation(doomed) is None
    # The cancelled request's late chunks and end are ignored.
    host.answer("too late")
    assert events.of("page_shown")[-1][0].conversation_id == -1


# -- reasoning models -----------------------------------------------------------------------
def think(host, thought: str, answer: str = "", request_id: int | None = None, **stats) -> None:
    """The engine thinks, then answers (or, with no answer, is stopped mid-thought)."""
    request_id = request_id or host.last
    for piece in thought.split(" "):
        host.thinking_generated.emit(request_id, piece + " ")
    for piece in answer.split(" ") if answer else ():
        host.chunk_generated.emit(request_id, piece + " ")
    host.generation_finished.emit(request_id, GenerationStats(
        completion_tokens=9, model="Scripted", backend="test", device="CPU", **stats))


@pytest.fixture
def thinking_events(chat):
    session, _host, _store, events = chat
    for name in ("reply_thinking", "reply_thought"):
        getattr(session, name).connect(lambda *args, n=name: events.log.append((n, *args)))
    return chat


def test_thinking_is_kept_apart_from_the_answer_and_sent_back_as_reasoning(thinking_events):
    session, host, store, events = thinking_events
    session.send("2+2?")
    reply_id = session.reply.message_id
    think(host, "add two and two", "4", thinking_s=1.5, thinking_tokens=5)
    assert "".join(t for mid, t in events.of("reply_thinking") if mid == reply_id) == "add two and two "
    assert "".join(t for mid, t in events.of("reply_text") if mid == reply_id) == "4 "
    assert events.of("reply_thought")[0][0] == reply_id  # the answer began: the block collapses
    stored = store.message(reply_id)
    assert stored.content == "4 "  # the answer only: search and copy see this
    assert stored.meta["thinking"] == "add two and two" and stored.meta["thinking_s"] == 1.5
    assert session.message_text(reply_id) == "4 "
    session.send("and 3+3?")
    sent = host.requests[-1][1]
    assert sent[1] == {"role": "assistant", "content": "4 ", "reasoning_content": "add two and two"}
    # Reopened, the message carries its thinking for the view.
    session.open_conversation(session.current_id)
    host.answer("6")
    session.new_conversation()
    session.open_conversation(store.message(reply_id).conversation_id)
    item = events.of("page_shown")[-1][0].messages[1]
    assert (item.text, item.thinking, item.thinking_s) == ("4 ", "add two and two", 1.5)


def test_stopped_mid_thought_keeps_the_thinking_and_sends_no_empty_answer(thinking_events):
    session, host, store, events = thinking_events
    session.send("hard question")
    reply_id = session.reply.message_id
    host.thinking_generated.emit(host.last, "let me consider")
    session.stop()
    host.generation_finished.emit(host.last, GenerationStats(finish_reason="cancelled", thinking_s=3.0))
    stored = store.message(reply_id)
    assert stored.status == "stopped" and stored.content == ""
    assert stored.meta["thinking"] == "let me consider" and stored.meta["thinking_s"] == 3.0
    assert events.of("reply_thought")[-1] == (reply_id, 3.0)
    session.send("never mind")
    assert [m["role"] for m in host.requests[-1][1]] == ["user", "user"]  # no empty answer sent


def test_regenerating_a_thinking_reply_thinks_again_without_the_old_thinking(thinking_events):
    session, host, store, events = thinking_events
    session.send("pick a number")
    think(host, "seven is nice", "7")
    first = store.messages(session.current_id)[-1].id
    assert session.regenerate(first)
    assert host.requests[-1][1] == [{"role": "user", "content": "pick a number"}]
    think(host, "eleven this time", "11")
    latest = store.messages(session.current_id)[-1]
    assert latest.meta["thinking"] == "eleven this time" and latest.content == "11 "
    assert store.message(first).meta["thinking"] == "seven is nice"


def test_the_think_switch_reaches_the_engine_and_the_meter(chat):
    session, host, _store, _events = chat
    session.send("hello")
    assert host.requests[-1][2]["thinking"] is True  # on unless the chat says otherwise
    host.answer("hi")
    session.set_settings({"thinking": False})
    session.send("again")
    assert host.requests[-1][2]["thinking"] is False
    assert session.count_request("draft", 2048).thinking is False
    session.set_settings({"thinking": "yes"})  # an imported oddity: the default
    assert session.reply_params()["thinking"] is True
