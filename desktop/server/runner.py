"""Running the API with uvicorn: on the calling thread (``edgechat serve``, where uvicorn's own
Ctrl+C handling applies) or on a thread of its own (the window, tests, the benchmark)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import threading

from desktop.errors import UserError
from desktop.text import translate

LOOPBACK = "127.0.0.1"


class ServerStartError(UserError):
    pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def needs_key(host: str) -> bool:
    """Anything but loopback is reachable from other machines (0.0.0.0 and :: are every
    interface): it must not be open to all."""
    return not is_loopback(host)


def key_required_message(host: str) -> str:
    return translate("Core", "Listening on {host} lets other computers in: it needs an API key.").format(
        host=host)


def _refuse_open(app, host: str) -> None:
    """The app decides who it serves, but only when told where it listens: an app made for
    loopback, without a key, is not put on an address other computers reach."""
    state = getattr(app, "state", None)
    if needs_key(host) and not getattr(state, "api_key", None):
        raise ServerStartError(key_required_message(host))


def _config(app, host: str, port: int):
    import uvicorn

    # lifespan off: the app has no startup work, and the window starts/stops it repeatedly.
    # The graceful timeout bounds a stop while streams are open (they are cancelled then).
    return uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                          timeout_graceful_shutdown=2, access_log=False)


def _server(app, config):
    """uvicorn's server, which at its stop first ends the app's open requests and cancels their
    jobs (queued or running): otherwise it would wait for every backlogged reply to be written
    for clients it is about to drop, up to the graceful timeout."""
    import uvicorn

    stop_jobs = getattr(getattr(app, "state", None), "stop_jobs", None)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None) -> None:
            if stop_jobs is not None:
                try:
                    stop_jobs()
                except Exception:  # noqa: BLE001 - the stop goes on: uvicorn cancels what is left
                    logging.getLogger(__name__).exception("ending the open requests failed")
            await super().shutdown(sockets)

    return Server(config)


def bind(config):
    """The listening socket, bound now so a port in use is reported before anything starts."""
    try:
        sock = config.bind_socket()
        # Listening now, not when uvicorn's loop starts: a client told the address (the
        # "Serving at" line) waits in the backlog instead of being refused.
        sock.listen(config.backlog)
        return sock
    except SystemExit:  # uvicorn logs the OSError and exits; the caller wants an error
        raise ServerStartError(translate(
            "Core", "Could not listen on {host}:{port}: the port is in use or the address is not on "
            "this computer.").format(host=config.host, port=config.port)) from None


def address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def serve_forever(app, host: str, port: int, on_started=None) -> None:
    """Serve on this thread until Ctrl+C (open requests are told the server is stopping, their
    jobs cancelled, queued or running; then it returns)."""
    _refuse_open(app, host)
    config = _config(app, host, port)
    sock = bind(config)
    server = _server(app, config)
    if on_started is not None:
        on_started(sock.getsockname()[1])
    # uvicorn stops gracefully on Ctrl+C, then raises the signal again for the caller: the stop
    # was asked for, so it is a normal end here.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])


class ServerThread:
    """uvicorn on its own thread with its own event loop; start() returns once it listens."""

    def __init__(self, app, host: str = LOOPBACK, port: int = 8080):
        _refuse_open(app, host)
        self.config = _config(app, host, port)
        self.host = host
        self.port = port
        self._server = _server(app, self.config)
        self._thread: threading.Thread | None = None
        self._sock = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return address(self.host, self.port)

    def start(self, timeout: float = 10.0) -> None:
        self._sock = bind(self.config)
        self.port = self._sock.getsockname()[1]  # port 0 asks the OS for a free one
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve(started))
            except BaseException as exc:  # noqa: BLE001 - reported to start() or logged
                errors.append(exc)
            finally:
                started.set()
                # sse-starlette leaves a shutdown watcher task per loop: end it quietly.
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="edgechat-api", daemon=True)
        self._thread.start()
        started.wait(timeout)
        if errors:
            raise ServerStartError(translate("Core", "The API server did not start: {reason}").format(
                reason=errors[0]))

    async def _serve(self, started: threading.Event) -> None:
        task = asyncio.ensure_future(self._server.serve(sockets=[self._sock]))
        while not self._server.started and not task.done():
            await asyncio.sleep(0.01)
        started.set()
        await task

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop listening, end open streams (their generations are cancelled), join the thread."""
        self._server.should_exit = True
        if self._thread is None:
            return True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(1.0)
        if self._sock is not None:
            self._sock.close()
        return not self._thread.is_alive()
