"""The ONNX engine in the real app: worker thread, window, command line."""

import json
import os
import subprocess
import sys
import time

from PySide6.QtCore import Qt, QTimer

from desktop.storage import ConversationStore
from desktop.ui.main_window import MainWindow
from desktop.workers.generation import EngineHost
from tests.conftest import LONG_PROMPT


def test_the_window_stays_live_while_onnx_generates(qtbot, onnx_model):
    """The engine computes in a child process, and a 10 ms main-thread timer never stalls
    during a long ONNX reply.

    The bindings hold the GIL while they compute (a whole prefill, each token): in-process this
    stalled the timer for 110 ms. The engine runs in a child process, so it does not. That is
    what is asserted; the timer's bound leaves room for a loaded machine (two shared cores see
    200 ms beats with nothing wrong) and still catches the window waiting on a reply."""
    host = EngineHost()
    try:
        with qtbot.waitSignal(host.model_loaded, timeout=60_000) as loaded:
            host.load(str(onnx_model))
        assert loaded.args[0].backend == "onnxruntime-genai"
        from desktop.engines.process_engine import ProcessEngine

        engine = host._worker._engine
        assert isinstance(engine, ProcessEngine) and engine._process.pid != os.getpid()
        ticks = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(10)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        history = [{"role": "system", "content": "You tell long, vivid stories. " * 60},  # long prefill
                   {"role": "user", "content": LONG_PROMPT}]
        timer.start()
        with qtbot.waitSignal(host.generation_finished, timeout=60_000) as done:
            host.generate(history, {"temperature": 0, "max_tokens": 400})
        timer.stop()
        assert done.args[1].completion_tokens == 400
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        assert len(gaps) > 100
        assert max(gaps) < 1.0, f"the main thread stalled {max(gaps) * 1000:.0f} ms"
    finally:
        assert host.shutdown()


def test_chat_stop_and_status_with_onnx(qtbot, tmp_path, onnx_model):
    window = MainWindow(ConversationStore(tmp_path / "c.sqlite3"), EngineHost())
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
            window.load_model(str(onnx_model))
        label = window.model_label.text()
        assert "onnxruntime-genai" in label and "CPU" in label
        assert not window.banner.isVisible()
        window.session.params = {"temperature": 0, "max_tokens": 20}
        with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
            qtbot.keyClicks(window.prompt, "My name is Zorblax.")
            qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
        with qtbot.waitSignal(window.session.reply_finished, timeout=60_000) as second:
            window.send("What is my name?")
        assert second.args[0].prompt_tokens_evaluated < second.args[0].prompt_tokens / 2
        window.session.params = {"temperature": 0, "max_tokens": 3000}
        with qtbot.waitSignal(window.host.chunk_generated, timeout=30_000):
            window.send(LONG_PROMPT)
        with qtbot.waitSignal(window.session.reply_finished, timeout=5_000) as stopped:
            clicked = time.perf_counter()
            qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
        # Quick: 3,000 tokens would take minutes; room for a loaded machine.
        assert time.perf_counter() - clicked < 3.0
        assert stopped.args[0].finish_reason == "cancelled"
        stored = window.store.messages(window.session.current_id)
        assert len(stored) == 6 and stored[-1].status == "stopped" and stored[-1].content
    finally:
        window.close()
        assert window.host.thread.isFinished()
        window.store.close()


def test_fallback_is_explained_in_the_window(qtbot, tmp_path, onnx_model):
    window = MainWindow(ConversationStore(tmp_path / "c.sqlite3"), EngineHost())
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
            window.load_model(str(onnx_model), device="cuda")
        assert window.banner.isVisible()
        assert "runs on CPU" in window.banner.text()
        assert "CUDA is not available" in window.banner.text()
        assert "CUDA is not available" in window.model_label.toolTip()
    finally:
        window.close()
        window.store.close()


def test_a_broken_folder_is_reported_in_the_window(qtbot, tmp_path, onnx_copy, model_path):
    window = MainWindow(ConversationStore(tmp_path / "c.sqlite3"), EngineHost())
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
            window.load_model(str(model_path))
        broken = onnx_copy("broken")
        (broken / "model.onnx.data").unlink()
        with qtbot.waitSignal(window.host.model_load_failed, timeout=30_000):
            window.load_model(str(broken))
        assert "model.onnx.data" in window.banner.text() and "missing" in window.banner.text()
        assert "SmolLM2-135M-Instruct" in window.model_label.text()  # the GGUF is still loaded
    finally:
        window.close()
        window.store.close()


def edgechat(*args):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_cli_infers_the_backend_and_explains_the_fallback(onnx_model):
    result = edgechat("ask", "What is 2+2?", "--model", str(onnx_model), "--max-tokens", "12",
                      "--temperature", "0", "--device", "cuda", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["backend"] == "onnxruntime-genai" and out["device"] == "CPU"
    assert "CUDA is not available" in out["fallback_reason"]
    assert out["text"].strip() and 0 < out["completion_tokens"] <= 12
    assert out["tokens_per_s"] > 0 and out["ttft_s"] > 0


def test_cli_onnx_errors(tmp_path, onnx_model, model_path):
    result = edgechat("ask", "hi", "--model", str(tmp_path))
    assert result.returncode == 1 and "genai_config.json is missing" in result.stderr
    assert "Traceback" not in result.stderr
    result = edgechat("ask", "hi", "--model", str(model_path), "--backend", "onnx")
    assert result.returncode == 1 and "not an ONNX model folder" in result.stderr
