"""The API server's threading: jobs go between the server's event loop and the engine's thread
without the GUI thread, a stop ends the backlog instead of running it, the window's own chat
goes before queued API jobs, and a remote Stop closes the request before any header came.
Real model, real window, real uvicorn and real HTTP clients over loopback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from desktop.engines.base import CancelToken, SamplingParams
from desktop.server.app import create_app
from desktop.server.backend import EngineBackend, Job, ServerStopping
from desktop.server.runner import ServerThread
from desktop.ui import server_panel
from tests.test_server import wait_serving
from tests.test_server_window import _loaded_window

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
STORY = [{"role": "user", "content": "Write a very long story about a dragon and a knight."}]


@pytest.fixture
def served(make_window, qtbot):
    window = _loaded_window(make_window, qtbot)
    panel = server_panel.show_panel(window)
    bridge = window.server_bridge
    bridge.start("127.0.0.1", 0)
    yield window, bridge, panel
    bridge.stop()
    assert bridge.wait_shutdown(time.monotonic() + 10)


class _StreamClient(threading.Thread):
    """One raw streaming request: when each SSE data line arrived, and how it ended."""

    def __init__(self, port: int, max_tokens: int = 600, messages=STORY):
        super().__init__(daemon=True)
        self.port, self.max_tokens, self.messages = port, max_tokens, messages
        self.arrivals: list[float] = []
        self.lines: list[str] = []
        self.status: int | None = None
        self.ended = threading.Event()

    def run(self) -> None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            conn.request("POST", "/v1/chat/completions", json.dumps({
                "stream": True, "max_tokens": self.max_tokens, "temperature": 0.8, "seed": 1,
                "messages": self.messages}), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            self.status = resp.status
            while True:
                line = resp.readline()
                if not line:
                    break
                if line.startswith(b"data:"):
                    self.arrivals.append(time.monotonic())
                    self.lines.append(line.decode())
            conn.close()
        except OSError as exc:
            self.lines.append(f"error: {exc!r}")
        finally:
            self.ended.set()

    def tokens(self) -> int:
        return sum(1 for line in self.lines if '"content":"' in line and '"content":""' not in line)


# -- the GUI thread is on no API token's path -----------------------------------------------------
def test_switching_the_server_off_mid_stream_does_not_block_the_window(served, qtbot):
    window, bridge, panel = served
    finished = []
    window.host.generation_finished.connect(lambda rid, stats: finished.append(stats))
    client = _StreamClient(bridge._server.port)
    client.start()
    qtbot.waitUntil(lambda: client.tokens() >= 3, timeout=120_000)
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(time.monotonic()))
    heartbeat.start()
    qtbot.wait(100)
    started = time.monotonic()
    panel.switch.setChecked(False)  # the user's off switch
    took = time.monotonic() - started
    assert not bridge.running and not panel.switch.isChecked()
    # It blocked the window for 2.2 s: the bound is generous for a loaded machine.
    assert took < 1.0, f"switching off took {took:.2f} s"
    qtbot.waitUntil(client.ended.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    qtbot.wait(200)
    heartbeat.stop()
    assert finished[0].finish_reason == "cancelled"
    assert "server_stopping" in "".join(client.lines)  # told why, as the stream's last event
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    assert gaps and max(gaps) < 0.5, f"the window stalled for {max(gaps):.2f} s"
    assert bridge.wait_shutdown(time.monotonic() + 5)
    # And it serves again on the same port at once.
    panel.switch.setChecked(True)
    assert bridge.running


def test_tokens_still_arrive_while_the_gui_thread_is_blocked(served, qtbot):
    window, bridge, _panel = served
    client = _StreamClient(bridge._server.port, max_tokens=900)
    client.start()
    qtbot.waitUntil(lambda: client.tokens() >= 2, timeout=120_000)
    block: list[float] = []

    def busy_window() -> None:
        block.append(time.monotonic())
        time.sleep(0.5)  # a stalled GUI thread (a long layout, a slow disk)
        block.append(time.monotonic())

    QTimer.singleShot(0, busy_window)
    qtbot.waitUntil(lambda: len(block) == 2, timeout=10_000)
    window.server_bridge.stop()
    qtbot.waitUntil(client.ended.is_set, timeout=10_000)
    start, end = block
    # Strictly inside the block, away from its edges: pieces already on their way don't count.
    during = [t for t in client.arrivals if start + 0.15 < t < end - 0.05]
    assert during, "no token reached the client while the window was busy"


# -- a stop ends the backlog ------------------------------------------------------------------
def test_switching_off_cancels_the_queued_api_jobs(served, qtbot):
    window, bridge, panel = served
    finished = []
    window.host.generation_finished.connect(lambda rid, stats: finished.append((time.monotonic(), stats)))
    clients = [_StreamClient(bridge._server.port) for _ in range(4)]
    for c in clients:
        c.start()
    qtbot.waitUntil(lambda: any(c.tokens() >= 2 for c in clients), timeout=120_000)
    qtbot.waitUntil(lambda: len(window.host.worker._pending) == 3, timeout=10_000)
    stopped = time.monotonic()
    panel.switch.setChecked(False)
    qtbot.waitUntil(lambda: len(finished) == 4, timeout=10_000)
    qtbot.waitUntil(lambda: all(c.ended.is_set() for c in clients), timeout=10_000)
    # The running reply stopped within a second (generous), the queued three never ran.
    assert all(stats.finish_reason == "cancelled" for _at, stats in finished)
    assert finished[-1][0] - stopped < 3.0
    assert sum(1 for _at, stats in finished if stats.completion_tokens) == 1
    for c in clients:
        assert "server_stopping" in "".join(c.lines) or c.status == 503


class _Recorder:
    def __init__(self):
        self.pieces: list[float] = []
        self.end = None
        self.ended = threading.Event()

    def piece(self, text) -> None:
        self.pieces.append(time.monotonic())

    def finish(self, stats) -> None:
        self.end = stats
        self.ended.set()

    def fail(self, error) -> None:
        self.end = error
        self.ended.set()


def test_closing_the_headless_backend_cancels_its_backlog(model_path):
    backend = EngineBackend(str(model_path), n_ctx=1024, n_threads=1)
    backend.wait_loaded(120)
    sinks = [_Recorder() for _ in range(4)]
    for sink in sinks:
        backend.submit(Job(STORY, SamplingParams(max_tokens=600, temperature=0.8, seed=1), CancelToken(),
                           sink))
    deadline = time.monotonic() + 120
    while not sinks[0].pieces and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sinks[0].pieces
    started = time.monotonic()
    backend.close()
    took = time.monotonic() - started
    # It ran the whole backlog first (four long replies); a second is the target, this generous.
    assert took < 3.0, f"closing took {took:.1f} s"
    assert not backend._thread.is_alive()
    assert all(isinstance(s.end, ServerStopping) for s in sinks[1:])
    assert all(not s.pieces for s in sinks[1:])
    assert sinks[0].ended.is_set()
    assert not [t for t in sinks[0].pieces if t > started + 1.0]
    late = Job(STORY, SamplingParams(), CancelToken(), _Recorder())
    backend.submit(late)
    assert isinstance(late.sink.end, ServerStopping)


def test_a_headless_server_stop_answers_and_cancels_every_open_request(model_path):
    """What Ctrl+C on 'edgechat serve' does: uvicorn's stop first ends the open requests."""
    backend = EngineBackend(str(model_path), n_ctx=1024, n_threads=1)
    backend.wait_loaded(120)
    server = ServerThread(create_app(backend), port=0)
    server.start()
    try:
        clients = [_StreamClient(server.port) for _ in range(3)]
        for c in clients:
            c.start()
        deadline = time.monotonic() + 120
        while not any(c.tokens() >= 2 for c in clients) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the others are in the engine's queue by now
        started = time.monotonic()
        assert server.stop(10)
        took = time.monotonic() - started
        assert took < 1.5, f"the stop took {took:.2f} s (uvicorn's graceful wait is 2 s)"
        for c in clients:
            assert c.ended.wait(5)
            assert "server_stopping" in "".join(c.lines) or c.status == 503
        assert backend._jobs.empty()
        probe = Job(STORY, SamplingParams(max_tokens=1), CancelToken(), _Recorder())
        backend.submit(probe)  # the engine is free: it answers at once
        assert probe.sink.ended.wait(60)
    finally:
        backend.close()


