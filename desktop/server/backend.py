"""What the API server asks of whoever owns the engine, and the headless owner.

The server runs on an asyncio loop; engines are not thread-safe and run on one thread of their
own (or in the window's generation worker). A request becomes a ``Job``: its messages and
sampling, a ``CancelToken`` the server sets when the client goes away, and a ``Sink`` the
engine's thread pushes pieces into. Jobs run one at a time, first come first served.
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from desktop.engines.base import CancelToken, Engine, GenerationStats, ModelInfo, SamplingParams
from desktop.server.embeddings import EmbeddingsUnavailable

OWNER = "edgechat"
DEFAULT_MAX_TOKENS_CAP = 8192
DEFAULT_QUEUE_LIMIT = 32  # requests waiting for or holding the engine; more are answered 503


@dataclass(frozen=True)
class ModelCard:
    """One model the server offers: what /v1/models lists and what a request may name."""

    id: str
    path: str
    name: str
    backend: str
    context_length: int | None
    # The model's recommended sampling (GGUF general.sampling.*), as SamplingParams fields.
    sampling: dict = field(default_factory=dict)
    created: int = 0

    @property
    def grammar(self) -> bool:
        """Whether response_format (JSON via a grammar) and raw completions can be honoured."""
        return self.backend == "llama.cpp"

    def names(self) -> set[str]:
        return {self.id, self.path, self.name}


def model_card(info: ModelInfo) -> ModelCard:
    base = os.path.basename(os.path.normpath(info.path))
    stem = base[: -len(".gguf")] if base.lower().endswith(".gguf") else base
    try:
        created = int(os.path.getmtime(info.path))
    except OSError:
        created = 0
    sampling = (info.extra or {}).get("sampling") or {}
    return ModelCard(id=stem, path=info.path, name=info.name, backend=info.backend,
                     context_length=info.n_ctx or info.context_length,
                     sampling=dict(sampling) if isinstance(sampling, dict) else {}, created=created)


class Sink(Protocol):
    """Where a job's output goes; called from the engine's thread."""

    def piece(self, text: str) -> None: ...  # a str, or a desktop.engines.base.Thought

    def finish(self, stats: GenerationStats) -> None: ...

    def fail(self, error: BaseException) -> None: ...


@dataclass
class Job:
    messages: list[dict]
    params: SamplingParams
    cancel: CancelToken
    sink: Sink
    model: ModelCard | None = None


class ServerStopping(Exception):
    """The server stopped before the job ended: its client is told so (503)."""


class Backend(Protocol):
    def models(self) -> list[ModelCard]:
        """The models ready to serve (empty while none is loaded)."""

    @property
    def loading(self) -> bool:
        """A model is on its way: requests get 503 with Retry-After, not 404."""

    def submit(self, job: Job) -> None:
        """Queue the job behind the others; the sink hears the outcome, exactly once."""

    def embed(self, model: ModelCard, texts: list[str]) -> tuple[list[list[float]], int]:
        """Unit-length embeddings and the tokens read, or raise EmbeddingsUnavailable with the
        reason (or embeddings.InputTooLong). Called on a thread of its own; may block."""


_STOP = object()


class EngineBackend:
    """The headless backend (``edgechat serve``): one engine, owned by one dedicated thread that
    opens it, runs the queued jobs in order and closes it."""

    def __init__(self, path: str, *, opener: Callable[..., Engine] | None = None, **options):
        self._path = path
        self._options = options
        self._opener = opener
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._card: ModelCard | None = None
        self._ready = threading.Event()
        self.load_error: BaseException | None = None
        self.engine_stats: GenerationStats | None = None  # the latest job's, for the benchmark
        self._embedder = None  # made on the first /v1/embeddings request
        self._closing = threading.Event()
        self._running: Job | None = None  # the job on the engine now, for close() to stop
        self._thread = threading.Thread(target=self._run, name="edgechat-engine", daemon=True)
        self._thread.start()

    def wait_loaded(self, timeout: float | None = None) -> ModelCard:
        """Block until the model is open; raises what opening it raised."""
        if not self._ready.wait(timeout):
            raise TimeoutError("the model is still loading")
        if self.load_error is not None:
            raise self.load_error
        assert self._card is not None
        return self._card

    # Backend protocol
    def models(self) -> list[ModelCard]:
        return [self._card] if self._card is not None else []

    @property
    def loading(self) -> bool:
        return not self._ready.is_set()

    def submit(self, job: Job) -> None:
        if self._closing.is_set():
            job.sink.fail(ServerStopping("The server is stopping."))
            return
        self._jobs.put(job)

    def embed(self, model: ModelCard, texts: list[str]) -> tuple[list[list[float]], int]:
        # On the engine's thread, in turn with the chats: the embedding context shares its model.
        if self._closing.is_set():
            raise ServerStopping("The server is stopping.")
        done: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put(_Call(lambda engine: self._embed(engine, texts), done))
        return done.result()

    def _embed(self, engine, texts: list[str]):
        if self._embedder is None:
            from desktop.server.embeddings import LlamaEmbedder

            self._embedder = LlamaEmbedder(engine)
        return self._embedder.embed(texts)

    def close(self, timeout: float = 10.0) -> None:
        """Cancel what waits (each is told the server is stopping) and the job running (it stops
        within a second, at its next token or llama.cpp's abort check), then close the engine."""
        self._closing.set()
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            _refuse(item)
        running = self._running
        if running is not None:
            running.cancel.set()
        self._jobs.put(_STOP)
        self._thread.join(timeout)

    # The engine's thread
    def _run(self) -> None:
        engine = None
        try:
            opener = self._opener
            if opener is None:
                from desktop.models.open_model import open_model as opener
            engine = opener(self._path, **self._options)
            self._card = model_card(engine.info)
        except BaseException as exc:  # noqa: BLE001 - reported to whoever waits for the load
            self.load_error = exc
        finally:
            self._ready.set()
        try:
            while True:
                job = self._jobs.get()
                if job is _STOP:
                    break
                if isinstance(job, _Call):
                    job.run(engine)
                    continue
                if engine is None:
                    job.sink.fail(self.load_error or RuntimeError("no model"))
                    continue
                if self._closing.is_set():  # put while close() was emptying the queue
                    _refuse(job)
                    continue
                self._running = job
                if self._closing.is_set():  # close() may have looked before this job was set
                    job.cancel.set()
                try:
                    run_job(engine, job)
                finally:
                    self._running = None
                self.engine_stats = engine.last_stats
        finally:
            if self._embedder is not None:
                self._embedder.close()
            if engine is not None:
                engine.close()


@dataclass
class _Call:
    """Work other than a reply that must run on the engine's thread."""

    fn: Callable
    done: concurrent.futures.Future

    def run(self, engine) -> None:
        try:
            if engine is None:
                raise EmbeddingsUnavailable("No model is loaded.")
            self.done.set_result(self.fn(engine))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.done.set_exception(exc)


def _refuse(item) -> None:
    """A job or call that will not run: the server is stopping."""
    if item is _STOP:
        return
    if isinstance(item, _Call):
        item.done.set_exception(ServerStopping("The server is stopping."))
        return
    item.cancel.set()
    item.sink.fail(ServerStopping("The server is stopping."))


def run_job(engine: Engine, job: Job) -> None:
    """One job on the engine's thread: pieces to the sink, then its stats (or its failure)."""
    if job.cancel.is_set():  # the client left while it waited
        job.sink.finish(GenerationStats(finish_reason="cancelled"))
        return
    try:
        for piece in engine.stream(job.messages, job.params, job.cancel):
            job.sink.piece(piece)
        stats = engine.last_stats or GenerationStats()
    except BaseException as exc:  # noqa: BLE001 - the request gets it; the engine's thread goes on
        job.sink.fail(exc)
        return
    job.sink.finish(stats)
