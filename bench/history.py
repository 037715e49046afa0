"""History at scale: open a conversation of 5,000 messages in the real window, and search
100,000 messages. Prints one JSON line {"bench": "history", "open_ms", "search_ms"}.

The database is built once into a temporary folder (real SQLite, FTS5 triggers on), then the
window opens the long conversation the way a click in the sidebar does, and the search panel's
query runs against all messages. Medians of --runs.

    QT_QPA_PLATFORM=offscreen python bench/history.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

WORDS = ("the", "model", "answers", "questions", "about", "travel", "cooking", "physics", "history",
         "music", "code", "python", "rust", "gardens", "rivers", "mountains", "budget", "planning",
         "recipes", "weather", "poems", "letters")


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def build(path: str, total: int, long_conversation: int) -> int:
    from desktop.storage import ConversationStore

    rng = random.Random(7)
    store = ConversationStore(path)
    db = store._db  # bulk load in one transaction: the app's path commits each message
    now = time.time()
    db.execute("BEGIN")
    db.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)",
               ("A very long chat", now, now + 10))
    long_id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    rows = []
    for i in range(long_conversation):
        role = "user" if i % 2 == 0 else "assistant"
        text = sentence(rng, 12) if role == "user" else "\n\n".join(sentence(rng, 30) for _ in range(3))
        rows.append((long_id, role, text, "complete", None, now))
    conversations = (total - long_conversation) // 100
    for c in range(conversations):
        db.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)",
                   (f"Chat {c}", now, now))
        cid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        for i in range(100):
            rows.append((cid, "user" if i % 2 == 0 else "assistant", sentence(rng, 25), "complete",
                         None, now))
    rows.insert(len(rows) // 2, (long_id, "user", "Where did I put the zanzibar itinerary?",
                                 "complete", None, now))
    db.executemany("INSERT INTO messages(conversation_id, role, content, status, meta, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", rows)
    # Each chat is a chain of messages (the store's message tree, without versions).
    db.execute("UPDATE messages SET parent_id = (SELECT MAX(p.id) FROM messages p "
               "WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)")
    db.execute("UPDATE conversations SET leaf_id = (SELECT MAX(m.id) FROM messages m "
               "WHERE m.conversation_id = conversations.id)")
    db.execute("COMMIT")
    count = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    store.close()
    return count, long_id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--long", type=int, default=5_000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from desktop.storage import ConversationStore
    from desktop.ui.main_window import MainWindow
    from desktop.workers.generation import EngineHost

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "history.sqlite3")
        started = time.perf_counter()
        count, long_id = build(path, args.messages, args.long)
        build_s = time.perf_counter() - started
        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow(ConversationStore(path), EngineHost())
        window.show()
        app.processEvents()
        opens, searches = [], []
        for _ in range(args.runs):
            window.session.new_conversation()
            app.processEvents()
            t = time.perf_counter()
            window.session.open_conversation(long_id)
            app.processEvents()  # the view laid out and painted, as the user sees it
            opens.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            hits = window.store.search("zanzibar itinerary")
            searches.append((time.perf_counter() - t) * 1000)
            assert hits and hits[0].conversation_id == long_id
        shown = len(window.chat_view.messages())
        window.close()
        print(json.dumps({
            "bench": "history",
            "open_ms": round(statistics.median(opens), 1),
            "search_ms": round(statistics.median(searches), 2),
            "messages": count,
            "long_conversation": args.long,
            "widgets_shown": shown,
            "build_s": round(build_s, 1),
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
