"""The window's API server: the model already loaded in the EngineHost, served over the OpenAI API.

One copy of the model: requests from other apps go to the same generation worker as the window's
own chat (EngineHost.submit_job), where the window's requests go first. uvicorn runs on a thread
of its own (desktop.server.runner.ServerThread); a job goes from the server's event loop straight
into the worker's queue, and the worker pushes its pieces straight into the job's sink, which
hands them to the event loop thread-safely. The main thread is on no request's path: a window
busy for a while does not hold up a stream, and stopping the server does not wait on it.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from desktop.engines.base import EngineError, ModelInfo
from desktop.server.backend import Job, ModelCard, model_card
from desktop.server.embeddings import EmbeddingsUnavailable

log = logging.getLogger(__name__)


class ServerBridge(QObject):
    """Signals (main thread): running_changed(bool); request_logged(RequestRecord) for each
    finished request; failed(str) when the server could not start."""

    running_changed = Signal(bool)
    request_logged = Signal(object)
    failed = Signal(str)
    # From the server's thread to this one (queued: this object lives on the main thread).
    _logged = Signal(object)

    def __init__(self, host, parent: QObject | None = None):
        super().__init__(parent)
        self._host = host
        self._card: ModelCard | None = None  # replaced whole, so the server's thread reads it safely
        self._loading = False
        self._server = None
        self._stopping: threading.Thread | None = None  # a stopped server's thread being joined
        self.api_key: str | None = None
        self._logged.connect(self.request_logged)
        host.model_loaded.connect(self._on_loaded)
        host.model_unloaded.connect(self._on_unloaded)
        # A refused load (a damaged file) leaves the old model running: it is still served.
        # A load that failed after giving the old one up has said model_unloaded first.
        host.model_load_failed.connect(self._on_load_failed)

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
        # A server just switched off may still hold the port for a moment (its streams end
        # within a second): switching back on waits for it.
        self.wait_shutdown(time.monotonic() + 5.0)
        # The core refuses an address other computers reach without a key (blank is none).
        app = create_app(self, host=host, api_key=api_key, cors_origins=tuple(cors_origins),
                         on_request=self._logged.emit)
        server = ServerThread(app, host, port)
        server.start()
        self._server, self.api_key = server, app.state.api_key
        self.running_changed.emit(True)
        return server.url

    def stop(self) -> None:
        """Switch off without waiting: see request_shutdown."""
        self.request_shutdown()

    def request_shutdown(self) -> None:
        """Stop taking requests at once. The server's event loop then fails the requests still
        open and cancels their jobs, queued or running (the window's replies are left alone);
        its thread is joined on a thread of its own, so this thread never waits for it."""
        server, self._server = self._server, None
        if server is None:
            return
        stopper = threading.Thread(target=server.stop, name="edgechat-api-stop", daemon=True)
        stopper.start()
        self._stopping = stopper
        self.running_changed.emit(False)

    def wait_shutdown(self, deadline: float | None = None, force_at: float | None = None) -> bool:
        """Wait until ``deadline`` (time.monotonic()) for a stopped server's thread to end."""
        stopper = self._stopping
        if stopper is None:
            return True
        timeout = 5.0 if deadline is None else max(deadline - time.monotonic(), 0.0)
        stopper.join(timeout)
        if stopper.is_alive():
            return False
        self._stopping = None
        return True

    # -- Backend protocol (the server's thread) ---------------------------------------------
    def models(self) -> list[ModelCard]:
        card = self._card
        return [card] if card is not None else []

    @property
    def loading(self) -> bool:
        return self._loading

    def submit(self, job: Job) -> None:
        # On the server's thread: straight into the worker's queue, no stop on this thread.
        if self._card is None:
            job.sink.fail(EngineError(self.tr("No model is loaded.")))
            return
        self._host.submit_job(job)

    def embed(self, model: ModelCard, texts: list[str]):
        # The window's engine lives in its generation worker, which only takes chat requests.
        raise EmbeddingsUnavailable(
            "Embeddings are not offered by the window's server; use 'edgechat serve' with a GGUF "
            "model for /v1/embeddings.")

    # -- the model (main thread) -----------------------------------------------------------
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
