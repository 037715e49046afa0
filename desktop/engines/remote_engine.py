"""A model on another machine, behind an OpenAI-compatible server (vLLM, the llama.cpp server,
Ollama, LM Studio, another EdgeChat): for models this computer cannot hold.

The official ``openai`` client speaks the protocol (server-sent events, errors); this engine adds
what the window expects of any engine: thinking apart from the answer (``reasoning_content`` /
``reasoning`` deltas, or ``<think>`` tags in the text), a Stop that closes the request at once
(the server then stops generating), per-reply stats, the context length the server reports, and
every failure as a sentence for the user. Chats reach a server only through this engine, which
only runs when the user picked a remote model.
"""

from __future__ import annotations

import contextlib
import queue
import re
import socket
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from desktop import privacy
from desktop.engines import reasoning
from desktop.engines.base import (
    REMOTE_SCHEME,
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationStats,
    Message,
    ModelInfo,
    SamplingParams,
    Thought,
    decode_rate,
    is_remote,  # noqa: F401 - part of this module's interface (remote ids)
)
from desktop.engines.context import DEFAULT_N_CTX, fit_for_reply, reply_budget
from desktop.errors import plain_reason
from desktop.text import translate

SCHEME = REMOTE_SCHEME
BACKEND = "remote"
CONNECT_TIMEOUT_S = 5.0
# How long a server may stay silent (before the first token: while it reads a long prompt too)
# before the reply is given up. A big model on a busy server can take a while to start.
READ_TIMEOUT_S = 60.0
# Sent when the user gave no key: the client needs one, and without it would read
# OPENAI_API_KEY from the environment and hand the user's OpenAI key to any server.
NO_KEY = "no-key"
# Tokens a chat template adds around each message and for the reply's opening: the estimate
# used for fitting when the server can count only plain text.
PER_MESSAGE_TOKENS = 4
REPLY_OPENING_TOKENS = 3
# Sampling fields only some servers take, as (our field, their name): llama.cpp and LM Studio
# say repeat_penalty, vLLM repetition_penalty, and each ignores the other's. A server that
# refuses unknown fields gets the request again without them.
_EXTRA_SAMPLING = (("top_k", "top_k"), ("min_p", "min_p"), ("repeat_penalty", "repeat_penalty"),
                   ("repeat_penalty", "repetition_penalty"))
_REFUSED_WORDS = ("top_k", "min_p", "repeat_penalty", "repetition_penalty", "unrecognized", "extra")
_CONTEXT_WORDS = re.compile(r"context|too long|maximum .*length|max_model_len|n_ctx|exceed", re.I)


class RemoteError(EngineError):
    """A remote server failed in a way the user can act on; the message says how."""


class RemoteConnectError(RemoteError):
    pass


class RemoteAuthError(RemoteError):
    pass


class RemoteModelGoneError(RemoteError):
    pass


class RemoteTimeoutError(RemoteError):
    pass


class RemoteServerError(RemoteError):
    pass


class ReplyInterrupted(RemoteError):
    """The connection ended mid-reply: what arrived was already yielded and is kept."""


# -- addresses and ids ---------------------------------------------------------------------
def normalize_base_url(url: str) -> str:
    """``host:port``, ``http://host:port`` or ``http://host:port/v1/`` as the client's base URL
    (``http://host:port/v1``); a path other than the root is kept as given (a proxy's prefix)."""
    text = (url or "").strip()
    if not text:
        raise RemoteError(translate("Core", "Enter the server's address, for example "
                                            "http://192.168.1.20:8000/v1."))
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(translate(
            "Core", "{url} is not a server address: use http://host:port/v1 (or https://).").format(url=url))
    if parts.username or parts.password:
        # It would be shown in the status bar, errors and remotes.json: a key belongs in the keyring.
        raise RemoteError(translate(
            "Core", "Leave the user name and password out of the address: put the key in the API key "
            "field, which is kept in the OS keyring."))
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise RemoteError(translate("Core", "{url} has a port that is not a number.").format(
            url=url)) from None
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def server_root(base_url: str) -> str:
    """Where a server's own endpoints live (/tokenize, /props): the base URL without /v1."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def host_label(base_url: str) -> str:
    """``host:port`` for the status bar, the stats and errors."""
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    if ":" in host:  # IPv6
        host = f"[{host}]"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{host}:{port}"


def make_id(server_id: str, model: str) -> str:
    return f"{SCHEME}{server_id}/{model}"


def parse_id(model_id: str) -> tuple[str, str]:
    """(server id, model name) of ``remote://<server_id>/<model>``; a model name may hold "/"."""
    if not is_remote(model_id):
        raise RemoteError(translate("Core", "{id} is not a remote model.").format(id=model_id))
    server_id, _, model = model_id[len(SCHEME):].partition("/")
    if not server_id or not model:
        raise RemoteError(translate("Core", "{id} names no server and model.").format(id=model_id))
    return server_id, model


