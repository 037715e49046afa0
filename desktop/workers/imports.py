"""Importing a chat export on its own thread, with progress and cancel.

Reading, checking and writing a large export takes seconds; on the GUI thread the window froze
for all of it. The worker opens its own connection to the same database (a SQLite connection
belongs to the thread that opened it; WAL lets the window keep reading meanwhile) and writes the
chat in one transaction, so a cancel or a failure leaves nothing half imported.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop.workers.base import Worker, WorkerOwner, guarded, with_events

PROGRESS_INTERVAL_S = 0.05  # often enough for a smooth bar, rarely enough to cost nothing


@dataclass(frozen=True)
class ImportProgress:
    path: str
    fraction: float  # 0 to 1


# progressed(ImportProgress); imported(int): the new conversation's id; import_cancelled():
# the user cancelled and nothing was written. A failure arrives as failed(Failure).
EVENTS = {"progressed": (object,), "imported": (int,), "import_cancelled": ()}


class ImportWorker(with_events(Worker, EVENTS)):
    def __init__(self, database: str | Path):
        super().__init__()
        self._database = Path(database)
        self._cancel: threading.Event | None = None  # the import in progress's token

    def stop_work(self) -> None:
        cancel = self._cancel
        if cancel is not None:
            cancel.set()

    @Slot(str, object)
    @guarded()
    def run_import(self, path: str, cancel: threading.Event) -> None:
        from desktop.storage.errors import ImportCancelled
        from desktop.storage.store import ConversationStore

        self._cancel = cancel
        last = 0.0

        def progress(fraction: float) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL_S or fraction >= 1.0:
                last = now
                self.progressed.emit(ImportProgress(path, fraction))

        try:
            # recover=False: the window may be streaming a reply into this database right now.
            store = ConversationStore(self._database, recover=False)
            try:
                conversation = store.import_file(path, cancel=cancel, progress=progress)
            finally:
                store.close()
        except ImportCancelled:
            self.import_cancelled.emit()
            return
        finally:
            self._cancel = None
        self.imported.emit(conversation.id)


class ImportTasks(with_events(WorkerOwner, EVENTS)):
    """Owns the import worker and its thread; one import at a time. Its signals (EVENTS, and
    failed) arrive on the owner's thread."""

    _import = Signal(str, object)

    def __init__(self, database: str | Path, parent: QObject | None = None):
        super().__init__(ImportWorker(database), "chat-import", parent)
        self._cancel: threading.Event | None = None
        self._import.connect(self._worker.run_import)
        for done in (self.imported, self.import_cancelled, self.failed):
            done.connect(self._on_done)
        self.start()

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def import_file(self, path: str | Path) -> bool:
        """Start importing an export file; False (and nothing started) while one is running."""
        if self.busy or not self.running:
            return False
        self._cancel = threading.Event()
        self._import.emit(str(path), self._cancel)
        return True

    def cancel(self) -> None:
        """Stop the import in progress; it ends with import_cancelled and nothing written
        (or with imported, if it was already written)."""
        if self._cancel is not None:
            self._cancel.set()

    def _on_done(self, *_args) -> None:
        self._cancel = None
