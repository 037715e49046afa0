"""Regression tests for the seams between threads, widgets and the engines, on the real model.

Each reproduces a failure a user met: Stop after switching chats, a worker slot that raised
something unexpected and left the window at "Loading…", and closing the window while the engine
was busy reading a long prompt.
"""

from __future__ import annotations

import time

import pytest

from desktop.engines.base import CancelToken, ModelLoadError, SamplingParams

# ~2,500 tokens: its prefill takes the small model a few seconds on two cores, far longer than
# the Stop or close we ask for.
HUGE_PROMPT = "Tell me about the history of computing, from the abacus to the laptop. " * 170


def _start_long_reply(window, qtbot, text="Write a very long story about a dragon."):
    window.session.params = {"temperature": 0, "max_tokens": 4000}
    with qtbot.waitSignal(window.host.chunk_generated, timeout=60_000):
        window.send(text)


def test_stop_after_opening_another_chat(make_window, qtbot):
    window = make_window()
    _start_long_reply(window, qtbot)
    writing = window.session.current_id
    window.session.new_conversation()  # the view is rebuilt: the reply's widget is deleted
    with qtbot.waitSignal(window.session.reply_finished, timeout=10_000) as done:
        window.stop_button.click()
    assert done.args[0].finish_reason == "cancelled"
    stored = window.store.messages(writing)[-1]
    assert stored.status == "stopped" and stored.content
    # Back in the chat, the stopped reply is there with its footer.
    window.session.open_conversation(writing)
    widget = window.binder.widgets[stored.id]
    assert widget.text == stored.content and widget.footer.text() and not widget.footer.isHidden()


def test_switching_model_after_opening_another_chat_is_not_lost(make_window, qtbot, model_path):
    window = make_window()
    _start_long_reply(window, qtbot)
    window.session.new_conversation()
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window._switch_model(str(model_path))  # stops the reply first, as the library does
    assert not window.session.busy
    assert window.model_info is not None and window.model_info.path == str(model_path)


def test_a_slot_that_raises_anything_reports_it(qtbot, model_path, monkeypatch):
    """A load that raised something other than an EngineError left the window at "Loading…"."""
    from desktop.workers.generation import EngineHost

    def broken_factory(path, **options):
        raise TypeError("unsupported operand type(s) for &: 'str' and 'int'")

    host = EngineHost(broken_factory)
    try:
        with qtbot.waitSignal(host.model_load_failed, timeout=10_000) as failed:
            host.load(str(model_path))
        assert "went wrong" in failed.args[0] and "log" in failed.args[0]
        # A generation that raises is reported for its request, and the worker lives on.
        with qtbot.waitSignal(host.generation_failed, timeout=10_000) as gen_failed:
            request = host.generate([{"role": "user", "content": "hi"}])
        assert gen_failed.args[0] == request
    finally:
        assert host.shutdown()


def test_a_crafted_gguf_ends_loading_with_a_message(make_window, qtbot, tmp_path, monkeypatch):
    """Whatever the header reader raises, the window hears about it and leaves "Loading…"."""
    from desktop.models import open_model

    window = make_window(load=False)

    def reader_bug(path, backend=None):
        raise TypeError("unsupported operand type(s) for %: 'int' and 'str'")

    monkeypatch.setattr(open_model, "validate", reader_bug)
    bad = tmp_path / "crafted.gguf"
    bad.write_bytes(b"GGUF" + bytes(64))
    with qtbot.waitSignal(window.host.model_load_failed, timeout=10_000):
        window.load_model(str(bad))
    assert window.banner.isVisible() and "went wrong" in window.banner.text()
    assert "Loading" not in window.model_label.text()


@pytest.mark.slow
def test_stop_ends_a_long_prefill_at_once(model_path):
    from desktop.engines.llama_engine import LlamaEngine

    with LlamaEngine(model_path, n_ctx=4096) as engine:
        cancel = CancelToken()
        stream = engine.stream([{"role": "user", "content": HUGE_PROMPT}],
                               SamplingParams(temperature=0, max_tokens=20), cancel)
        import threading

        threading.Timer(0.3, cancel.set).start()
        started = time.perf_counter()
        text = "".join(stream)
        elapsed = time.perf_counter() - started
        assert engine.last_stats.finish_reason == "cancelled"
        assert engine.last_stats.prompt_tokens > 2000 and text == ""
        # Stopped part way through the prompt (the cache holds less than all of it), and soon:
        # room for a loaded machine, where each batch of the prompt takes longer too.
        assert engine._llm.n_tokens < engine.last_stats.prompt_tokens
        assert elapsed < 3.0, f"the prefill ran on for {elapsed:.1f} s after Stop"
        # The engine is sound afterwards: the next reply is the one a fresh engine gives.
        messages = [{"role": "user", "content": "Name a colour."}]
        params = SamplingParams(temperature=0, max_tokens=12)
        after = "".join(engine.stream(messages, params))
    with LlamaEngine(model_path, n_ctx=4096) as fresh:
        assert after == "".join(fresh.stream(messages, params))


@pytest.mark.slow
def test_closing_the_window_mid_prefill_takes_under_5_s(make_window, qtbot):
    window = make_window(n_ctx=4096)
    window.session.params = {"temperature": 0, "max_tokens": 50}
    window.send(HUGE_PROMPT)
    qtbot.wait(300)  # the engine is now inside the prompt's prefill
    assert window.session.busy
    started = time.perf_counter()
    window.close()
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"closing took {elapsed:.1f} s"
    assert window.host.thread.isFinished()
    stored = window.store.messages(window.session.current_id or window.store.conversations()[0].id)
    assert stored[-1].status == "stopped"


@pytest.mark.slow
def test_closing_while_an_onnx_child_is_busy_takes_under_5_s(qtbot, onnx_model):
    from desktop.workers.generation import EngineHost

    host = EngineHost()
    with qtbot.waitSignal(host.model_loaded, timeout=120_000):
        host.load(str(onnx_model))
    host.generate([{"role": "user", "content": HUGE_PROMPT}], {"temperature": 0, "max_tokens": 2000})
    qtbot.wait(300)
    started = time.perf_counter()
    assert host.shutdown()
    assert time.perf_counter() - started < 5.0


@pytest.mark.slow
def test_an_onnx_child_still_starting_is_given_up(onnx_model):
    """The child's start-up answer used to be a recv() without a timeout."""
    import threading

    from desktop.engines.process_engine import ProcessEngine

    abort = threading.Event()
    threading.Timer(0.2, abort.set).start()
    started = time.perf_counter()
    with pytest.raises(ModelLoadError, match="cancelled"):
        ProcessEngine("onnx", str(onnx_model), abort=abort)
    assert time.perf_counter() - started < 3.0