# -- the client and its errors --------------------------------------------------------------
def make_client(base_url: str, api_key: str | None, connect_timeout: float = CONNECT_TIMEOUT_S,
                read_timeout: float = READ_TIMEOUT_S):
    # Every request to a server goes through a client made here: Work offline refuses servers on
    # other computers at this one place (desktop/privacy.py); this computer's keep working.
    privacy.require_local_server(base_url, RemoteConnectError)
    try:
        import openai
    except ImportError as exc:
        raise RemoteError(translate("Core", "Remote servers need the 'openai' package: {reason}").format(
            reason=exc)) from None
    # No automatic retries: a reply is retried here, once, only when the connection failed before
    # anything arrived; the client's own would also repeat timeouts and 5xx answers.
    sockets = _Sockets()
    client = openai.OpenAI(
        base_url=base_url, api_key=api_key or NO_KEY, max_retries=0,
        timeout=openai.Timeout(read_timeout, connect=connect_timeout),
        http_client=openai.DefaultHttpxClient(event_hooks={"request": [sockets.watch]}),
    )
    _SOCKETS[client] = sockets
    return client


def _server_message(exc) -> str:
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if not isinstance(message, str):
            message = body.get("detail") if isinstance(body.get("detail"), str) else None
    message = message or getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:300]


def _transport_kind(exc: BaseException) -> str | None:
    """"timeout" or "connection" for the transport's own exceptions: openai before 2.x let
    httpx's escape from a stream being read (ReadTimeout, RemoteProtocolError...)."""
    import openai

    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError | OSError):
        return "connection"
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names:
        return "timeout"
    if names & {"TransportError", "StreamError", "NetworkError", "ProtocolError"}:
        return "connection"
    return None


def plain_error(exc: BaseException, base_url: str, model: str | None = None,
                read_timeout: float = READ_TIMEOUT_S) -> EngineError:
    """An ``openai`` exception as an EngineError whose message the user can act on."""
    import openai

    where = host_label(base_url)
    if isinstance(exc, EngineError):
        return exc
    kind = _transport_kind(exc)
    if kind == "timeout":
        return RemoteTimeoutError(translate(
            "Core", "The server at {where} did not answer for {seconds} s. It may be overloaded, or "
            "reading a long prompt: try again, or raise the waiting time.").format(
            where=where, seconds=f"{read_timeout:g}"))
    if kind == "connection":
        # In words, not the transport's jargon ("ConnectError", "[Errno 111] ...").
        reason = plain_reason(exc) or translate("Core", "the connection failed")
        return RemoteConnectError(translate(
            "Core", "Could not connect to {url}: {reason}. Is the server running, and is the "
            "address right?").format(url=base_url, reason=reason))
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = _server_message(exc)
        if status in (401, 403):
            return RemoteAuthError(translate(
                "Core", "The server at {where} refused the API key ({status}): check the key in "
                "\"Connect to a server…\". The server said: {detail}").format(
                where=where, status=status, detail=detail))
        if status == 404:
            if model:
                return RemoteModelGoneError(translate(
                    "Core", "The server at {where} no longer offers the model {model}. Choose another "
                    "of its models in \"Connect to a server…\".").format(where=where, model=model))
            return RemoteModelGoneError(translate(
                "Core", "The server at {where} does not answer OpenAI requests at this address "
                "(404): check that the address ends in /v1.").format(where=where))
        if status in (400, 413, 422) and _CONTEXT_WORDS.search(detail):
            return ContextOverflowError(translate(
                "Core", "The chat is too long for the model's context on the server at {where}: "
                "start a new chat, or leave out older messages. The server said: {detail}").format(
                where=where, detail=detail))
        if status == 429 or status == 503:
            return RemoteServerError(translate(
                "Core", "The server at {where} is busy ({status}): try again in a moment. "
                "The server said: {detail}").format(where=where, status=status, detail=detail))
        if status >= 500:
            return RemoteServerError(translate(
                "Core", "The server at {where} failed ({status}): {detail}").format(
                where=where, status=status, detail=detail))
        return RemoteError(translate(
            "Core", "The server at {where} refused the request ({status}): {detail}").format(
            where=where, status=status, detail=detail))
    if isinstance(exc, openai.OpenAIError):
        return RemoteError(translate(
            "Core", "The server at {where} sent something unexpected: {detail}").format(
            where=where, detail=str(exc)[:300]))
    return RemoteError(translate("Core", "The server at {where} failed: {detail}").format(
        where=where, detail=plain_reason(exc) or str(exc)[:300] or translate("Core", "no reason given")))


