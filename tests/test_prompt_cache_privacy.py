"""A private prompt cache, and no chat text left behind once a chat is deleted.

What a chat's prompt states keep on disk is encrypted with the install's key and found by keyed
block hashes (desktop/engines/prompt_cache.py, cache_key.py); a chat's states go when the chat
goes; a state is written when the user leaves the chat, when the app is idle, or at close; a
deleted chat's text leaves the database file (store.py). With the real model, the real window
and real SQLite.
"""

from __future__ import annotations

import logging
import os
import stat
import time

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from desktop.engines import cache_key
from desktop.engines import prompt_cache as pc
from desktop.engines.base import SamplingParams

GREEDY = SamplingParams(temperature=0, max_tokens=12)
KEY = bytes(range(32))
SECRET = "My locker code is Qzxv-Jkwp and my cat is called Mister Pemberton"
# Trigrams of the secret found nowhere else (the full-text index keeps text as trigrams).
SECRET_GRAMS = (b"Qzxv", b"qzx", b"zxv", b"jkw", b"kwp")
SYSTEM = {"role": "system", "content": "You are a helpful assistant who answers briefly."}
LOGGER = "desktop.engines.prompt_cache"


def reply(engine, messages, params=GREEDY):
    text = "".join(engine.stream(messages, params))
    return text, engine.last_stats


def owned(owner: str | None) -> SamplingParams:
    return SamplingParams(temperature=0, max_tokens=12, cache_owner=owner)


def state_files() -> list:
    return sorted(pc.prompt_cache_dir().rglob("*" + pc.SUFFIX))


def token_patterns(tokens, window: int = 6) -> set[bytes]:
    """Every run of ``window`` consecutive token ids, as int32 and as int64 bytes (both byte
    orders): how a file could hold the prompt in clear."""
    tokens = np.asarray(tokens, dtype=np.int64)
    found = set()
    for start in range(len(tokens) - window + 1):
        run = tokens[start:start + window]
        for dtype in ("<i4", ">i4", "<i8", ">i8"):
            found.add(run.astype(dtype).tobytes())
    return found


def leaks(folder, needles: set[bytes], skip=()) -> list[str]:
    """The files under ``folder`` (except ``skip``) holding any of ``needles``."""
    hits = []
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or any(f.name.startswith(s) for s in skip):
            continue
        data = f.read_bytes()
        if any(n in data for n in needles):
            hits.append(str(f.relative_to(folder)))
    return hits


# -- the disk format, without a model --------------------------------------------------------------


def test_a_state_file_holds_no_token_in_clear_and_its_hashes_are_keyed(tmp_path):
    tokens = list(range(5000, 5100))
    payload = bytearray(b"KV-ROWS " * 1000)
    tier = pc.DiskTier(tmp_path, "space1", 10**9, secret=KEY)
    tier.save(tokens, payload, owner="chat:7")
    assert tier.flush(10)
    (path,) = list(tmp_path.rglob("*" + pc.SUFFIX))
    data = path.read_bytes()
    assert not leaks(tmp_path, token_patterns(tokens) | {b"KV-ROWS", b"chat:7"})
    assert b'"owner": "' in data  # a keyed hash of the owner, not its name
    # The hashes that find a state depend on the key: a known prompt's hashes, computed with
    # another key (the same system prompt on another computer), match nothing here.
    mine, other = pc.Sealer(KEY), pc.Sealer(bytes(32))
    assert mine.chain("space1", tokens) in data
    assert other.chain("space1", tokens) not in data
    assert len(mine.chain("space1", tokens)) == 100 // pc.BLOCK_TOKENS * 16
    # The chain follows the tokens block by block: a prompt sharing 3 blocks shares 3 hashes.
    changed = tokens[:3 * pc.BLOCK_TOKENS + 5] + [1] + tokens[3 * pc.BLOCK_TOKENS + 6:]
    assert pc.shared_blocks(mine.chain("space1", tokens), mine.chain("space1", changed)) == 3
    found, n = tier.best(changed)
    assert found == path and n == 3 * pc.BLOCK_TOKENS
    held, loaded = tier.load(path)
    assert pc.common_prefix(held, changed) == 3 * pc.BLOCK_TOKENS + 5 and loaded == payload


