"""A process killed with SIGKILL mid-reply leaves the partial reply in the database."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from desktop.storage import ConversationStore
from tests.conftest import LONG_PROMPT

HELPER = Path(__file__).parent / "helpers" / "chat_forever.py"


def stored_reply(db_path):
    if not db_path.exists():
        return None
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT content, status FROM messages WHERE role = 'assistant' ORDER BY id DESC"
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


def test_sigkill_mid_reply_keeps_the_partial_reply(data_dir):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path.cwd()))
    proc = subprocess.Popen([sys.executable, str(HELPER), LONG_PROMPT], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db_path = data_dir / "conversations.sqlite3"
    try:
        assert proc.stdout.readline().strip() == "streaming", proc.stderr.read()
        deadline = time.monotonic() + 30
        row = None
        # Wait until the streaming reply has been saved at least twice (it grew), then kill.
        while time.monotonic() < deadline:
            row = stored_reply(db_path)
            if row and row[1] == "streaming" and len(row[0]) > 40:
                break
            time.sleep(0.05)
        assert row and row[1] == "streaming", row
        # Kill only once a later save has landed: more text streamed after the one we saw. Waited
        # for rather than slept: on a loaded machine the reply can pause for over a second.
        grown = row
        while time.monotonic() < deadline + 30:
            grown = stored_reply(db_path)
            if grown and len(grown[0]) > len(row[0]):
                break
            time.sleep(0.05)
        assert len(grown[0]) > len(row[0]), "the reply was not saved again while it streamed"
        assert proc.poll() is None, "the app ended on its own"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    content, status = stored_reply(db_path)
    assert status == "streaming" and len(content) > len(row[0])  # saved while streaming
    store = ConversationStore(db_path)  # what the app does on its next start
    try:
        (conversation,) = store.conversations()
        user, reply = store.messages(conversation.id)
        assert user.content == LONG_PROMPT
        assert reply.content == content and reply.status == "interrupted"
    finally:
        store.close()
