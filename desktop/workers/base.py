"""One owner/worker pattern for every background thread (generation, counter, downloads, Hub,
imports).

A ``Worker`` lives on its own ``QThread``; its owner (a ``WorkerOwner``) lives on the GUI thread
and is the only object the rest of the app talks to. The two share one declaration of the
worker's events: ``with_events(Worker, SPEC)`` and ``with_events(WorkerOwner, SPEC)`` build both
classes' signals from the same table, and the owner forwards each worker signal to its own
signal of the same name. Forwarding through a QObject that lives on the GUI thread is what
makes every event arrive there: a plain function connected straight to a worker's signal would
run on the worker's thread.

Every slot is ``@guarded``: an exception in a thread is otherwise silent (the window waited
for ever at "Loading…" when a slot raised something unexpected). A ``UserError`` is reported
with its own message; anything else is logged with its traceback and reported as "something went
wrong". Shutdown is bounded: an owner asks its worker to stop, waits up to a deadline, and never
leaves a running QThread to be destroyed.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from desktop.errors import UserError, plain_reason
from desktop.logs import log_file

log = logging.getLogger("edgechat.workers")

# Threads whose worker did not stop in time at shutdown. Kept referenced so that Qt never
# destroys a running QThread (that aborts the process); the app exits without waiting for them.
_abandoned: list[QThread] = []


@dataclass(frozen=True)
class Failure:
    """A worker slot that failed: which one, and the message for the user."""

    task: str
    message: str


def user_message(exc: BaseException) -> str:
    """What the user reads for an exception: its own text when it was written for them; a
    failure from outside the app (network, disk, memory) in plain words; anything else is a
    bug, said as one, with where its details are (never the exception's class or errno)."""
    if isinstance(exc, UserError):
        return str(exc)
    reason = plain_reason(exc)
    if reason:
        return QCoreApplication.translate(
            "Worker", "This could not be done: {reason}. Details are in the log:\n{path}").format(
            reason=reason, path=log_file())
    return QCoreApplication.translate(
        "Worker", "Something went wrong inside EdgeChat. Details are in the log:\n{path}").format(
        path=log_file())


def guarded(on_error: str | None = None):
    """Decorate a worker slot so that any exception becomes a report.

    ``on_error`` names a method ``(exc, message, *slot_args)`` that reports the failure in the
    slot's own terms (a generation's request id, a download's key); without one the worker's
    ``failed`` signal carries it. Put it under ``@Slot``.
    """

    def wrap(fn):
        @functools.wraps(fn)
        def slot(self, *args):
            try:
                return fn(self, *args)
            except Exception as exc:  # noqa: BLE001 - the point of the guard
                if not isinstance(exc, UserError):
                    log.exception("%s.%s failed", type(self).__name__, fn.__name__)
                message = user_message(exc)
                try:
                    if on_error is not None:
                        getattr(self, on_error)(exc, message, *args)
                    else:
                        self.failed.emit(Failure(fn.__name__, message))
                except Exception:  # noqa: BLE001 - a failing report must not hide the first one
                    log.exception("%s could not report a failure", type(self).__name__)
                    self.failed.emit(Failure(fn.__name__, message))
            return None

        return slot

    return wrap


def with_events(base: type, spec: dict[str, tuple]) -> type:
    """``base`` with one signal per entry of ``spec`` (name -> argument types); the worker and
    its owner are both built from the same table so their events cannot drift apart."""
    namespace = {name: Signal(*types) for name, types in spec.items()}
    namespace["EVENTS"] = tuple(spec)
    return type(f"{base.__name__}With{len(spec)}Events", (base,), namespace)


class Worker(QObject):
    """Lives on its owner's thread. Subclasses add slots (each ``@Slot`` + ``@guarded``)."""

    EVENTS: tuple[str, ...] = ()
    failed = Signal(object)  # Failure

    def stop_work(self) -> None:
        """Called on the owner's thread at shutdown, before the close: interrupt long work
        (set cancel tokens, pause transfers). Must be thread-safe and must not block."""

    def on_close(self) -> None:
        """Called on the worker's thread at shutdown: release what the worker holds."""

    def force_stop(self) -> None:
        """Called on the owner's thread when the worker did not stop in half the shutdown time:
        end its work the hard way (kill a child process). Must be thread-safe."""

    @Slot()
    def _close(self) -> None:
        try:
            self.on_close()
        except Exception:  # noqa: BLE001 - closing must end the thread whatever happens
            log.exception("%s failed to close", type(self).__name__)
        QThread.currentThread().quit()


class WorkerOwner(QObject):
    """Owns a worker and its thread; lives on the GUI thread (or the CLI's main thread)."""

    EVENTS: tuple[str, ...] = ()
    failed = Signal(object)  # Failure
    _close_requested = Signal()

    def __init__(self, worker: Worker, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._worker = worker
        self._thread = QThread()
        self._thread.setObjectName(name)
        worker.moveToThread(self._thread)
        self._shut_down = False
        for event in self.EVENTS:
            getattr(worker, event).connect(getattr(self, event))
        worker.failed.connect(self.failed)
        self._close_requested.connect(worker._close)

    def start(self) -> None:
        """Start the thread: call it once every request signal is connected."""
        self._thread.start()

    @property
    def thread(self) -> QThread:
        return self._thread

    @property
    def worker(self) -> Worker:
        return self._worker

    @property
    def running(self) -> bool:
        return not self._shut_down

    def request_shutdown(self) -> None:
        """Ask the worker to stop and its thread to end, without waiting (see shutdown)."""
        if self._shut_down:
            return
        self._shut_down = True
        try:
            self._worker.stop_work()
        except Exception:  # noqa: BLE001
            log.exception("%s.stop_work failed", type(self._worker).__name__)
        self._close_requested.emit()

    def wait_shutdown(self, deadline: float, force_at: float | None = None) -> bool:
        """Wait until ``deadline`` (time.monotonic()) for the thread to end; at ``force_at`` the
        worker's force_stop is called. False if it would not stop: the thread is then left
        running (referenced, never destroyed) and logged."""
        forced = False
        while self._thread.isRunning() and time.monotonic() < deadline:
            # Short steps: a worker that reports on its way out posts to this thread.
            if self._thread.wait(50):
                break
            if not forced and force_at is not None and time.monotonic() >= force_at:
                forced = True
                try:
                    self._worker.force_stop()
                except Exception:  # noqa: BLE001
                    log.exception("%s.force_stop failed", type(self._worker).__name__)
        if self._thread.isRunning():
            log.error("thread %r did not stop in time; leaving it", self._thread.objectName())
            if self._thread not in _abandoned:
                _abandoned.append(self._thread)
                self._thread.setParent(None)
            return False
        return True

    def shutdown(self, timeout_s: float = 4.0) -> bool:
        """Stop the worker and end its thread within ``timeout_s`` (force_stop at half of it)."""
        start = time.monotonic()
        self.request_shutdown()
        return self.wait_shutdown(start + timeout_s, start + timeout_s / 2)


def shutdown_all(owners, timeout_s: float = 4.0) -> bool:
    """Stop several workers at once: all are asked first, then waited for against one
    deadline, so closing the app costs the slowest of them, not their sum."""
    start = time.monotonic()
    owners = [o for o in owners if o is not None]
    for owner in owners:
        owner.request_shutdown()
    results = [owner.wait_shutdown(start + timeout_s, start + timeout_s / 2) for owner in owners]
    return all(results)


def abandoned_threads() -> list[str]:
    """Names of the threads that would not stop (the app exits without waiting for them)."""
    return [t.objectName() for t in _abandoned if t.isRunning()]

