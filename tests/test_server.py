"""EdgeChat as an OpenAI-compatible server, driven by the official ``openai`` client over loopback,
with raw HTTP checks of the SSE framing, a client that hangs up mid-stream, concurrent clients,
the error statuses and ``edgechat serve`` itself. Real model (SmolLM2), real uvicorn."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import openai
import pytest

from desktop.engines.base import GenerationStats, ModelInfo, Thought
from desktop.server.app import create_app
from desktop.server.backend import EngineBackend
from desktop.server.runner import ServerThread

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def backend(model_path):
    # One thread: on a machine busier than its cores, llama.cpp's threads wait on each other at
    # every barrier and a short reply takes half a minute; one thread only waits for a core.
    b = EngineBackend(str(model_path), n_ctx=1024, n_threads=1)
    b.wait_loaded(120)
    yield b
    b.close()


def _serve(app):
    server = ServerThread(app, port=0)
    server.start()
    return server


@pytest.fixture(scope="module")
def server(backend):
    s = _serve(create_app(backend))
    yield s
    assert s.stop()


@pytest.fixture(scope="module")
def model_id(backend):
    return backend.models()[0].id


def client(server, key="unused", **kw) -> openai.OpenAI:
    # No retries: a 503 must reach the test, not be retried away by the client.
    return openai.OpenAI(base_url=server.url, api_key=key, max_retries=0, timeout=300, **kw)


HELLO = [{"role": "user", "content": "Say hello in three words."}]


def test_models_lists_the_loaded_model(server, backend):
    models = client(server).models.list().data
    assert [m.id for m in models] == [backend.models()[0].id]
    assert models[0].owned_by == "edgechat"
    assert models[0].model_extra["context_length"] == 1024


def test_chat_not_streamed(server, model_id):
    reply = client(server).chat.completions.create(model=model_id, messages=HELLO, max_tokens=12,
                                                   temperature=0, seed=1)
    assert reply.object == "chat.completion"
    choice = reply.choices[0]
    assert choice.message.role == "assistant" and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens <= 12
    assert reply.usage.prompt_tokens > 5
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_chat_streamed_matches_not_streamed_and_ends_with_usage(server, model_id):
    c = client(server)
    whole = c.chat.completions.create(model=model_id, messages=HELLO, max_tokens=12, temperature=0)
    chunks = list(c.chat.completions.create(model=model_id, messages=HELLO, max_tokens=12,
                                            temperature=0, stream=True,
                                            stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == whole.choices[0].message.content
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    # The usage chunk comes last, with no choices; the others carry usage null.
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert all(ch.usage is None for ch in chunks[:-1])


def test_max_completion_tokens_and_length(server, model_id):
    reply = client(server).chat.completions.create(
        model=model_id, messages=[{"role": "user", "content": "Write a long story about a cat."}],
        max_completion_tokens=5, temperature=0)
    assert reply.usage.completion_tokens == 5
    assert reply.choices[0].finish_reason == "length"


def test_stop_texts_end_the_reply(server, model_id):
    messages = [{"role": "user", "content": "Count from 1 to 10, one number per line."}]
    c = client(server)
    free = c.chat.completions.create(model=model_id, messages=messages, max_tokens=30, temperature=0)
    text = free.choices[0].message.content
    assert "3" in text, text
    stopped = c.chat.completions.create(model=model_id, messages=messages, max_tokens=30, temperature=0,
                                        stop=["3"])
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.choices[0].message.content == text[: text.index("3")]
    streamed = c.chat.completions.create(model=model_id, messages=messages, max_tokens=30, temperature=0,
                                         stop="3", stream=True)
    assert "".join(ch.choices[0].delta.content or "" for ch in streamed) == text[: text.index("3")]


def test_raw_completions(server, model_id):
    c = client(server)
    reply = c.completions.create(model=model_id, prompt="The capital of France is", max_tokens=6,
                                 temperature=0)
    assert reply.object == "text_completion"
    assert "Paris" in reply.choices[0].text
    assert reply.usage.prompt_tokens < 10  # no chat template around it
    streamed = c.completions.create(model=model_id, prompt="The capital of France is", max_tokens=6,
                                    temperature=0, stream=True)
    assert "".join(ch.choices[0].text for ch in streamed) == reply.choices[0].text


SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 12}, "rank": {"type": "integer"}},
    "required": ["city", "rank"],
    "additionalProperties": False,
}


def test_json_schema_output_parses_and_validates(server, model_id):
    jsonschema = pytest.importorskip("jsonschema")
    reply = client(server).chat.completions.create(
        model=model_id, messages=[{"role": "user", "content": "Name a big city and its rank as JSON."}],
        max_tokens=40, temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA}})
    value = json.loads(reply.choices[0].message.content)
    jsonschema.validate(value, SCHEMA)


def test_json_object_output_parses(server, model_id):
    reply = client(server).chat.completions.create(
        model=model_id, messages=[{"role": "user", "content": "Reply with a JSON object with a key a."}],
        max_tokens=24, temperature=0, response_format={"type": "json_object"}, stop=["}"])
    # stop ends it early: the grammar kept it JSON up to there
    assert reply.choices[0].message.content.lstrip().startswith("{")
    reply = client(server).chat.completions.create(
        model=model_id, messages=[{"role": "user", "content": "Give me an empty JSON object."}],
        max_tokens=60, temperature=0, response_format={"type": "json_object"})
    if reply.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(reply.choices[0].message.content), dict)


def _status(call):
    with pytest.raises(openai.APIStatusError) as info:
        call()
    return info.value


def test_bad_requests_are_400_in_openai_shape(server, model_id):
    c = client(server)
    cases = [
        {"n": 2},
        {"temperature": 5},
        {"max_tokens": 0},
        {"max_tokens": 10**6},
        {"stop": [1, 2]},
        {"response_format": {"type": "xml"}},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
    ]
    for extra in cases:
        error = _status(lambda extra=extra: c.chat.completions.create(model=model_id, messages=HELLO,
                                                                      **extra))
        assert error.status_code == 400, extra
        assert error.body["type"] == "invalid_request_error" and error.body["message"], extra
    error = _status(lambda: c.chat.completions.create(model=model_id, messages=[{"role": "wizard",
                                                                                 "content": "x"}]))
    assert error.status_code == 400 and error.body["param"] == "messages[0].role"


def test_unknown_model_is_404(server):
    error = _status(lambda: client(server).chat.completions.create(model="gpt-4o", messages=HELLO))
    assert isinstance(error, openai.NotFoundError)
    assert error.body["code"] == "model_not_found"


def test_prompt_too_long_for_the_context_is_413(server, model_id):
    long = "word " * 3000  # ~3,000 tokens against a 1,024-token context
    for stream in (False, True):
        error = _status(lambda stream=stream: client(server).chat.completions.create(
            model=model_id, messages=[{"role": "user", "content": long}], max_tokens=8, stream=stream))
        assert error.status_code == 413
        assert error.body["code"] == "context_length_exceeded"
    error = _status(lambda: client(server).completions.create(model=model_id, prompt=long, max_tokens=8))
    assert error.status_code == 413


def test_embeddings_from_the_loaded_gguf(server, model_id):
    c = client(server)
    texts = ["The cat sat on the mat.", "A kitten rested on the rug.", "Quarterly tax filing deadlines."]
    result = c.embeddings.create(model=model_id, input=texts)
    vectors = [d.embedding for d in sorted(result.data, key=lambda d: d.index)]
    assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1 and len(vectors[0]) > 100
    assert all(abs(sum(x * x for x in v) - 1) < 1e-3 for v in vectors)  # unit length

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2])  # the cats are closer
    assert result.usage.prompt_tokens > 10
    one = c.embeddings.create(model=model_id, input=texts[0]).data[0].embedding
    assert max(abs(x - y) for x, y in zip(one, vectors[0], strict=True)) < 1e-4
    # The chat goes on as before on the same model.
    assert c.chat.completions.create(model=model_id, messages=HELLO, max_tokens=3).choices[0].message.content
    error = _status(lambda: c.embeddings.create(model=model_id, input="word " * 2000))
    assert error.status_code == 413
    conn, resp = _post(server, "/v1/embeddings", {"input": texts[0], "encoding_format": "float"})
    floats = json.loads(resp.read())["data"][0]["embedding"]
    conn.close()
    assert max(abs(x - y) for x, y in zip(floats, vectors[0], strict=True)) < 1e-4


def test_api_key_required_when_set(backend, model_id):
    server = _serve(create_app(backend, api_key="ec-secret"))
    try:
        error = _status(lambda: client(server, key="wrong").models.list())
        assert isinstance(error, openai.AuthenticationError)
        assert error.body["code"] == "invalid_api_key"
        assert [m.id for m in client(server, key="ec-secret").models.list()] == [model_id]
    finally:
        server.stop()


def test_body_size_is_bounded(backend, model_id):
    server = _serve(create_app(backend, max_body=2000))
    try:
        error = _status(lambda: client(server).chat.completions.create(
            model=model_id, messages=[{"role": "user", "content": "x" * 5000}]))
        assert error.status_code == 413 and error.body["code"] == "body_too_large"
    finally:
        server.stop()


def _post(server, path, body, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
    return conn, conn.getresponse()


def test_queue_limit_answers_503_with_retry_after(backend, model_id):
    server = _serve(create_app(backend, queue_limit=1))
    try:
        conn, first = _post(server, "/v1/chat/completions", {
            "model": model_id, "stream": True, "max_tokens": 400, "messages": HELLO})
        assert first.status == 200
        first.readline()  # streaming: the one slot is taken
        error = _status(lambda: client(server).chat.completions.create(model=model_id, messages=HELLO))
        assert error.status_code == 503 and error.body["code"] == "server_busy"
        assert int(error.response.headers["retry-after"]) >= 1
        conn.close()
        # The slot comes back once the hung-up stream's generation has stopped.
        deadline = time.monotonic() + 10
        while server_in_flight(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        reply = client(server).chat.completions.create(model=model_id, messages=HELLO, max_tokens=2)
        assert reply.choices[0].message.content is not None
    finally:
        server.stop()


def server_in_flight(server) -> int:
    return server.config.app.state.api.in_flight


class _Loading:
    loading = True

    def models(self):
        return []


def test_loading_model_is_503_with_retry_after():
    server = _serve(create_app(_Loading()))
    try:
        error = _status(lambda: client(server).chat.completions.create(model="x", messages=HELLO))
        assert error.status_code == 503 and error.body["code"] == "model_loading"
        assert error.response.headers["retry-after"]
    finally:
        server.stop()


def test_sse_framing_on_the_wire(server, model_id):
    """What any SSE client parses: `data: <json>` events separated by a blank line, `[DONE]` last."""
    conn, resp = _post(server, "/v1/chat/completions", {
        "model": model_id, "stream": True, "max_tokens": 6, "temperature": 0, "messages": HELLO})
    assert resp.status == 200
    assert resp.getheader("content-type").startswith("text/event-stream")
    raw = resp.read().decode()
    conn.close()
    assert raw.endswith("data: [DONE]\n\n")
    events = raw.split("\n\n")[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_sse_with_curl(server, model_id):
    body = json.dumps({"model": model_id, "stream": True, "max_tokens": 4, "messages": HELLO})
    out = subprocess.run(["curl", "-sN", "-H", "Content-Type: application/json", "-d", body,
                          f"{server.url}/chat/completions"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    lines = [line for line in out.stdout.split("\n") if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)


def test_client_hanging_up_mid_stream_stops_generation_within_a_second(server, backend, model_id,
                                                                      monkeypatch):
    from desktop.server import backend as backend_module

    pieces: list[float] = []
    run_job = backend_module.run_job

    class Timed:
        def __init__(self, sink):
            self.sink = sink

        def piece(self, text):
            pieces.append(time.monotonic())
            self.sink.piece(text)

        def finish(self, stats):
            self.sink.finish(stats)

        def fail(self, error):
            self.sink.fail(error)

    def timed_run_job(engine, job):
        job.sink = Timed(job.sink)
        run_job(engine, job)

    monkeypatch.setattr(backend_module, "run_job", timed_run_job)
    backend.engine_stats = None
    conn, resp = _post(server, "/v1/chat/completions", {
        "model": model_id, "stream": True, "max_tokens": 900, "temperature": 0.8,
        "messages": [{"role": "user", "content": "Write a very long story about a dragon."}]})
    for _ in range(4):  # a few tokens in: the engine is generating
        assert resp.readline()
    conn.sock.shutdown(2)
    conn.close()
    hung_up = time.monotonic()
    while backend.engine_stats is None and time.monotonic() - hung_up < 10:
        time.sleep(0.01)
    assert backend.engine_stats is not None and backend.engine_stats.finish_reason == "cancelled"
    assert backend.engine_stats.completion_tokens < 900
    # No token was generated a second after the hang-up. (The job's end comes a little later:
    # the engine keeps the prompt's state for the next request.)
    assert pieces[-1] - hung_up < 1.0, pieces[-1] - hung_up


def test_eight_concurrent_streaming_clients_all_complete(server, model_id):
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            stream = client(server).chat.completions.create(
                model=model_id, messages=[{"role": "user", "content": f"Say the number {i}."}],
                max_tokens=6, temperature=0, stream=True)
            finish = None
            text = []
            for ch in stream:
                text.append(ch.choices[0].delta.content or "")
                finish = ch.choices[0].finish_reason or finish
            assert finish in ("stop", "length")
            results[i] = "".join(text)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert not errors, errors
    assert sorted(results) == list(range(8))
    assert all(text.strip() for text in results.values())
    assert server_in_flight(server) == 0


class _ThinkingEngine:
    """A scripted reasoning engine (the bundled model does not think): checks only that thinking
    travels as reasoning_content, apart from the answer, as llama.cpp's server and DeepSeek send it."""

    info = ModelInfo(path="/models/thinker.gguf", name="Thinker", backend="llama.cpp", device="CPU",
                     n_ctx=4096)
    last_stats = None

    def stream(self, messages, params, cancel=None):
        yield Thought("Let me think. ")
        yield Thought("Two plus two.")
        yield "It is 4."
        self.last_stats = GenerationStats(prompt_tokens=3, completion_tokens=5)

    def close(self):
        pass


