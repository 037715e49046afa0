"""Talking to the Hugging Face Hub (or whatever HF_ENDPOINT points at) through huggingface_hub.

Every failure becomes a HubError whose message says what to do: accept a licence, fix the
token, check the connection. The token never appears in a message.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from desktop.models import tokens
from desktop.text import translate


class HubError(Exception):
    pass


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
    token = token if token is not None else tokens.get_token()
    try:
        info = _api(endpoint).model_info(repo_id, revision=revision, files_metadata=True,
                                         token=token or False)
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
    """Model repositories matching ``query`` that carry GGUF or ONNX files."""
    token = token if token is not None else tokens.get_token()
    api = _api(endpoint)
    found: dict[str, SearchResult] = {}
    for fmt in formats:
        try:
            results = api.list_models(search=query or None, filter=fmt, limit=limit,
                                      sort="downloads", token=token or False)
            for m in results:
                tags = tuple(m.tags or ())
                prev = found.get(m.id)
                fmts = tuple(sorted(set((prev.formats if prev else ()) + (fmt,))))
                found[m.id] = SearchResult(m.id, fmts, getattr(m, "downloads", None),
                                           getattr(m, "likes", None), m.gated or False, tags)
        except Exception as exc:  # noqa: BLE001
            raise describe_error(exc, query or "search", token) from None
    return sorted(found.values(), key=lambda r: -(r.downloads or 0))


def whoami(token: str, endpoint: str | None = None) -> str:
    """The account a token belongs to; HubAuthError when the Hub refuses it."""
    try:
        return _api(endpoint).whoami(token=token)["name"]
    except Exception as exc:  # noqa: BLE001
        err = describe_error(exc, "whoami", token)
        if getattr(getattr(exc, "response", None), "status_code", None) == 401:
            err = HubAuthError("The Hugging Face token was refused: it is invalid or has expired.")
        raise err from None
