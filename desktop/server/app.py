"""The OpenAI-compatible HTTP API, as a Starlette app over a ``Backend``.

The app holds no engine: it checks a request, turns it into a ``Job`` and relays what the
engine's thread pushes back, as one JSON body or as server-sent events in OpenAI's chunk shape
(``data: {...}`` lines, ``data: [DONE]`` last). Errors use OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``, with the status a client library maps to
the right exception (400, 401, 403, 404, 413, 415, 503 with Retry-After).

Only its user drives it: a web page must not. A POST must say ``Content-Type: application/json``
(a browser may send that cross-site only after a CORS preflight, which is refused unless origins
were given), and on loopback only a request naming this computer in ``Host`` (localhost,
127.0.0.1, [::1]) is served without the key, so a page that rebinds its own name to 127.0.0.1
reads nothing. An address other computers reach needs the key, checked here and not only by
callers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import re
import secrets
import struct
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.engines.base import (
    SAMPLING_RANGES,
    STREAM_BATCH_S,
    ContextOverflowError,
    GenerationStats,
    SamplingParams,
    Thought,
)
from desktop.engines.context import POLICIES
from desktop.server import keys
from desktop.server.backend import (
    DEFAULT_MAX_TOKENS_CAP,
    DEFAULT_QUEUE_LIMIT,
    OWNER,
    Backend,
    Job,
    ModelCard,
    ServerStopping,
)
from desktop.server.embeddings import EmbeddingsUnavailable
from desktop.server.runner import LOOPBACK, ServerStartError, is_loopback, key_required_message, needs_key
from desktop.server.runs import ClientGone, Run

DEFAULT_MAX_BODY = 4 * 1024 * 1024  # a long chat is tens of kB; a runaway client is refused early
RETRY_AFTER_S = 2
MAX_STOPS = 16
MAX_EMBEDDING_INPUTS = 256
# The names a client on this computer reaches a loopback server by; a browser sends the page's
# own host name instead, so any other name is a page that rebound its name to this address.
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_HOST = re.compile(r"(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::\d{1,5})?")

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.type = status, message, type
        self.param, self.code, self.retry_after = param, code, retry_after

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return JSONResponse(error_body(self.message, self.type, self.param, self.code),
                            status_code=self.status, headers=headers)


def error_body(message: str, type: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


@dataclass(frozen=True)
class RequestRecord:
    """One finished request, for the window's live log (plain values, any thread may hold it)."""

    method: str
    path: str
    status: int
    client: str
    duration_s: float
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stream: bool = False
    finish_reason: str | None = None


@dataclass
class _Limits:
    max_body: int
    max_tokens_cap: int
    queue_limit: int


def create_app(
    backend: Backend,
    *,
    host: str = LOOPBACK,
    api_key: str | None = None,
    cors_origins: Sequence[str] = (),
    max_body: int = DEFAULT_MAX_BODY,
    max_tokens_cap: int = DEFAULT_MAX_TOKENS_CAP,
    queue_limit: int = DEFAULT_QUEUE_LIMIT,
    on_request: Callable[[RequestRecord], None] | None = None,
) -> Starlette:
    """The API over ``backend``, to be served on ``host``. ``api_key``: every request but /health
    must carry it as a Bearer token; blank is none, and a ``host`` other computers reach without
    one raises ServerStartError. ``cors_origins``: browsers on those origins may call it (none by
    default). ``on_request`` is called on the server's thread after each request."""
    api_key = keys.given(api_key)
    if needs_key(host) and api_key is None:
        raise ServerStartError(key_required_message(host))
    api = _Api(backend, _Limits(max_body, max_tokens_cap, queue_limit))
    routes = [
        Route("/v1/models", api.list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", api.get_model, methods=["GET"]),
        Route("/v1/chat/completions", api.chat_completions, methods=["POST"]),
        Route("/v1/completions", api.completions, methods=["POST"]),
        Route("/v1/embeddings", api.embeddings, methods=["POST"]),
        Route("/health", api.health, methods=["GET"]),
    ]
    middleware = []
    if cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins),
                                     allow_methods=["GET", "POST", "OPTIONS"],
                                     allow_headers=["Authorization", "Content-Type"]))
    middleware.append(Middleware(_Guard, api_key=api_key, on_request=on_request))

    async def http_error(_request, exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return JSONResponse(error_body(str(exc.detail), code=code), status_code=exc.status_code)

    async def api_error(_request, exc: ApiError):
        return exc.response()

    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: http_error, ApiError: api_error})
    app.state.api = api
    app.state.stop_jobs = api.stop_all  # the runner calls it on the event loop as the server stops
    app.state.api_key = api_key  # the runner refuses to open another address without one
    return app