# -- what a server says about its models -----------------------------------------------------
def _positive_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value > 0:
        return int(value)
    return None


def context_length_of(model: dict, trained: bool = True) -> int | None:
    """The context a /v1/models entry reports, in each server's own words: vLLM
    ``max_model_len``; LM Studio ``loaded_context_length``/``max_context_length``; the llama.cpp
    server ``meta.n_ctx`` (allocated) or, with ``trained``, ``meta.n_ctx_train`` (what the model
    was trained for: the server may have allocated less, see probe_context_length)."""
    meta = model.get("meta") if isinstance(model.get("meta"), dict) else {}
    for value in (model.get("max_model_len"), model.get("loaded_context_length"), meta.get("n_ctx"),
                  model.get("context_length"), model.get("context_window"),
                  model.get("max_context_length"), meta.get("n_ctx_train") if trained else None):
        found = _positive_int(value)
        if found:
            return found
    return None


def list_models(client, base_url: str) -> list[dict]:
    """The server's /v1/models entries as plain dicts (with each server's extra fields)."""
    try:
        page = client.models.list()
        return [m.to_dict() if hasattr(m, "to_dict") else dict(m) for m in page.data]
    except Exception as exc:  # noqa: BLE001 - every failure becomes a plain message
        raise plain_error(exc, base_url) from None


def _get_json(client, root: str, method: str, path: str, body: dict | None = None):
    """A server-specific endpoint outside /v1, through the same client (key, timeouts); None
    when the server does not have it."""
    try:
        other = client.with_options(base_url=root, timeout=client.timeout)
        if method == "post":
            return other.post(path, body=body or {}, cast_to=object)
        return other.get(path, cast_to=object)
    except Exception:  # noqa: BLE001 - an optional endpoint: absent, refused or odd alike
        return None


def probe_context_length(client, root: str, model: str) -> int | None:
    """Servers that keep the context out of /v1/models: the llama.cpp server's /props (what it
    allocated per request), LM Studio's /api/v0/models/<model>. Ollama's /api/show is not asked:
    it reports what the model was trained for, while Ollama runs a smaller context unless told
    (and cuts longer prompts silently), so the dialog's setting or the default is safer."""
    props = _get_json(client, root, "get", "/props")
    if isinstance(props, dict):
        settings = props.get("default_generation_settings")
        n_ctx = _positive_int(settings.get("n_ctx")) if isinstance(settings, dict) else None
        if n_ctx or _positive_int(props.get("n_ctx")):
            return n_ctx or _positive_int(props.get("n_ctx"))
    studio = _get_json(client, root, "get", f"/api/v0/models/{model}")
    if isinstance(studio, dict):
        found = context_length_of(studio)
        if found:
            return found
    return None


