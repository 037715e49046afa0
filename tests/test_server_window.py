"""The window's Server switch: the model loaded in the window served over the OpenAI API, sharing
the one generation worker with the window's own chat. Real window, real model, real uvicorn."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time

import openai
import pytest
from PySide6.QtCore import QTimer

from desktop.models.default_model import default_model_path
from desktop.ui import server_panel

pytestmark = pytest.mark.slow

HELLO = [{"role": "user", "content": "Say hello."}]


def _client(bridge, key="unused"):
    return openai.OpenAI(base_url=bridge.url, api_key=key, max_retries=0, timeout=300)


def _loaded_window(make_window, qtbot):
    # One thread: on a machine busier than its cores, llama.cpp's threads wait on each other at
    # every barrier and a short reply takes half a minute; one thread only waits for a core.
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(default_model_path()), n_ctx=1024, n_threads=1)
    return window


@pytest.fixture
def served(make_window, qtbot):
    window = _loaded_window(make_window, qtbot)
    panel = server_panel.show_panel(window)
    bridge = window.server_bridge
    bridge.start("127.0.0.1", 0)
    yield window, bridge, panel
    bridge.stop()


def test_menu_opens_the_panel_and_the_switch_serves(make_window, qtbot):
    window = _loaded_window(make_window, qtbot)
    assert window.server_action in window.server_menu.actions()
    window.server_action.trigger()
    panel = window.server_panel
    assert panel.isVisible() and not window.server_bridge.running
    panel.port.setValue(_free_port())
    panel.switch.setChecked(True)
    try:
        assert window.server_bridge.running
        assert panel.address.text() == f"http://127.0.0.1:{panel.port.value()}/v1"
        models = _client(window.server_bridge).models.list().data
        assert models[0].id == "SmolLM2-135M-Instruct.Q4_1"
        panel.copy_address.click()
        from PySide6.QtGui import QGuiApplication

        assert QGuiApplication.clipboard().text() == panel.address.text()
    finally:
        panel.switch.setChecked(False)
    assert not window.server_bridge.running and panel.address.text() == ""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_other_computers_need_a_key_shown_once(make_window, qtbot, monkeypatch):
    from desktop.server import keys

    made = []

    def ensure():
        made.append("ec-test-key-0123456789")
        return made[-1], len(made) == 1, True

    monkeypatch.setattr(keys, "ensure", ensure)
    window = make_window(load=False)
    panel = server_panel.show_panel(window)
    bridge = window.server_bridge
    from desktop.server.runner import ServerStartError

    with pytest.raises(ServerStartError):
        bridge.start("0.0.0.0", 0)  # never open to the network without a key
    with pytest.raises(ServerStartError):
        bridge.start("0.0.0.0", 0, api_key="  ")  # a blank key is no key
    assert not bridge.running
    panel.remote.setChecked(True)
    panel.port.setValue(_free_port())
    panel.switch.setChecked(True)
    try:
        assert bridge.running and bridge.api_key == "ec-test-key-0123456789"
        assert panel.key.text() == "ec-test-key-0123456789"  # shown, with Copy
        assert not panel.address.text().startswith("http://0.0.0.0")
        error = pytest.raises(openai.AuthenticationError, _client(bridge, "wrong").models.list)
        assert error.value.status_code == 401
        # No model is loaded in this window: the API says so with 503 and Retry-After.
        with pytest.raises(openai.APIStatusError) as info:
            _client(bridge, "ec-test-key-0123456789").chat.completions.create(model="x", messages=HELLO)
        assert info.value.status_code == 503 and info.value.response.headers["retry-after"]
    finally:
        panel.switch.setChecked(False)
    panel.switch.setChecked(True)  # the second time the key is in the keyring: not shown again
    try:
        assert panel.key.text() == ""
    finally:
        panel.switch.setChecked(False)


def test_api_and_window_chat_share_the_engine_and_the_log_shows_requests(served, qtbot):
    window, bridge, panel = served
    done = {}

    def call():
        done["reply"] = _client(bridge).chat.completions.create(
            model="SmolLM2-135M-Instruct.Q4_1", messages=HELLO, max_tokens=8, temperature=0)

    thread = threading.Thread(target=call)
    thread.start()
    window.send("Hi there")
    qtbot.waitUntil(lambda: "reply" in done and not window.session.busy, timeout=120_000)
    thread.join(5)
    assert done["reply"].choices[0].message.content
    messages = window.store.messages(window.session.current_id)
    assert messages[-1].role == "assistant" and messages[-1].content  # the window's reply
    qtbot.waitUntil(lambda: "/v1/chat/completions" in panel.log.toPlainText(), timeout=5000)
    assert " 200 " in panel.log.toPlainText()


def test_hang_up_mid_stream_stops_the_workers_generation(served, qtbot):
    window, bridge, _panel = served
    finished = []
    pieces = []
    window.host.generation_finished.connect(lambda rid, stats: finished.append((time.monotonic(), stats)))
    window.host.chunk_generated.connect(lambda rid, text: pieces.append(time.monotonic()))
    hung_up = []

    def read_a_little_then_hang_up() -> None:
        # Off the main thread: the window must keep relaying while the client reads.
        conn = http.client.HTTPConnection("127.0.0.1", bridge._server.port, timeout=60)
        conn.request("POST", "/v1/chat/completions", json.dumps({
            "stream": True, "max_tokens": 900, "temperature": 0.8,
            "messages": [{"role": "user", "content": "Write a very long story about a dragon."}]}),
            {"Content-Type": "application/json"})
        resp = conn.getresponse()
        for _ in range(4):
            assert resp.readline()
        conn.sock.shutdown(2)
        conn.close()
        hung_up.append(time.monotonic())

    thread = threading.Thread(target=read_a_little_then_hang_up)
    thread.start()
    qtbot.waitUntil(lambda: bool(hung_up), timeout=120_000)
    thread.join(5)
    hung_up = hung_up[0]
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    _at, stats = finished[0]
    assert stats.finish_reason == "cancelled"
    assert stats.completion_tokens < 900
    # An API job's text goes straight to the server, not through the window: what the engine
    # wrote is in its count. The client read a few tokens, then hung up: at most a second's
    # worth more were written (the end is reported a little later: the engine keeps the
    # prompt's state for the next turn).
    assert not pieces  # no API token passed through the window
    assert stats.completion_tokens <= 10 + (stats.tokens_per_s or 0) * 1.0, stats


CLIENTS = r"""
import json, sys, threading
import openai

