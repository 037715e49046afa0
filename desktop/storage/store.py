"""Conversations and messages in SQLite.

WAL mode with ``synchronous=NORMAL``: every committed write survives the process being killed
(only a power cut can take the last transactions), and readers never block the writer.
A reply is written while it streams, so a crash loses at most the last save interval.
A connection belongs to the thread that opened it: the GUI thread has one, the import worker
opens its own on the same file. The CLI does not touch the store.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.storage.errors import DamagedDatabaseError, NewerSchemaError, StoreError
from desktop.storage.importer import (
    EXPORT_FORMAT,
    STATUSES,
    ValidExport,
    check_cancel,
    read_export,
    read_meta,
    read_sampling,
    read_settings,
    validate_export,
)
from desktop.text import translate

__all__ = ["ConversationStore", "Conversation", "StoredMessage", "Preset", "SearchHit",
           "StoreError", "NewerSchemaError", "DamagedDatabaseError", "EXPORT_FORMAT", "STATUSES",
           "HIT_START", "HIT_END", "SCHEMA_VERSION"]

SCHEMA_VERSION = 3

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS conversations (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    created_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'complete',
    meta            TEXT,
    created_at      REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX IF NOT EXISTS conversations_by_recency ON conversations(updated_at DESC);
"""

# Full-text search over every message. The trigram tokenizer matches any substring of three or
# more characters, which also works for Chinese and Japanese, where words are not space-separated
# and the default tokenizer would index a whole sentence as one "word".
_SCHEMA_V2 = """
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
    content, content='messages', content_rowid='id', tokenize='trigram'
);
INSERT INTO messages_fts(rowid, content) SELECT id, content FROM messages;
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
"""

# Versions: a conversation is a tree of messages. Regenerating a reply or editing a message adds a
# sibling (a new version of that turn) instead of overwriting, and the conversation remembers
# which leaf is on screen; the path from the root to that leaf is "the chat". Existing chats
# become a chain. parent_id has no REFERENCES clause on purpose: a cascade would recurse once per
# message and a long chat would exceed SQLite's trigger depth; subtrees are deleted explicitly.
_SCHEMA_V3 = """
ALTER TABLE messages ADD COLUMN parent_id INTEGER;
ALTER TABLE conversations ADD COLUMN leaf_id INTEGER;
ALTER TABLE conversations ADD COLUMN settings TEXT;
UPDATE messages SET parent_id = (
    SELECT MAX(p.id) FROM messages p
    WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id
);
UPDATE conversations SET leaf_id = (
    SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = conversations.id
);
CREATE INDEX IF NOT EXISTS messages_by_parent ON messages(parent_id);
CREATE TABLE IF NOT EXISTS presets (
    name          TEXT PRIMARY KEY,
    system_prompt TEXT NOT NULL,
    settings      TEXT
);
"""

_MIGRATIONS = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3}
_COLUMNS = "m.id, m.conversation_id, m.role, m.content, m.status, m.meta, m.created_at, m.parent_id"
_PATH = """
WITH RECURSIVE path(id, depth) AS (
    SELECT leaf_id, 0 FROM conversations WHERE id = :conversation AND leaf_id IS NOT NULL
    UNION ALL
    SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id
    WHERE m.parent_id IS NOT NULL AND path.depth + 1 < :limit
)
"""
_SUBTREE = """
WITH RECURSIVE sub(id) AS (
    SELECT :root UNION ALL SELECT m.id FROM messages m JOIN sub ON m.parent_id = sub.id
)
"""
_NO_LIMIT = 1 << 62
HIT_START, HIT_END = "\x02", "\x03"  # marks around matches in search snippets
# Message status (STATUSES, from the importer): a reply is 'streaming' while it is written;
# 'stopped' when the user stopped it, 'error' when generation failed, 'interrupted' when the app
# died while it streamed.
# SQLite's primary result codes for a file that is not a database or whose pages are garbage.
# Anything else (locked, no permission, disk full) is not damage: the file must stay where it is.
_DAMAGE_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str
    content: str
    status: str
    meta: dict
    created_at: float
    parent_id: int | None = None


