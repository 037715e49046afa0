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

SCHEMA_VERSION = 2

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

_MIGRATIONS = {1: _SCHEMA_V1, 2: _SCHEMA_V2}
HIT_START, HIT_END = "\x02", "\x03"  # marks around matches in search snippets
EXPORT_FORMAT = "edgechat-conversation"

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


@dataclass(frozen=True)
class SearchHit:
    message_id: int
    conversation_id: int
    conversation_title: str
    role: str
    snippet: str  # matches wrapped in HIT_START / HIT_END


class StoreError(Exception):
    pass


def _snippet(content: str, query: str, width: int = 60) -> str:
    at = content.lower().find(query.lower())
    if at < 0:
        return content[:width]
    start = max(at - width // 2, 0)
    end = at + len(query)
    return ("…" if start else "") + content[start:at] + HIT_START + content[at:end] + HIT_END + \
        content[end:end + width // 2] + ("…" if end + width // 2 < len(content) else "")


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
        for step in range(version + 1, SCHEMA_VERSION + 1):
            # executescript commits anything pending first, so each script carries its own
            # transaction: a step and its version number land together or not at all.
            self._db.executescript(f"BEGIN; {_MIGRATIONS[step]} PRAGMA user_version={step}; COMMIT;")

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

    def messages(self, conversation_id: int, last: int | None = None) -> list[StoredMessage]:
        """The conversation's messages in order; only the newest ``last`` of them when given."""
        if last is None:
            rows = self._db.execute(
                "SELECT id, conversation_id, role, content, status, meta, created_at FROM messages "
                "WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            )
        else:
            rows = reversed(self._db.execute(
                "SELECT id, conversation_id, role, content, status, meta, created_at FROM messages "
                "WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                (conversation_id, last),
            ).fetchall())
        return [
            StoredMessage(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else {}, r[6])
            for r in rows
        ]

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
            "messages": [
                {"role": m.role, "content": m.content, "status": m.status,
                 "created_at": m.created_at, "meta": m.meta}
                for m in self.messages(conversation_id)
            ],
        }

    def export_markdown(self, conversation_id: int) -> str:
        data = self.export_json(conversation_id)
        names = {"user": "You", "assistant": "Assistant", "system": "System"}
        parts = [f"# {data['title']}\n"]
        for m in data["messages"]:
            parts.append(f"## {names[m['role']]}\n\n{m['content']}\n")
        return "\n".join(parts)

    def import_json(self, data) -> Conversation:
        """A conversation exported by export_json (from this or another machine)."""
        if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
            raise StoreError("This file is not an EdgeChat conversation export.")
        if data.get("version") != 1:
            raise StoreError(f"This export is version {data.get('version')!r}; this EdgeChat reads 1.")
        messages = data.get("messages")
        if not isinstance(messages, list):
            raise StoreError("The export has no message list.")
        clean = []
        for i, m in enumerate(messages):
            if (not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant")
                    or not isinstance(m.get("content"), str)):
                raise StoreError(f"Message {i + 1} of the export is malformed.")
            status = m.get("status") if m.get("status") in STATUSES else "complete"
            if status == "streaming":
                status = "interrupted"
            clean.append((m["role"], m["content"], status,
                          m.get("meta") if isinstance(m.get("meta"), dict) else None))
        title = str(data.get("title") or "Imported chat").strip()[:200] or "Imported chat"
        with self._tx():
            now = time.time()
            cur = self._db.execute(
                "INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)",
                (title, now, now))
            conversation_id = cur.lastrowid
            self._db.executemany(
                "INSERT INTO messages(conversation_id, role, content, status, meta, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(conversation_id, role, content, status, json.dumps(meta) if meta else None, now)
                 for role, content, status, meta in clean],
            )
        return self.conversation(conversation_id)

    def count_messages(self, conversation_id: int, from_id: int = 0) -> int:
        """How many messages the conversation has (from message ``from_id`` on, if given)."""
        return self._db.execute(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND id >= ?",
            (conversation_id, from_id),
        ).fetchone()[0]

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