url, model = sys.argv[1], sys.argv[2]
results, errors = {}, []

def one(i):
    try:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=300)
        text = []
        for ch in client.chat.completions.create(
                model=model, stream=True, max_tokens=8, temperature=0,
                messages=[{"role": "user", "content": f"Say the number {i}."}]):
            text.append(ch.choices[0].delta.content or "")
        results[i] = "".join(text)
    except Exception as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"results": results, "errors": errors}))
"""


def test_eight_streaming_clients_keep_the_window_responsive(served, qtbot):
    """Eight other apps (one process with eight streams) served from the window: all complete,
    and the window's event loop never stalls meanwhile."""
    window, bridge, _panel = served
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    proc = subprocess.Popen([sys.executable, "-c", CLIENTS, bridge.url, "SmolLM2-135M-Instruct.Q4_1"],
                            stdout=subprocess.PIPE, text=True)
    requests = []
    window.host.generation_finished.connect(lambda rid, stats: requests.append(rid))
    heartbeat.start()
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=300_000)
    finally:
        heartbeat.stop()
    out = json.loads(proc.stdout.read())
    assert not out["errors"], out["errors"]
    assert sorted(out["results"]) == [str(i) for i in range(8)]
    assert all(text.strip() for text in out["results"].values())
    assert len(requests) == 8  # all eight went through the window's worker
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    assert len(gaps) > 20
    gaps.sort()
    # The window's own work per batch is a few relays. What remains is the OS: on a machine
    # with more runnable threads than cores (2 cores shared by the whole test run here), an idle
    # 10 ms timer alone sees 15-30 ms gaps, past 50 ms when other work shares the cores, and
    # 200 ms at a load average of 8. So, with room for that: most beats on time, and never a
    # stall as long as a reply (the window waiting on the engine). Tighter figures are for a quiet
    # machine, in a benchmark.
    median = gaps[len(gaps) // 2]
    assert median < 0.1, f"half the window's beats were later than {median * 1000:.0f} ms"
    assert gaps[-1] < 1.0, f"the window stalled for {gaps[-1] * 1000:.0f} ms"