def test_only_the_newest_state_of_a_chat_waits_and_waiting_counts_against_the_budget(tmp_path):
    tier = pc.DiskTier(tmp_path, "space1", 300_000, secret=KEY, idle_s=3600)
    tier.save(list(range(100)), bytearray(100_000), owner="a")
    tier.save(list(range(110)), bytearray(100_000), owner="a")  # supersedes a's first
    tier.save(list(range(200, 300)), bytearray(100_000), owner="b")
    assert tier.pending == 2 and not list(tmp_path.rglob("*" + pc.SUFFIX))
    tier.save(list(range(300, 400)), bytearray(100_000), owner="c")  # 3 x 100 kB: over 300 kB
    assert tier.pending == 2  # the oldest waiting (a's) was dropped
    assert tier.flush(10)
    assert len(list(tmp_path.rglob("*" + pc.SUFFIX))) == 2
    assert tier.best(list(range(110)))[1] == 0
    assert tier.best(list(range(300, 400)))[1] == 96


def test_a_state_waits_until_the_chat_is_left_or_the_engine_is_idle(tmp_path):
    tier = pc.DiskTier(tmp_path, "space1", 10**9, secret=KEY, idle_s=3600)
    tier.activity(busy=True)
    tier.save(list(range(100)), bytearray(1000), owner="a")
    tier.activity(busy=False)
    assert tier.pending == 1 and not list(tmp_path.rglob("*" + pc.SUFFIX))
    tier.persist()  # the user left the chat
    deadline = time.monotonic() + 30
    while tier.pending or not list(tmp_path.rglob("*" + pc.SUFFIX)):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # Idle: nothing asked of the engine for idle_s.
    tier.save(list(range(500, 600)), bytearray(1000), owner="b")
    tier.activity(busy=True)  # a reply is being computed: never written meanwhile
    tier.idle_s = 0.05
    time.sleep(0.3)
    assert tier.pending == 1
    tier.activity(busy=False)
    deadline = time.monotonic() + 30
    while len(list(tmp_path.rglob("*" + pc.SUFFIX))) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_forgetting_an_owner_deletes_its_states_in_every_space(tmp_path):
    a = pc.DiskTier(tmp_path, "space1", 10**9, secret=KEY)
    other_model = pc.DiskTier(tmp_path, "space2", 10**9, secret=KEY)
    for tier in (a, other_model):
        tier.save(list(range(100)), bytearray(1000), owner="chat:1")
        tier.save(list(range(300, 400)), bytearray(1000), owner="chat:2")
        assert tier.flush(10)
    cache = pc.PromptCache("space1", 10**6, a)
    cache.store(list(range(1000, 1100)), bytearray(10), owner="chat:1")
    cache.store(list(range(2000, 2100)), bytearray(10), owner="chat:2")
    assert len(list(tmp_path.rglob("*" + pc.SUFFIX))) == 4
    cache.forget_owner("chat:1")
    assert len(list(tmp_path.rglob("*" + pc.SUFFIX))) == 2  # chat 2's, of both models
    assert [e.meta["owner"] for e in cache.ram.entries()] == ["chat:2"]
    assert a.pending == 1 and cache.lookup(list(range(100)))[1] == 0
    assert cache.flush(10) and len(list(tmp_path.rglob("*" + pc.SUFFIX))) == 3
    cache.clear()
    assert not list(tmp_path.rglob("*" + pc.SUFFIX)) and not cache.ram.entries()


def test_a_chat_setting_or_an_imported_file_cannot_name_a_cache_owner():
    from desktop.workers.chat_session import effective_params

    params = effective_params({"cache_owner": "x"}, {"sampling": {"cache_owner": "y"}}, {"cache_owner": "z"})
    assert params["cache_owner"] is None


# -- the key ---------------------------------------------------------------------------------------


def test_the_key_is_kept_in_the_keyring_when_there_is_one(memory_keyring, data_dir):
    first = cache_key.load()
    assert first.where == cache_key.KEYRING and len(first.secret) == 32
    assert cache_key.load().secret == first.secret  # the same key at every start
    assert not cache_key.key_file().exists()
    assert cache_key.USERNAME in {user for _service, user in memory_keyring.store}
    assert "secret" not in repr(first) and first.secret.hex() not in repr(first)


def test_without_a_keyring_the_key_is_a_file_only_the_user_can_read(data_dir):
    import keyring

    assert "fail" in type(keyring.get_keyring()).__module__  # conftest: no real keyring in tests
    first = cache_key.load()
    assert first.where == cache_key.FILE and first.detail == str(cache_key.key_file())
    if os.name == "posix":
        assert stat.S_IMODE(cache_key.key_file().stat().st_mode) == 0o600
    assert cache_key.load().secret == first.secret
    assert cache_key.where() == (cache_key.FILE, str(cache_key.key_file()))


def test_a_key_file_moves_into_a_keyring_that_appears(data_dir, memory_keyring):
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    from_file = cache_key.load()
    keyring.set_keyring(memory_keyring)
    moved = cache_key.load()
    assert moved.where == cache_key.KEYRING and moved.secret == from_file.secret
    assert not cache_key.key_file().exists()


