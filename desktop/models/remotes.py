"""Saved OpenAI-compatible servers and the models chosen from them. Qt-free.

A server is kept in ``<data dir>/remotes.json`` (its name, base URL, an id and the models the
user added); its API key only ever in the OS keyring, never in a file or a log. Where there is no
usable keyring the key is kept in memory for this session and the user is told so. A remote
model's id is ``remote://<server_id>/<model>`` (see engines/remote_engine.py), which the model
picker lists and the app remembers like a local model's path.

The window, the command line and a second instance share the file: every change is a
read-modify-write under a file lock (desktop/storage/jsondoc.py).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from desktop import keyring_store
from desktop.engines.remote_engine import (
    RemoteError,
    context_length_of,
    host_label,
    is_remote,
    list_models,
    make_client,
    make_id,
    normalize_base_url,
    parse_id,
)
from desktop.models.library import LibraryError
from desktop.paths import data_dir
from desktop.storage.jsondoc import JsonDocument
from desktop.text import translate

FILE = "remotes.json"
KEY_PREFIX = "remote-server:"  # keyring user name: one entry per server id

__all__ = ["RemoteModel", "RemoteServer", "ServerModel", "is_remote", "list_server_models", "make_id",
           "parse_id", "resolve", "saved_models", "servers"]

# Keys for servers saved while no keyring was usable: this session only.
_session_keys: dict[str, str] = {}
_session_lock = threading.Lock()


@dataclass(frozen=True)
class RemoteServer:
    id: str
    name: str
    base_url: str
    models: tuple[str, ...] = ()
    context_length: int | None = None  # the user's setting, for a server that reports none
    read_timeout: float | None = None  # seconds of silence before a reply is given up

    @property
    def host(self) -> str:
        return host_label(self.base_url)


@dataclass(frozen=True)
class RemoteModel:
    """A model on a saved server, as the model picker lists it."""

    id: str  # remote://<server_id>/<model>
    server_name: str
    base_url: str
    model: str


@dataclass(frozen=True)
class ServerModel:
    """A model a server offers (its /v1/models entry)."""

    id: str
    context_length: int | None = None
    owned_by: str | None = None
    extra: dict = field(default_factory=dict)


def _path() -> Path:
    return data_dir() / FILE


def _parse(raw) -> dict | None:
    if not isinstance(raw, dict):
        return None
    raw.setdefault("servers", [])
    return raw if isinstance(raw["servers"], list) else None


def _document() -> JsonDocument:
    return JsonDocument(_path(), what=translate("Core", "The list of servers"),
                        default=lambda: {"servers": []}, parse=_parse, error=LibraryError)


def _items(data: dict) -> list[dict]:
    """The server entries of the file's contents, kept in place so that a change to one is saved."""
    data["servers"] = [s for s in data["servers"] if isinstance(s, dict)]
    return data["servers"]


def _read() -> list[dict]:
    return _items(_document().read())


