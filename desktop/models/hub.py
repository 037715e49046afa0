"""Talking to the Hugging Face Hub (or whatever HF_ENDPOINT points at) through huggingface_hub.

Every failure becomes a HubError whose message says what to do: accept a licence, fix the
token, check the connection. The token never appears in a message.

Every limit on waiting for the network (timeouts, tries, back-off, the client library's own
retries) is set in the block below and nowhere else. huggingface_hub's defaults do not suit an
app someone is watching: its HTTP client waits for ever (no timeout), its listings retry with
back-off for 23 s before giving up, and its downloads retry five times inside each of ours.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from desktop import config, privacy
from desktop.errors import UserError
from desktop.models import tokens
from desktop.text import translate

# -- the network policy --------------------------------------------------------------------------
# A search answers someone waiting at the keyboard: one try, and an unreachable Hub is reported
# within SEARCH_TIMEOUT_S (per connect and per read; the two formats are two requests).
SEARCH_TIMEOUT_S = 2.0
# A repository's listing with every file's hash (planning a download, the list of quantizations).
METADATA_TIMEOUT_S = 10.0
# A transfer that receives nothing for this long is paused as stalled, resumable later.
# EDGECHAT_STALL_TIMEOUT_S overrides it (tests use a second or two).
STALL_TIMEOUT_S = 30.0
# Errors that fail fast (refused, reset, 5xx): tries per file after the first, and the first
# wait between them, doubling (1 + 2 + 4 + 8 = 15 s at most).
DOWNLOAD_RETRIES = 4
BACKOFF_S = 1.0
# huggingface_hub's http_get retries by itself (five times, 1 s apart, each waiting out its own
# timeout). Ours are the only retries: the two multiplied made a stalled download take 341 s.
CLIENT_RETRIES = 0


def stall_timeout_s() -> float:
    return config.stall_timeout_s(STALL_TIMEOUT_S)


class HubError(UserError):
    pass


class HubOffline(HubError):
    """The Hub could not be reached at all (no connection, no answer in time)."""


class WorkOffline(HubOffline, privacy.WorkOfflineError):
    """Work offline is on (desktop/privacy.py): the Hub is not asked at all."""


def require_online() -> None:
    """WorkOffline, before any request, while Work offline is on. Every function here that
    talks to the Hub, and every download, asks this first."""
    privacy.require_online(translate("Core", "the Hugging Face Hub (search, model details and "
                                             "downloads)"), WorkOffline)


class Interrupted(Exception):
    """A blocking call was given up because its caller was asked to stop."""


T = TypeVar("T")


def call_interruptibly(fn: Callable[[], T], stop: threading.Event, name: str = "network",
                       poll_s: float = 0.05) -> T:
    """``fn()`` on a daemon thread, waited for until it ends or ``stop`` is set.

    A socket read cannot be interrupted from another thread, and the HTTP client is shared by the
    whole process, so closing it is not an option: the caller stops waiting instead (Interrupted)
    and the call is left to end on its own, its result dropped. That is what keeps Pause, Cancel
    and closing the app quick while a server is slow or silent."""
    box: dict[str, object] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=name, daemon=True).start()
    while not done.wait(poll_s):
        if stop.is_set():
            raise Interrupted()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def is_network_error(exc: BaseException) -> bool:
    """No answer at all: refused, unreachable, timed out, dropped (not an HTTP error status)."""
    import httpx2

    return isinstance(exc, (httpx2.TransportError, ConnectionError, TimeoutError))


class HubAuthError(HubError):
    pass


class HubNotFound(HubError):
    pass


@dataclass(frozen=True)
class RemoteFile:
    path: str  # path in the repository, with the subfolder
    size: int
    sha256: str | None  # LFS files: the content's sha256
    git_sha1: str | None  # small files: the git blob id, checkable too

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass(frozen=True)
class RepoInfo:
    repo_id: str
    revision: str  # the commit every file is fetched from
    files: tuple[RemoteFile, ...]
    gated: bool | str = False
    license: str | None = None
    tags: tuple[str, ...] = ()
    downloads: int | None = None
    likes: int | None = None
    context_length: int | None = None
    extra: dict = field(default_factory=dict)

    def gguf_files(self) -> list[RemoteFile]:
        return [f for f in self.files if f.path.lower().endswith(".gguf")]

    def onnx_folders(self) -> list[str]:
        """Folders holding a genai_config.json: each is one ONNX GenAI model variant."""
        return sorted(posixpath.dirname(f.path) for f in self.files
                      if posixpath.basename(f.path) == "genai_config.json")

    def folder_files(self, folder: str) -> list[RemoteFile]:
        folder = folder.strip("/")
        prefix = f"{folder}/" if folder else ""
        return [f for f in self.files if f.path.startswith(prefix)
                and "/" not in f.path[len(prefix):]]


@dataclass(frozen=True)
class SearchResult:
    repo_id: str
    formats: tuple[str, ...]
    downloads: int | None
    likes: int | None
    gated: bool | str
    tags: tuple[str, ...]


def _api(endpoint: str | None = None):
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint)


def describe_error(exc: Exception, repo_id: str, token: str | None) -> HubError:
    """Turn a huggingface_hub / network exception into a HubError that says what to do."""
    from huggingface_hub import errors

    page = translate("Core", "the model page ({url})").format(url=f"https://huggingface.co/{repo_id}")
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, errors.GatedRepoError):
        if token:
            return HubAuthError(translate(
                "Core", "{repo} is gated and your account has no access yet: accept the licence on "
                "{page} with the account your token belongs to, then try again.").format(
                repo=repo_id, page=page))
        return HubAuthError(translate(
            "Core", "{repo} is gated: accept the licence on {page}, then add a Hugging Face access "
            "token in Settings.").format(repo=repo_id, page=page))
    if isinstance(exc, errors.RepositoryNotFoundError) or status == 401:
        if token and status == 401:
            return HubAuthError(translate(
                "Core", "The Hugging Face token was refused (401): it is invalid or has expired. "
                "Create a new one at https://huggingface.co/settings/tokens and set it in Settings."))
        if isinstance(exc, errors.RepositoryNotFoundError):
            if token:
                return HubNotFound(translate("Core", "Repository {repo} was not found.").format(repo=repo_id))
            return HubNotFound(translate(
                "Core", "Repository {repo} was not found. If it is private, add an access token in "
                "Settings.").format(repo=repo_id))
        return HubAuthError(translate(
            "Core", "{repo} needs a Hugging Face access token: add one in Settings.").format(repo=repo_id))
    if status == 403:
        return HubAuthError(translate(
            "Core", "Access to {repo} is forbidden (403) for this token: accept the licence on "
            "{page}, or use a token with read access.").format(repo=repo_id, page=page))
    if isinstance(exc, (errors.EntryNotFoundError, errors.RevisionNotFoundError)):
        return HubNotFound(f"{repo_id}: {tokens.scrub(str(exc).splitlines()[0], token)}")
    if isinstance(exc, errors.HfHubHTTPError):
        return HubError(tokens.scrub(translate(
            "Core", "The Hub answered with an error for {repo}: {reason}").format(
            repo=repo_id, reason=str(exc).splitlines()[0]), token))
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return HubError(translate(
            "Core", "Offline mode is on (HF_HUB_OFFLINE): EdgeChat cannot reach the Hub."))
    return HubError(tokens.scrub(translate(
        "Core", "Cannot reach the Hugging Face Hub ({reason}). Check the connection and try "
        "again; downloads resume where they stopped.").format(reason=type(exc).__name__), token))


def repo_info(repo_id: str, revision: str | None = None, token: str | None = None,
              endpoint: str | None = None) -> RepoInfo:
    require_online()
    token = token if token is not None else tokens.get_token()
    try:
        # model_info makes one request and does not retry; without a timeout it waits for ever.
        info = _api(endpoint).model_info(repo_id, revision=revision, files_metadata=True,
                                         token=token or False, timeout=METADATA_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - mapped to a message for the user
        raise describe_error(exc, repo_id, token) from None
    files = []
    for sibling in info.siblings or ():
        lfs = sibling.lfs
        files.append(RemoteFile(
            path=sibling.rfilename,
            size=int(lfs.size if lfs else (sibling.size or 0)),
            sha256=lfs.sha256 if lfs else None,
            git_sha1=None if lfs else getattr(sibling, "blob_id", None),
        ))
    card = getattr(info, "card_data", None) or {}
    license_ = card.get("license") if hasattr(card, "get") else None
    gguf = getattr(info, "gguf", None) or {}
    return RepoInfo(
        repo_id=repo_id,
        revision=info.sha or revision or "main",
        files=tuple(files),
        gated=info.gated or False,
        license=license_,
        tags=tuple(info.tags or ()),
        downloads=getattr(info, "downloads", None),
        likes=getattr(info, "likes", None),
        context_length=gguf.get("context_length") if isinstance(gguf, dict) else None,
    )


def search(query: str, formats=("gguf", "onnx"), limit: int = 40, token: str | None = None,
           endpoint: str | None = None) -> list[SearchResult]:
    """Model repositories matching ``query`` that carry GGUF or ONNX files.

    One request per format, each tried once with SEARCH_TIMEOUT_S: HfApi.list_models cannot be
    given a timeout or fewer retries, and offline it kept "Searching…" up for 24 s."""
    require_online()
    from huggingface_hub import constants
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    token = token if token is not None else tokens.get_token()
    url = f"{(endpoint or constants.ENDPOINT).rstrip('/')}/api/models"
    headers = build_hf_headers(token=token or False)
    found: dict[str, SearchResult] = {}
    for fmt in formats:
        params: list[tuple[str, str | int]] = [("filter", fmt), ("limit", limit),
                                               ("sort", "downloads"), ("direction", -1)]
        if query:
            params.append(("search", query))
        params += [("expand", field_) for field_ in ("downloads", "likes", "gated", "tags")]
        try:
            response = get_session().get(url, params=params, headers=headers,
                                         timeout=SEARCH_TIMEOUT_S)
            hf_raise_for_status(response)
            items = response.json()
        except Exception as exc:  # noqa: BLE001
            if is_network_error(exc):
                raise HubOffline(translate(
                    "Core", "Searching the Hub needs an internet connection, and the Hub did not "
                    "answer ({reason}). Check the connection and try again; installed models work "
                    "offline.").format(reason=type(exc).__name__)) from None
            raise describe_error(exc, query or "search", token) from None
        for m in items if isinstance(items, list) else ():
            repo_id = m.get("id") or m.get("modelId")
            if not repo_id:
                continue
            prev = found.get(repo_id)
            fmts = tuple(sorted(set((prev.formats if prev else ()) + (fmt,))))
            found[repo_id] = SearchResult(repo_id, fmts, m.get("downloads"), m.get("likes"),
                                          m.get("gated") or False, tuple(m.get("tags") or ()))
    return sorted(found.values(), key=lambda r: -(r.downloads or 0))


def whoami(token: str, endpoint: str | None = None) -> str:
    """The account a token belongs to; HubAuthError when the Hub refuses it."""
    require_online()
    try:
        return _api(endpoint).whoami(token=token)["name"]
    except Exception as exc:  # noqa: BLE001
        err = describe_error(exc, "whoami", token)
        if getattr(getattr(exc, "response", None), "status_code", None) == 401:
            err = HubAuthError("The Hugging Face token was refused: it is invalid or has expired.")
        raise err from None
