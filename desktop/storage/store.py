"""Conversations and messages in SQLite.

WAL mode with ``synchronous=NORMAL``: every committed write survives the process being killed
(only a power cut can take the last transactions), and readers never block the writer.
A reply is written while it streams, so a crash loses at most the last save interval.
Used from one thread (the GUI thread); the CLI does not touch it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
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

# Message status: a reply is 'streaming' while it is written; 'stopped' when the user stopped it,
# 'error' when generation failed, 'interrupted' when the app died while it streamed.
STATUSES = ("complete", "streaming", "stopped", "error", "interrupted")


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


class StoreError(Exception):
    pass


class ConversationStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            # Autocommit: each write is its own transaction, so it is durable when the call returns.
            self._db = sqlite3.connect(str(self.path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Cannot open the conversation database {self.path}: {exc}") from None
        self.recover_interrupted()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer EdgeChat (schema {version}); update EdgeChat."
            )
        if version < SCHEMA_VERSION:
            # executescript commits anything pending first, so the script carries its own
            # transaction: the schema and its version land together or not at all.
            self._db.executescript(
                f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )

    def _tx(self):
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

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

    def _touch(self, conversation_id: int) -> None:
        self._db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", (time.time(), conversation_id)
        )

    # -- messages ----------------------------------------------------------------------------
    def add_message(
        self, conversation_id: int, role: str, content: str, status: str = "complete",
        meta: dict | None = None,
    ) -> StoredMessage:
        now = time.time()
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO messages(conversation_id, role, content, status, meta, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, status, json.dumps(meta) if meta else None, now),
            )
            self._touch(conversation_id)
        return StoredMessage(cur.lastrowid, conversation_id, role, content, status, meta or {}, now)

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

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT id, conversation_id, role, content, status, meta, created_at FROM messages "
            "WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        return [
            StoredMessage(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else {}, r[6])
            for r in rows
        ]

    def recover_interrupted(self) -> int:
        """Replies still marked 'streaming' were cut off by a crash or a kill: say so."""
        cur = self._db.execute(
            "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
        )
        return cur.rowcount


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN")

    def __exit__(self, exc_type, *_):
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
