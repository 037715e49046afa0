"""One API job's output on its way from the engine's thread to the server's event loop.

The engine's thread (or, for the window's server, its generation worker) pushes pieces into a
``Run`` as the job's sink; the request's coroutine reads them in batches. Either side may end a
run: the engine when the reply is done, the server when it stops (the first end wins).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable

from starlette.requests import Request

from desktop.engines import stops
from desktop.engines.base import CancelToken, GenerationStats, Thought

# How often a request still waiting for the engine checks that its client is still there.
DISCONNECT_POLL_S = 0.2


class ClientGone(Exception):
    pass


class Run:
    """One job's output crossing from the engine's thread to the event loop. The engine's
    thread appends to a deque (atomic) and wakes the loop once per batch it finds waiting."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stop: list[str] | None,
                 on_end: Callable[[Run], None]):
        self.loop = loop
        self.cancel = CancelToken()
        self._pieces: collections.deque = collections.deque()
        self._end: tuple | None = None
        self._end_lock = threading.Lock()  # a stop and the engine may both end it: the first wins
        self._on_end = on_end
        self._wake = asyncio.Event()
        self._woken = False
        # The engine also stops at these (llama.cpp); this guard covers engines that cannot.
        self._guard = stops.EndMarkerGuard(stop) if stop else None
        self.stopped = False  # a stop text ended the reply

    # engine thread (or the event loop, for a stop)
    def piece(self, text: str) -> None:
        if self._end is not None:
            return
        self._pieces.append(text)
        self._poke()

    def finish(self, stats: GenerationStats) -> None:
        self._ended(("done", stats))

    def fail(self, error: BaseException) -> None:
        self._ended(("fail", error))

    def _ended(self, end: tuple) -> None:
        with self._end_lock:
            if self._end is not None:
                return
            self._end = end
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody counts any more
            self.loop.call_soon_threadsafe(self._on_end, self)
        self._woken = False
        self._poke()

    def _poke(self) -> None:
        if not self._woken:
            self._woken = True
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._wake.set)

    # event loop
    async def client_closed(self, _message=None) -> None:
        self.cancel.set()

    async def next_event(self, request: Request | None) -> tuple:
        """("pieces", [...]) with everything that arrived, else ("done", stats) or ("fail", exc).
        While waiting with a ``request`` (no response started yet), a client that leaves cancels
        the job and raises ClientGone."""
        while True:
            self._wake.clear()
            self._woken = False
            end = self._end  # read first: once it is set, every piece is already in the deque
            pieces = []
            while self._pieces:
                pieces.append(self._pieces.popleft())
            if pieces:
                pieces = self._filter(pieces)
                if pieces:
                    return ("pieces", pieces)
                continue
            if end is not None:
                guard = self._guard
                if guard is not None and not self.stopped and end[0] == "done":
                    held = guard.finish()
                    if held:
                        return ("pieces", [held])
                return end
            if request is None:
                await self._wake.wait()
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), DISCONNECT_POLL_S)
            except asyncio.TimeoutError:
                if await request.is_disconnected():
                    self.cancel.set()
                    raise ClientGone from None

    def _filter(self, pieces: list[str]) -> list[str]:
        guard = self._guard
        if guard is None:
            return pieces
        if self.stopped:
            return []
        out: list[str] = []
        for piece in pieces:
            if isinstance(piece, Thought):
                out.append(piece)
                continue
            text = guard.feed(piece)
            if text:
                out.append(text)
            if guard.ended:
                self.stopped = True
                self.cancel.set()
                break
        return out

    async def collect(self, request: Request, first) -> tuple[str, str, GenerationStats | BaseException]:
        answer: list[str] = []
        thinking: list[str] = []
        event = first
        while True:
            kind, value = event
            if kind != "pieces":
                return "".join(answer), "".join(thinking), value
            for piece in value:
                (thinking if isinstance(piece, Thought) else answer).append(piece)
            event = await self.next_event(request)

    def finish_reason(self, stats: GenerationStats) -> str:
        if self.stopped:
            return "stop"
        return "length" if stats.finish_reason == "length" else "stop"
