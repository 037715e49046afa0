"""A model id to an engine, a check or a token counter: the one place that knows both kinds of id.

A saved remote id (``remote://<server_id>/<model>``) names a server kept in remotes.json and a key
kept in the keyring; those belong to the model layer, so they are resolved here and the remote
engine is handed only an address, a key and a model name. Any other id is a local path, opened by
the engines. Qt-free.
"""

from __future__ import annotations

import contextlib
import os

from desktop.engines import Engine, detect_backend, open_engine, validate_model
from desktop.engines.counter import PromptCounter, open_counter
from desktop.engines.remote_engine import (
    READ_TIMEOUT_S,
    RemoteCounter,
    RemoteEngine,
    RemoteModelGoneError,
    host_label,
    list_models,
    make_client,
    normalize_base_url,
    parse_id,
)
from desktop.models import remotes
from desktop.text import translate

__all__ = ["open_model", "open_model_counter", "preview", "validate"]


def open_model(model_id: str, backend: str | None = None, device: str = "auto", in_process: bool = False,
               abort=None, **options) -> Engine:
    """The engine for ``model_id``: a saved remote model, or a local file or folder (see
    desktop.engines.open_engine for ``device``, ``in_process`` and ``abort``)."""
    backend = backend or detect_backend(model_id)
    if backend != "remote":
        return open_engine(model_id, backend=backend, device=device, in_process=in_process, abort=abort,
                           **options)
    # Local load settings (threads, GPU layers...) mean nothing to a server and are not passed.
    server, model, api_key = remotes.resolve(model_id)
    return RemoteEngine(server.base_url, model, api_key, model_id=model_id, n_ctx=options.get("n_ctx"),
                        server_name=server.name,
                        read_timeout=server.read_timeout or READ_TIMEOUT_S,
                        context_length=server.context_length)


def validate(model_id: str, backend: str | None = None) -> None:
    """A cheap check, before the loaded model is given up, that ``model_id`` can be opened: a local
    model's header is read; a remote model's server must answer and still offer it (one /v1/models
    request), so an unreachable server leaves the chat as it was."""
    backend = backend or detect_backend(model_id)
    if backend != "remote":
        validate_model(model_id, backend)
        return
    server, model, api_key = remotes.resolve(model_id)
    base_url = normalize_base_url(server.base_url)
    client = make_client(base_url, api_key)
    try:
        offered = [m.get("id") for m in list_models(client, base_url)]
    finally:
        with contextlib.suppress(Exception):
            client.close()
    if model not in offered:
        raise RemoteModelGoneError(translate(
            "Core", "The server at {where} no longer offers the model {model}. Choose another of its "
            "models in \"Connect to a server…\".").format(where=host_label(base_url), model=model))


def open_model_counter(model_id: str | os.PathLike,
                       backend: str | None = None) -> PromptCounter | RemoteCounter:
    """The context meter's counter for ``model_id`` (a remote one estimates and sends nothing)."""
    model_id = os.fspath(model_id)
    if (backend or detect_backend(model_id)) == "remote":
        parse_id(model_id)  # a malformed id fails here, as it would on load
        return RemoteCounter(model_id)
    return open_counter(model_id, backend)


def preview(model_id: str | os.PathLike, backend: str | None = None) -> str:
    """The sample chat's prompt for ``model_id``, opening only its tokenizer (slow for a GUI
    thread: a worker's)."""
    counter = open_model_counter(model_id, backend)
    try:
        return counter.preview()
    finally:
        counter.close()