def test_a_keyring_that_refuses_gives_a_key_for_this_run_only(data_dir, memory_keyring, monkeypatch):
    def locked(*_args):
        raise RuntimeError("locked")

    monkeypatch.setattr(memory_keyring, "get_password", locked)
    key = cache_key.load()
    assert key.where == cache_key.MEMORY and not cache_key.key_file().exists()


def test_settings_says_where_the_key_is(qtbot, memory_keyring):
    from desktop.ui.privacy_panel import PrivacyPanel

    panel = PrivacyPanel()
    qtbot.addWidget(panel)
    assert "OS keyring (MemoryKeyring)" in panel.key_label.text()
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    panel.refresh()
    assert str(cache_key.key_file()) in panel.key_label.text() and "only" in panel.key_label.text()


# -- llama.cpp -------------------------------------------------------------------------------------


def _llama(model_path):
    from desktop.engines.llama_engine import LlamaEngine

    return LlamaEngine(model_path, n_ctx=1024)


CHAT = [SYSTEM, {"role": "user", "content": SECRET + ". Tell me about tides and the moon. " * 3}]


def test_another_install_cannot_read_a_state_it_is_skipped_and_recomputed(model_path, caplog):
    first = _llama(model_path)
    try:
        answer, _ = reply(first, CHAT)
        assert first.flush_cache(30)
    finally:
        first.close()
    assert state_files()
    cache_key.key_file().unlink()  # the key is lost (or the folder was copied to another install)
    reopened = _llama(model_path)
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            again, stats = reply(reopened, CHAT)
        assert stats.prompt_tokens_evaluated == stats.prompt_tokens and again == answer
        assert "another key" in caplog.text
    finally:
        reopened.close()


def test_forgetting_a_chat_in_the_engine_drops_its_context_ram_and_disk_states(model_path):
    engine = _llama(model_path)
    try:
        other = [SYSTEM, {"role": "user", "content": "Explain how rivers shape valleys. " * 6}]
        reply(engine, other, owned("chat:2"))
        answer, _ = reply(engine, CHAT, owned("chat:1"))
        assert engine.flush_cache(30) and len(state_files()) == 2
        follow = [*CHAT, {"role": "assistant", "content": answer}, {"role": "user", "content": "Why?"}]
        assert engine.forget_owner("chat:1")
        assert len(state_files()) == 1
        assert all(e.meta.get("owner") != "chat:1" for e in engine._cache.ram.entries())
        # Not even the context kept it: all is read again but the system prompt (chat 2 has it).
        _, stats = reply(engine, follow, owned("chat:1"))
        assert stats.prompt_tokens_evaluated > stats.prompt_tokens - 24
        _, stats = reply(engine, [*other, {"role": "assistant", "content": "x"}], owned("chat:2"))
        assert stats.prompt_tokens_evaluated < stats.prompt_tokens - 30  # chat 2 still resumes
    finally:
        engine.close()


# -- ONNX Runtime GenAI ----------------------------------------------------------------------------


def test_onnx_drops_the_generators_of_a_forgotten_chat(onnx_model):
    from desktop.engines.onnx_engine import OnnxEngine

    engine = OnnxEngine(onnx_model, n_ctx=1024)
    try:
        other = [SYSTEM, {"role": "user", "content": "Explain how rivers shape valleys. " * 6}]
        a, _ = reply(engine, CHAT, owned("chat:1"))
        reply(engine, other, owned("chat:2"))
        assert engine.parked == 1
        engine.forget_owner("chat:1")
        assert engine.parked == 0
        _, stats = reply(engine, [*CHAT, {"role": "assistant", "content": a}], owned("chat:1"))
        assert stats.prompt_tokens_evaluated > stats.prompt_tokens - 24  # all but the system prompt
        engine.forget_owner("chat:1")  # the generator in use held chat 1: it goes too
        assert engine.max_length == 0
    finally:
        engine.close()


def test_the_child_process_engine_forgets_a_chat(onnx_model):
    from desktop.engines import open_engine

    engine = open_engine(str(onnx_model), n_ctx=1024)
    try:
        other = [SYSTEM, {"role": "user", "content": "Explain how rivers shape valleys. " * 6}]
        a, _ = reply(engine, CHAT, owned("chat:1"))
        b, _ = reply(engine, other, owned("chat:2"))
        engine.forget_owner("chat:1")
        _, stats = reply(engine, [*CHAT, {"role": "assistant", "content": a}], owned("chat:1"))
        assert stats.prompt_tokens_evaluated > stats.prompt_tokens - 24  # all but the system prompt
        _, stats = reply(engine, [*other, {"role": "assistant", "content": b}], owned("chat:2"))
        assert stats.prompt_tokens_evaluated < stats.prompt_tokens - 30
    finally:
        engine.close()


