"""Search across conversations (SQLite FTS5), export to Markdown and JSON, import JSON back."""

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from desktop.storage.store import HIT_END, HIT_START, ConversationStore, StoreError
from desktop.ui.main_window import MainWindow
from desktop.workers.generation import EngineHost


@pytest.fixture
def store(tmp_path):
    s = ConversationStore(tmp_path / "c.sqlite3")
    trip = s.create_conversation("Trip to Paris")
    s.add_message(trip.id, "user", "What is the capital of France?")
    s.add_message(trip.id, "assistant", "Paris is the capital. 巴黎是法国的首都。")
    code = s.create_conversation("Python help")
    s.add_message(code.id, "user", "How do I reverse a list in Python? 100%_sure")
    yield s
    s.close()


def test_search_finds_substrings_in_any_language_newest_first(store):
    hits = store.search("capital")
    assert [h.role for h in hits] == ["assistant", "user"]
    assert f"{HIT_START}capital{HIT_END}" in hits[0].snippet
    assert hits[0].conversation_title == "Trip to Paris"
    assert [h.role for h in store.search("首都")] == ["assistant"]  # no spaces between words
    assert len(store.search("CAPITAL")) == 2  # case-insensitive
    assert store.search("%_")[0].conversation_title == "Python help"  # short: LIKE, escaped
    assert store.search('"; DROP TABLE messages; --') == []  # a phrase, never FTS syntax
    assert store.search("   ") == []


def test_search_follows_edits_and_deletes(store):
    (conv,) = [c for c in store.conversations() if c.title == "Python help"]
    reply = store.add_message(conv.id, "assistant", "", status="streaming")
    store.update_message(reply.id, "Use reversed() or slicing")
    assert store.search("slicing")[0].message_id == reply.id
    store.delete_conversation(conv.id)
    assert store.search("slicing") == [] and store.search("reverse") == []


def test_old_databases_are_migrated_and_indexed(tmp_path):
    import sqlite3

    from desktop.storage import store as store_module

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(store_module._SCHEMA_V1 + "PRAGMA user_version=1;")
    db.execute("INSERT INTO conversations VALUES (1, 'Old chat', 0, 0)")
    db.execute("INSERT INTO messages(conversation_id, role, content, created_at) "
               "VALUES (1, 'user', 'an old message about tulips', 0)")
    db.commit()
    db.close()
    s = ConversationStore(path)
    assert s.search("tulips")[0].conversation_title == "Old chat"
    assert s._db.execute("PRAGMA user_version").fetchone()[0] == store_module.SCHEMA_VERSION
    s.close()


def test_export_and_import_round_trip(store):
    (trip,) = [c for c in store.conversations() if c.title == "Trip to Paris"]
    markdown = store.export_markdown(trip.id)
    assert markdown.startswith("# Trip to Paris") and "## Assistant\n\nParis is the capital." in markdown
    data = json.loads(json.dumps(store.export_json(trip.id)))
    copy = store.import_json(data)
    assert copy.title == "Trip to Paris" and copy.id != trip.id
    assert [(m.role, m.content) for m in store.messages(copy.id)] == [
        (m.role, m.content) for m in store.messages(trip.id)]
    assert len(store.search("巴黎")) == 2  # the import is searchable too


@pytest.mark.parametrize("data, message", [
    ({"format": "something-else"}, "not an EdgeChat conversation"),
    ({"format": "edgechat-conversation", "version": 9, "messages": []}, "version 9"),
    ({"format": "edgechat-conversation", "version": 1, "messages": [{"role": "robot"}]},
     "Message 1 of the export: role must be one of: system, user, assistant"),
    ([], "not an EdgeChat conversation"),
])
def test_bad_imports_are_refused_and_nothing_is_added(store, data, message):
    before = len(store.conversations())
    with pytest.raises(StoreError, match=message):
        store.import_json(data)
    assert len(store.conversations()) == before


