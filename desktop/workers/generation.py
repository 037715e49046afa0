"""The generation worker: one long-lived thread per loaded model.

The engine is created, used and closed on the worker's thread (the backends are not
thread-safe). Commands arrive as queued ``*_requested`` signals; results leave as queued signals
that carry the request id, so the view can drop whatever belongs to a request it no longer
waits for. Text is sent in batches (every ~40 ms), never one signal per token. Cancel is a
``CancelToken`` (a threading.Event) set from the GUI thread: the worker is busy in its loop and
has no event loop running, so a queued "cancel" slot would only run after the reply was done.
The same token reaches llama.cpp's abort callback, so a Stop also ends a long prompt's prefill.

Replies wait in the worker's own queue, not in Qt's: the window's chat and the API server's jobs
(desktop/workers/server_bridge.py) are put there from their own threads, and a queued wake-up
tells the worker to take the next one. It takes the window's first: the person at the keyboard
never waits behind other apps' backlog. An API job's pieces go straight to its sink (the
server's event loop), so no API token passes through the GUI thread.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from PySide6.QtCore import QObject, Qt, Signal, Slot

from desktop.engines.base import (
    STREAM_BATCH_S,
    CancelToken,
    ContextFullError,
    Engine,
    EngineError,
    GenerationStats,
    ModelInfo,
    SamplingParams,
    Thought,
)
from desktop.workers.base import Worker, WorkerOwner, guarded, with_events

EngineFactory = Callable[..., Engine]
CACHE_COMMANDS = ("forget_owner", "clear_cache", "persist_cache")

# The worker's events, declared once for the worker and its owner (see workers/base.py):
# model_loaded(ModelInfo); model_load_failed(str): why, for the user; model_unloaded();
# chunk_generated(int, str): request id, text to append; generation_finished(int,
# GenerationStats); generation_failed(int, str): request id, message for the user;
# context_full(int, str): the chat does not fit and its policy is to ask;
# thinking_generated(int, str): request id, a reasoning model's thinking to append.
EVENTS = {
    "model_loaded": (object,),
    "model_load_failed": (str,),
    "model_unloaded": (),
    "chunk_generated": (int, str),
    "generation_finished": (int, object),
    "generation_failed": (int, str),
    "context_full": (int, str),
    "thinking_generated": (int, str),
}


@dataclass
class _WindowRequest:
    request_id: int
    messages: list
    params: dict
    cancel: CancelToken
    # Loads the window had asked for when it sent this: it runs on the model it was sent for.
    after_load: int


@dataclass
class _ApiJob:
    request_id: int
    job: object  # desktop.server.backend.Job


def _default_factory(path: str, **options) -> Engine:
    from desktop.models.open_model import open_model

    return open_model(path, **options)


class GenerationWorker(with_events(Worker, EVENTS)):
    _wake = Signal()

    def __init__(self, factory: EngineFactory = _default_factory):
        super().__init__()
        self._factory = factory
        self._engine: Engine | None = None
        # Set from the owner's thread at shutdown: a child process still starting is given up.
        self.abort = CancelToken()
        self._pending: collections.deque = collections.deque()
        self._pending_lock = threading.Lock()
        self._loads_done = 0
        self._running_job = None  # the API job on the engine now, for a shutdown to stop
        # Queued even when emitted on the worker's own thread: a wake-up is always an event.
        self._wake.connect(self._next, Qt.ConnectionType.QueuedConnection)

    # -- the queue of replies (put from any thread, taken on the worker's) -----------------------
    def enqueue(self, item) -> None:
        with self._pending_lock:
            self._pending.append(item)
        self._wake.emit()

    def _take(self):
        """The window's oldest request whose load has come, else the oldest API job."""
        with self._pending_lock:
            api = None
            for item in self._pending:
                if isinstance(item, _WindowRequest):
                    if item.after_load <= self._loads_done:
                        self._pending.remove(item)
                        return item
                elif api is None:
                    api = item
            if api is not None:
                self._pending.remove(api)
            return api

    @Slot()
    def _next(self) -> None:
        item = self._take()
        if isinstance(item, _WindowRequest):
            self.generate(item.request_id, item.messages, item.params, item.cancel)
        elif item is not None:
            self.run_job(item.request_id, item.job)

    @Slot(str, dict)
    def _load_done(self, *_args) -> None:
        """Right after each load (connected after it): window requests sent after that load may
        run now, and a wake-up that found none of them ready is made up for."""
        self._loads_done += 1
        with self._pending_lock:
            waiting = len(self._pending)
        for _ in range(waiting):
            self._wake.emit()

    def _load_failed(self, _exc, message: str, *_args) -> None:
        self.model_load_failed.emit(message)

    @Slot(str, dict)
    @guarded("_load_failed")
    def load(self, path: str, options: dict) -> None:
        from desktop.models.open_model import validate

        # A bad file is refused before the loaded model is given up for it.
        validate(path, options.get("backend"))
        self._close_engine()
        if self._factory is _default_factory:
            from desktop.models.load_settings import recommended_options

            # What the user saved (or a caller asked for) wins; the rest is this machine's fit
            # (a context that fits with room, the cores it has), worked out here, off the GUI thread.
            options = {**recommended_options(path, options.get("backend")), **options, "abort": self.abort}
        self._engine = self._factory(path, **options)
        info = self._engine.info
        self.model_loaded.emit(info if isinstance(info, ModelInfo) else ModelInfo(**info))

    def _generation_failed(self, exc, message: str, request_id: int, *_args) -> None:
        if isinstance(exc, ContextFullError):
            self.context_full.emit(request_id, message)
        else:
            self.generation_failed.emit(request_id, message)

    @guarded("_generation_failed")
    def generate(self, request_id: int, messages: list, params: dict, cancel) -> None:
        engine = self._engine
        if engine is None:
            self.generation_failed.emit(request_id, self.tr("No model is loaded."))
            return
        pending: list[str] = []
        last_emit = 0.0  # the first piece goes out at once: time to first token is what users feel
        try:
            for piece in engine.stream(messages, SamplingParams(**params), cancel):
                pending.append(piece)
                now = time.perf_counter()
                if now - last_emit >= STREAM_BATCH_S:
                    self._emit(request_id, pending)
                    pending.clear()
                    last_emit = now
        finally:
            # What was written before a failure is kept: the view shows it with the error.
            if pending:
                self._emit(request_id, pending)
        self.generation_finished.emit(request_id, self._stats(engine))

    @staticmethod
    def _stats(engine: Engine) -> GenerationStats:
        stats = engine.last_stats or GenerationStats()
        info = engine.info
        return dataclasses.replace(stats, dropped_indices=list(stats.dropped_indices),
                                   model=info.name, backend=info.backend, device=info.device)

    def run_job(self, request_id: int, job) -> None:
        """An API job: its pieces and its end go to its sink from this thread; the owner hears
        only that it ended (generation_finished), never its tokens."""
        from desktop.server.backend import run_job

        engine = self._engine
        if engine is None and not job.cancel.is_set():
            job.sink.fail(EngineError(self.tr("No model is loaded.")))
            self.generation_failed.emit(request_id, self.tr("No model is loaded."))
            return
        if job.cancel.is_set():  # its client left, or the server stopped, while it waited
            run_job(engine, job)
            self.generation_finished.emit(request_id, GenerationStats(finish_reason="cancelled"))
            return
        self._running_job = job
        try:
            run_job(engine, job)
        finally:
            self._running_job = None
        self.generation_finished.emit(request_id, self._stats(engine))

    def _emit(self, request_id: int, pieces: list[str]) -> None:
        """One batch, as runs of thinking and of answer in the order they came."""
        run: list[str] = []
        thought = isinstance(pieces[0], Thought)
        for piece in [*pieces, None]:
            if piece is None or isinstance(piece, Thought) != thought:
                signal = self.thinking_generated if thought else self.chunk_generated
                signal.emit(request_id, "".join(run))
                run = []
                thought = not thought
            if piece is not None:
                run.append(piece)

    @Slot(str, object)
    @guarded()
    def cache_command(self, command: str, owner) -> None:
        """The prompt cache's "forget_owner", "clear_cache" or "persist_cache", on the engine's
        thread. Saved states go even with no engine (or one without a disk tier) loaded: a chat
        deleted while an ONNX or server model is loaded had its states written by llama.cpp."""
        from desktop.engines import prompt_cache

        engine = self._engine
        method = getattr(engine, command, None) if command in CACHE_COMMANDS else None
        args = (owner,) if command == "forget_owner" else ()
        handled = method(*args) if method is not None else False
        if handled:
            return
        if command == "forget_owner":
            prompt_cache.forget_owner_on_disk(owner)
        elif command == "clear_cache":
            prompt_cache.clear_disk_cache()

    def _close_engine(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()
            self.model_unloaded.emit()

    def stop_work(self) -> None:
        self.abort.set()
        # API jobs carry their own tokens: those waiting end at once, the running one stops.
        with self._pending_lock:
            jobs = [item.job for item in self._pending if isinstance(item, _ApiJob)]
        running = self._running_job
        for job in [*jobs, running] if running is not None else jobs:
            job.cancel.set()

    def on_close(self) -> None:
        self._close_engine()

    def force_stop(self) -> None:
        # Read once: the worker's thread may be swapping engines. Only an engine in a child
        # process can be stopped from here (it is killed; the thread's wait then ends).
        engine = self._engine
        terminate = getattr(engine, "terminate", None)
        if terminate is not None:
            terminate()


class EngineHost(with_events(WorkerOwner, EVENTS)):
    """Owns a worker and its thread; the GUI (or the CLI) talks to the engine only through it.
    Its signals (EVENTS above) are delivered on the owner's thread."""

    _load = Signal(str, dict)
    _cache = Signal(str, object)
    _ids = itertools.count(1)

    def __init__(self, factory: EngineFactory = _default_factory, parent: QObject | None = None):
        super().__init__(GenerationWorker(factory), "generation", parent)
        self._cancels: dict[int, CancelToken] = {}
        self._loads_asked = 0
        self._load.connect(self._worker.load)
        self._load.connect(self._worker._load_done)  # after the load: connections run in order
        self._cache.connect(self._worker.cache_command)
        # A request ends with exactly one of these: its cancel token is no longer needed.
        for event in (self.generation_finished, self.generation_failed, self.context_full):
            event.connect(self._forget)
        self.start()

    def load(self, path: str, **options) -> None:
        self._loads_asked += 1
        self._load.emit(str(path), options)

    def generate(self, messages: list[dict], params: SamplingParams | dict | None = None) -> int:
        """Queue a reply; returns its request id. Queued behind a load still in progress."""
        if isinstance(params, SamplingParams):
            params = asdict(params)
        request_id = next(self._ids)
        cancel = CancelToken()
        self._cancels[request_id] = cancel
        self._worker.enqueue(_WindowRequest(request_id, [dict(m) for m in messages], params or {}, cancel,
                                            self._loads_asked))
        return request_id

    def submit_job(self, job) -> int:
        """Queue an API job (desktop.server.backend.Job) from any thread; returns its request id.
        It waits behind the window's requests; its output goes to its sink from the worker's
        thread, and its cancel token is the job's own. Only generation_finished (or
        generation_failed) reaches this object's thread for it."""
        request_id = next(self._ids)  # itertools.count is safe to share between threads
        self._worker.enqueue(_ApiJob(request_id, job))
        return request_id

    # The prompt cache (desktop/engines/prompt_cache.py), on the engine's thread, in order with
    # the requests: a reply still running finishes (and keeps its state) before it is forgotten.
    def forget_cache_owner(self, owner: str) -> None:
        """Delete the prompt states of a chat (it was deleted), in RAM and on disk."""
        self._cache.emit("forget_owner", owner)

    def clear_cache(self) -> None:
        """Delete every prompt state (every chat was deleted)."""
        self._cache.emit("clear_cache", None)

    def persist_cache(self) -> None:
        """Write the states waiting for the disk now (the user left a chat)."""
        self._cache.emit("persist_cache", None)

    def cancel(self, request_id: int | None = None) -> None:
        """Stop one request, or all of them. The worker confirms with generation_finished."""
        tokens = list(self._cancels.values()) if request_id is None else [self._cancels.get(request_id)]
        for token in tokens:
            if token is not None:
                token.set()

    @Slot(int)
    def _forget(self, request_id: int, *_rest) -> None:
        self._cancels.pop(request_id, None)

    def request_shutdown(self) -> None:
        """Cancel everything (a prefill too), then close the engine on its thread."""
        self.cancel()
        super().request_shutdown()
