"""The window's API server: the model already loaded in the EngineHost, served over the OpenAI API.

One copy of the model: requests from other apps go to the same generation worker as the window's
own chat, through EngineHost.generate, so they share its one FIFO queue. uvicorn runs on a thread
of its own (desktop.server.runner.ServerThread); a request crosses to this (the main) thread as a
queued signal, and its pieces go back through the request's sink, which hands them to the
server's event loop thread-safely. The main thread only relays: a few calls per 40 ms batch.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from desktop.engines.base import ContextFullError, EngineError, GenerationStats, ModelInfo, Thought
from desktop.server.backend import EmbeddingsUnavailable, Job, ModelCard, model_card

log = logging.getLogger(__name__)


class ServerBridge(QObject):
    """Signals (main thread): running_changed(bool); request_logged(RequestRecord) for each
    finished request; failed(str) when the server could not start."""

    running_changed = Signal(bool)
    request_logged = Signal(object)
    failed = Signal(str)
    # From the server's thread to this one (queued: this object lives on the main thread).
    _job_submitted = Signal(object)
    _cancel_requested = Signal(int)
    _logged = Signal(object)

    def __init__(self, host, parent: QObject | None = None):
        super().__init__(parent)
        self._host = host
        self._card: ModelCard | None = None  # replaced whole, so the server's thread reads it safely
        self._loading = False
        self._jobs: dict[int, Job] = {}
        self._server = None
        self.api_key: str | None = None
        self._job_submitted.connect(self._start_job)
        self._cancel_requested.connect(self._cancel)
        self._logged.connect(self.request_logged)
        host.model_loaded.connect(self._on_loaded)
        host.model_unloaded.connect(self._on_unloaded)
        # A refused load (a damaged file) leaves the old model running: it is still served.
        # A load that failed after giving the old one up has said model_unloaded first.
        host.model_load_failed.connect(self._on_load_failed)
        host.chunk_generated.connect(self._on_chunk)
        host.thinking_generated.connect(self._on_thinking)
        host.generation_finished.connect(self._on_finished)
        host.generation_failed.connect(self._on_failed)
        host.context_full.connect(self._on_context_full)

    # -- control (main thread) --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def url(self) -> str | None:
        return self._server.url if self._server is not None else None

    def set_model(self, info: ModelInfo | None) -> None:
        """The model to serve (the window calls it when one is already loaded at start)."""
        self._card = model_card(info) if info is not None else None

    def set_loading(self, loading: bool) -> None:
        self._loading = loading

    def start(self, host: str = "127.0.0.1", port: int = 8080, api_key: str | None = None,
              cors_origins=()) -> str:
        """Listen; returns the address. Raises ServerStartError (a UserError) when it cannot."""
        from desktop.server.app import create_app
        from desktop.server.runner import ServerThread

        if self.running:
            return self.url
        # The core refuses an address other computers reach without a key (blank is none).
        app = create_app(self, host=host, api_key=api_key, cors_origins=tuple(cors_origins),
                         on_request=self._logged.emit)
        server = ServerThread(app, host, port)
        server.start()
        self._server, self.api_key = server, app.state.api_key
        self.running_changed.emit(True)
        return server.url

    def stop(self) -> None:
        self.request_shutdown()
        self.wait_shutdown()

    def request_shutdown(self) -> None:
        """Stop taking requests and cancel the ones in the engine's queue (the window's replies
        are left alone); the server thread ends in wait_shutdown."""
        server = self._server
        if server is None:
            return
        server._server.should_exit = True
        for request_id, job in list(self._jobs.items()):
            job.cancel.set()
            self._host.cancel(request_id)

    def wait_shutdown(self, deadline: float | None = None, force_at: float | None = None) -> bool:
        import time

        server, self._server = self._server, None
        if server is None:
            return True
        timeout = 5.0 if deadline is None else max(deadline - time.monotonic(), 0.1)
        stopped = server.stop(timeout)
        self.running_changed.emit(False)
        return stopped

    # -- Backend protocol (the server's thread) ---------------------------------------------
    def models(self) -> list[ModelCard]:
        card = self._card
        return [card] if card is not None else []

    @property
    def loading(self) -> bool:
        return self._loading

    def submit(self, job: Job) -> None:
        self._job_submitted.emit(job)

    def embed(self, model: ModelCard, texts: list[str]):
        # The window's engine lives in its generation worker, which only takes chat requests.
        raise EmbeddingsUnavailable(
            "Embeddings are not offered by the window's server; use 'edgechat serve' with a GGUF "
            "model for /v1/embeddings.")

    # -- relaying (main thread) -------------------------------------------------------------
    @Slot(object)
    def _start_job(self, job: Job) -> None:
        if job.cancel.is_set():  # the client left before its turn came
            job.sink.finish(GenerationStats(finish_reason="cancelled"))
            return
        if self._card is None:
            job.sink.fail(EngineError(self.tr("No model is loaded.")))
            return
        request_id = self._host.generate(job.messages, job.params)
        self._jobs[request_id] = job
        job.cancel.on_set(lambda: self._cancel_requested.emit(request_id))

    @Slot(int)
    def _cancel(self, request_id: int) -> None:
        if request_id in self._jobs:
            self._host.cancel(request_id)

    @Slot(int, str)
    def _on_chunk(self, request_id: int, text: str) -> None:
        job = self._jobs.get(request_id)
        if job is not None:
            job.sink.piece(text)

    @Slot(int, str)
    def _on_thinking(self, request_id: int, text: str) -> None:
        job = self._jobs.get(request_id)
        if job is not None:
            job.sink.piece(Thought(text))

    @Slot(int, object)
    def _on_finished(self, request_id: int, stats) -> None:
        job = self._jobs.pop(request_id, None)
        if job is not None:
            job.sink.finish(stats)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        job = self._jobs.pop(request_id, None)
        if job is not None:
            job.sink.fail(EngineError(message))

    @Slot(int, str)
    def _on_context_full(self, request_id: int, message: str) -> None:
        job = self._jobs.pop(request_id, None)
        if job is not None:
            job.sink.fail(ContextFullError(message))

    @Slot(object)
    def _on_loaded(self, info: ModelInfo) -> None:
        self._loading = False
        self.set_model(info)

    @Slot()
    def _on_unloaded(self, *_args) -> None:
        self._card = None

    @Slot(str)
    def _on_load_failed(self, _message: str) -> None:
        self._loading = False