class _Guard:
    """Decides who is served before anything else runs, reports each request when it ends, and
    turns an unexpected failure into a 500 in OpenAI's shape, logged once without the request."""

    def __init__(self, app, api_key: str | None, on_request):
        self.app, self.api_key, self.on_request = app, api_key, on_request

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "sent": False}
        scope.setdefault("state", {})

        async def tracking_send(message):
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal.response()(scope, receive, tracking_send)
                return
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:  # it left while sending its body: nobody to answer, nothing wrong here
            pass
        except Exception as exc:  # noqa: BLE001 - the client gets a 500, the log one redacted entry
            log_failure("API request failed", exc, scope)
            if not status["sent"]:
                error = ApiError(500, "The server failed on this request; see EdgeChat's log.",
                                 type="server_error", code="internal_error")
                with contextlib.suppress(Exception):  # the client may be gone too
                    await error.response()(scope, receive, tracking_send)
        finally:
            if self.on_request is not None:
                info = scope["state"].get("edgechat", {})
                client = scope.get("client")
                with contextlib.suppress(Exception):  # a log must never fail a request
                    self.on_request(RequestRecord(
                        method=scope["method"], path=scope["path"], status=status["code"],
                        client=f"{client[0]}:{client[1]}" if client else "",
                        duration_s=time.perf_counter() - started, **info))

    def _refusal(self, scope) -> ApiError | None:
        authorized = self.api_key is not None and self._authorized(scope)
        server = scope.get("server")
        local = server[0] if server else None
        # Where it was reached, not only where it was told to listen: a connection that came in
        # on an address other computers reach is never served without a key.
        if local is not None and not is_loopback(local) and self.api_key is None:
            return ApiError(403, "This server has no API key, so it serves only this computer.",
                            type="permission_error", code="api_key_required")
        if self.api_key is not None and not authorized and scope["path"] != "/health":
            return ApiError(401, "Incorrect API key provided. Send it as 'Authorization: Bearer <key>' "
                            "(EdgeChat ▸ Server shows the key).", code="invalid_api_key")
        # A page that rebound its own name to this address sends that name: on loopback, only
        # the key lets a request naming another host in.
        if not authorized and (local is None or is_loopback(local)) and not _names_this_computer(
                scope, local):
            return ApiError(403, "This server answers only requests addressed to localhost, 127.0.0.1 "
                            "or [::1] (Host header), unless they carry its API key.",
                            type="permission_error", code="host_not_allowed")
        return None

    def _authorized(self, scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and secrets.compare_digest(
                    token.strip().encode(), self.api_key.encode())
        return False


def _header(scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]


def _names_this_computer(scope, local: str | None) -> bool:
    """Whether the one Host header names this computer's loopback (any port)."""
    hosts = _header(scope, b"host")
    if len(hosts) != 1:
        return False
    match = _HOST.fullmatch(hosts[0].strip())
    if match is None:
        return False
    names = _LOOPBACK_NAMES
    if local:  # a server on another loopback address (127.0.0.2) is reached by that address
        names = names | {f"[{local}]" if ":" in local else local}
    return match.group(1).lower() in names


def _is_json(scope) -> bool:
    types = _header(scope, b"content-type")
    return len(types) == 1 and types[0].partition(";")[0].strip().lower() == "application/json"


def log_failure(what: str, exc: BaseException, scope=None) -> None:
    """One error entry with where it failed (the stack, the exception's type), never what was
    asked: an exception's message may quote the request's body, and prompts stay out of logs."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        parts.append("".join(traceback.format_tb(current.__traceback__))
                     + f"{kind.__module__}.{kind.__qualname__} (message left out)")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    where = f" ({scope['method']} {scope['path']})" if scope else ""
    log.error("%s%s: %s\nTraceback (most recent call last):\n%s", what, where, type(exc).__name__,
              "\nwhich led to:\n".join(reversed(parts)))


def _note(request: Request, **values) -> None:
    request.scope["state"].setdefault("edgechat", {}).update(values)


class _Api:
    def __init__(self, backend: Backend, limits: _Limits):
        self.backend = backend
        self.limits = limits
        self.in_flight = 0  # jobs queued or running; only the event loop's thread changes it
        self.runs: set[Run] = set()  # their outputs, for a stop to end; the event loop's thread only

    def stop_all(self) -> None:
        """On the event loop, as the server stops: every request still open is answered "the
        server is stopping" (a stream gets it as its last event) and its job is cancelled, queued
        or running, so no engine goes on writing for clients that are being dropped."""
        for run in list(self.runs):
            run.cancel.set()
            run.fail(ServerStopping("The server is stopping."))

    # -- models -----------------------------------------------------------------------------
    async def health(self, _request: Request):
        return JSONResponse({"status": "ok" if self.backend.models() else
                             ("loading" if self.backend.loading else "no model")})

    async def list_models(self, _request: Request):
        return JSONResponse({"object": "list", "data": [_model_json(c) for c in self.backend.models()]})

    async def get_model(self, request: Request):
        return JSONResponse(_model_json(self._model(request.path_params["model_id"])))

    def _model(self, requested) -> ModelCard:
        cards = self.backend.models()
        if not cards:
            if self.backend.loading:
                raise ApiError(503, "The model is still loading; try again shortly.",
                               type="server_error", code="model_loading", retry_after=RETRY_AFTER_S)
            raise ApiError(503, "No model is loaded in EdgeChat. Load one, then try again.",
                           type="server_error", code="model_not_loaded", retry_after=10)
        if requested is None or requested == "":
            return cards[0]  # like llama.cpp's server: the one loaded model answers
        if not isinstance(requested, str):
            raise ApiError(400, "'model' must be a string.", param="model")
        for card in cards:
            if requested in card.names():
                return card
        names = ", ".join(c.id for c in cards)
        raise ApiError(404, f"The model '{requested}' does not exist here. Available: {names}.",
                       param="model", code="model_not_found")

    # -- generation -------------------------------------------------------------------------
    async def chat_completions(self, request: Request):
        body = await self._body(request)
        card = self._model(body.get("model"))
        _note(request, model=card.id)
        messages = _messages(body.get("messages"))
        params = self._params(body, card)
        _response_format(body.get("response_format"), card, params)
        kwargs = body.get("chat_template_kwargs")
        if isinstance(kwargs, dict) and isinstance(kwargs.get("enable_thinking"), bool):
            params.thinking = kwargs["enable_thinking"]
        return await self._generate(request, body, card, messages, params, chat=True)

    async def completions(self, request: Request):
        body = await self._body(request)
        card = self._model(body.get("model"))
        _note(request, model=card.id)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise ApiError(400, "'prompt' must be a string (one prompt per request).", param="prompt")
        if not card.grammar:
            raise ApiError(400, "Raw text completions need the llama.cpp engine; use "
                           "/v1/chat/completions with this model.", param="model")
        if body.get("echo"):
            raise ApiError(400, "'echo' is not supported.", param="echo")
        params = self._params(body, card)
        params.raw_prompt = True
        return await self._generate(request, body, card, [{"role": "user", "content": prompt}], params,
                                    chat=False)

    async def embeddings(self, request: Request):
        body = await self._body(request)
        card = self._model(body.get("model"))
        _note(request, model=card.id)
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise ApiError(400, "'input' must be a string or a list of strings.", param="input")
        if len(texts) > MAX_EMBEDDING_INPUTS:
            raise ApiError(400, f"At most {MAX_EMBEDDING_INPUTS} inputs per request.", param="input")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):  # the openai client asks for base64 by default
            raise ApiError(400, "encoding_format must be 'float' or 'base64'.", param="encoding_format")
        from desktop.server.embeddings import InputTooLong

        try:
            vectors, tokens = await asyncio.to_thread(self.backend.embed, card, texts)
        except EmbeddingsUnavailable as exc:
            raise ApiError(400, str(exc), param="model", code="embeddings_not_available") from None
        except InputTooLong as exc:
            raise ApiError(413, str(exc), param="input", code="context_length_exceeded") from None
        except ServerStopping as exc:
            raise _api_error(exc) from None
        _note(request, prompt_tokens=tokens, completion_tokens=0)
        if encoding == "base64":  # little-endian float32, as OpenAI sends it
            vectors = [base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode("ascii") for v in vectors]
        return JSONResponse({"object": "list", "model": card.id, "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    async def _body(self, request: Request) -> dict:
        """The JSON object a POST carries; every route that acts reads its body here first.
        Only application/json: a web page may send that cross-site only after a preflight,
        while text/plain, forms and multipart go without one."""
        if not _is_json(request.scope):
            raise ApiError(415, "Send the request body as JSON, with 'Content-Type: application/json'.",
                           code="unsupported_media_type")
        limit = self.limits.max_body
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ApiError(413, f"The request body is larger than {limit:,} bytes.", code="body_too_large")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise ApiError(413, f"The request body is larger than {limit:,} bytes.",
                               code="body_too_large")
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "The request body is not valid JSON.") from None
        except RecursionError:  # thousands of nested brackets: no request needs them
            raise ApiError(400, "The request body is nested too deeply.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        for key, kinds, what in _TOP_LEVEL_TYPES:
            if body.get(key) is not None and (not isinstance(body[key], kinds)
                                              or (bool not in kinds and isinstance(body[key], bool))):
                raise ApiError(400, f"'{key}' must be {what}.", param=key)
        return body

    def _params(self, body: dict, card: ModelCard) -> SamplingParams:
        params = SamplingParams()
        # The model's own recommendation first, as the window does; the request overrides it.
        for key, value in card.sampling.items():
            if key in SAMPLING_RANGES and key != "max_tokens" and _in_range(key, value):
                setattr(params, key, SAMPLING_RANGES[key][0](value))
        n = body.get("n")
        if n is not None and n != 1:
            raise ApiError(400, "Only n=1 is supported: one reply per request.", param="n")
        for key in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed"):
            value = body.get(key)
            if value is None:
                continue
            if not _in_range(key, value):
                kind, low, high = SAMPLING_RANGES[key]
                raise ApiError(400, f"'{key}' must be a {kind.__name__} from {low:g} to {high:g}.",
                               param=key)
            setattr(params, key, SAMPLING_RANGES[key][0](value))
        cap = self.limits.max_tokens_cap
        max_tokens = cap
        for key in ("max_completion_tokens", "max_tokens"):
            value = body.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ApiError(400, f"'{key}' must be a whole number of at least 1.", param=key)
            if value > cap:
                raise ApiError(400, f"'{key}' may be at most {cap:,} on this server.", param=key)
            max_tokens = value
            break
        params.max_tokens = max_tokens
        # A conversation that does not fit is refused (413) rather than shortened behind the
        # client's back; a client may choose one of the window's policies instead.
        policy = body.get("context_policy", "stop")
        if policy not in POLICIES:
            raise ApiError(400, f"'context_policy' must be one of {', '.join(POLICIES)}.",
                           param="context_policy")
        params.context_policy = policy
        stop = body.get("stop")
        if isinstance(stop, str):
            stop = [stop]
        if stop is not None:
            if (not isinstance(stop, list) or len(stop) > MAX_STOPS
                    or not all(isinstance(s, str) and s for s in stop)):
                raise ApiError(400, f"'stop' must be a string or a list of up to {MAX_STOPS} "
                               "non-empty strings.", param="stop")
            params.stop = stop or None
        return params

    async def _generate(self, request: Request, body: dict, card: ModelCard, messages: list[dict],
                        params: SamplingParams, *, chat: bool):
        stream = bool(body.get("stream"))
        options = body.get("stream_options")
        include_usage = stream and isinstance(options, dict) and bool(options.get("include_usage"))
        _note(request, stream=stream)
        if self.in_flight >= self.limits.queue_limit:
            raise ApiError(503, f"The server is busy ({self.in_flight} requests are waiting). "
                           "Try again shortly.", type="server_error", code="server_busy",
                           retry_after=RETRY_AFTER_S)
        run = Run(asyncio.get_running_loop(), params.stop, self._job_ended)
        self.in_flight += 1
        self.runs.add(run)
        try:
            self.backend.submit(Job(messages, params, run.cancel, run, model=card))
        except BaseException:
            self.in_flight -= 1
            self.runs.discard(run)
            raise
        try:
            # The first event decides the status: an overlong prompt is a 413, not a broken stream.
            first = await run.next_event(request)
        except ClientGone:
            return Response(status_code=499)
        except asyncio.CancelledError:  # the server is going: the job must not run for nobody
            run.cancel.set()
            raise
        if first[0] == "fail":
            raise _api_error(first[1])
        ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]
        created = int(time.time())
        if not stream:
            try:
                text, thinking, stats = await run.collect(request, first)
            except ClientGone:
                return Response(status_code=499)
            except asyncio.CancelledError:
                run.cancel.set()
                raise
            if isinstance(stats, BaseException):
                raise _api_error(stats)
            finish = run.finish_reason(stats)
            _note(request, prompt_tokens=stats.prompt_tokens,
                  completion_tokens=stats.completion_tokens, finish_reason=finish)
            usage = _usage(stats)
            if chat:
                message = {"role": "assistant", "content": text}
                if thinking:
                    message["reasoning_content"] = thinking
                choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                return JSONResponse({"id": ident, "object": "chat.completion", "created": created,
                                     "model": card.id, "choices": [choice], "usage": usage,
                                     "system_fingerprint": None})
            choice = {"index": 0, "text": thinking + text, "logprobs": None, "finish_reason": finish}
            return JSONResponse({"id": ident, "object": "text_completion", "created": created,
                                 "model": card.id, "choices": [choice], "usage": usage})
        events = self._events(request, run, first, ident, created, card, chat, include_usage)
        # ping=0: a reply streams continuously; a keep-alive comment would only add framing.
        return EventSourceResponse(events, sep="\n", ping=0, client_close_handler_callable=run.client_closed,
                                   headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def _job_ended(self, run: Run) -> None:
        self.in_flight -= 1
        self.runs.discard(run)

    async def _events(self, request, run: Run, first, ident, created, card, chat, include_usage):
        obj = "chat.completion.chunk" if chat else "text_completion"

        def chunk(delta=None, text=None, finish=None, usage=False):
            if chat:
                choices = [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}]
            else:
                choices = [{"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}]
            out = {"id": ident, "object": obj, "created": created, "model": card.id,
                   "system_fingerprint": None, "choices": choices}
            if include_usage:
                out["usage"] = None
            return {"data": json.dumps(out, ensure_ascii=False, separators=(",", ":"))}

        try:
            if chat:
                yield chunk({"role": "assistant", "content": ""})
            event = first
            while True:
                kind, value = event
                if kind == "pieces":
                    answer = "".join(p for p in value if not isinstance(p, Thought))
                    thought = "".join(p for p in value if isinstance(p, Thought))
                    if chat:
                        if thought:
                            yield chunk({"reasoning_content": thought})
                        if answer:
                            yield chunk({"content": answer})
                    elif answer or thought:
                        yield chunk(text=thought + answer)
                    # Let the next tokens gather: one event per short interval instead of one per
                    # token spares the cores the engine decodes on (the first piece went at once).
                    await asyncio.sleep(STREAM_BATCH_S)
                elif kind == "fail":
                    error = _api_error(value)
                    yield {"data": json.dumps(error_body(error.message, error.type, error.param,
                                                         error.code))}
                    break
                else:  # done
                    stats: GenerationStats = value
                    finish = run.finish_reason(stats)
                    _note(request, prompt_tokens=stats.prompt_tokens,
                          completion_tokens=stats.completion_tokens, finish_reason=finish)
                    yield chunk({} if chat else None, finish=finish)
                    if include_usage:
                        final = {"id": ident, "object": obj, "created": created, "model": card.id,
                                 "system_fingerprint": None, "choices": [], "usage": _usage(stats)}
                        yield {"data": json.dumps(final, separators=(",", ":"))}
                    break
                event = await run.next_event(None)
            yield {"data": "[DONE]"}
        finally:
            # Normal end, or the client went away (sse-starlette cancels this generator on
            # disconnect): either way the engine must not go on writing for nobody.
            run.cancel.set()


def _api_error(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ServerStopping):
        return ApiError(503, str(exc), type="server_error", code="server_stopping",
                        retry_after=RETRY_AFTER_S)
    if isinstance(exc, ContextOverflowError):
        return ApiError(413, str(exc), param="messages", code="context_length_exceeded")
    from desktop.errors import UserError

    if isinstance(exc, UserError):
        return ApiError(500, str(exc), type="server_error", code="engine_error")
    log_failure("API request failed in the engine", exc)
    return ApiError(500, f"The engine failed: {type(exc).__name__}", type="server_error",
                    code="engine_error")


def _usage(stats: GenerationStats) -> dict:
    return {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "total_tokens": stats.prompt_tokens + stats.completion_tokens}


def _model_json(card: ModelCard) -> dict:
    out = {"id": card.id, "object": "model", "created": card.created, "owned_by": OWNER}
    # What llama.cpp's server and vLLM report, so clients can size their prompts.
    if card.context_length:
        out["context_length"] = card.context_length
        out["max_model_len"] = card.context_length
    out["meta"] = {"name": card.name, "backend": card.backend}
    return out


def _in_range(key: str, value) -> bool:
    kind, low, high = SAMPLING_RANGES[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and (not math.isfinite(value) or (kind is int and value != int(value))):
        return False
    return low <= value <= high


# Fields whose wrong type would otherwise be read as something else (a "stream": "no" as true).
_TOP_LEVEL_TYPES = (
    ("stream", (bool,), "true or false"),
    ("stream_options", (dict,), "an object"),
    ("chat_template_kwargs", (dict,), "an object"),
    ("response_format", (dict,), "an object"),
    ("encoding_format", (str,), "a string"),
    ("echo", (bool,), "true or false"),
)

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _messages(raw) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'messages' must be a non-empty list.", param="messages")
    out = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str) or (
                message["role"] not in _ROLES):
            raise ApiError(400, f"messages[{i}] must have a role: system, developer, user or assistant.",
                           param=f"messages[{i}].role")
        content = message.get("content")
        if content is None and message["role"] == "assistant":
            content = ""
        if isinstance(content, list):
            parts = []
            for part in content:
                if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(
                        part.get("text"), str):
                    raise ApiError(400, f"messages[{i}]: only text content is supported.",
                                   param=f"messages[{i}].content")
                parts.append(part["text"])
            content = "\n".join(parts)
        if not isinstance(content, str):
            raise ApiError(400, f"messages[{i}].content must be a string.", param=f"messages[{i}].content")
        out.append({"role": _ROLES[message["role"]], "content": content})
    return out


def _response_format(fmt, card: ModelCard, params: SamplingParams) -> None:
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return
    if kind not in ("json_object", "json_schema"):
        raise ApiError(400, "response_format.type must be 'text', 'json_object' or 'json_schema'.",
                       param="response_format")
    if not card.grammar:
        raise ApiError(400, f"response_format {kind} needs the llama.cpp engine (this model runs on "
                       f"{card.backend}).", param="response_format")
    from llama_cpp import llama_grammar

    if kind == "json_object":
        params.grammar = llama_grammar.JSON_GBNF
        return
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        raise ApiError(400, "response_format.json_schema.schema must be a JSON schema object.",
                       param="response_format")
    try:
        params.grammar = llama_grammar.json_schema_to_gbnf(json.dumps(schema))
    except Exception as exc:  # noqa: BLE001 - the converter raises many kinds on schemas it cannot take
        raise ApiError(400, f"This JSON schema cannot be enforced: {exc}", param="response_format") from None


# SamplingParams must keep the fields this module sets.
assert {"stop", "grammar", "raw_prompt"} <= {f.name for f in fields(SamplingParams)}