# -- the window ------------------------------------------------------------------------------------


def send(qtbot, window, text):
    window.session.params = {"temperature": 0, "max_tokens": 16}
    with qtbot.waitSignal(window.session.reply_finished, timeout=120_000) as done:
        assert window.session.send(text)
    return done.args[0]


def engine_of(window):
    return window.host._worker._engine


def database_needles(window, text: str) -> set[bytes]:
    """The text, and the token ids of the prompt that held it."""
    engine = engine_of(window)
    prompt = engine.tokenize_prompt(engine.render_prompt([{"role": "user", "content": text}]))
    return {text.encode("utf-8")} | token_patterns(prompt)


def test_a_secret_typed_in_a_chat_is_in_no_file_but_the_chat_database(make_window, qtbot, tmp_path):
    window = make_window(n_ctx=1024)
    needles = database_needles(window, SECRET)
    send(qtbot, window, SECRET)
    send(qtbot, window, "And what is the weather like on the moon?")
    assert not state_files()  # nothing on disk after a reply
    llm = engine_of(window)._llm
    live = llm.input_ids[: llm.n_tokens].astype("<i4").tobytes()
    assert any(n in live for n in needles)  # what is looked for is what a clear state would hold
    window.session.new_conversation()  # leaving the chat writes its state
    qtbot.waitUntil(lambda: bool(state_files()), timeout=60_000)
    send(qtbot, window, "Another chat, about bread.")
    window.close()  # closing writes what waits
    assert len(state_files()) == 2
    settings_folder = os.path.dirname(QSettings().fileName())
    skip = ("conversations.sqlite3",)
    assert not leaks(tmp_path, needles, skip), "the secret or its tokens are in clear on disk"
    assert not leaks(type(tmp_path)(settings_folder), needles)
    holders = leaks(tmp_path, {SECRET.encode("utf-8")})
    assert holders and all(h.startswith("conversations.sqlite3") for h in holders)


def test_deleting_a_chat_deletes_its_states_and_its_text(make_window, qtbot, tmp_path):
    window = make_window(n_ctx=1024)
    send(qtbot, window, SECRET)
    secret_chat = window.session.current_id
    owner = window.session.cache_owner(secret_chat)
    window.session.new_conversation()
    send(qtbot, window, "Tell me about bread and how it rises in the oven.")
    window.session.new_conversation()
    qtbot.waitUntil(lambda: len(state_files()) == 2, timeout=60_000)
    engine = engine_of(window)
    assert any(e.meta.get("owner") == owner for e in engine._cache.ram.entries())
    window.delete_conversation(secret_chat, confirm=False)
    qtbot.waitUntil(lambda: len(state_files()) == 1, timeout=30_000)
    qtbot.waitUntil(lambda: not any(e.meta.get("owner") == owner for e in engine._cache.ram.entries()),
                    timeout=30_000)
    qtbot.waitUntil(lambda: not window.store.scrub_pending, timeout=60_000)
    # The database keeps no trace: not the text, not the full-text index's trigrams of it.
    database = [tmp_path / ("conversations.sqlite3" + s) for s in ("", "-wal")]
    for f in database:
        data = f.read_bytes() if f.exists() else b""
        assert not [g for g in SECRET_GRAMS if g in data], f.name


def test_delete_all_chats_in_settings_clears_the_cache(make_window, qtbot, tmp_path):
    from desktop.ui.settings_dialog import SettingsDialog

    window = make_window(n_ctx=1024)
    send(qtbot, window, SECRET)
    window.session.new_conversation()
    send(qtbot, window, "Tell me about bread and how it rises in the oven.")
    window.session.new_conversation()
    qtbot.waitUntil(lambda: len(state_files()) == 2, timeout=60_000)
    # A damaged database moved aside at an earlier start holds chats too.
    aside = tmp_path / "conversations.sqlite3.damaged-20250101-120000"
    aside.write_bytes(SECRET.encode("utf-8"))
    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    panel = dialog.privacy
    assert "2 chats" in panel.chats_label.text() and panel.delete_chats_button.isEnabled()
    assert "1 damaged" in panel.chats_label.text()
    assert str(window.store.path) in panel.chats_label.text()
    assert str(pc.prompt_cache_dir()) in panel.cache_label.text()
    assert panel.delete_all_chats(confirm=False)
    assert window.store.conversations() == [] and not panel.delete_chats_button.isEnabled()
    assert not aside.exists()
    qtbot.waitUntil(lambda: not state_files(), timeout=30_000)
    engine = engine_of(window)
    qtbot.waitUntil(lambda: not engine._cache.ram.entries(), timeout=30_000)
    for suffix in ("", "-wal"):
        f = tmp_path / ("conversations.sqlite3" + suffix)
        data = f.read_bytes() if f.exists() else b""
        assert not [g for g in SECRET_GRAMS if g in data], f.name
    assert window.session.current_id is None


