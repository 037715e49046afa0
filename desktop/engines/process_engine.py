"""Run an engine in a child process, behind the same interface.

onnxruntime-genai's Python bindings hold the GIL while they compute (measured: the prompt's
whole prefill, and each token), so an ONNX engine on a worker thread froze the window for up to
a tenth of a second at a time. In a child process it computes without touching our GIL; the
worker thread only waits on a pipe, which releases it. A crash inside the native runtime ends
the child, not the app: it is reported as an error and the model can be loaded again.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import asdict

from desktop.engines.base import (
    STREAM_BATCH_S,
    CancelToken,
    ContextFullError,
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationStats,
    Message,
    ModelInfo,
    ModelLoadError,
    SamplingParams,
    Thought,
)

_ERRORS = {
    "ModelLoadError": ModelLoadError,
    "ContextOverflowError": ContextOverflowError,
    "ContextFullError": ContextFullError,
    "EngineError": EngineError,
}
# Every wake-up of this process takes a core from the runtime on a small machine: on 2 cores,
# a 20 ms cancel poll and 30 ms batches cost 3% of decode speed (bench/streaming.py). So the
# child sends text in batches (STREAM_BATCH_S), and a CancelToken forwards a Stop the moment it
# is set; only a plain Event is polled.
CANCEL_POLL_S = 0.1


def _error_kind(exc: BaseException) -> str:
    for kind, cls in _ERRORS.items():
        if type(exc) is cls:
            return kind
    if isinstance(exc, ModelLoadError):
        return "ModelLoadError"
    if isinstance(exc, ContextOverflowError):
        return "ContextOverflowError"
    return "EngineError"


def _runs(pieces: list[str]):
    """Batched pieces as (kind, text) messages: "thought" for thinking, "piece" for the answer,
    in order, so a batch that crosses from one to the other keeps them apart."""
    runs: list[tuple[str, str]] = []
    for piece in pieces:
        kind = "thought" if isinstance(piece, Thought) else "piece"
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + piece)
        else:
            runs.append((kind, str(piece)))
    return runs


def _in_process_engine(backend: str, path: str, options: dict) -> Engine:
    """The engine itself, in the child (the package's open_engine is what starts this process)."""
    if backend == "onnx":
        from desktop.engines.onnx_engine import OnnxEngine

        return OnnxEngine(path, **options)
    from desktop.engines.llama_engine import LlamaEngine

    return LlamaEngine(path, **options)


def _serve(conn, cancel, backend: str, path: str, options: dict) -> None:
    """The child: load the engine, then answer requests until told to close."""
    # Before the runtime is imported, whoever started the parent (a test, a script): the child
    # inherits the parent's environment, but the parent may not have come through __main__.
    from desktop.privacy import harden_environment

    harden_environment()
    try:
        engine = _in_process_engine(backend, path, options)
    except EngineError as exc:
        conn.send(("error", (_error_kind(exc), str(exc))))
        return
    except Exception as exc:  # noqa: BLE001 - report, don't die silently
        traceback.print_exc()
        conn.send(("error", ("ModelLoadError", f"Could not load the model: {exc}")))
        return
    conn.send(("info", engine.info.to_dict()))
    try:
        while True:
            try:
                command, payload = conn.recv()
            except EOFError:
                return  # the app went away
            if command == "close":
                return
            if command == "count":
                conn.send(("count", engine.count_tokens(payload)))
            elif command == "cache" and payload[0] in CACHE_COMMANDS:
                # No answer: the next request reads the pipe after this has run.
                getattr(engine, payload[0])(*payload[1:])
            elif command == "stream":
                messages, params = payload
                pending: list[str] = []
                last_send = 0.0  # the first piece goes at once
                try:
                    for piece in engine.stream(messages, SamplingParams(**params), cancel):
                        pending.append(piece)
                        now = time.perf_counter()
                        # Batched, as the worker batches for the view: a wake-up of the app per
                        # token would take CPU from the runtime's own threads on small machines.
                        if now - last_send >= STREAM_BATCH_S:
                            for run in _runs(pending):
                                conn.send(run)
                            pending.clear()
                            last_send = now
                    for run in _runs(pending):
                        conn.send(run)
                    conn.send(("done", asdict(engine.last_stats)))
                except EngineError as exc:
                    conn.send(("error", (_error_kind(exc), str(exc))))
                except Exception as exc:  # noqa: BLE001
                    traceback.print_exc()
                    conn.send(("error", ("EngineError", f"Generation failed: {exc}")))
    finally:
        engine.close()
        conn.close()


# What the prompt cache answers to, forwarded to the child (see prompt_cache.py).
CACHE_COMMANDS = ("forget_owner", "clear_cache", "persist_cache")


# A load that says nothing for this long is given up (a hung driver, a runtime stuck in
# start-up); the child is killed. Loading a large model from a slow disk stays well under it.
LOAD_TIMEOUT_S = 600.0
# How long a child may take to close cleanly before it is killed (closing the app is bounded).
CLOSE_TIMEOUT_S = 2.0


class ProcessEngine(Engine):
    def __init__(self, backend: str, path: str, abort: threading.Event | None = None, **options):
        from desktop.privacy import harden_environment

        harden_environment()  # the child starts with this environment: telemetry off from its first line
        ctx = mp.get_context("spawn")  # fork would copy Qt and the worker threads
        self._conn, child_conn = ctx.Pipe()
        self._cancel = ctx.Event()
        self._process = ctx.Process(
            target=_serve, args=(child_conn, self._cancel, backend, str(path), options),
            name=f"edgechat-{backend}", daemon=True,
        )
        self._process.start()
        child_conn.close()
        self._stats: GenerationStats | None = None
        kind, payload = self._receive_start(abort)
        if kind == "error":
            self._reap()
            raise _ERRORS.get(payload[0], ModelLoadError)(payload[1])
        info = dict(payload)
        self._info = ModelInfo(**info)
        self.backend = self._info.backend

    def _died(self) -> EngineError:
        self._reap()
        return EngineError(
            f"The {self._process.name} engine process stopped unexpectedly (exit code "
            f"{self._process.exitcode}). Load the model again."
        )

    def _send(self, message) -> None:
        try:
            self._conn.send(message)
        except OSError:  # BrokenPipeError and friends: the child is gone
            raise self._died() from None

    def _receive_start(self, abort: threading.Event | None):
        """The child's first answer, waited for in short steps: a Stop (closing the app) or a
        child that dies or hangs must not leave the loading thread blocked in recv()."""
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while not self._conn.poll(CANCEL_POLL_S):
            if abort is not None and abort.is_set():
                self._kill()
                raise ModelLoadError("Loading was cancelled.")
            if not self._process.is_alive() and not self._conn.poll(0):
                raise self._died()
            if time.monotonic() > deadline:
                self._kill()
                raise ModelLoadError(
                    f"The {self._process.name} engine did not finish loading within "
                    f"{LOAD_TIMEOUT_S:.0f} s and was stopped.")
        return self._receive()

    def _receive(self):
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            raise self._died() from None

    def count_tokens(self, text: str) -> int:
        self._send(("count", text))
        return self._receive()[1]

    def stream(
        self,
        messages: Sequence[Message],
        params: SamplingParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        self._cancel.clear()
        self._stats = None
        forward = self._cancel.set  # process-safe, so any thread may call it
        if isinstance(cancel, CancelToken):
            cancel.on_set(forward)
        self._send(("stream", ([dict(m) for m in messages], asdict(params))))
        finished = False
        try:
            while True:
                if not isinstance(cancel, CancelToken):
                    # A plain Event cannot call us: poll it, at a pace that costs little.
                    if cancel is not None and cancel.is_set():
                        forward()
                    if not self._conn.poll(CANCEL_POLL_S):
                        if not self._process.is_alive():
                            self._receive()  # raises with the exit code
                        continue
                kind, payload = self._receive()
                if kind == "piece":
                    yield payload
                elif kind == "thought":
                    yield Thought(payload)
                elif kind == "done":
                    self._stats = GenerationStats.from_dict(payload)
                    finished = True
                    return
                else:
                    finished = True
                    raise _ERRORS.get(payload[0], EngineError)(payload[1])
        finally:
            if isinstance(cancel, CancelToken):
                cancel.remove_callback(forward)
            if not finished and self._process.is_alive():
                # The caller stopped reading: stop the child and drain up to its answer, so
                # the next request does not read this one's leftovers.
                forward()
                while True:
                    kind, payload = self._receive()
                    if kind in ("done", "error"):
                        if kind == "done":
                            self._stats = GenerationStats.from_dict(payload)
                        break

    def forget_owner(self, owner: str) -> None:
        """Drop a chat's states in the child. None: saved files are not looked after there."""
        self._send(("cache", ("forget_owner", owner)))

    def clear_cache(self) -> None:
        self._send(("cache", ("clear_cache",)))

    def persist_cache(self) -> None:
        self._send(("cache", ("persist_cache",)))

    def terminate(self) -> None:
        """Kill the child from any thread (closing the app while it is busy in a prefill it
        cannot interrupt). The thread waiting on it gets the 'stopped unexpectedly' error."""
        if self._process.is_alive():
            self._process.kill()

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send(("close", None))
        self._reap()

    def _reap(self) -> None:
        self._process.join(CLOSE_TIMEOUT_S)
        self._kill()

    def _kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
            self._process.join(CLOSE_TIMEOUT_S)
        if not self._conn.closed:
            self._conn.close()