# -- the person at the keyboard goes first --------------------------------------------------------
def test_the_windows_chat_goes_before_queued_api_jobs(served, qtbot):
    window, bridge, _panel = served
    ended: list[int] = []
    window.host.generation_finished.connect(lambda rid, stats: ended.append(rid))
    window_ids: list[int] = []
    generate = window.host.generate

    def spy(*args, **kwargs):
        window_ids.append(generate(*args, **kwargs))
        return window_ids[-1]

    window.host.generate = spy
    clients = [_StreamClient(bridge._server.port, max_tokens=40) for _ in range(4)]
    for c in clients:
        c.start()
    qtbot.waitUntil(lambda: any(c.tokens() >= 1 for c in clients), timeout=120_000)
    qtbot.waitUntil(lambda: len(window.host.worker._pending) == 3, timeout=10_000)
    waiting = [item.request_id for item in list(window.host.worker._pending)]
    window.send("Hi there")
    qtbot.waitUntil(lambda: bool(window_ids), timeout=10_000)
    qtbot.waitUntil(lambda: len(ended) == 5 and not window.session.busy, timeout=300_000)
    for c in clients:
        assert c.ended.wait(10) and c.tokens()
    # The window's reply comes before the API jobs that were waiting when it was sent (one of
    # them may have started in the moment between looking and sending).
    mine = ended.index(window_ids[0])
    assert len([rid for rid in waiting if ended.index(rid) > mine]) >= len(waiting) - 1 >= 2, (
        ended, waiting, window_ids)
    messages = window.store.messages(window.session.current_id)
    assert messages[-1].role == "assistant" and messages[-1].content


