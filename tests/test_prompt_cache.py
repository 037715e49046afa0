"""The prompt cache (desktop/engines/prompt_cache.py): states found by what the model saw, in RAM
and on disk, on both engines, with the real model.

Equality with full recomputation is checked where both read the same tokens the same way: a
prompt whose state was restored (from disk, on a fresh engine) against the same prompt read in
one go. A reply's own tokens are read one at a time as they are generated, and llama.cpp's and
ONNX Runtime's single-row kernels round differently from their batched prefill: a follow-up that
reuses them matches the uninterrupted chat (that is checked too), as the same-chat reuse always did.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest

from desktop.engines import prompt_cache as pc
from desktop.engines.base import SamplingParams

GREEDY = SamplingParams(temperature=0, max_tokens=16)
KEY = bytes(range(32))  # a fixed key for the tier's own tests (the engines use the install's)
B = pc.BLOCK_TOKENS
SYSTEM = {"role": "system", "content": "You are a helpful assistant who answers briefly."}
CHAT_A = [SYSTEM, {"role": "user", "content": "Tell me about the moon, the tides and eclipses. " * 8}]
CHAT_B = [SYSTEM, {"role": "user", "content": "Explain how rivers shape valleys and deltas. " * 8}]
LOGGER = "desktop.engines.prompt_cache"


def reply(engine, messages, params=GREEDY):
    text = "".join(engine.stream(messages, params))
    return text, engine.last_stats


def follow_up(messages, answer, question="And why does that happen?"):
    return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": question}]


# -- the cache itself, without a model -------------------------------------------------------------


def test_common_prefix():
    assert pc.common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert pc.common_prefix([1, 2], [1, 2, 3]) == 2
    assert pc.common_prefix([], [1]) == 0
    assert pc.common_prefix(np.array([7, 8], dtype=np.int32), [7, 8]) == 2


def test_ram_lru_respects_its_budget_and_finds_the_longest_prefix():
    lru = pc.PrefixLRU(budget_bytes=250)
    lru.put([1, 2, 3, 4], "a", 100)
    lru.put([5, 6, 7, 8], "b", 100)
    entry, n = lru.best([1, 2, 3, 9])
    assert entry.value == "a" and n == 3
    lru.touch(entry)  # "a" is now the most recently used
    lru.put([9, 9, 9, 9], "c", 100)  # over budget: the least recently used ("b") goes
    assert sorted(e.value for e in lru.entries()) == ["a", "c"] and lru.used_bytes <= 250
    # The next turn of a chat replaces its previous turn: one entry per chat.
    lru.put([1, 2, 3, 4, 5, 6], "a2", 100)
    assert sorted(e.value for e in lru.entries()) == ["a2", "c"]
    assert lru.put([4, 4], "huge", 1000) is None and len(lru) == 2  # bigger than the whole budget


def _state(tmp_path, space, tokens, payload_bytes=1000, secret=KEY):
    tier = pc.DiskTier(tmp_path, space, 10**9, secret=secret)
    tier.save(tokens, bytearray(os.urandom(payload_bytes)))
    assert tier.flush(10)
    return tier


def test_disk_tier_roundtrip_and_budget_evicts_the_oldest(tmp_path):
    payload = bytearray(os.urandom(100_000))
    tier = pc.DiskTier(tmp_path, "space1", budget_bytes=250_000, secret=KEY)
    tier.save(list(range(100)), payload)
    tier.flush(10)
    # Found by whole blocks of tokens; the exact common prefix is counted once decrypted.
    path, n = tier.best(list(range(50)) + [999])
    assert n == 50 // B * B
    tokens, loaded = tier.load(path)
    assert loaded == payload and list(tokens) == list(range(100))
    assert pc.common_prefix(tokens, list(range(50)) + [999]) == 50
    tier.save(list(range(1000, 1100)), bytearray(100_000))
    tier.flush(10)
    time.sleep(0.02)
    tier.save(list(range(2000, 2100)), bytearray(100_000))  # the third: over 250 kB
    tier.flush(10)
    files = sorted(tmp_path.rglob("*" + pc.SUFFIX))
    assert len(files) == 2 and sum(f.stat().st_size for f in files) <= 250_000
    # The oldest went: the chat that started with 0..99.
    assert tier.best(list(range(100)))[1] == 0
    assert tier.best(list(range(2000, 2100)))[1] == 100 // B * B
    # A fresh tier (a restart) finds what is on disk.
    again = pc.DiskTier(tmp_path, "space1", budget_bytes=250_000, secret=KEY)
    assert again.best(list(range(1000, 1100)))[1] == 100 // B * B


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "foreign", "other_space", "garbage_header",
                                    "header_altered", "another_key"])
def test_a_damaged_or_foreign_file_is_ignored_with_a_log_line(tmp_path, caplog, damage):
    tokens = list(range(64))
    _state(tmp_path, "space1", tokens)
    (path,) = list((tmp_path / "space1").glob("*" + pc.SUFFIX))
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "corrupted":
        flipped = bytearray(data)
        flipped[-200] ^= 0xFF  # in the payload: only the checksum can tell
        path.write_bytes(bytes(flipped))
    elif damage == "foreign":
        path.write_bytes(os.urandom(5000))
    elif damage == "other_space":
        pc.write_state_file(path, "space2", tokens, bytearray(1000), pc.Sealer(KEY))
    elif damage == "garbage_header":
        path.write_bytes(data[:8] + b"\xff\xff\xff\x7f" + data[12:])
    elif damage == "header_altered":
        # The clear header is authenticated with the rest: a changed owner fails the check.
        at = data.index(b'"owner": null')
        path.write_bytes(data[:at] + b'"owner": "x1"' + data[at + len(b'"owner": null'):])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        secret = bytes(32) if damage == "another_key" else KEY  # another install's key
        tier = pc.DiskTier(tmp_path, "space1", 10**9, secret=secret)
        cache = pc.PromptCache("space1", 10**6, tier)
        source, n = cache.lookup(tokens)
        if source is not None:  # only the authentication tag can catch it: the header read fine
            assert damage in ("corrupted", "header_altered")
            assert cache.fetch(source) is None
            assert not path.exists()  # a damaged state is deleted; the prompt is read again
    assert any("prompt cache: ignoring" in r.getMessage() for r in caplog.records), caplog.text
    if damage == "another_key":
        assert "another key" in caplog.text and path.exists()  # not ours to delete


def test_an_old_format_file_is_deleted_it_held_the_prompt_in_clear(tmp_path, caplog):
    import struct

    meta = b'{"n_tokens": 4, "payload_bytes": 0, "space": "space1"}'
    for space in ("space1", "space2"):  # this model's folder and another's
        (tmp_path / space).mkdir()
        (tmp_path / space / ("old" + pc.SUFFIX)).write_bytes(
            struct.pack("<8sII", pc.MAGIC, 1, len(meta)) + meta + struct.pack("<4i", 1, 2, 3, 4) + bytes(32))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        pc.DiskTier(tmp_path, "space1", 10**9, secret=KEY)
    assert not list(tmp_path.rglob("*" + pc.SUFFIX))
    assert "old format" in caplog.text


def test_the_space_changes_with_model_file_settings_and_template(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(100))
    settings = {"n_ctx": 2048, "type_k": 1, "type_v": 1, "flash_attn": 0, "n_gpu_layers": 0}
    base = pc.cache_space(model, settings, "{{ messages }}", "llama")
    assert pc.cache_space(model, settings, "{{ messages }}", "llama") == base
    assert pc.cache_space(model, {**settings, "n_ctx": 4096}, "{{ messages }}", "llama") != base
    assert pc.cache_space(model, {**settings, "type_k": 8}, "{{ messages }}", "llama") != base
    assert pc.cache_space(model, {**settings, "flash_attn": 1}, "{{ messages }}", "llama") != base
    assert pc.cache_space(model, settings, "{{ other }}", "llama") != base
    os.utime(model, ns=(1, 1))  # the file was replaced (a new download of the same name)
    assert pc.cache_space(model, settings, "{{ messages }}", "llama") != base


def test_default_ram_budget_is_a_few_states_within_a_tenth_of_free_ram():
    gib = 1024**3
    small = pc.default_ram_budget_mb(100 * 1024**2, 4096, 16 * gib)
    assert 200 <= small <= 1638  # a few 4k-token states of a small model, under 10% of 16 GB
    assert pc.default_ram_budget_mb(5 * gib, 8192, 4 * gib) <= 410  # tight: 10% of free RAM
    assert pc.default_ram_budget_mb(None, None, None) >= 64


def test_clear_disk_cache_says_how_much_it_freed(tmp_path):
    _state(tmp_path, "space1", list(range(64)), payload_bytes=50_000)
    size = sum(f.stat().st_size for f in tmp_path.rglob("*") if f.is_file())
    assert pc.disk_cache_bytes(tmp_path) == size
    assert pc.clear_disk_cache(tmp_path) == size > 50_000
    assert pc.disk_cache_bytes(tmp_path) == 0


def test_settings_clear_prompt_cache_says_how_much_it_freed(qtbot):
    from desktop.ui.settings_dialog import SettingsDialog

    _state(pc.prompt_cache_dir(), "space1", list(range(64)), payload_bytes=3 * 1024**2)
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    assert "3 MB" in dialog.cache_label.text() and dialog.clear_cache_button.isEnabled()
    dialog.clear_cache_button.click()
    assert "3 MB freed" in dialog.cache_label.text()
    assert pc.disk_cache_bytes() == 0 and not dialog.clear_cache_button.isEnabled()


def test_an_overflowing_chat_keeps_its_prompt_stable_between_turns():
    from desktop.engines.context import fit_messages

    def measure(ms):
        return sum(len(m["content"].encode()) // 4 + 3 for m in ms)

    msgs = [{"role": "system", "content": "system " * 20}]
    starts = []
    for turn in range(60):
        msgs.append({"role": "user", "content": f"question {turn} " + "word " * 30})
        fitted, dropped = fit_messages(msgs, measure, 3000)
        assert measure(fitted) <= 3000 and fitted[-1] is msgs[-1]
        starts.append(dropped[-1] if dropped else 0)
        msgs.append({"role": "assistant", "content": "answer " * 80})
    overflowing = [s for s in starts if s]
    changes = sum(1 for a, b in zip(starts, starts[1:], strict=False) if a != b)
    # A new prompt head (a recomputation) every few turns, not at every turn.
    assert len(overflowing) > 40 and changes <= len(overflowing) // 3


def test_the_reply_footer_says_how_many_prompt_tokens_were_reused():
    from desktop.workers.chat_session import describe

    text = describe({"prompt_tokens": 2313, "prompt_tokens_evaluated": 123, "completion_tokens": 5})
    assert "2,190 of 2,313 prompt tokens reused" in text
    assert "reused" not in describe({"prompt_tokens": 50, "prompt_tokens_evaluated": 50})
    assert "reused" not in describe({"prompt_tokens": 50})


# -- llama.cpp ---------------------------------------------------------------------------------------


# A restore reads its last few tokens again, in a batch: see llama_engine.HOLD_BACK.
from desktop.engines.llama_engine import HOLD_BACK  # noqa: E402


def _llama(model_path, **options):
    from desktop.engines.llama_engine import LlamaEngine

    return LlamaEngine(model_path, n_ctx=1024, **options)


def test_llama_restores_across_chats_and_restarts_token_for_token(model_path):
    first = _llama(model_path)
    try:
        a, stats = reply(first, CHAT_A)
        assert stats.prompt_tokens_evaluated == stats.prompt_tokens
        a2, _ = reply(first, follow_up(CHAT_A, a))  # the uninterrupted chat
        assert first.flush_cache(30)
    finally:
        first.close()
    assert list(pc.prompt_cache_dir().rglob("*" + pc.SUFFIX))
    reopened = _llama(model_path)  # a restart: same file, same settings
    try:
        b, stats_b = reply(reopened, CHAT_B)  # another chat first
        # Chat A continues from its state on disk: only the new tokens are read.
        again, stats = reply(reopened, follow_up(CHAT_A, a))
        assert stats.prompt_tokens_evaluated <= HOLD_BACK + 2, stats
        assert again == a2
        # Back to chat B (kept in RAM), then A's first reply regenerated: the restored prompt
        # gives exactly what the whole prompt read in one go gave.
        _, stats = reply(reopened, follow_up(CHAT_B, b))
        assert stats.prompt_tokens_evaluated < 40 < stats.prompt_tokens
        regenerated, stats = reply(reopened, CHAT_A)
        assert stats.prompt_tokens_evaluated <= HOLD_BACK + 2 and regenerated == a
        assert reopened.info.extra["cache_ram_mb"] > 0
    finally:
        reopened.close()


def test_llama_misses_on_a_changed_system_prompt_or_load_setting(model_path):
    engine = _llama(model_path)
    try:
        a, _ = reply(engine, CHAT_A)
        engine.flush_cache(30)
        other_system = [{"role": "system", "content": "You are a pirate."}, *CHAT_A[1:]]
        _, stats = reply(engine, other_system)
        # Only the template's opening tokens can match: the user message is read again.
        assert stats.prompt_tokens_evaluated >= stats.prompt_tokens - 8
    finally:
        engine.close()
    from desktop.engines.llama_engine import LlamaEngine

    other = LlamaEngine(model_path, n_ctx=768)  # another context size: another state layout
    try:
        _, stats = reply(other, follow_up(CHAT_A, a))
        assert stats.prompt_tokens_evaluated == stats.prompt_tokens
    finally:
        other.close()


def test_llama_recomputes_over_a_damaged_state_file(model_path, caplog):
    engine = _llama(model_path)
    try:
        a, _ = reply(engine, CHAT_A)
        engine.flush_cache(30)
    finally:
        engine.close()
    (path,) = list(pc.prompt_cache_dir().rglob("*" + pc.SUFFIX))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    reopened = _llama(model_path)
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            again, stats = reply(reopened, CHAT_A)
        assert stats.prompt_tokens_evaluated == stats.prompt_tokens and again == a
        assert any("checksum" in r.getMessage() for r in caplog.records), caplog.text
    finally:
        reopened.close()


def test_llama_ram_budget_zero_and_disk_off_keep_nothing(model_path, monkeypatch):
    monkeypatch.setenv("EDGECHAT_PROMPT_CACHE_MB", "0")
    engine = _llama(model_path, cache_ram_mb=0)
    try:
        a, _ = reply(engine, CHAT_A)
        reply(engine, CHAT_B)
        _, stats = reply(engine, follow_up(CHAT_A, a))
        assert stats.prompt_tokens_evaluated > stats.prompt_tokens - 24  # only the system prompt
        assert engine.info.extra["cache_ram_mb"] == 0
    finally:
        engine.close()
    assert not list(pc.prompt_cache_dir().rglob("*" + pc.SUFFIX))


def test_a_state_is_saved_in_chunks_off_the_windows_thread(qtbot, model_path, monkeypatch):
    """A state is encrypted a megabyte at a time on the cache's own thread, so the window's
    thread gets the GIL between chunks (50 ms beats on an idle machine). Asserted: the chunks
    and the thread; the beats only with room for a loaded machine (two shared cores see 200 ms
    gaps with nothing wrong), which still catches the window waiting on a save."""
    import threading

    from PySide6.QtCore import QTimer

    from desktop.workers.generation import EngineHost

    chunks: list[tuple[int, str]] = []  # (bytes given to the cipher at once, on which thread)
    encryptor = pc.Sealer.encryptor

    class Watched:
        def __init__(self, enc):
            self._enc = enc

        def update_into(self, data, out):
            chunks.append((len(data), threading.current_thread().name))
            return self._enc.update_into(data, out)

        def __getattr__(self, name):
            return getattr(self._enc, name)

    monkeypatch.setattr(pc.Sealer, "encryptor", lambda self, *a: Watched(encryptor(self, *a)))

    host = EngineHost()
    try:
        # One thread for llama.cpp: on this 2-core machine the other is the window's.
        with qtbot.waitSignal(host.model_loaded, timeout=60_000):
            host.load(str(model_path), n_ctx=1024, n_threads=1)
        with qtbot.waitSignal(host.generation_finished, timeout=120_000):
            host.generate(CHAT_A, GREEDY)
        engine = host._worker._engine
        assert engine.flush_cache(30)
        beats = [time.perf_counter()]
        heartbeat = QTimer()
        heartbeat.setInterval(5)
        heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
        heartbeat.start()
        # The follow-up is read from the kept state; then its state is encrypted and saved, as
        # when the user leaves the chat.
        with qtbot.waitSignal(host.generation_finished, timeout=120_000) as done:
            host.generate(follow_up(CHAT_A, "The moon pulls the sea."), GREEDY)
        host.persist_cache()
        qtbot.waitUntil(lambda: engine.flush_cache(0), timeout=30_000)
        qtbot.wait(30)
        heartbeat.stop()
        gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
        assert chunks and max(n for n, _ in chunks) <= pc._CHUNK
        assert threading.main_thread().name not in {t for _, t in chunks}
        assert max(gaps) < 1.0, f"the window's thread was blocked for {max(gaps) * 1000:.0f} ms"
        assert done.args[1].prompt_tokens_evaluated < done.args[1].prompt_tokens
        assert len(list(pc.prompt_cache_dir().rglob("*" + pc.SUFFIX))) == 2  # both turns' states
    finally:
        assert host.shutdown()


# -- ONNX Runtime GenAI ------------------------------------------------------------------------------


def test_onnx_keeps_the_generators_of_several_chats(onnx_model):
    from desktop.engines.onnx_engine import OnnxEngine

    engine = OnnxEngine(onnx_model, n_ctx=1024)
    uninterrupted = OnnxEngine(onnx_model, n_ctx=1024)
    try:
        a, stats = reply(engine, CHAT_A)
        assert stats.prompt_tokens_evaluated == stats.prompt_tokens
        b, _ = reply(engine, CHAT_B)
        assert engine.parked == 1  # chat A's generator waits
        # A→B→A: chat A resumes where it was.
        a2, stats = reply(engine, follow_up(CHAT_A, a))
        assert stats.prompt_tokens_evaluated < 30 < stats.prompt_tokens
        first, _ = reply(uninterrupted, CHAT_A)
        assert first == a
        assert reply(uninterrupted, follow_up(CHAT_A, a))[0] == a2
        # Chat B's first reply regenerated from its parked generator = read in one go.
        regenerated, stats = reply(engine, CHAT_B)
        assert stats.prompt_tokens_evaluated <= 2 and regenerated == b
        assert engine.info.extra["cache_ram_mb"] > 0
    finally:
        engine.close()
        uninterrupted.close()


def test_onnx_generators_fit_the_ram_budget(onnx_model):
    from desktop.engines.onnx_engine import OnnxEngine

    engine = OnnxEngine(onnx_model, n_ctx=1024, cache_ram_mb=0)  # no room for a second one
    try:
        a, _ = reply(engine, CHAT_A)
        reply(engine, CHAT_B)
        assert engine.parked == 0
        _, stats = reply(engine, follow_up(CHAT_A, a))
        assert stats.prompt_tokens_evaluated > stats.prompt_tokens - 24
    finally:
        engine.close()


def test_the_child_process_engine_takes_cache_ram_mb(onnx_model):
    from desktop.engines import open_engine

    engine = open_engine(str(onnx_model), n_ctx=1024, cache_ram_mb=77)
    try:
        assert type(engine).__name__ == "ProcessEngine"
        assert engine.info.extra["cache_ram_mb"] == 77
    finally:
        engine.close()
