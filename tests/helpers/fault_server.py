"""A small OpenAI-compatible server that misbehaves on request, for the remote engine's FAULT
tests only (refused key, server errors, a stream cut halfway, a stalled stream, thinking deltas,
a model gone). The happy path is proven against real servers (llama-cpp-python's, EdgeChat's).

Starlette on uvicorn, on a thread of the test process, bound to 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "fault", "code": status}}, status)


class FaultServer:
    """Set ``mode`` (and the other fields) before a request: "ok", "401", "500", "gone",
    "overflow", "cut" (the connection drops halfway), "stall" (silent halfway), "slow_start"
    (silent before the headers), "no_finish" (ends cleanly without a finish reason),
    "error_event" (an error event halfway, as vLLM and LM Studio send)."""

    def __init__(self):
        self.reset()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        app = Starlette(routes=[
            Route("/v1/models", self._models),
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/tokenize", self._tokenize, methods=["POST"]),
            Route("/props", self._props),
        ])
        config = uvicorn.Config(app, log_level="critical", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name="fault-server")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    def reset(self) -> None:
        self.mode = "ok"
        self.models = ["fault-model"]
        self.context_length: int | None = None
        self.models_delay = 0.0
        self.n_ctx_train: int | None = None  # like the llama.cpp server: trained, in /v1/models
        self.props_n_ctx: int | None = None  # and what it allocated, in /props
        self.pieces = ["Hello", ",", " remote", " world", "!", " How", " are", " you", "?", " Bye"]
        self.reasoning: list[str] = []
        self.delay = 0.0
        self.usage = True
        self.reject_stream_options = False
        self.strict = False  # refuses fields OpenAI's own API does not have (top_k...)
        self.tokenize = False
        self.api_key: str | None = None
        self.requests: list[dict] = []
        self.tokenized: list[str] = []  # every text sent to /tokenize
        self.headers: list[dict] = []
        self.disconnected = threading.Event()
        self.completed = threading.Event()

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)

    # -- endpoints -------------------------------------------------------------------------
    def _auth(self, request: Request) -> JSONResponse | None:
        if self.mode == "401" or (self.api_key and request.headers.get("authorization")
                                  != f"Bearer {self.api_key}"):
            return _error(401, "Incorrect API key provided.")
        return None

    async def _models(self, request: Request):
        await asyncio.sleep(self.models_delay)
        refused = self._auth(request)
        if refused is not None:
            return refused
        if self.mode == "500":
            return _error(500, "The model runner crashed.")
        entry = {"object": "model", "owned_by": "fault"}
        if self.context_length:
            entry["max_model_len"] = self.context_length
        if self.n_ctx_train:
            entry["meta"] = {"n_ctx_train": self.n_ctx_train, "n_vocab": 32000}
        return JSONResponse({"object": "list", "data": [{"id": m, **entry} for m in self.models]})

    async def _props(self, request: Request):
        if not self.props_n_ctx:
            return _error(404, "Not Found")
        return JSONResponse({"default_generation_settings": {"n_ctx": self.props_n_ctx}})

    async def _tokenize(self, request: Request):
        if not self.tokenize:
            return _error(404, "Not Found")
        body = await request.json()
        text = body.get("prompt") or ""
        self.tokenized.append(text)
        return JSONResponse({"count": len(text.split()), "max_model_len": self.context_length})

    async def _chat(self, request: Request):
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        refused = self._auth(request)
        if refused is not None:
            return refused
        mode = self.mode
        if mode == "500":
            return _error(500, "CUDA error: out of memory")
        if mode == "gone" or body.get("model") not in self.models:
            return _error(404, f"The model `{body.get('model')}` does not exist.")
        if mode == "overflow":
            return _error(400, "This model's maximum context length is 2048 tokens. However, you "
                               "requested 9000 tokens.")
        if self.strict and "top_k" in body:
            return _error(400, "Unrecognized request argument supplied: top_k")
        if self.reject_stream_options and "stream_options" in body:
            return _error(400, "Unrecognized request argument supplied: stream_options")
        if mode == "slow_start":
            try:
                await asyncio.sleep(30)
            finally:
                self.disconnected.set()
        return StreamingResponse(self._events(body, mode), media_type="text/event-stream")

    def _chunk(self, delta: dict, finish: str | None = None, model: str = "fault-model-v2") -> str:
        data = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(data)}\n\n"

    async def _events(self, body: dict, mode: str):
        done = False
        try:
            yield self._chunk({"role": "assistant", "content": ""})
            for piece in self.reasoning:
                await asyncio.sleep(self.delay)
                yield self._chunk({"reasoning_content": piece})
            half = len(self.pieces) // 2
            for i, piece in enumerate(self.pieces):
                if i == half and mode == "cut":
                    raise ConnectionAbortedError("the fault server cuts the stream")
                if i == half and mode == "stall":
                    await asyncio.sleep(3600)
                if i == half and mode == "error_event":
                    yield 'data: {"error": {"message": "CUDA error: out of memory while generating"}}\n\n'
                    return
                await asyncio.sleep(self.delay)
                yield self._chunk({"content": piece})
            if mode != "no_finish":
                yield self._chunk({}, "stop")
            if self.usage and (body.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": 21, "completion_tokens": len(self.pieces) + len(self.reasoning),
                         "total_tokens": 21 + len(self.pieces) + len(self.reasoning)}
                yield ("data: " + json.dumps({"id": "chatcmpl-fault", "object": "chat.completion.chunk",
                                              "created": 0, "model": "fault-model-v2", "choices": [],
                                              "usage": usage}) + "\n\n")
            yield "data: [DONE]\n\n"
            done = True
            self.completed.set()
        finally:
            if not done:
                self.disconnected.set()
