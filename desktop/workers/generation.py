"""The generation worker: one long-lived thread per loaded model.

The engine is created, used and closed on the worker's thread (the backends are not
thread-safe). Commands arrive as queued ``*_requested`` signals; results leave as queued signals
that carry the request id, so the view can drop whatever belongs to a request it no longer
waits for. Text is sent in batches (every ~40 ms), never one signal per token. Cancel is a
``CancelToken`` (a threading.Event) set from the GUI thread: the worker is busy in its loop and has no event
loop running, so a queued "cancel" slot would only run after the reply was done.
"""

from __future__ import annotations

import itertools
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.engines.base import CancelToken, ContextFullError, Engine, EngineError, SamplingParams

BATCH_INTERVAL_S = 0.04

EngineFactory = Callable[..., Engine]


def _default_factory(path: str, **options) -> Engine:
    from desktop.engines import open_engine

    return open_engine(path, **options)


class GenerationWorker(QObject):
    """Lives on the worker thread. Signals:

    model_loaded(dict): the loaded model's ModelInfo as a dict.
    model_load_failed(str): why the model could not be loaded, for the user.
    model_unloaded(): the previous model was given up (a new one is loading, or closing).
    chunk_generated(int, str): request id, text to append.
    generation_finished(int, dict): request id, GenerationStats as a dict.
    generation_failed(int, str): request id, message for the user.
    context_full(int, str): request id, why: the chat does not fit and its policy is to ask.
    closed(): the engine is closed and the thread is quitting.
    """

    model_loaded = Signal(dict)
    model_load_failed = Signal(str)
    model_unloaded = Signal()
    chunk_generated = Signal(int, str)
    generation_finished = Signal(int, dict)
    generation_failed = Signal(int, str)
    context_full = Signal(int, str)
    closed = Signal()

    def __init__(self, factory: EngineFactory = _default_factory):
        super().__init__()
        self._factory = factory
        self._engine: Engine | None = None

    @Slot(str, dict)
    def load(self, path: str, options: dict) -> None:
        from desktop.engines import validate_model

        try:
            # A bad file is refused before the loaded model is given up for it.
            validate_model(path, options.get("backend"))
        except EngineError as exc:
            self.model_load_failed.emit(str(exc))
            return
        self._close_engine()
        try:
            self._engine = self._factory(path, **options)
        except EngineError as exc:
            self.model_load_failed.emit(str(exc))
            return
        except Exception as exc:  # an exception in a thread is otherwise silent
            traceback.print_exc()
            self.model_load_failed.emit(self.tr("Could not load the model: {reason}").format(reason=exc))
            return
        self.model_loaded.emit(self._engine.info.to_dict())

    @Slot(int, list, dict, object)
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
                if now - last_emit >= BATCH_INTERVAL_S:
                    self.chunk_generated.emit(request_id, "".join(pending))
                    pending.clear()
                    last_emit = now
        except ContextFullError as exc:
            self._flush(request_id, pending)
            self.context_full.emit(request_id, str(exc))
            return
        except EngineError as exc:
            self._flush(request_id, pending)
            self.generation_failed.emit(request_id, str(exc))
            return
        except Exception as exc:
            traceback.print_exc()
            self._flush(request_id, pending)
            self.generation_failed.emit(request_id, self.tr("Generation failed: {reason}").format(reason=exc))
            return
        self._flush(request_id, pending)
        stats = asdict(engine.last_stats) if engine.last_stats else {}
        # Which model wrote the reply, kept with it: the user may switch models later.
        info = engine.info
        stats.update(model=info.name, backend=info.backend, device=info.device)
        self.generation_finished.emit(request_id, stats)

    def _flush(self, request_id: int, pending: list[str]) -> None:
        if pending:
            self.chunk_generated.emit(request_id, "".join(pending))
            pending.clear()

    def _close_engine(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()
            self.model_unloaded.emit()

    @Slot()
    def close(self) -> None:
        self._close_engine()
        self.closed.emit()
        QThread.currentThread().quit()


class EngineHost(QObject):
    """Owns a worker and its thread; the GUI (or the CLI) talks to the engine only through it.

    Signals (all delivered on the owner's thread):
    model_loaded(dict), model_load_failed(str), model_unloaded(), chunk_generated(int, str),
    generation_finished(int, dict), generation_failed(int, str), context_full(int, str): forwarded
    from the worker.
    """

    load_requested = Signal(str, dict)
    generate_requested = Signal(int, list, dict, object)
    close_requested = Signal()

    model_loaded = Signal(dict)
    model_load_failed = Signal(str)
    model_unloaded = Signal()
    chunk_generated = Signal(int, str)
    generation_finished = Signal(int, dict)
    generation_failed = Signal(int, str)
    context_full = Signal(int, str)

    _ids = itertools.count(1)

    def __init__(self, factory: EngineFactory = _default_factory, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("generation")
        self._worker = GenerationWorker(factory)
        self._worker.moveToThread(self._thread)
        self._cancels: dict[int, CancelToken] = {}
        self._shut_down = False
        # Connect before start(): the worker must not emit into nothing.
        self.load_requested.connect(self._worker.load)
        self.generate_requested.connect(self._worker.generate)
        self.close_requested.connect(self._worker.close)
        self._worker.model_loaded.connect(self.model_loaded)
        self._worker.model_load_failed.connect(self.model_load_failed)
        self._worker.model_unloaded.connect(self.model_unloaded)
        self._worker.chunk_generated.connect(self.chunk_generated)
        self._worker.generation_finished.connect(self._on_finished)
        self._worker.generation_failed.connect(self._on_failed)
        self._worker.context_full.connect(self._on_context_full)
        self._thread.start()

    @property
    def thread(self) -> QThread:
        return self._thread

    def load(self, path: str, **options) -> None:
        self.load_requested.emit(str(path), options)

    def generate(self, messages: list[dict], params: SamplingParams | dict | None = None) -> int:
        """Queue a reply; returns its request id. Queued behind a load still in progress."""
        if isinstance(params, SamplingParams):
            params = asdict(params)
        request_id = next(self._ids)
        cancel = CancelToken()
        self._cancels[request_id] = cancel
        self.generate_requested.emit(request_id, [dict(m) for m in messages], params or {}, cancel)
        return request_id

    def cancel(self, request_id: int | None = None) -> None:
        """Stop one request, or all of them. The worker confirms with generation_finished."""
        events = self._cancels.values() if request_id is None else [self._cancels.get(request_id)]
        for event in events:
            if event is not None:
                event.set()

    @Slot(int, dict)
    def _on_finished(self, request_id: int, stats: dict) -> None:
        self._cancels.pop(request_id, None)
        self.generation_finished.emit(request_id, stats)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        self._cancels.pop(request_id, None)
        self.generation_failed.emit(request_id, message)

    @Slot(int, str)
    def _on_context_full(self, request_id: int, message: str) -> None:
        self._cancels.pop(request_id, None)
        self.context_full.emit(request_id, message)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything, close the engine on its own thread and wait for the thread to end."""
        if self._shut_down:
            return True
        self._shut_down = True
        self.cancel()
        self.close_requested.emit()
        finished = self._thread.wait(timeout_ms)
        if not finished:  # never leave a running QThread to be destroyed
            self._thread.quit()
            finished = self._thread.wait()
        return finished
