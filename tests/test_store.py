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


def test_versions_form_a_tree_and_the_chat_is_the_path_on_screen(store):
    c = store.create_conversation()
    u1 = store.add_message(c.id, "user", "q1")
    a1 = store.add_message(c.id, "assistant", "a1")
    u2 = store.add_message(c.id, "user", "q2")
    # Regenerate a1: a sibling under u1; the chat now ends there.
    a1b = store.add_message(c.id, "assistant", "a1 again", parent_id=u1.id)
    assert [m.content for m in store.messages(c.id)] == ["q1", "a1 again"]
    assert store.versions(a1.id) == store.versions(a1b.id) == [a1.id, a1b.id]
    assert store.versions(u1.id) == [u1.id]
    # Back to the first version: its continuation (q2) comes back with it.
    store.show_version(a1.id)
    assert [m.content for m in store.messages(c.id)] == ["q1", "a1", "q2"]
    assert store.count_messages(c.id) == 3
    assert store.count_messages(c.id, u2.id) == 1 and store.count_messages(c.id, u1.id) == 3
    assert store.count_messages(c.id, a1b.id) == 0  # not on screen
    # Edit the first message: a new root version with its own reply.
    u1b = store.add_message(c.id, "user", "q1 edited", parent_id=None)
    store.add_message(c.id, "assistant", "a for edited")
    assert [m.content for m in store.messages(c.id)] == ["q1 edited", "a for edited"]
    assert store.versions(u1.id) == [u1.id, u1b.id]
    assert [m.content for m in store.messages(c.id, last=1)] == ["a for edited"]
    # Nothing was erased: every version is still stored.
    assert store._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 6


def test_delete_message_keeps_the_rest_of_the_chat(store):
    c = store.create_conversation()
    ids = [store.add_message(c.id, r, t).id for r, t in
           (("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2"))]
    assert store.delete_message(ids[1]) == 1
    assert [m.content for m in store.messages(c.id)] == ["q1", "q2", "a2"]
    assert store.delete_message(ids[3]) == 1  # the last one: the chat ends at q2
    assert [m.content for m in store.messages(c.id)] == ["q1", "q2"]


def test_deleting_a_version_deletes_its_branch_and_shows_another(store):
    c = store.create_conversation()
    u1 = store.add_message(c.id, "user", "q1")
    a1 = store.add_message(c.id, "assistant", "a1")
    store.add_message(c.id, "user", "q2 after a1")
    store.add_message(c.id, "assistant", "a1 again", parent_id=u1.id)
    store.show_version(a1.id)
    assert store.delete_message(a1.id) == 2  # a1 and what followed it
    assert [m.content for m in store.messages(c.id)] == ["q1", "a1 again"]
    assert store.versions(u1.id) == [u1.id]


def test_migration_from_v2_chains_existing_messages(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    from desktop.storage import store as store_module

    db.executescript(store_module._SCHEMA_V1 + store_module._SCHEMA_V2 + "PRAGMA user_version=2;")
    db.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES ('old', 0, 0)")
    for i, role in enumerate(("user", "assistant", "user")):
        db.execute("INSERT INTO messages(conversation_id, role, content, created_at) VALUES (1, ?, ?, 0)",
                   (role, f"m{i}"))
    db.commit()
    db.close()
    s = ConversationStore(path)
    assert [m.content for m in s.messages(1)] == ["m0", "m1", "m2"]
    assert [m.parent_id for m in s.messages(1)] == [None, 1, 2]
    assert [h.message_id for h in s.search("m1")] == [2]
    s.close()


def test_conversation_settings_and_presets(store):
    c = store.create_conversation()
    assert store.conversation_settings(c.id) == {}
    store.set_conversation_settings(c.id, {"system_prompt": "Be brief.", "sampling": {"temperature": 0.2}})
    assert store.conversation_settings(c.id)["sampling"] == {"temperature": 0.2}
    store.save_preset("Brief", "Be brief.", {"temperature": 0.2})
    store.save_preset("brief", "Be very brief.")  # names are case-sensitive keys, listed case-free
    store.save_preset("Brief", "Be brief, really.")
    assert [(p.name, p.system_prompt) for p in store.presets()] == [
        ("Brief", "Be brief, really."), ("brief", "Be very brief.")]
    store.delete_preset("brief")
    assert [p.name for p in store.presets()] == ["Brief"]
    with pytest.raises(StoreError):
        store.save_preset("  ", "x")


def test_path_to_a_message_in_another_version(store):
    c = store.create_conversation()
    u1 = store.add_message(c.id, "user", "q1")
    a1 = store.add_message(c.id, "assistant", "a1")
    store.add_message(c.id, "assistant", "a1b", parent_id=u1.id)
    assert [m.content for m in store.path_to(a1.id)] == ["q1", "a1"]
