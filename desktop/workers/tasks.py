"""Short jobs the GUI thread must not wait for: a model's header and this computer's hardware for
the load settings (up to the 2 s nvidia-smi timeout), a chat written to a file.

One thread, jobs run in the order asked. ``run(fn, *args, done=..., failed=...)`` calls ``fn`` on
the thread and then ``done(result)`` or ``failed(message)`` on the owner's thread; a ``context``
QObject that is destroyed first (a dialog closed while its model is read) drops its callbacks.
A job cannot be interrupted: each is short, and shutdown waits for the one running at most.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from desktop.workers.base import Worker, WorkerOwner, guarded, with_events

# task_done(int, object): a job's id and what it returned; task_failed(int, str): a job's id and
# the message for the user (workers/base.py's user_message).
EVENTS = {"task_done": (int, object), "task_failed": (int, str)}


class TaskWorker(with_events(Worker, EVENTS)):
    def _failed(self, _exc, message: str, task_id: int, *_args) -> None:
        self.task_failed.emit(task_id, message)

    @Slot(int, object, object)
    @guarded("_failed")
    def run(self, task_id: int, fn, args) -> None:
        self.task_done.emit(task_id, fn(*args))


class BackgroundTasks(with_events(WorkerOwner, EVENTS)):
    """Owns the job thread (started here); its signals arrive on the owner's thread."""

    _run = Signal(int, object, object)
    _ids = itertools.count(1)

    def __init__(self, parent: QObject | None = None):
        super().__init__(TaskWorker(), "background-tasks", parent)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._run.connect(self._worker.run)
        self.task_done.connect(self._on_done)
        self.task_failed.connect(self._on_failed)
        self.start()

    def run(self, fn: Callable, *args, done: Callable | None = None, failed: Callable | None = None,
            context: QObject | None = None) -> int:
        """Queue ``fn(*args)``; returns the job's id (task_done/task_failed carry it)."""
        task_id = next(self._ids)
        self._callbacks[task_id] = (done, failed)
        if context is not None:
            context.destroyed.connect(lambda *_: self._callbacks.pop(task_id, None))
        self._run.emit(task_id, fn, tuple(args))
        return task_id

    @Slot(int, object)
    def _on_done(self, task_id: int, result) -> None:
        done, _failed = self._callbacks.pop(task_id, (None, None))
        if done is not None:
            done(result)

    @Slot(int, str)
    def _on_failed(self, task_id: int, message: str) -> None:
        _done, failed = self._callbacks.pop(task_id, (None, None))
        if failed is not None:
            failed(message)