# -- counting tokens ---------------------------------------------------------------------------
class RemoteTokenizer:
    """Counts text with the server's tokenizer when it has an endpoint for it (vLLM and the
    llama.cpp server: /tokenize; llama-cpp-python's server: /extras/tokenize/count), else
    estimates four characters a token (``exact`` says which). Counts are cached: fitting a chat
    measures the same messages many times."""

    PROBE = "Hello, world!"

    def __init__(self, client, root: str, model: str, cache_size: int = 2048, probe: bool = True):
        self._client, self._root, self._model = client, root, model
        self._cache: OrderedDict[str, int] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.mode = "estimate"
        for mode in ("tokenize", "extras") if probe else ():
            count = self._ask(mode, self.PROBE)
            if count:
                self.mode = mode
                break

    @property
    def exact(self) -> bool:
        return self.mode != "estimate"

    def _ask(self, mode: str, text: str) -> int | None:
        if mode == "tokenize":
            # vLLM reads "prompt", the llama.cpp server "content"; each ignores the other.
            data = _get_json(self._client, self._root, "post", "/tokenize",
                             {"model": self._model, "prompt": text, "content": text})
        else:
            data = _get_json(self._client, self._root, "post", "/extras/tokenize/count",
                             {"model": self._model, "input": text})
        if not isinstance(data, dict):
            return None
        count = data.get("count")
        if isinstance(count, int) and not isinstance(count, bool):
            return count
        tokens = data.get("tokens")
        return len(tokens) if isinstance(tokens, list) else None

    def count(self, text: str) -> int:
        if not text:
            return 0
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        n = self._ask(self.mode, text) if self.exact else None
        if n is None:
            n = max(1, (len(text) + 3) // 4)
        with self._lock:
            self._cache[text] = n
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return n

    def measure(self, messages: Sequence[Message]) -> int:
        """The prompt's tokens: the messages' text and what a template adds around them."""
        return REPLY_OPENING_TOKENS + sum(
            PER_MESSAGE_TOKENS + self.count(str(m.get("content") or "")) for m in messages)


# -- the engine --------------------------------------------------------------------------------
class RemoteEngine(Engine):
    backend = BACKEND

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *,
                 model_id: str | None = None, name: str | None = None, n_ctx: int | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT_S, read_timeout: float = READ_TIMEOUT_S,
                 context_length: int | None = None, server_name: str | None = None):
        """Connect to ``base_url`` (``http://host:port/v1``) and check that it offers ``model``.
        ``n_ctx``: the user's context setting (capped by what the server reports);
        ``context_length``: what was saved for a server that reports none."""
        self.base_url = normalize_base_url(base_url)
        self.model = model
        self.read_timeout = read_timeout
        self._root = server_root(self.base_url)
        self._where = host_label(self.base_url)
        self._client = make_client(self.base_url, api_key, connect_timeout, read_timeout)
        self._skip: set[str] = set()  # request fields this server refused
        self._reply: _Reply | None = None  # the reply in flight, aborted by a Stop or a close
        models = list_models(self._client, self.base_url)
        entry = next((m for m in models if m.get("id") == model), None)
        if entry is None:
            offered = ", ".join(str(m.get("id")) for m in models[:8]) or translate("Core", "none")
            raise RemoteModelGoneError(translate(
                "Core", "The server at {where} does not offer the model {model} (it offers: {offered})."
            ).format(where=self._where, model=model, offered=offered))
        reported = (context_length_of(entry, trained=False)
                    or probe_context_length(self._client, self._root, model) or context_length_of(entry))
        known = reported or _positive_int(context_length)
        chosen = min(int(n_ctx), known) if n_ctx and known else int(n_ctx or known or DEFAULT_N_CTX)
        self.tokenizer = RemoteTokenizer(self._client, self._root, model)
        self._info = ModelInfo(
            path=model_id or make_id(self._where, model),
            name=name or model,
            backend=BACKEND,
            device=self._where,
            context_length=known,
            n_ctx=chosen,
            extra={
                "remote": True,
                "base_url": self.base_url,
                "host": self._where,
                "owned_by": entry.get("owned_by"),
                "server_name": server_name or self._where,
                "context_source": "server" if reported else ("setting" if known or n_ctx else "default"),
                "token_count": "server" if self.tokenizer.exact else "estimate",
                "thinking": {"switch": False, "starts_inside": False},
                "system_role": True,
            },
        )
        self._stats: GenerationStats | None = None

    def count_tokens(self, text: str) -> int:
        return self.tokenizer.count(text)

    def measure(self, messages: Sequence[Message]) -> int:
        return self.tokenizer.measure(messages)

    # -- a reply ----------------------------------------------------------------------------
    def _request(self, messages: list[dict], params: SamplingParams, max_tokens: int) -> dict:
        body: dict = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": max(params.temperature, 0.0),
            "top_p": params.top_p,
        }
        if params.seed is not None and params.seed >= 0:
            body["seed"] = params.seed
        extra = {}
        if "stream_options" not in self._skip:
            body["stream_options"] = {"include_usage": True}
        if "sampling" not in self._skip:
            extra = {key: getattr(params, field) for field, key in _EXTRA_SAMPLING}
            if params.temperature <= 0:
                extra["top_k"] = 1
        return {**body, "extra_body": extra or None}

    def _open_stream(self, messages, params, max_tokens):
        """The streaming request; a refused optional field is dropped and the request repeated,
        and a connection that failed before anything arrived is tried once more."""
        import openai

        retried = False
        while True:
            try:
                return self._client.chat.completions.create(**self._request(messages, params, max_tokens))
            except openai.BadRequestError as exc:
                detail = _server_message(exc).lower()
                if "stream_options" not in self._skip and "stream_options" in detail:
                    self._skip.add("stream_options")
                    continue
                if "sampling" not in self._skip and any(k in detail for k in _REFUSED_WORDS):
                    self._skip.add("sampling")
                    continue
                raise plain_error(exc, self.base_url, self.model, self.read_timeout) from None
            except openai.APITimeoutError as exc:
                raise plain_error(exc, self.base_url, self.model, self.read_timeout) from None
            except openai.APIConnectionError as exc:
                if retried:
                    raise plain_error(exc, self.base_url, self.model, self.read_timeout) from None
                retried = True  # a kept-alive connection the server had closed, most often
            except Exception as exc:  # noqa: BLE001
                raise plain_error(exc, self.base_url, self.model, self.read_timeout) from None

    def stream(self, messages: Sequence[Message], params: SamplingParams,
               cancel: threading.Event | None = None) -> Iterator[str]:
        started = time.perf_counter()
        messages = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        dropped: list[int] = []
        max_tokens = params.max_tokens
        prompt_tokens = 0
        if self.tokenizer.exact:
            messages, dropped = fit_for_reply(messages, self.measure, self._info.n_ctx, params.max_tokens,
                                              params.context_policy)
            prompt_tokens = self.measure(messages)
            max_tokens = reply_budget(prompt_tokens, self._info.n_ctx, params.max_tokens)
        stats = self._stats = GenerationStats(prompt_tokens=prompt_tokens, dropped_messages=len(dropped),
                                              dropped_indices=dropped, model=self.model, backend=BACKEND,
                                              device=self._where)
        if cancel is not None and cancel.is_set():
            stats.finish_reason = "cancelled"
            return
        # Thinking comes as its own delta field from servers that parse it (vLLM, llama.cpp with
        # a reasoning format, Ollama), or as <think> tags in the text from those that do not.
        thinking = reasoning.ThinkingStream(reasoning.ThinkingSplitter())
        reply = _Reply(self, messages, params, max_tokens)
        self._reply = reply
        on_set = getattr(cancel, "on_set", None)
        if on_set is not None:
            on_set(reply.abort)
        first = last = None
        count = 0
        finish = None
        usage = None
        server_model = None
        cancelled = False
        try:
            for chunk in reply.chunks(cancel, poll=on_set is None):
                if chunk is None:
                    cancelled = True
                    break
                server_model = server_model or getattr(chunk, "model", None)
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                for choice in chunk.choices or ():
                    if choice.index not in (0, None):
                        continue
                    delta = choice.delta
                    thought = _delta_reasoning(delta) if delta is not None else None
                    text = getattr(delta, "content", None) if delta is not None else None
                    if thought or text:
                        last = time.perf_counter()
                        if first is None:
                            first = last
                            stats.ttft_s = first - started
                        count += 1
                    if thought:
                        if thinking.started is None:
                            thinking.started = last
                        thinking.tokens += 1
                        yield Thought(thought)
                    if text:
                        yield from thinking.feed(text)
                    if choice.finish_reason:
                        finish = choice.finish_reason
            if reply.error is not None and not cancelled:  # a failure after a Stop is the Stop's
                exc = reply.error
                if isinstance(exc, EngineError):
                    raise exc
                if count:  # what arrived was yielded: it is kept, and marked cut
                    raise self._interrupted(exc) from None
                raise plain_error(exc, self.base_url, self.model, self.read_timeout) from None
            if finish is None and not cancelled:
                # The server closed the stream cleanly but never said the reply was done.
                if count:
                    raise self._interrupted(None)
                raise RemoteServerError(translate(
                    "Core", "The server at {where} ended the reply without sending anything.").format(
                    where=self._where))
            yield from thinking.finish()
            stats.finish_reason = "cancelled" if cancelled else ("length" if finish == "length" else "stop")
        finally:
            if on_set is not None:
                cancel.remove_callback(reply.abort)
            reply.abort()
            self._reply = None
            stats.model = server_model or self.model
            completion = _usage_int(usage, "completion_tokens")
            stats.completion_tokens = completion if completion is not None else count
            prompt = _usage_int(usage, "prompt_tokens")
            if prompt is not None:
                stats.prompt_tokens = prompt
            stats.total_s = time.perf_counter() - started
            stats.tokens_per_s = decode_rate(stats.completion_tokens, first, last)
            thinking.fill(stats)

    def _interrupted(self, exc) -> ReplyInterrupted:
        kind = _transport_kind(exc) if exc is not None else None
        if exc is None:
            reason = translate("Core", "the server ended it without saying it was done")
        elif kind == "timeout":
            reason = translate("Core", "the server stopped sending for {seconds} s").format(
                seconds=f"{self.read_timeout:g}")
        elif kind == "connection":
            reason = translate("Core", "the connection was lost")
        else:  # an error event in the stream (LM Studio, vLLM send one when generation fails)
            reason = translate("Core", "the server reported an error: {detail}").format(
                detail=_server_message(exc))
        return ReplyInterrupted(translate(
            "Core", "The reply was cut off: {reason} (server at {where}). The text above is what "
            "arrived.").format(reason=reason, where=self._where))

    def close(self) -> None:
        reply = getattr(self, "_reply", None)
        if reply is not None:
            reply.abort()
        client, self._client = getattr(self, "_client", None), None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


