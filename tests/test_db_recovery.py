"""A damaged conversation database is moved aside at start, never deleted, and the app opens on a
fresh one and says where the old one went; a database that is fine is left alone."""

from __future__ import annotations

import os
import random
import sqlite3

import pytest

from desktop.storage import recovery
from desktop.storage.recovery import open_store
from desktop.storage.store import SCHEMA_VERSION, ConversationStore, StoreError


def _database(path, messages: int = 2000) -> None:
    store = ConversationStore(path)
    chat = store.create_conversation("Keep me")
    for i in range(messages):
        store.add_message(chat.id, "user" if i % 2 == 0 else "assistant",
                          f"message {i} " + "some words to fill the pages " * 5)
    store.close()


def _damage_pages(path, seed: int = 1) -> None:
    """Garbage over every page but the first: the header and schema still read, so the file
    opens; its tables do not."""
    with open(path, "rb") as f:
        page_size = int.from_bytes(f.read(18)[16:18], "big")
    size = path.stat().st_size
    rng = random.Random(seed)
    with open(path, "r+b") as f:
        f.seek(page_size)
        f.write(rng.randbytes(size - page_size))


def _aside(path) -> list:
    return sorted(p.name for p in path.parent.iterdir() if ".damaged-" in p.name)


def test_garbage_in_the_table_pages_is_moved_aside_and_a_fresh_store_opens(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    _database(path)
    _damage_pages(path)
    with pytest.raises(StoreError):  # what every start used to end in (as a traceback)
        ConversationStore(path)
    damaged = path.read_bytes()
    store, notice = open_store(path)
    try:
        (moved,) = _aside(path)
        assert (tmp_path / moved).read_bytes() == damaged  # kept as it was, beside the new one
        assert moved.startswith("conversations.sqlite3.damaged-")
        assert notice and str(tmp_path / moved) in notice and "damaged" in notice
        assert store.conversations() == []
        chat = store.create_conversation("Fresh")
        store.add_message(chat.id, "user", "works")
        assert store.check() == []
    finally:
        store.close()


def test_damage_that_only_the_full_check_finds_is_found(tmp_path):
    """Garbage in the search index only: the store opens and the chats read, but the first
    search or new message would fail. quick_check at start finds it."""
    path = tmp_path / "conversations.sqlite3"
    _database(path)
    db = sqlite3.connect(path)
    try:
        pages = [r[0] for r in db.execute(
            "SELECT pageno FROM dbstat WHERE name = 'messages_fts_data' AND pagetype = 'leaf'")]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table")
    finally:
        db.close()
    rng = random.Random(3)
    with open(path, "r+b") as f:
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(rng.randbytes(page_size))
    store = ConversationStore(path)  # opens, and reads the chats...
    assert len(store.messages(1)) == 2000
    assert store.check()  # ...but is damaged
    store.close()
    store, notice = open_store(path)
    store.close()
    assert notice and len(_aside(path)) == 1


def test_a_garbage_header_is_moved_aside_with_its_wal(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    _database(path, messages=50)
    with open(path, "r+b") as f:
        f.write(os.urandom(100))
    (tmp_path / "conversations.sqlite3-wal").write_bytes(b"old wal")
    store, notice = open_store(path)
    store.close()
    moved = _aside(path)
    assert len(moved) == 2 and moved[1] == moved[0] + "-wal"
    assert (tmp_path / moved[1]).read_bytes() == b"old wal"
    assert notice


def test_a_second_damage_the_same_second_gets_its_own_name(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    for _ in range(2):
        path.write_bytes(b"not a database at all" * 100)
        store, _notice = open_store(path)
        store.close()
    assert len(_aside(path)) == 2


def test_a_database_that_is_fine_opens_without_a_notice(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    _database(path, messages=10)
    store, notice = open_store(path)
    try:
        assert notice is None and _aside(path) == []
        assert [c.title for c in store.conversations()] == ["Keep me"]
    finally:
        store.close()
    store, notice = open_store(tmp_path / "new.sqlite3")  # none yet: created
    store.close()
    assert notice is None


def test_a_newer_database_is_not_damage_and_stays(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    _database(path, messages=2)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer EdgeChat"):
        open_store(path)
    assert _aside(path) == [] and path.exists()


def test_when_moving_aside_fails_the_user_is_told_and_nothing_moves(tmp_path, monkeypatch):
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    (tmp_path / "conversations.sqlite3-wal").write_bytes(b"wal")
    real_rename = os.rename

    def rename(source, destination):
        if str(source) == str(path):  # the companion moves, the database does not
            raise PermissionError(13, "Permission denied")
        real_rename(source, destination)

    monkeypatch.setattr(recovery.os, "rename", rename)
    with pytest.raises(StoreError, match="could not be moved aside.*Permission denied"):
        open_store(path)
    assert path.read_bytes() == b"garbage" * 1000
    assert (tmp_path / "conversations.sqlite3-wal").read_bytes() == b"wal"  # put back
    assert _aside(path) == []


def test_the_app_starts_on_a_damaged_database_and_shows_the_notice(qtbot, tmp_path, monkeypatch):
    """What run_app does between opening the store and the event loop, without the loop."""
    from desktop.storage.store import ConversationStore as Store
    from desktop.ui.main_window import MainWindow
    from desktop.workers.generation import EngineHost

    path = tmp_path / "conversations.sqlite3"
    _database(path, messages=500)
    _damage_pages(path, seed=7)
    monkeypatch.setattr("desktop.paths.database_path", lambda: path)
    from desktop.paths import database_path

    store, notice = open_store(database_path())
    assert isinstance(store, Store) and notice
    window = MainWindow(store, EngineHost())
    qtbot.addWidget(window)
    window.show()
    window.show_notice(notice)
    try:
        assert window.banner.isVisible() and "damaged" in window.banner.text()
    finally:
        window.close()
        store.close()