# -- a remote Stop before the first token -------------------------------------------------------
class _SilentServer:
    """An OpenAI-compatible server that, like a big model reading a long prompt, sends no header
    for a long while, and notes the moment its client goes (as llama.cpp's server does)."""

    def __init__(self):
        import asyncio
        import socket

        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        self.asked = threading.Event()
        self.gone_at: float | None = None
        self.gone = threading.Event()

        async def models(_request: Request):
            return JSONResponse({"object": "list", "data": [{"id": "slow", "object": "model"}]})

        async def chat(request: Request):
            await request.json()
            self.asked.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    self.gone_at = time.monotonic()
                    self.gone.set()
                    break
                await asyncio.sleep(0.02)
            return JSONResponse({"error": {"message": "too late"}}, status_code=500)

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        app = Starlette(routes=[Route("/v1/models", models),
                                Route("/v1/chat/completions", chat, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off",
                                                     timeout_graceful_shutdown=1))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)


@pytest.mark.parametrize("warm", [False, True], ids=["new-connection", "kept-alive-connection"])
def test_a_remote_stop_before_the_first_token_hangs_up_at_once(warm):
    from desktop.engines.remote_engine import RemoteEngine, make_client

    server = _SilentServer()
    engine = RemoteEngine(server.base_url, "slow")  # its /v1/models leaves a kept-alive connection
    try:
        if not warm:
            engine._client.close()  # no idle connection: the reply opens its own
            engine._client = make_client(engine.base_url, None)
        cancel = CancelToken()
        result = {}

        def reply():
            result["pieces"] = list(engine.stream([{"role": "user", "content": "Hi"}], SamplingParams(),
                                                  cancel))

        worker = threading.Thread(target=reply, daemon=True)
        worker.start()
        assert server.asked.wait(10)
        stopped = time.monotonic()
        cancel.set()
        worker.join(5)
        assert not worker.is_alive() and result["pieces"] == []  # the engine's thread is free
        assert engine.last_stats.finish_reason == "cancelled"
        # It waited for the headers (4.3 s in a test, up to the read timeout): a second is generous.
        assert server.gone.wait(5), "the server never saw the request closed"
        assert server.gone_at - stopped < 1.0, f"the server saw it after {server.gone_at - stopped:.1f} s"
    finally:
        engine.close()
        server.close()


def test_a_window_request_sent_after_a_load_waits_for_it_even_with_api_jobs_waiting(loaded_host, qtbot,
                                                                                   model_path):
    """Going first never means going before the load the window asked for earlier: a reply sent
    after a model switch is written by the new model."""
    host = loaded_host
    events: list = []
    host.model_loaded.connect(lambda info: events.append(("loaded", info.n_ctx)))
    host.generation_finished.connect(lambda rid, stats: events.append(("finished", rid)))
    sinks = [_Recorder() for _ in range(2)]
    api = [host.submit_job(Job(STORY, SamplingParams(max_tokens=30, temperature=0), CancelToken(), sink))
           for sink in sinks]
    qtbot.waitUntil(lambda: bool(sinks[0].pieces), timeout=60_000)
    host.load(str(model_path), n_ctx=512)
    mine = host.generate([{"role": "user", "content": "Hi"}], {"max_tokens": 4, "temperature": 0})
    qtbot.waitUntil(lambda: len([e for e in events if e[0] == "finished"]) == 3, timeout=120_000)
    assert ("loaded", 512) in events
    assert events.index(("loaded", 512)) < events.index(("finished", mine)), events
    assert all(s.ended.is_set() for s in sinks)
    assert events.index(("finished", api[0])) < events.index(("finished", mine))


def test_ctrl_c_on_edgechat_serve_ends_the_backlog_instead_of_running_it(tmp_path):
    env = {**os.environ, "EDGECHAT_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--port", "0", "--ctx", "1024",
                             "--threads", "1"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        port = int(wait_serving(proc).rsplit(":", 1)[1].split("/")[0])
        clients = [_StreamClient(port) for _ in range(4)]
        for c in clients:
            c.start()
        deadline = time.monotonic() + 120
        while not any(c.tokens() >= 2 for c in clients) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the other three wait in the engine's queue
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        took = time.monotonic() - started
        # It ran the backlog (three more long replies) after uvicorn's 2 s graceful wait.
        assert took < 2.0, f"Ctrl+C took {took:.1f} s"
        for c in clients:
            assert c.ended.wait(5)
            assert "server_stopping" in "".join(c.lines) or c.status == 503, c.lines[-2:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
