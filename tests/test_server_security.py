"""The API server serves its user, not a web page and not the network: a cross-site form or
text/plain POST is refused before any work, a page that rebinds its name to 127.0.0.1 (a foreign
Host) is refused without the key, a blank key never opens an address other computers reach (in
the core, whoever calls it, and in ``edgechat serve``), and every error, a malformed body
included, is a 4xx in OpenAI's shape with nothing in the log. Real uvicorn over loopback; the
HTTP policy is checked on a scripted backend, and the real model answers the official client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import time

import openai
import pytest

from desktop.engines.base import GenerationStats
from desktop.server.app import create_app
from desktop.server.backend import ModelCard
from desktop.server.runner import ServerStartError, ServerThread, serve_forever
from tests.test_server import (
    HELLO,
    ROOT,
    _serve,
    backend,  # noqa: F401 - the module's real-model server, shared
)

CARD = ModelCard(id="scripted", path="/models/scripted.gguf", name="Scripted", backend="llama.cpp",
                 context_length=512)
CHAT = json.dumps({"model": "scripted", "messages": HELLO, "max_tokens": 4}).encode()
SECRET = "PINEAPPLE-7731"  # typed by the user; must reach no log


class Scripted:
    """A backend that answers "Hello." at once and counts the jobs it was given."""

    loading = False

    def __init__(self, fail: BaseException | None = None):
        self.jobs = 0
        self.fail = fail

    def models(self):
        return [CARD]

    def submit(self, job):
        self.jobs += 1
        if self.fail is not None:
            raise self.fail
        job.sink.piece("Hello.")
        job.sink.finish(GenerationStats(prompt_tokens=5, completion_tokens=2))

    def embed(self, card, texts):
        return [[1.0, 0.0] for _ in texts], len(texts)


@pytest.fixture
def scripted():
    return Scripted()


@pytest.fixture
def open_server(scripted):
    """Loopback, no key: the default of `edgechat serve` and of the window's switch."""
    server = _serve(create_app(scripted))
    yield server
    assert server.stop()


@pytest.fixture
def keyed_server(scripted):
    server = _serve(create_app(scripted, api_key="ec-right"))
    yield server
    assert server.stop()


def _call(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, body parsed as JSON where it is JSON) over a raw connection, so that Host
    and Content-Type are exactly what the test says."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    try:
        data = json.loads(raw)
    except ValueError:
        data = raw
    return resp.status, resp, data


def _assert_openai_error(data, status: int, got: int) -> dict:
    assert got == status, data
    assert isinstance(data, dict) and set(data) == {"error"}, data
    error = data["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    return error


@contextlib.contextmanager
def _logs_watched(caplog):
    """caplog, plus uvicorn's own loggers (they do not propagate to the root, and uvicorn sets
    their handlers again whenever a server is made: call this after making the server)."""
    uvicorn_log = logging.getLogger("uvicorn")
    uvicorn_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        yield caplog
    finally:
        uvicorn_log.removeHandler(caplog.handler)


# -- cross-site requests ---------------------------------------------------------------------------

SIMPLE_TYPES = [  # the content types a web page may POST cross-site without a preflight
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=----x",
]


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
def test_a_cross_site_post_without_preflight_is_refused_before_any_work(open_server, scripted,
                                                                        content_type):
    status, resp, data = _call(open_server.port, "POST", "/v1/chat/completions", CHAT, {
        "Content-Type": content_type, "Origin": "http://evil.example"})
    error = _assert_openai_error(data, 415, status)
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]
    assert scripted.jobs == 0  # nothing was queued in front of the user's own chat
    assert resp.getheader("access-control-allow-origin") is None


def test_a_post_without_content_type_is_refused(open_server, scripted):
    conn = http.client.HTTPConnection("127.0.0.1", open_server.port, timeout=60)
    conn.putrequest("POST", "/v1/chat/completions")
    conn.putheader("Content-Length", str(len(CHAT)))
    conn.endheaders(CHAT)
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    _assert_openai_error(data, 415, resp.status)
    assert scripted.jobs == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON;charset=UTF-8"])
def test_json_posts_are_served(open_server, scripted, content_type):
    status, _resp, data = _call(open_server.port, "POST", "/v1/chat/completions", CHAT,
                                {"Content-Type": content_type})
    assert status == 200, data
    assert data["choices"][0]["message"]["content"] == "Hello."
    assert scripted.jobs == 1