def test_delete_all_chats_asks_first(make_window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from desktop.ui.privacy_panel import PrivacyPanel

    window = make_window(load=False)
    window.store.create_conversation("kept")
    panel = PrivacyPanel(window.session)
    qtbot.addWidget(panel)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    panel.delete_chats_button.click()
    assert len(window.store.conversations()) == 1


def test_a_chat_deleted_with_no_model_loaded_loses_its_states(make_window, qtbot, model_path):
    engine = _llama(model_path)
    window = make_window(load=False)
    conversation = window.store.create_conversation("earlier")
    owner = window.session.cache_owner(conversation.id)
    try:
        reply(engine, CHAT, owned(owner))
        assert engine.flush_cache(30)
    finally:
        engine.close()
    assert len(state_files()) == 1
    window.delete_conversation(conversation.id, confirm=False)
    qtbot.waitUntil(lambda: not state_files(), timeout=30_000)


def test_delete_logs(qtbot, data_dir):
    from desktop import logs
    from desktop.ui.privacy_panel import PrivacyPanel

    logs.setup_logging(data_dir / "logs")
    try:
        logging.getLogger("edgechat").warning("something to keep " * 100)
        panel = PrivacyPanel()
        qtbot.addWidget(panel)
        assert panel.delete_logs_button.isEnabled()
        panel.delete_logs_button.click()
        assert "freed" in panel.logs_label.text() and not list((data_dir / "logs").glob("edgechat.log*"))
        logging.getLogger("edgechat").warning("a new line")  # the log goes on, in a new file
        assert (data_dir / "logs" / "edgechat.log").read_text().count("a new line") == 1
    finally:
        logs.shutdown_logging()


# -- the database ----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["conversation", "message", "all"])
def test_deleted_text_leaves_the_database_file(tmp_path, how):
    from desktop.storage import ConversationStore

    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    try:
        for i in range(30):
            c = store.create_conversation(f"chat {i}")
            for _ in range(4):
                store.add_message(c.id, "user", "an ordinary message about weather and tea " * 10)
        secret = store.create_conversation("secret")
        message = store.add_message(secret.id, "user", "the vault opens with 98765 and 43210")
        store.add_message(secret.id, "assistant", "noted")
        with open(path, "rb") as f:
            assert b"98765" in f.read() + (tmp_path / "c.sqlite3-wal").read_bytes()
        grams = (b"987", b"876", b"765", b"432", b"321", b"210")
        files = [tmp_path / n for n in ("c.sqlite3", "c.sqlite3-wal")]

        def left() -> list[bytes]:
            data = b"".join(f.read_bytes() for f in files if f.exists())
            return [g for g in grams if g in data]

        if how == "conversation":
            store.delete_conversation(secret.id)
        elif how == "message":
            store.delete_message(message.id)
        else:
            store.delete_all_conversations()
        assert b"98765" not in b"".join(f.read_bytes() for f in files if f.exists())
        if how != "all":
            assert left(), "the full-text index keeps trigrams of a deleted text until merged"
        steps = 0
        while store.scrub():
            steps += 1
            assert steps < 10_000
        assert not store.scrub_pending
        assert not left()  # neither the text nor the index's trigrams of it (numbers: only there)
        if how != "all":
            assert store.search("weather") and not store.search("98765")
        else:  # the index still follows what is written and deleted after
            again = store.create_conversation("again")
            store.add_message(again.id, "user", "fresh words")
            assert [h.message_id for h in store.search("fresh")] and not store.search("weather")
            store.delete_conversation(again.id)
            assert not store.search("fresh")
    finally:
        store.close()


def test_a_scrub_cut_short_goes_on_at_the_next_start(tmp_path, qapp):
    from desktop.storage import ConversationStore

    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    c = store.create_conversation("x")
    store.add_message(c.id, "user", "hello there")
    store.delete_conversation(c.id)
    store.close()
    again = ConversationStore(path)
    try:
        assert again.scrub_pending
        while again.scrub():
            pass
        assert not again.scrub_pending
    finally:
        again.close()