class _Stopped(Exception):
    """Raised into the transport when a Stop came while a request was being made."""


_pumping = threading.local()  # the reply whose request this thread is making


class _Sockets:
    """The connections one client opened. A Stop that comes before the server's headers has no
    response to close yet (the client blocks until they come, up to the read timeout): the
    sockets are then shut down from here, and the server sees the client go at once. The
    client serves one engine, one request at a time, so only a kept-alive idle connection is
    shut down with the reply's, and the next request opens another."""

    def __init__(self):
        self._lock = threading.Lock()
        self._streams: weakref.WeakSet = weakref.WeakSet()

    def watch(self, request) -> None:
        """httpx's request hook, on the thread that makes the request: trace its connection."""
        request.extensions["trace"] = self._trace

    def _trace(self, event: str, info: dict) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            if stream is not None:
                with self._lock:
                    self._streams.add(stream)
        reply = getattr(_pumping, "reply", None)
        if reply is not None and reply.aborted:
            raise _Stopped  # a Stop came while connecting or sending: no waiting for headers

    def shutdown_all(self) -> None:
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            with contextlib.suppress(Exception):
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)


_SOCKETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> its _Sockets


class _Reply:
    """One streaming request, read on a thread of its own.

    The engine's thread waits on a queue, not on the socket: a Stop ends the wait at once in
    every phase, also while the server is still reading the prompt and has sent nothing (the
    openai client blocks until the response headers come). The request is then closed from
    here: the socket is shut down (a close would not wake a read blocked on another thread), so
    the server sees the client go and stops generating; before the headers, through the
    client's _Sockets."""

    _END = object()

    def __init__(self, engine: RemoteEngine, messages, params, max_tokens):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stream = None
        self._aborted = False
        self._sockets: _Sockets | None = _SOCKETS.get(engine._client)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._pump, args=(engine, messages, params, max_tokens),
                                        name="remote-reply", daemon=True)
        self._thread.start()

    @property
    def aborted(self) -> bool:
        return self._aborted

    def _pump(self, engine, messages, params, max_tokens) -> None:
        _pumping.reply = self
        try:
            stream = engine._open_stream(messages, params, max_tokens)
            with self._lock:
                self._stream = stream
                aborted = self._aborted
            if aborted:
                _shutdown(stream)
                return
            for chunk in stream:
                self._queue.put(chunk)
        except BaseException as exc:  # noqa: BLE001 - handed to the engine's thread
            with self._lock:
                aborted = self._aborted
            if not aborted:
                self.error = exc
        finally:
            self._queue.put(self._END)

    def chunks(self, cancel: threading.Event | None, poll: bool) -> Iterator:
        """The server's chunks; None once cancelled. ``poll``: the cancel event cannot call
        back (a plain Event), so it is looked at every 50 ms."""
        while True:
            if cancel is not None and cancel.is_set():
                yield None
                return
            try:
                item = self._queue.get(timeout=0.05 if poll else None)
            except queue.Empty:
                continue
            if item is self._END:
                return
            if item is _CANCEL:
                yield None
                return
            yield item

    def abort(self) -> None:
        """Stop waiting and close the request (any thread, any number of times)."""
        with self._lock:
            first = not self._aborted
            self._aborted = True
            stream = self._stream
        if first:
            self._queue.put(_CANCEL)
        if stream is not None:
            _shutdown(stream)
        elif first and self._sockets is not None:
            self._sockets.shutdown_all()