def _server(item: dict) -> RemoteServer | None:
    try:
        models = item.get("models") or []
        return RemoteServer(
            id=str(item["id"]), name=str(item.get("name") or ""), base_url=str(item["base_url"]),
            models=tuple(str(m) for m in models if isinstance(m, str) and m),
            context_length=item["context_length"] if isinstance(item.get("context_length"), int) else None,
            read_timeout=float(item["read_timeout"]) if isinstance(item.get("read_timeout"), int | float)
            else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def servers() -> list[RemoteServer]:
    return [s for s in (_server(item) for item in _read()) if s is not None]


def server(server_id: str) -> RemoteServer | None:
    return next((s for s in servers() if s.id == server_id), None)


def saved_models() -> list[RemoteModel]:
    """Every model added from every saved server, for the model picker."""
    return [RemoteModel(make_id(s.id, m), s.name or s.host, s.base_url, m)
            for s in servers() for m in s.models]


def save_server(base_url: str, models, name: str = "", api_key: str | None = None,
                context_length: int | None = None, server_id: str | None = None,
                read_timeout: float | None = None) -> RemoteServer:
    """Add a server (or update the one with this id or address) with the models chosen from it.
    ``api_key`` None keeps the stored key; "" removes it. ``context_length``/``read_timeout``
    None keep what is saved; 0 goes back to the default."""
    base_url = normalize_base_url(base_url)
    models = [m for m in dict.fromkeys(models) if isinstance(m, str) and m]

    def change(data: dict) -> dict:
        items = _items(data)
        item = next((i for i in items if (server_id and i.get("id") == server_id)
                     or (not server_id and i.get("base_url") == base_url)), None)
        if item is None:
            item = {"id": server_id or secrets.token_hex(4)}
            items.append(item)
        item.update(name=name.strip() or item.get("name") or host_label(base_url), base_url=base_url,
                    models=models)
        if context_length is not None:
            item["context_length"] = context_length or None
        if read_timeout is not None:
            item["read_timeout"] = read_timeout or None
        return dict(item)

    item = _document().update(change)
    saved = _server(item)
    if api_key is not None:
        set_api_key(saved.id, api_key)
    return saved


def remove_server(server_id: str) -> None:
    def change(data: dict) -> None:
        data["servers"] = [i for i in _items(data) if i.get("id") != server_id]

    _document().update(change)
    with contextlib.suppress(RemoteError):
        set_api_key(server_id, "")


def remove_model(model_id: str) -> None:
    server_id, model = parse_id(model_id)

    def change(data: dict) -> None:
        for item in _items(data):
            if item.get("id") == server_id and isinstance(item.get("models"), list):
                item["models"] = [m for m in item["models"] if m != model]

    _document().update(change)


# -- keys --------------------------------------------------------------------------------------
def get_api_key(server_id: str) -> str | None:
    with _session_lock:
        if server_id in _session_keys:
            return _session_keys[server_id]
    return keyring_store.get(KEY_PREFIX + server_id)


def set_api_key(server_id: str, api_key: str) -> bool:
    """Keep the key in the OS keyring ("" forgets it). False: no usable keyring, so the key is
    kept for this session only (never written in plain text)."""
    api_key = (api_key or "").strip()
    with _session_lock:
        _session_keys.pop(server_id, None)
    backend = keyring_store.usable()
    if backend is None:
        if api_key:
            with _session_lock:
                _session_keys[server_id] = api_key
        return False
    if not api_key:
        with contextlib.suppress(Exception):
            backend.delete_password(keyring_store.SERVICE, KEY_PREFIX + server_id)
        return True
    try:
        backend.set_password(keyring_store.SERVICE, KEY_PREFIX + server_id, api_key)
    except Exception as exc:  # noqa: BLE001
        with _session_lock:
            _session_keys[server_id] = api_key
        raise RemoteError(translate(
            "Core", "The keyring refused to store the API key ({reason}); it is used for this session "
            "only.").format(reason=type(exc).__name__)) from None
    return True


def keyring_note() -> str:
    """What the dialog says about where a key goes."""
    ring = keyring_store.find()
    if ring.backend is not None:
        return translate("Core", "The key is kept in the OS keyring ({name}).").format(name=ring.name)
    return translate("Core", "No OS keyring is available: a key is used for this session only and "
                             "never written to a file.")


# -- resolving and listing ---------------------------------------------------------------------
def resolve(model_id: str) -> tuple[RemoteServer, str, str | None]:
    """(server, model name, API key) for a saved remote model id."""
    server_id, model = parse_id(model_id)
    found = server(server_id)
    if found is None:
        raise RemoteError(translate(
            "Core", "The server of {model} is no longer saved. Connect to it again with \"Connect to a "
            "server…\".").format(model=model))
    return found, model, get_api_key(server_id)


def list_server_models(base_url: str, api_key: str | None = None, timeout: float = 15.0) -> list[ServerModel]:
    """The models a server offers (network: call it off the GUI thread). Errors are RemoteError
    subclasses with a plain message (cannot connect, wrong key, not an OpenAI server...)."""
    base_url = normalize_base_url(base_url)
    client = make_client(base_url, api_key, read_timeout=timeout)
    try:
        entries = list_models(client, base_url)
    finally:
        with contextlib.suppress(Exception):
            client.close()
    found = []
    for entry in entries:
        model_id = entry.get("id")
        if isinstance(model_id, str) and model_id:
            owned = entry.get("owned_by")
            found.append(ServerModel(model_id, context_length_of(entry),
                                     owned if isinstance(owned, str) else None, entry))
    return found


def as_dict(remote: RemoteServer) -> dict:
    return asdict(remote)