def test_thinking_goes_to_reasoning_content():
    backend = EngineBackend("thinker", opener=lambda path, **kw: _ThinkingEngine())
    backend.wait_loaded(5)
    server = _serve(create_app(backend))
    try:
        c = client(server)
        reply = c.chat.completions.create(model="thinker", messages=HELLO)
        message = reply.choices[0].message
        assert message.content == "It is 4."
        assert message.model_extra["reasoning_content"] == "Let me think. Two plus two."
        chunks = list(c.chat.completions.create(model="thinker", messages=HELLO, stream=True))
        thinking = "".join(ch.choices[0].delta.model_extra.get("reasoning_content") or "" for ch in chunks)
        answer = "".join(ch.choices[0].delta.content or "" for ch in chunks)
        assert (thinking, answer) == ("Let me think. Two plus two.", "It is 4.")
    finally:
        server.stop()
        backend.close()


def test_api_key_kept_in_the_keyring(memory_keyring):
    from desktop.server import keys

    key, new, kept = keys.ensure()
    assert new and kept and key.startswith("ec-") and len(key) > 40
    assert list(memory_keyring.store.values()) == [key]
    assert keys.ensure() == (key, False, True)  # shown once: the second time it is not new


def wait_serving(proc) -> str:
    """The address ``edgechat serve`` prints once it is serving."""
    line = ""
    deadline = time.monotonic() + 120
    while "Serving" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, "serve exited early"
    return line.split(" at ")[1].split()[0]


