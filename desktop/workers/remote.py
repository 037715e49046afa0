"""Asking a server for its models on a thread of its own ("Test connection" in RemoteDialog).

The request is over the network: a slow or unreachable server would freeze the dialog for the
connect timeout. Each request carries an id; Cancel (or a new test) makes the owner drop the
answers of older ones, so the dialog is free at once even while the old request runs out its
timeout in the background.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from desktop.workers.base import Worker, WorkerOwner, guarded, with_events


@dataclass(frozen=True)
class ServerListing:
    """What a server offers: its normalized base URL and its models (remotes.ServerModel)."""

    base_url: str
    models: tuple


# listed(int, ServerListing); list_failed(int, str): request id, the reason in plain words.
EVENTS = {"listed": (int, object), "list_failed": (int, str)}


class RemoteWorker(with_events(Worker, EVENTS)):
    def _failed(self, _exc, message: str, request_id: int, *_args) -> None:
        self.list_failed.emit(request_id, message)

    @Slot(int, str, str)
    @guarded("_failed")
    def list_models(self, request_id: int, base_url: str, api_key: str) -> None:
        from desktop.engines.remote_engine import normalize_base_url
        from desktop.models.remotes import list_server_models

        base_url = normalize_base_url(base_url)
        models = list_server_models(base_url, api_key or None)
        self.listed.emit(request_id, ServerListing(base_url, tuple(models)))


class RemoteLister(with_events(WorkerOwner, EVENTS)):
    """Owns the worker. ``list_models`` returns a request id; ``finished_listing`` and
    ``failed_listing`` deliver only the newest request's answer (on the owner's thread)."""

    _list = Signal(int, str, str)
    finished_listing = Signal(object)  # ServerListing
    failed_listing = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(RemoteWorker(), "remote-lister", parent)
        self._current = 0
        self._next = 0
        self._list.connect(self._worker.list_models)
        self.listed.connect(self._on_listed)
        self.list_failed.connect(self._on_failed)
        self.start()

    @property
    def busy(self) -> bool:
        return self._current != 0

    def list_models(self, base_url: str, api_key: str | None = None) -> int:
        self._next += 1
        self._current = self._next
        self._list.emit(self._current, base_url, api_key or "")
        return self._current

    def cancel(self) -> None:
        """Forget the request in flight: its answer, when it comes, is dropped."""
        self._current = 0

    @Slot(int, object)
    def _on_listed(self, request_id: int, listing: ServerListing) -> None:
        if request_id == self._current:
            self._current = 0
            self.finished_listing.emit(listing)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self._current:
            self._current = 0
            self.failed_listing.emit(message)
