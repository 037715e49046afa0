"""The context meter's worker: counts prompt tokens on its own thread with the model's tokenizer.

It has its own thread because the generation worker is busy for the whole of a reply, and the
meter must follow the user's typing meanwhile. Requests carry an id; one that is older than the
newest request when its turn comes is skipped, so a burst of keystrokes costs one count.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from desktop.engines.base import EngineError
from desktop.workers.base import Worker, WorkerOwner, guarded, with_events


@dataclass(frozen=True)
class CountRequest:
    """What to count: the system prompt, the chat as (role, text) pairs and the draft."""

    system: str
    history: tuple[tuple[str, str], ...]
    draft: str
    limit: int  # prompt tokens the model can take with room for the reply
    policy: str = "rolling"
    thinking: bool = True  # the chat's "Think" switch: it changes what the template renders


@dataclass(frozen=True)
class CountResult:
    system: int
    history: int
    draft: int
    total: int
    dropped: int = 0  # messages the policy would leave out
    full: bool = False  # the policy refuses (stop), or the message alone is too long
    limit: int = 0
    policy: str = "rolling"


# opened(str): the model path whose tokenizer is loaded; counted(int, CountResult);
# count_failed(str): why counting is not possible (the meter shows it).
EVENTS = {"opened": (str,), "counted": (int, object), "count_failed": (str,)}


class CounterWorker(with_events(Worker, EVENTS)):
    def __init__(self):
        super().__init__()
        self._counter = None
        self.latest = 0  # written by the GUI thread: a plain int store, atomic under the GIL

    def _report(self, _exc, message: str, *_args) -> None:
        self.count_failed.emit(self.tr("Could not count tokens: {reason}").format(reason=message))

    @Slot(str)
    @guarded("_report")
    def open(self, path: str) -> None:
        from desktop.models.open_model import open_model_counter

        self._close_counter()
        self._counter = open_model_counter(path)
        self.opened.emit(path)

    @Slot(int, object)
    @guarded("_report")
    def count(self, request_id: int, request: CountRequest) -> None:
        if request_id < self.latest or self._counter is None:
            return
        from desktop.engines.context import fit_messages

        self._counter.set_thinking(request.thinking)
        measure = self._counter.measure
        system = [{"role": "system", "content": request.system}] if request.system else []
        history = [{"role": role, "content": text} for role, text in request.history]
        draft = request.draft
        n_system = measure(system) if system else 0
        n_history = measure(system + history) if history else n_system
        messages = system + history + ([{"role": "user", "content": draft}] if draft else [])
        total = measure(messages) if messages else 0
        dropped, full = 0, False
        if total > request.limit and messages:
            try:
                dropped = len(fit_messages(messages, measure, request.limit, request.policy)[1])
            except EngineError:
                full = True  # the stop policy, or the message alone is too long
        self.counted.emit(request_id, CountResult(
            system=n_system, history=max(n_history - n_system, 0),
            draft=max(total - n_history, 0) if draft else 0, total=total,
            dropped=dropped, full=full, limit=request.limit, policy=request.policy))

    def _close_counter(self) -> None:
        counter, self._counter = self._counter, None
        if counter is not None:
            counter.close()

    def on_close(self) -> None:
        self._close_counter()


class ContextCounter(with_events(WorkerOwner, EVENTS)):
    """Owns the counter worker and its thread. ``count`` returns a request id; ``counted``
    delivers only the latest request's result, on the owner's thread."""

    _open = Signal(str)
    _count = Signal(int, object)
    latest_counted = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(CounterWorker(), "context-counter", parent)
        self._next = 0
        self._open.connect(self._worker.open)
        self._count.connect(self._worker.count)
        self.counted.connect(self._on_counted)
        self.start()

    def open(self, path: str) -> None:
        self._open.emit(str(path))

    def count(self, request: CountRequest) -> int:
        self._next += 1
        self._worker.latest = self._next
        self._count.emit(self._next, request)
        return self._next

    @Slot(int, object)
    def _on_counted(self, request_id: int, result: CountResult) -> None:
        if request_id == self._next:
            self.latest_counted.emit(request_id, result)
