import sqlite3

import pytest

from desktop.storage.store import SCHEMA_VERSION, ConversationStore, StoreError


@pytest.fixture
def store(tmp_path):
    s = ConversationStore(tmp_path / "c.sqlite3")
    yield s
    s.close()


def test_wal_mode(store):
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_conversations_most_recent_first(store):
    a = store.create_conversation("a")
    b = store.create_conversation("b")
    assert [c.title for c in store.conversations()] == ["b", "a"]
    store.add_message(a.id, "user", "hello")  # activity moves a conversation to the top
    assert [c.id for c in store.conversations()] == [a.id, b.id]


def test_rename_and_delete_cascade(store):
    c = store.create_conversation("old")
    store.add_message(c.id, "user", "hi")
    store.rename_conversation(c.id, "  new  ")
    assert store.conversation(c.id).title == "new"
    with pytest.raises(StoreError):
        store.rename_conversation(c.id, "   ")
    store.delete_conversation(c.id)
    assert store.conversation(c.id) is None
    assert store._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_messages_roundtrip_and_streaming_updates(store):
    c = store.create_conversation()
    store.add_message(c.id, "user", "hi")
    reply = store.add_message(c.id, "assistant", "", status="streaming")
    store.update_message(reply.id, "Hel")
    store.update_message(reply.id, "Hello", status="complete", meta={"stats": {"n": 2}})
    msgs = store.messages(c.id)
    assert [(m.role, m.content, m.status) for m in msgs] == [
        ("user", "hi", "complete"), ("assistant", "Hello", "complete")]
    assert msgs[1].meta == {"stats": {"n": 2}}


def test_reopen_marks_cut_off_replies_interrupted(tmp_path):
    path = tmp_path / "c.sqlite3"
    s = ConversationStore(path)
    c = s.create_conversation()
    m = s.add_message(c.id, "assistant", "partial", status="streaming")
    s.close()
    s = ConversationStore(path)
    (msg,) = s.messages(c.id)
    assert (msg.id, msg.content, msg.status) == (m.id, "partial", "interrupted")
    s.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "c.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer EdgeChat"):
        ConversationStore(path)


def test_not_a_database(tmp_path):
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="Cannot open"):
        ConversationStore(path)