def test_a_browsers_preflight_gets_no_cors_permission(open_server):
    status, resp, _data = _call(open_server.port, "OPTIONS", "/v1/chat/completions", None, {
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 405  # no CORS unless origins are given: the browser never sends the POST
    assert resp.getheader("access-control-allow-origin") is None


# -- the Host a request names ----------------------------------------------------------------------

FOREIGN_HOSTS = ["evil.example:8080", "evil.example", "localhost.evil.example", "127.0.0.1.nip.io",
                 "localhost@evil.example", "evil.example#localhost", "192.168.1.20", "[::2]", ""]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_is_refused_on_loopback_without_the_key(open_server, scripted, host):
    for method, path, body in (("GET", "/v1/models", None), ("POST", "/v1/chat/completions", CHAT),
                               ("GET", "/health", None)):
        status, _resp, data = _call(open_server.port, method, path, body, {
            "Host": host, "Content-Type": "application/json"})
        error = _assert_openai_error(data, 403, status)
        assert error["code"] == "host_not_allowed"
        assert "scripted" not in json.dumps(data)  # a rebound page reads nothing
    assert scripted.jobs == 0


def test_a_foreign_host_is_served_with_the_key(keyed_server, scripted):
    headers = {"Host": "evil.example:8080", "Content-Type": "application/json"}
    status, _resp, data = _call(keyed_server.port, "POST", "/v1/chat/completions", CHAT,
                                {**headers, "Authorization": "Bearer ec-right"})
    assert status == 200 and data["choices"][0]["message"]["content"] == "Hello."
    for key in ("ec-wrong", ""):
        status, _resp, data = _call(keyed_server.port, "POST", "/v1/chat/completions", CHAT,
                                    {**headers, "Authorization": f"Bearer {key}"})
        assert status in (401, 403)
        _assert_openai_error(data, status, status)
    status, _resp, data = _call(keyed_server.port, "GET", "/health", None, headers)
    _assert_openai_error(data, 403, status)
    assert scripted.jobs == 1


def test_the_names_of_this_computer_are_served(open_server, scripted):
    port = open_server.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost", "127.0.0.1",
                 "[::1]", f"LocalHost:{port}"):
        status, _resp, data = _call(port, "GET", "/v1/models", None, {"Host": host})
        assert status == 200, (host, data)
        assert data["data"][0]["id"] == "scripted"
        status, _resp, data = _call(port, "POST", "/v1/chat/completions", CHAT, {
            "Host": host, "Content-Type": "application/json"})
        assert status == 200, (host, data)
    assert scripted.jobs == 7


def test_the_official_client_on_localhost_and_127_0_0_1(open_server):
    for url in (open_server.url, open_server.url.replace("127.0.0.1", "localhost")):
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=60)
        reply = client.chat.completions.create(model="scripted", messages=HELLO)
        assert reply.choices[0].message.content == "Hello."
        chunks = list(client.chat.completions.create(model="scripted", messages=HELLO, stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello."
        vectors = client.embeddings.create(model="scripted", input=["a", "b"])
        assert len(vectors.data) == 2


# -- keys and addresses other computers reach ------------------------------------------------------

BLANK_KEYS = [None, "", "   ", "\t\n"]
NETWORK_HOSTS = ["0.0.0.0", "::", "192.168.1.20", ""]


@pytest.mark.parametrize("key", BLANK_KEYS)
@pytest.mark.parametrize("host", NETWORK_HOSTS)
def test_the_core_refuses_a_network_address_without_a_real_key(scripted, host, key):
    with pytest.raises(ServerStartError, match="API key"):
        create_app(scripted, host=host, api_key=key)


def test_the_runner_refuses_to_put_a_keyless_app_on_the_network(scripted):
    app = create_app(scripted)  # made for loopback
    with pytest.raises(ServerStartError, match="API key"):
        ServerThread(app, "0.0.0.0", 0)
    with pytest.raises(ServerStartError, match="API key"):
        serve_forever(app, "::", 0)
    with pytest.raises(ServerStartError, match="API key"):
        ServerThread(create_app(scripted, api_key="  "), "0.0.0.0", 0)


def test_a_blank_key_on_loopback_is_no_key(scripted):
    app = create_app(scripted, api_key=" \t")
    assert app.state.api_key is None
    server = _serve(app)
    try:
        status, _resp, data = _call(server.port, "GET", "/v1/models", None)
        assert status == 200, data  # not a key nobody can send
    finally:
        server.stop()
    assert create_app(scripted, host="0.0.0.0", api_key=" ec-k \n").state.api_key == "ec-k"


def _asgi_get(app, path: str, local: tuple[str, int], host: str) -> tuple[int, dict]:
    """One request straight into the ASGI app, as arriving on the local address ``local``."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", host.encode())], "client": ("192.168.1.30", 50000),
             "server": local}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


def test_a_keyless_app_reached_on_a_network_address_answers_nothing(scripted):
    """However it was put there (uvicorn run by hand, say), a connection that arrived on an
    address other computers reach is refused by an app without a key."""
    app = create_app(scripted)
    for path in ("/v1/models", "/health"):
        status, data = _asgi_get(app, path, ("192.168.1.20", 8080), "192.168.1.20:8080")
        assert _assert_openai_error(data, 403, status)["code"] == "api_key_required"
    status, data = _asgi_get(app, "/v1/models", ("127.0.0.1", 8080), "localhost:8080")
    assert status == 200 and data["data"][0]["id"] == "scripted"


def test_every_interface_with_a_key_asks_it_and_health_tells_no_model(scripted):
    server = ServerThread(create_app(scripted, host="0.0.0.0", api_key="ec-right"), "0.0.0.0", 0)
    server.start()
    try:
        status, _resp, data = _call(server.port, "GET", "/v1/models", None)
        assert _assert_openai_error(data, 401, status)["code"] == "invalid_api_key"
        status, _resp, data = _call(server.port, "POST", "/v1/chat/completions", CHAT,
                                    {"Content-Type": "application/json"})
        _assert_openai_error(data, 401, status)
        status, _resp, data = _call(server.port, "GET", "/health", None)
        assert status == 200 and data == {"status": "ok"}  # alive, and nothing about the model
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="ec-right",
                               max_retries=0, timeout=60)
        assert client.chat.completions.create(model="scripted", messages=HELLO).choices[0].message.content
    finally:
        server.stop()
    assert scripted.jobs == 1


def _wait_listening(port: int) -> None:
    import socket

    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, f"nothing listens on port {port}"
            time.sleep(0.1)


def test_serve_with_a_blank_key_on_every_interface_uses_a_key(model_path, tmp_path):
    """A script passing an unset variable (`--api-key "$KEY"`) gets the generated key, as with no
    --api-key at all, never an open port."""
    env = {**os.environ, "EDGECHAT_DATA_DIR": str(tmp_path / "data"),
           # No OS keyring here: the key is made for this run only, and the user's is untouched.
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--host", "0.0.0.0", "--port", "0",
                             "--ctx", "512", "--threads", "1", "--api-key", ""],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 180
        while not (lines and "Serving" in lines[-1]) and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "serve exited early:\n" + "".join(lines)
            lines.append(line)
        port = int(lines[-1].split(" at ")[1].split()[0].rsplit(":", 1)[1].split("/")[0])
        _wait_listening(port)
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer wrong"}):
            status, _resp, data = _call(port, "GET", "/v1/models", None, headers)
            _assert_openai_error(data, 401, status)
        assert "--api-key is empty" in "".join(lines)
        key = next(line.strip() for line in lines if line.startswith("ec-"))  # shown once
        status, _resp, data = _call(port, "GET", "/v1/models", None, {"Authorization": f"Bearer {key}"})
        assert status == 200 and data["data"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- errors ----------------------------------------------------------------------------------------

MALFORMED = [
    b"",
    b"{",
    b'{"messages": [}',
    b"\xff\xfe\x00",
    b"[" * 100_000,  # nested past Python's recursion limit
    b"[1, 2]",
    b'"hello"',
    b"null",
    b"42",
    b'{"messages": "hi"}',
    b'{"messages": [{"role": ["user"], "content": "x"}]}',
    b'{"messages": [{"role": {"a": 1}, "content": "x"}]}',
    b'{"messages": [{"role": "user", "content": 7}]}',
    b'{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}',
    b'{"messages": [{"role": "user", "content": "x"}], "stream_options": [1]}',
    b'{"messages": [{"role": "user", "content": "x"}], "response_format": "json"}',
    b'{"messages": [{"role": "user", "content": "x"}], "chat_template_kwargs": ["x"]}',
    b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": "10"}',
    b'{"messages": [{"role": "user", "content": "x"}], "temperature": NaN}',
    b'{"messages": [{"role": "user", "content": "x"}], "temperature": 1e999}',
    b'{"messages": [{"role": "user", "content": "x"}], "model": {"id": 1}}',
    b'{"messages": [{"role": "user", "content": "x"}], "stop": {"a": 1}}',
]


def test_malformed_bodies_are_400_in_openai_shape_with_nothing_logged(open_server, scripted, caplog):
    with _logs_watched(caplog):
        for body in MALFORMED:
            status, _resp, data = _call(open_server.port, "POST", "/v1/chat/completions", body,
                                        {"Content-Type": "application/json"})
            error = _assert_openai_error(data, 400, status)
            assert error["type"] == "invalid_request_error", body[:60]
        for path, body in (("/v1/completions", b'{"prompt": ["a", "b"]}'),
                           ("/v1/completions", b'{"prompt": "a", "echo": "no"}'),
                           ("/v1/embeddings", b'{"input": [1, 2]}'),
                           ("/v1/embeddings", b'{"input": "a", "encoding_format": ["float"]}')):
            status, _resp, data = _call(open_server.port, "POST", path, body,
                                        {"Content-Type": "application/json"})
            _assert_openai_error(data, 400, status)
    assert scripted.jobs == 0
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not problems, [r.getMessage()[:300] for r in problems]
    assert "Traceback" not in caplog.text


def test_unknown_routes_and_methods_are_in_openai_shape(open_server):
    for method, path, status in (("GET", "/v1/nothing", 404), ("POST", "/v2/chat", 404),
                                 ("DELETE", "/v1/models", 405), ("PUT", "/v1/chat/completions", 405),
                                 ("GET", "/v1/chat/completions", 405)):
        got, _resp, data = _call(open_server.port, method, path, b"{}" if method != "GET" else None,
                                 {"Content-Type": "application/json"})
        _assert_openai_error(data, status, got)


def test_an_unexpected_failure_is_a_500_in_shape_logged_once_without_the_prompt(caplog):
    scripted = Scripted(fail=RuntimeError(f"engine choked on {SECRET}"))
    server = _serve(create_app(scripted))
    try:
        body = json.dumps({"messages": [{"role": "user", "content": f"my code is {SECRET}"}]}).encode()
        with _logs_watched(caplog):
            status, _resp, data = _call(server.port, "POST", "/v1/chat/completions", body,
                                        {"Content-Type": "application/json"})
            # The server goes on answering after it.
            again, _resp, _data = _call(server.port, "GET", "/v1/models", None)
    finally:
        server.stop()
    error = _assert_openai_error(data, 500, status)
    assert error["type"] == "server_error" and SECRET not in error["message"]
    assert again == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage()[:300] for r in errors]
    logged = errors[0].getMessage()
    assert "RuntimeError" in logged and "Traceback" in logged and "submit" in logged  # where
    assert SECRET not in caplog.text and errors[0].exc_info is None


# -- the real model through the official client ----------------------------------------------------

def test_the_real_model_still_serves_the_official_client(backend):  # noqa: F811 - the fixture
    """What a normal client does keeps working: the openai package sends application/json to
    localhost or 127.0.0.1, streamed or not, with and without a key."""
    model = backend.models()[0].id
    open_ = _serve(create_app(backend))
    keyed = _serve(create_app(backend, api_key="ec-right"))
    try:
        for server, key in ((open_, "unused"), (keyed, "ec-right")):
            for url in (server.url, server.url.replace("127.0.0.1", "localhost")):
                client = openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=300)
                assert [m.id for m in client.models.list().data] == [model]
                reply = client.chat.completions.create(model=model, messages=HELLO, max_tokens=6,
                                                       temperature=0)
                assert reply.choices[0].message.content.strip()
                chunks = list(client.chat.completions.create(model=model, messages=HELLO, max_tokens=6,
                                                             temperature=0, stream=True))
                streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
                assert streamed == reply.choices[0].message.content
        # The same request as a page would send it gets nothing out of the model.
        status, _resp, data = _call(open_.port, "POST", "/v1/chat/completions", json.dumps({
            "model": model, "messages": HELLO, "max_tokens": 6}).encode(), {"Content-Type": "text/plain"})
        _assert_openai_error(data, 415, status)
    finally:
        open_.stop()
        keyed.stop()