_CANCEL = object()


def _shutdown(stream) -> None:
    response = getattr(stream, "response", None)
    network = getattr(response, "extensions", {}).get("network_stream") if response is not None else None
    sock = None
    with contextlib.suppress(Exception):
        sock = network.get_extra_info("socket") if network is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        stream.close()


def _delta_reasoning(delta) -> str | None:
    """A delta's thinking: ``reasoning_content`` (vLLM, llama.cpp, DeepSeek) or ``reasoning``
    (Ollama, OpenRouter, newer vLLM), kept by the client as extra fields."""
    for key in ("reasoning_content", "reasoning"):
        value = getattr(delta, key, None)
        if value is None:
            extra = getattr(delta, "model_extra", None) or {}
            value = extra.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _usage_int(usage, key: str) -> int | None:
    value = getattr(usage, key, None) if usage is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class RemoteCounter:
    """The context meter's counter for a remote model (see models/open_model.py).

    It estimates (four characters a token, and the template's overhead) and sends nothing: the
    meter counts the message while it is typed, and a draft the user may still delete must not
    reach the server before Send. The engine counts exactly, with the server's tokenizer where
    it has one, when the message is sent."""

    def __init__(self, model_id: str):
        self.model_id = model_id
        self._tokenizer = RemoteTokenizer(None, "", "", probe=False)

    def set_thinking(self, thinking: bool) -> None:
        """The server renders the template: the switch changes nothing counted here."""

    def preview(self) -> str:
        return translate("Core", "The server applies the model's chat template; EdgeChat sends the "
                                 "messages as they are.")

    def measure(self, messages: Sequence[Message]) -> int:
        return self._tokenizer.measure(messages)

    def close(self) -> None:
        pass

