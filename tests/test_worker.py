"""The generation worker on its real QThread, driving the real model."""

import sys
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from tests.conftest import LONG_PROMPT

USER = [{"role": "user", "content": LONG_PROMPT}]


class Recorder(QObject):
    def __init__(self, host):
        super().__init__()
        self.chunks, self.threads = [], set()
        host.chunk_generated.connect(self.on_chunk)

    @Slot(int, str)
    def on_chunk(self, request_id, text):
        self.chunks.append((request_id, text, time.perf_counter()))
        self.threads.add(QThread.currentThread())


def test_loads_and_streams_in_batches(loaded_host, qtbot):
    rec = Recorder(loaded_host)
    with qtbot.waitSignal(loaded_host.generation_finished, timeout=60_000) as finished:
        request_id = loaded_host.generate(USER, {"temperature": 0, "max_tokens": 120})
    rid, stats = finished.args
    assert rid == request_id
    assert stats.completion_tokens == 120 and stats.finish_reason == "length"
    assert all(r == request_id for r, _, _ in rec.chunks)
    # Batched by time: a signal per STREAM_BATCH_S at most, never one per token, yet more
    # than one (it streamed). Counted against time, not tokens: on a busy machine tokens come
    # slower than the interval and a batch holds one.
    from desktop.engines.base import STREAM_BATCH_S

    span = rec.chunks[-1][2] - rec.chunks[0][2]
    assert 2 <= len(rec.chunks) <= span / STREAM_BATCH_S + 2
    # Delivered on the GUI thread, never on the worker's.
    assert rec.threads == {QThread.currentThread()}


def test_cancel_is_quick_and_confirmed(loaded_host, qtbot):
    rec = Recorder(loaded_host)
    with qtbot.waitSignal(loaded_host.chunk_generated, timeout=30_000):
        request_id = loaded_host.generate(USER, {"temperature": 0, "max_tokens": 4000})
    with qtbot.waitSignal(loaded_host.generation_finished, timeout=5_000) as finished:
        asked = time.perf_counter()
        loaded_host.cancel(request_id)
    # Between two tokens on a quiet machine; room for a loaded one (the reply would run on for
    # 4,000 tokens).
    assert time.perf_counter() - asked < 3.0
    assert finished.args[1].finish_reason == "cancelled"
    assert rec.chunks


def test_bad_file_keeps_the_loaded_model(loaded_host, qtbot, not_gguf, truncated_gguf):
    for bad in (not_gguf, truncated_gguf):
        with qtbot.waitSignal(loaded_host.model_load_failed, timeout=10_000) as failed:
            loaded_host.load(str(bad))
        assert bad.name in failed.args[0]
    with qtbot.waitSignal(loaded_host.generation_finished, timeout=60_000) as finished:
        loaded_host.generate([{"role": "user", "content": "Hi"}], {"max_tokens": 8})
    assert finished.args[1].completion_tokens > 0


def test_generate_before_load_fails_cleanly(host, qtbot):
    with qtbot.waitSignal(host.generation_failed, timeout=5_000) as failed:
        host.generate([{"role": "user", "content": "Hi"}])
    assert "No model" in failed.args[1]


def test_shutdown_during_a_reply_stops_the_thread(loaded_host, qtbot):
    with qtbot.waitSignal(loaded_host.chunk_generated, timeout=30_000):
        loaded_host.generate(USER, {"temperature": 0, "max_tokens": 4000})
    started = time.perf_counter()
    assert loaded_host.shutdown()
    assert loaded_host.thread.isFinished() and not loaded_host.thread.isRunning()
    assert time.perf_counter() - started < 3.5  # a loaded machine's room; the reply would run on


class _Emitter(QObject):
    sig = Signal(int, str)

    @Slot()
    def burst(self):
        for i in range(3000):
            self.sig.emit(i, "x")


def test_signal_delivery_does_not_leak_bool_references(qtbot):
    """PySide6 6.12.0 dropped a reference to True on every emit; on Python 3.11 a long reply
    then killed the interpreter ("bool_dealloc"). Guard the pinned Qt against it."""
    received = []
    emitter = _Emitter()
    emitter.sig.connect(lambda i, s: received.append(i))
    before = sys.getrefcount(True)
    emitter.burst()
    assert len(received) == 3000
    assert abs(sys.getrefcount(True) - before) < 100


def test_cancel_token_calls_back_once_set():
    from desktop.engines.base import CancelToken

    token, calls = CancelToken(), []
    token.on_set(lambda: calls.append("early"))
    assert not token.is_set() and calls == []
    token.set()
    assert token.is_set() and calls == ["early"]
    token.on_set(lambda: calls.append("late"))  # registered after: called at once
    assert calls == ["early", "late"]