def test_edgechat_serve_command(model_path, tmp_path):
    env = {**os.environ, "EDGECHAT_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--port", "0", "--ctx", "512",
                             "--api-key", "k-test"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        url = wait_serving(proc)
        c = openai.OpenAI(base_url=url, api_key="k-test", max_retries=0, timeout=60)
        model = c.models.list().data[0].id
        reply = c.chat.completions.create(model=model, messages=HELLO, max_tokens=3)
        assert reply.choices[0].message.content
        proc.send_signal(signal.SIGINT)  # Ctrl+C: a graceful stop
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_on_another_address_without_a_keyring_still_requires_a_key(tmp_path):
    from desktop.server.runner import needs_key

    assert not needs_key("127.0.0.1") and not needs_key("::1") and not needs_key("localhost")
    assert needs_key("0.0.0.0") and needs_key("192.168.1.20")


def test_onnx_model_is_served_too_and_says_what_needs_llama_cpp(onnx_model):
    backend = EngineBackend(str(onnx_model), n_ctx=1024)
    backend.wait_loaded(180)
    server = _serve(create_app(backend))
    try:
        c = client(server)
        [model] = c.models.list().data
        reply = c.chat.completions.create(model=model.id, messages=HELLO, max_tokens=8, temperature=0)
        text = reply.choices[0].message.content
        assert text.strip() and reply.usage.completion_tokens <= 8
        # ONNX Runtime GenAI has no stop texts: the server's own guard ends the reply there.
        word = text.split()[1] if len(text.split()) > 1 else text.split()[0]
        stopped = c.chat.completions.create(model=model.id, messages=HELLO, max_tokens=8, temperature=0,
                                            stop=[word])
        assert stopped.choices[0].finish_reason == "stop"
        assert stopped.choices[0].message.content == text[: text.index(word)]
        for call in (
            lambda: c.chat.completions.create(model=model.id, messages=HELLO, max_tokens=8,
                                              response_format={"type": "json_object"}),
            lambda: c.completions.create(model=model.id, prompt="Hello", max_tokens=4),
        ):
            error = _status(call)
            assert error.status_code == 400 and "llama.cpp" in error.body["message"]
        error = _status(lambda: c.embeddings.create(model=model.id, input="hello"))
        assert error.status_code == 400 and error.body["code"] == "embeddings_not_available"
    finally:
        server.stop()
        backend.close()


def test_cors_is_off_unless_origins_are_given(backend):
    def preflight(server):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("OPTIONS", "/v1/chat/completions", headers={
            "Origin": "http://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.getheader("access-control-allow-origin")

    closed = _serve(create_app(backend))
    opened = _serve(create_app(backend, cors_origins=["http://app.example"], api_key="k"))
    try:
        assert preflight(closed) is None
        assert preflight(opened) == "http://app.example"  # a preflight carries no key: it passes
    finally:
        closed.stop()
        opened.stop()


def test_port_in_use_is_a_plain_error(server, backend):
    from desktop.server.runner import ServerStartError

    with pytest.raises(ServerStartError, match="in use"):
        ServerThread(create_app(backend), port=server.port).start()