def test_search_panel_in_the_window(qtbot, tmp_path, store):
    window = MainWindow(store, EngineHost())
    qtbot.addWidget(window)
    window.show()
    try:
        # Offscreen windows are not always made active, so the shortcut map is checked and the
        # action triggered, rather than a key sent to a window that may not have focus.
        assert window.search_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
        window.search_action.trigger()
        qtbot.keyClicks(window.search_panel.field, "capital")
        qtbot.waitUntil(lambda: window.search_panel.model.rowCount() == 2, timeout=3000)
        assert not window.conversation_list.isVisible()
        assert "<b>capital</b>" in window.search_panel.model.index(0, 0).data()
        index = window.search_panel.model.index(1, 0)  # the user's question
        window.search_panel.results.clicked.emit(index)
        assert window.store.conversation(window.session.current_id).title == "Trip to Paris"
        assert len(window.chat_view.messages()) == 2
        window.search_panel.field.clear()
        qtbot.waitUntil(lambda: window.conversation_list.isVisible(), timeout=3000)
        # export and import through the window
        out = tmp_path / "trip.json"
        # Written on the window's job thread; "Exported to" once it is on disk.
        for path, kind in ((out, "json"), (tmp_path / "trip.md", "md")):
            with qtbot.waitSignal(window.background_tasks().task_done, timeout=10_000):
                window.export_conversation(str(path), kind)
            assert window.statusBar().currentMessage() == f"Exported to {path}"
        assert (tmp_path / "trip.md").read_text(encoding="utf-8").startswith("# Trip to Paris")
        # an import runs on its own thread; the chat opens when it is in
        tasks = window.import_tasks()
        with qtbot.waitSignal(tasks.imported, timeout=10_000) as imported:
            window.import_conversation(str(out))
        assert window.conversation_model.rowCount() == 3
        assert window.session.current_id == imported.args[0]
        assert [m.text for m in window.chat_view.messages()][0] == "What is the capital of France?"
        (tmp_path / "bad.json").write_text("{not json")
        with qtbot.waitSignal(tasks.failed, timeout=10_000):
            window.import_conversation(str(tmp_path / "bad.json"))
        assert window.banner.isVisible() and "Could not read" in window.banner.text()
        assert window.conversation_model.rowCount() == 3
    finally:
        window.close()


def test_long_chats_open_on_their_newest_page(qtbot, tmp_path):
    from desktop.workers.chat_session import PAGE

    store = ConversationStore(tmp_path / "long.sqlite3")
    conv = store.create_conversation("Long")
    ids = [store.add_message(conv.id, "user" if i % 2 == 0 else "assistant", f"message number {i}").id
           for i in range(PAGE * 2 + 30)]
    window = MainWindow(store, EngineHost())
    qtbot.addWidget(window)
    window.show()
    try:
        window.session.open_conversation(conv.id)
        shown = window.chat_view.messages()
        assert len(shown) == PAGE and shown[-1].text == f"message number {len(ids) - 1}"
        assert window.earlier_button.isVisible() and f"({len(ids) - PAGE} not shown)" in \
            window.earlier_button.text()
        qtbot.mouseClick(window.earlier_button, Qt.MouseButton.LeftButton)
        assert len(window.chat_view.messages()) == 2 * PAGE
        # a search hit in the oldest message opens the chat back far enough to show it
        window.session.new_conversation()
        window._open_hit(conv.id, ids[0])
        assert window.chat_view.messages()[0].text == "message number 0"
        assert not window.earlier_button.isVisible()
    finally:
        window.close()
        store.close()


def test_thinking_is_exported_folded_and_not_searched(store):
    chat = store.create_conversation("Reasoning")
    question = store.add_message(chat.id, "user", "How many r's in strawberry?")
    store.add_message(chat.id, "assistant", "There are three.", parent_id=question.id,
                      meta={"thinking": "s-t-r-a-w-b-e-r-r-y <b>counting</b>", "thinking_s": 11.6})
    markdown = store.export_markdown(chat.id)
    assert ("## Assistant\n\n<details><summary>Thought for 12 s</summary>\n\n"
            "s-t-r-a-w-b-e-r-r-y &lt;b&gt;counting&lt;/b&gt;\n\n</details>\n\nThere are three.") in markdown
    assert store.export_json(chat.id)["messages"][1]["meta"]["thinking_s"] == 11.6
    assert [h.message_id for h in store.search("three")] and not store.search("counting")


def test_an_export_does_not_carry_the_model_files_path(store):
    """A reply remembers the model file that wrote it (to offer it again), but an export is made
    to be shared: the path, which names the user's folders, stays out; the model's name stays."""
    chat = store.create_conversation("Shared")
    store.add_message(chat.id, "user", "Hi")
    store.add_message(chat.id, "assistant", "Hello", meta={
        "model_id": "/home/alice/Private/models/x.gguf", "stats": {"model": "x"}})
    text = json.dumps(store.export_json(chat.id))
    assert "alice" not in text and "model_id" not in text
    assert '"model": "x"' in text
    assert store.messages(chat.id)[-1].meta["model_id"].endswith("x.gguf")  # kept in the chat itself
