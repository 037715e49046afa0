"""The context meter's worker: counts prompt tokens on its own thread with the model's tokenizer.

It has its own thread because the generation worker is busy for the whole of a reply, and the
meter must follow the user's typing meanwhile. Requests carry an id; one that is older than the
newest request when its turn comes is skipped, so a burst of keystrokes costs one count.
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.engines.base import EngineError


class CounterWorker(QObject):
    opened = Signal(str)  # model path
    counted = Signal(int, dict)  # request id, {"system", "history", "draft", "total", "dropped", "full"}
    failed = Signal(str)

    def __init__(self):
        super().__init__()
        self._counter = None
        self.latest = 0  # written by the GUI thread: a plain int store, atomic under the GIL

    @Slot(str)
    def open(self, path: str) -> None:
        from desktop.engines.counter import open_counter

        self._close()
        try:
            self._counter = open_counter(path)
        except EngineError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a thread's exception is otherwise silent
            traceback.print_exc()
            self.failed.emit(self.tr("Could not count tokens: {reason}").format(reason=exc))
            return
        self.opened.emit(path)

    @Slot(int, dict)
    def count(self, request_id: int, request: dict) -> None:
        if request_id < self.latest or self._counter is None:
            return
        from desktop.engines.context import fit_messages

        measure = self._counter.measure
        system = [{"role": "system", "content": request["system"]}] if request.get("system") else []
        history = list(request.get("history") or [])
        draft = request.get("draft") or ""
        try:
            n_system = measure(system) if system else 0
            n_history = measure(system + history) if history else n_system
            messages = system + history + ([{"role": "user", "content": draft}] if draft else [])
            total = measure(messages) if messages else 0
            limit = request["limit"]
            dropped, full = 0, False
            if total > limit and messages:
                try:
                    dropped = len(fit_messages(messages, measure, limit, request.get("policy", "rolling"))[1])
                except EngineError:
                    full = True  # the stop policy, or the message alone is too long
        except Exception as exc:  # noqa: BLE001 - a template that fails on this chat
            self.failed.emit(self.tr("Could not count tokens: {reason}").format(reason=exc))
            return
        self.counted.emit(request_id, {
            "system": n_system, "history": max(n_history - n_system, 0),
            "draft": max(total - n_history, 0) if draft else 0, "total": total,
            "dropped": dropped, "full": full,
        })

    def _close(self) -> None:
        counter, self._counter = self._counter, None
        if counter is not None:
            counter.close()

    @Slot()
    def close(self) -> None:
        self._close()
        QThread.currentThread().quit()


class ContextCounter(QObject):
    """Owns the counter worker and its thread. ``count`` returns a request id; ``counted``
    delivers the latest result on the owner's thread."""

    open_requested = Signal(str)
    count_requested = Signal(int, dict)
    close_requested = Signal()
    opened = Signal(str)
    counted = Signal(int, dict)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("context-counter")
        self._worker = CounterWorker()
        self._worker.moveToThread(self._thread)
        self._next = 0
        self.open_requested.connect(self._worker.open)
        self.count_requested.connect(self._worker.count)
        self.close_requested.connect(self._worker.close)
        self._worker.opened.connect(self.opened)
        self._worker.counted.connect(self._on_counted)
        self._worker.failed.connect(self.failed)
        self._thread.start()
        self._shut_down = False

    def open(self, path: str) -> None:
        self.open_requested.emit(str(path))

    def count(self, request: dict) -> int:
        self._next += 1
        self._worker.latest = self._next
        self.count_requested.emit(self._next, request)
        return self._next

    @Slot(int, dict)
    def _on_counted(self, request_id: int, result: dict) -> None:
        if request_id == self._next:
            self.counted.emit(request_id, result)

    def shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        self.close_requested.emit()
        if not self._thread.wait(10_000):
            self._thread.quit()
            self._thread.wait()