@dataclass(frozen=True)
class Preset:
    name: str
    system_prompt: str
    settings: dict


@dataclass(frozen=True)
class SearchHit:
    message_id: int
    conversation_id: int
    conversation_title: str
    role: str
    snippet: str  # matches wrapped in HIT_START / HIT_END


def _snippet(content: str, query: str, width: int = 60) -> str:
    at = content.lower().find(query.lower())
    if at < 0:
        return content[:width]
    start = max(at - width // 2, 0)
    end = at + len(query)
    return ("…" if start else "") + content[start:at] + HIT_START + content[at:end] + HIT_END + \
        content[end:end + width // 2] + ("…" if end + width // 2 < len(content) else "")


class ConversationStore:
    def __init__(self, path: str | Path, recover: bool = True):
        """Open (creating or migrating) the database. ``recover`` marks replies left streaming
        by a crash as interrupted: only the app's first connection may, never a second one
        opened while a reply may be streaming (the import worker's)."""
        self.path = Path(path)
        self._db = None
        self._scrub = False
        self._closed = False
        try:
            # Autocommit: each write is its own transaction, so it is durable when the call returns.
            self._db = sqlite3.connect(str(self.path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            # A deleted chat's text must not stay readable in the file: freed pages and the
            # space of deleted rows are overwritten with zeros.
            self._db.execute("PRAGMA secure_delete=ON")
            self._migrate()
            if recover:
                self.recover_interrupted()  # scans every message: damaged pages show up here
        except sqlite3.DatabaseError as exc:
            # Closed at once: a damaged file is moved aside next, and an open handle would stop
            # that on Windows.
            self._close_quietly()
            raise self._open_error(exc) from None
        except BaseException:
            self._close_quietly()
            raise

    def _open_error(self, exc: sqlite3.DatabaseError) -> StoreError:
        damaged = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in _DAMAGE_CODES
        return (DamagedDatabaseError if damaged else StoreError)(translate(
            "Core", "Cannot open the conversation database {path}: {reason}").format(
            path=self.path, reason=exc))

    def _close_quietly(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()

    def check(self) -> list[str]:
        """What SQLite's quick_check finds wrong in every page (empty: nothing). Reads the whole
        file: about 0.15 s for 100,000 messages (140 MB) when cached, 0.4 s when not."""
        try:
            rows = self._db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from None
        found = [str(r[0]) for r in rows]
        return [] if found == ["ok"] else found

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(translate(
                "Core", "{path} was written by a newer EdgeChat (schema {version}); update "
                        "EdgeChat.").format(path=self.path, version=version))
        for step in range(version + 1, SCHEMA_VERSION + 1):
            # executescript commits anything pending first, so each script carries its own
            # transaction: a step and its version number land together or not at all.
            self._db.executescript(f"BEGIN; {_MIGRATIONS[step]} PRAGMA user_version={step}; COMMIT;")

    def _tx(self):
        return _Transaction(self._db)

    def close(self) -> None:
        self._closed = True
        self._close_quietly()

    # -- conversations ---------------------------------------------------------------------
    def create_conversation(self, title: str = "New chat") -> Conversation:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)",
            (title, now, now),
        )
        return Conversation(cur.lastrowid, title, now, now)

    def conversations(self) -> list[Conversation]:
        rows = self._db.execute(
            "SELECT id, title, created_at, updated_at FROM conversations "
            "ORDER BY updated_at DESC, id DESC"
        )
        return [Conversation(*row) for row in rows]

    def conversation(self, conversation_id: int) -> Conversation | None:
        row = self._db.execute(
            "SELECT id, title, created_at, updated_at FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        return Conversation(*row) if row else None

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        title = title.strip()
        if not title:
            raise StoreError("A conversation needs a name.")
        self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        self._deleted()

    def delete_all_conversations(self) -> None:
        """Delete every chat and its messages (presets stay), leaving none of their text in the
        file: the full-text index is emptied at once and the file rewritten (VACUUM)."""
        # Without the index's delete trigger, which would read every message only to mark it
        # deleted in an index emptied the next moment (seconds for a large history).
        trigger = self._db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND "
                                   "name = 'messages_fts_delete'").fetchone()
        with self._tx():
            if trigger:
                self._db.execute("DROP TRIGGER messages_fts_delete")
            self._db.execute("DELETE FROM messages")
            self._db.execute("DELETE FROM conversations")
            self._db.execute("INSERT INTO messages_fts(messages_fts) VALUES('delete-all')")
            if trigger:
                self._db.execute(trigger[0])
        self._db.execute("VACUUM")
        self._checkpoint()
        self._mark_scrub(False)

    # -- leaving no trace of what was deleted ---------------------------------------------
    # secure_delete zeroes what a delete frees, and a checkpoint empties the write-ahead log,
    # which still holds the pages as they were written. The full-text index is the one place
    # left: a delete only adds a "deleted" mark beside the old entries (trigrams of the text,
    # with positions), which go when the index's segments are merged. scrub() merges them a
    # step at a time (a few milliseconds each), so the window's thread is never held long; a
    # marker file beside the database keeps the work pending across a restart.
    SCRUB_PAGES = 64

    def _scrub_marker(self) -> Path:
        return self.path.with_name(self.path.name + ".scrub")

    def _mark_scrub(self, pending: bool) -> None:
        marker = self._scrub_marker()
        try:
            if pending:
                marker.touch()
            else:
                marker.unlink(missing_ok=True)
        except OSError:
            pass  # then the merge runs only until this store closes

    def _deleted(self) -> None:
        self._scrub = True
        self._mark_scrub(True)
        self._checkpoint()

    def _checkpoint(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    @property
    def scrub_pending(self) -> bool:
        """Deleted text may still be in the full-text index: call scrub() until it says False."""
        return self._scrub or self._scrub_marker().exists()

    def scrub(self, pages: int = SCRUB_PAGES) -> bool:
        """One step of merging the full-text index (about ``pages`` pages written); True while
        there is more to do. The last step empties the write-ahead log."""
        if self._closed:
            return False  # the rest waits for the next start (the marker file says so)
        before = self._db.total_changes
        self._db.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES('merge', ?)", (-abs(pages),))
        if self._db.total_changes - before >= 2:  # SQLite's sign that the merge did some work
            return True
        self._checkpoint()
        self._scrub = False
        self._mark_scrub(False)
        return False

    # -- messages ----------------------------------------------------------------------------
    _UNSET = object()

    def add_message(
        self, conversation_id: int, role: str, content: str, status: str = "complete",
        meta: dict | None = None, parent_id=_UNSET,
    ) -> StoredMessage:
        """Add a message after ``parent_id`` (by default the end of the chat on screen) and make
        it the end of the chat on screen. A parent that already has children gets a new version."""
        now = time.time()
        with self._tx():
            if parent_id is self._UNSET:
                parent_id = self._leaf(conversation_id)
            cur = self._db.execute(
                "INSERT INTO messages(conversation_id, role, content, status, meta, created_at, "
                "parent_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, status, json.dumps(meta) if meta else None, now,
                 parent_id),
            )
            self._db.execute("UPDATE conversations SET leaf_id = ?, updated_at = ? WHERE id = ?",
                             (cur.lastrowid, now, conversation_id))
        return StoredMessage(cur.lastrowid, conversation_id, role, content, status, meta or {}, now,
                             parent_id)

    def _leaf(self, conversation_id: int) -> int | None:
        row = self._db.execute("SELECT leaf_id FROM conversations WHERE id = ?",
                               (conversation_id,)).fetchone()
        return row[0] if row else None

    def update_message(
        self, message_id: int, content: str, status: str | None = None, meta: dict | None = None
    ) -> None:
        sets, args = ["content = ?"], [content]
        if status is not None:
            sets.append("status = ?")
            args.append(status)
        if meta is not None:
            sets.append("meta = ?")
            args.append(json.dumps(meta))
        args.append(message_id)
        self._db.execute(f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", args)

    def message(self, message_id: int) -> StoredMessage | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM messages m WHERE m.id = ?",
                               (message_id,)).fetchone()
        return _message(row) if row else None

    def messages(self, conversation_id: int, last: int | None = None) -> list[StoredMessage]:
        """The chat on screen, oldest first: the path from the first message to the current leaf
        (only its newest ``last`` messages when given)."""
        rows = self._db.execute(
            f"{_PATH} SELECT {_COLUMNS} FROM path JOIN messages m ON m.id = path.id "
            "ORDER BY path.depth DESC",
            {"conversation": conversation_id, "limit": _NO_LIMIT if last is None else last},
        )
        return [_message(r) for r in rows]

    def path_to(self, message_id: int) -> list[StoredMessage]:
        """The messages from the start of the chat down to this one, oldest first."""
        rows = self._db.execute(
            "WITH RECURSIVE up(id, depth) AS (SELECT ?, 0 UNION ALL SELECT m.parent_id, up.depth + 1 "
            "FROM messages m JOIN up ON m.id = up.id WHERE m.parent_id IS NOT NULL) "
            f"SELECT {_COLUMNS} FROM up JOIN messages m ON m.id = up.id ORDER BY up.depth DESC",
            (message_id,))
        return [_message(r) for r in rows]

    def count_messages(self, conversation_id: int, from_id: int | None = None) -> int:
        """How long the chat on screen is (counting from message ``from_id`` on, if given)."""
        params = {"conversation": conversation_id, "limit": _NO_LIMIT}
        if from_id is None:
            return self._db.execute(f"{_PATH} SELECT COUNT(*) FROM path", params).fetchone()[0]
        row = self._db.execute(f"{_PATH} SELECT depth FROM path WHERE id = :target",
                               {**params, "target": from_id}).fetchone()
        return row[0] + 1 if row else 0

    def versions(self, message_id: int) -> list[int]:
        """The versions of a message's turn (it and its siblings), oldest first."""
        row = self._db.execute("SELECT conversation_id, parent_id FROM messages WHERE id = ?",
                               (message_id,)).fetchone()
        if row is None:
            return []
        return [r[0] for r in self._db.execute(
            "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id", row)]

    def show_version(self, message_id: int) -> None:
        """Put a message on screen: the chat becomes the path through it, continued by the most
        recent message written below it (always a leaf: nothing can be newer than its children)."""
        message = self.message(message_id)
        if message is None:
            raise StoreError("That message no longer exists.")
        leaf = self._db.execute(f"{_SUBTREE} SELECT MAX(id) FROM sub", {"root": message_id}).fetchone()[0]
        self._db.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?",
                         (leaf, message.conversation_id))

    def delete_message(self, message_id: int) -> int:
        """Delete a message; returns how many messages went.

        A message that is one of several versions goes with what was written after it (that
        branch exists only because of it). A message without other versions goes alone: the
        messages after it move up to its parent, so the rest of the chat stays.
        """
        message = self.message(message_id)
        if message is None:
            return 0
        siblings = self.versions(message_id)
        with self._tx():
            if len(siblings) > 1:
                ids = [r[0] for r in self._db.execute(f"{_SUBTREE} SELECT id FROM sub",
                                                     {"root": message_id})]
            else:
                ids = [message_id]
                self._db.execute("UPDATE messages SET parent_id = ? WHERE parent_id = ?",
                                 (message.parent_id, message_id))
            on_screen = {m.id for m in self.messages(message.conversation_id)}
            self._db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])
            if on_screen & set(ids):
                # Show what is left: the path through another version, or the parent's.
                others = [s for s in siblings if s != message_id]
                if others:
                    leaf = self._db.execute(f"{_SUBTREE} SELECT MAX(id) FROM sub",
                                            {"root": others[-1]}).fetchone()[0]
                else:
                    leaf = self._leaf(message.conversation_id)
                    if leaf == message_id:
                        leaf = message.parent_id
                self._db.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?",
                                 (leaf, message.conversation_id))
        self._deleted()
        return len(ids)

    # -- per-conversation settings and presets ------------------------------------------------
    def conversation_settings(self, conversation_id: int) -> dict:
        row = self._db.execute("SELECT settings FROM conversations WHERE id = ?",
                               (conversation_id,)).fetchone()
        return read_settings(row[0]) if row else {}

    def set_conversation_settings(self, conversation_id: int, settings: dict) -> None:
        self._db.execute("UPDATE conversations SET settings = ? WHERE id = ?",
                         (json.dumps(settings) if settings else None, conversation_id))

    def presets(self) -> list[Preset]:
        return [Preset(name, prompt, read_sampling(settings))
                for name, prompt, settings in self._db.execute(
                    "SELECT name, system_prompt, settings FROM presets ORDER BY name COLLATE NOCASE")]

    def save_preset(self, name: str, system_prompt: str, settings: dict | None = None) -> Preset:
        name = name.strip()
        if not name:
            raise StoreError("A preset needs a name.")
        self._db.execute(
            "INSERT INTO presets(name, system_prompt, settings) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET system_prompt = excluded.system_prompt, "
            "settings = excluded.settings",
            (name, system_prompt, json.dumps(settings) if settings else None))
        return Preset(name, system_prompt, settings or {})

    def delete_preset(self, name: str) -> None:
        self._db.execute("DELETE FROM presets WHERE name = ?", (name,))

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing ``query`` (case-insensitive), newest first, with a snippet whose
        matches are wrapped in HIT_START / HIT_END."""
        query = query.strip()
        if not query:
            return []
        if len(query) >= 3:
            phrase = '"' + query.replace('"', '""') + '"'
            rows = self._db.execute(
                "SELECT m.id, m.conversation_id, c.title, m.role, "
                f"snippet(messages_fts, 0, '{HIT_START}', '{HIT_END}', '…', 48) "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? ORDER BY m.id DESC LIMIT ?",
                (phrase, limit),
            )
        else:  # trigrams need three characters: short queries scan, which is fine for a few
            like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = [
                (mid, cid, title, role, _snippet(content, query))
                for mid, cid, title, role, content in self._db.execute(
                    "SELECT m.id, m.conversation_id, c.title, m.role, m.content FROM messages m "
                    "JOIN conversations c ON c.id = m.conversation_id "
                    "WHERE m.content LIKE ? ESCAPE '\\' ORDER BY m.id DESC LIMIT ?",
                    (like, limit),
                )
            ]
        return [SearchHit(*row) for row in rows]

    # -- export and import -------------------------------------------------------------------
    def export_json(self, conversation_id: int) -> dict:
        conversation = self.conversation(conversation_id)
        if conversation is None:
            raise StoreError("That conversation no longer exists.")
        return {
            "format": EXPORT_FORMAT,
            "version": 1,
            "title": conversation.title,
            "created_at": conversation.created_at,
            "settings": self.conversation_settings(conversation_id),
            # Each message's id, so that an import can map what meta["left_out"] names (ids of
            # this database) to the ids the messages get in the other one.
            "messages": [
                {"id": m.id, "role": m.role, "content": m.content, "status": m.status,
                 "created_at": m.created_at, "meta": _shareable(m.meta)}
                for m in self.messages(conversation_id)
            ],
        }

    def export_markdown(self, conversation_id: int) -> str:
        data = self.export_json(conversation_id)
        names = {"user": "You", "assistant": "Assistant", "system": "System"}
        parts = [f"# {data['title']}\n"]
        for m in data["messages"]:
            parts.append(f"## {names[m['role']]}\n\n{_thinking_markdown(m['meta'])}{m['content']}\n")
        return "\n".join(parts)

    def import_json(self, data) -> Conversation:
        """A conversation exported by export_json (from this or another machine), already
        parsed. Checked in full first (see importer.py): StoreError for anything wrong, and
        then nothing is added."""
        return self.add_import(validate_export(data))

    def import_file(self, path: str | Path, cancel=None, progress=None) -> Conversation:
        """Read, check and add an export file. ``cancel`` (an Event) stops it at the next step
        with ImportCancelled and nothing added; ``progress`` gets fractions from 0 to 1."""
        def step(start: float, span: float):
            return None if progress is None else (lambda f: progress(start + span * f))

        return self.add_import(read_export(path, cancel, step(0.0, 0.6)), cancel, step(0.6, 0.4))

    def add_import(self, export: ValidExport, cancel=None, progress=None) -> Conversation:
        """Write a checked export as a new conversation, in one transaction: a cancel or a
        failure part way leaves nothing behind."""
        total = max(len(export.messages), 1)
        with self._tx():
            now = time.time()
            cur = self._db.execute(
                "INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)",
                (export.title, now, now))
            conversation_id = cur.lastrowid
            parent = None
            new_ids: dict[int, int] = {}  # the export's message ids -> this database's
            for n, m in enumerate(export.messages):
                if n % 256 == 0:
                    check_cancel(cancel)
                    if progress is not None:
                        progress(n / total)
                meta = dict(m.meta)
                # The messages a reply did not see are earlier ones, so already mapped; an id
                # that maps to nothing (an old export without ids, a message not exported) goes.
                left_out = [new_ids[i] for i in m.left_out if i in new_ids]
                if left_out:
                    meta["left_out"] = left_out
                parent = self._db.execute(
                    "INSERT INTO messages(conversation_id, role, content, status, meta, created_at, "
                    "parent_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (conversation_id, m.role, m.content, m.status,
                     json.dumps(meta) if meta else None, now, parent),
                ).lastrowid
                if m.export_id is not None:
                    new_ids[m.export_id] = parent
            self._db.execute("UPDATE conversations SET leaf_id = ?, settings = ? WHERE id = ?",
                             (parent, json.dumps(export.settings) if export.settings else None,
                              conversation_id))
            check_cancel(cancel)
        if progress is not None:
            progress(1.0)
        return self.conversation(conversation_id)

    def recover_interrupted(self) -> int:
        """Replies still marked 'streaming' were cut off by a crash or a kill: say so."""
        cur = self._db.execute(
            "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
        )
        return cur.rowcount


def _message(row) -> StoredMessage:
    # Meta is rendered as it is read: a value that is not what the app writes (an import by an
    # older EdgeChat, a hand edit) is dropped here rather than break the chat's display.
    return StoredMessage(row[0], row[1], row[2], row[3], row[4], read_meta(row[5]), row[6], row[7])


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN")

    def __exit__(self, exc_type, *_):
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def _thinking_markdown(meta: dict) -> str:
    """A reasoning model's thinking as a folded block before its answer (GitHub and most
    Markdown viewers render <details>); the answer stays the message's own text."""
    thinking = meta.get("thinking") if isinstance(meta, dict) else None
    if not isinstance(thinking, str) or not thinking.strip():
        return ""
    seconds = meta.get("thinking_s")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and math.isfinite(seconds):
        summary = f"Thought for {max(round(seconds), 1)} s"
    else:
        summary = "Thinking"
    # Escaped: the thinking is shown as written, never as HTML that could close the block.
    text = html.escape(thinking.strip(), quote=False)
    return f"<details><summary>{summary}</summary>\n\n{text}\n\n</details>\n\n"


def _shareable(meta):
    """A message's meta as an export carries it: without the path of the model file that wrote
    it (an export is made to be shared, and a path names the user's folders). The model's name
    stays in the reply's stats."""
    if isinstance(meta, dict) and "model_id" in meta:
        return {k: v for k, v in meta.items() if k != "model_id"}
    return meta
