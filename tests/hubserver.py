"""A small Hugging Face Hub look-alike on 127.0.0.1 for tests, with fault injection.

Stdlib only. It answers the URLs that the real ``huggingface_hub`` client (2.4.0) calls, with the
headers and JSON fields that client reads, so tests can drive the real client against it by
pointing ``HF_ENDPOINT`` / ``endpoint=`` at ``server.url`` (see :func:`point_huggingface_hub_at`).

    server = HubServer()
    server.add_repo("acme/tiny-GGUF", {"tiny.Q4_K_M.gguf": b"GGUF...", "README.md": b"# tiny"},
                    tags=["text-generation"], license="apache-2.0",
                    gguf={"total": 135_000_000, "architecture": "llama", "context_length": 8192})
    server.valid_tokens["hf_good"] = "alice"
    with server:
        ...  # server.url, server.requests, server.drop_after("tiny.Q4_K_M.gguf", 1000), ...

Endpoints (models only):

* ``GET  /api/models``                                      search (search, author, filter, pipeline_tag,
  gated, sort, limit, full, cardData, config, expand; Link-header pagination)
* ``GET  /api/models/{repo}[/revision/{rev}]``               model info (``blobs=true``, ``expand``)
* ``GET  /api/models/{repo}/tree/{rev}[/{path}]``            tree (``recursive``, ``expand``; pagination)
* ``POST /api/models/{repo}/paths-info/{rev}``               paths info (form: ``paths``, ``expand``)
* ``GET  /api/models/{repo}/refs``                           branches (``list_repo_refs``)
* ``GET  /api/whoami-v2``                                    token check
* ``GET|HEAD /{repo}/resolve/{rev}/{path}``                  file download, Range aware
* ``GET|HEAD /lfs/{sha256}``                                 the "CDN" (2nd port), if ``lfs_redirect=True``

Quirks of huggingface_hub 2.4.0 that shaped this server (all verified by tests/test_hubserver.py):

* HEAD /resolve is sent with redirects off and followed by hand, but only while the target has the
  same origin; a redirect to another origin (the CDN) ends there and the metadata (``X-Repo-Commit``,
  ``X-Linked-Etag``, ``X-Linked-Size``) is read from the 302 itself. So LFS files are either served
  directly with 200 (default) or, with ``lfs_redirect=True``, 302'd to a CDN on a second port, which
  is what huggingface.co does. The GET then goes to the CDN without the Authorization header.
* An invalid token is refused with 401 and ``X-Error-Message: Invalid credentials in Authorization
  header`` on every endpoint (as the Hub does); the client maps that message to a plain
  ``HfHubHTTPError``, not ``RepositoryNotFoundError``.
* No ``X-Xet-*`` header and no ``xetHash`` field is ever sent, so the client never tries Xet.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = ["Fault", "HubFile", "HubRepo", "HubServer", "RequestRecord", "point_huggingface_hub_at"]

_LFS_SUFFIXES = (".gguf", ".onnx", ".onnx_data", ".data", ".bin", ".safetensors", ".pt", ".pth", ".ckpt",
                 ".h5", ".msgpack", ".tflite", ".ot", ".zip", ".tar.gz", ".npz", ".pkl")
_LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub's git side refuses plain files above 10 MB
_DEFAULT_DATE = "2024-01-01T00:00:00.000Z"
_SUBROUTES = {"revision", "tree", "paths-info", "refs", "resolve"}
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


def _git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class HubFile:
    path: str
    data: bytes
    lfs: bool
    sha256: str = ""
    oid: str = ""  # git blob id: of the content, or of the LFS pointer for LFS files
    pointer_size: int = 0

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        if self.lfs:
            pointer = _lfs_pointer(self.sha256, len(self.data))
            self.oid, self.pointer_size = _git_blob_oid(pointer), len(pointer)
        else:
            self.oid = _git_blob_oid(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.oid


@dataclass
class _Commit:
    sha: str
    files: dict[str, HubFile]
    date: str
    title: str


@dataclass
class HubRepo:
    repo_id: str
    private: bool = False
    gated: bool | str = False
    tags: list[str] = field(default_factory=list)
    pipeline_tag: str | None = None
    library_name: str | None = None
    card_data: dict = field(default_factory=dict)
    downloads: int = 0
    likes: int = 0
    gguf: dict | None = None
    safetensors: dict | None = None
    config: dict | None = None
    created_at: str = _DEFAULT_DATE
    extra: dict = field(default_factory=dict)  # merged as-is into model info
    commits: dict[str, _Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    @property
    def author(self) -> str:
        return self.repo_id.split("/")[0] if "/" in self.repo_id else ""

    def commit(self, revision: str) -> _Commit | None:
        sha = self.refs.get(revision, revision)
        return self.commits.get(sha)


@dataclass
class Fault:
    """One injected fault. ``times=None`` means until :meth:`HubServer.clear_faults`."""

    kind: str  # "fail", "drop", "slow", "truncate", "corrupt", "delay", "stall"
    path: str | None  # in-repo file path, a URL path prefix starting with "/", or None for all
    repo_id: str | None = None
    times: int | None = 1
    method: str | None = None
    status: int = 500
    n_bytes: int = 0
    offset: int = 0
    bytes_per_second: int = 0
    seconds: float = 0.0
    headers: dict = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, url_path: str, repo_id: str | None, file: str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.repo_id is not None and self.repo_id != repo_id:
            return False
        if self.path is None or self.path == "*":
            return True
        if self.path.startswith("/"):
            return unquote(url_path).startswith(self.path)
        return self.path == file


@dataclass
class RequestRecord:
    method: str
    path: str  # URL path as sent (still quoted), without the query
    query: dict[str, list[str]]
    range: str | None
    authorization: bool
    token: str | None
    origin: str  # "hub" or "cdn"
    repo_id: str | None = None
    file: str | None = None  # in-repo path for /resolve and CDN requests
    status: int | None = None  # None while the answer is still going out
    headers: dict[str, str] = field(default_factory=dict)


class _Reply(Exception):
    """Raised inside a handler to answer with an error at once."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive like the Hub, so a dropped body is a real protocol error
    timeout = 30  # an idle keep-alive connection must not pin a thread forever
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server_version = "hubserver"
    sys_version = ""
    hub: HubServer
    origin: str

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # the request log is server.requests; stderr noise would hide test output

    def setup(self) -> None:
        super().setup()
        self.hub._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.hub._track(self.connection, add=False)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    # -- plumbing ----------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        auth = self.headers.get("Authorization")
        token = auth[7:].strip() if auth and auth.lower().startswith("bearer ") else None
        self.rec = RequestRecord(
            method=method, path=split.path, query=parse_qs(split.query, keep_blank_values=True),
            range=self.headers.get("Range"), authorization=auth is not None, token=token, origin=self.origin,
            headers={k: v for k, v in self.headers.items()},
        )
        self.hub._log(self.rec)
        self.body = b""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.body = self.rfile.read(length)
        self.method = method
        try:
            try:
                if self.origin == "cdn":
                    self._cdn(split.path)
                else:
                    self._route(split.path)
            except _Reply as reply:
                self._send_error(reply)
        except OSError:
            self.close_connection = True  # the client went away (a cancelled download): nothing to do
        except Exception as error:
            # A bug in this server must fail the test that met it, not look like a network fault.
            self.hub.errors.append(f"{method} {self.path}: {error!r}")
            with contextlib.suppress(OSError):
                if self.rec.status is None:
                    self._send_error(_Reply(500, f"hubserver bug: {error!r}"))
                else:
                    self._drop_connection()

    def _route(self, path: str) -> None:
        delay = self.hub._take_fault(("delay",), self.method, path, None, None)
        if delay is not None:
            self.hub._stopping.wait(delay.seconds)
        self._check_fail(path)
        self._check_token()
        if path == "/api/whoami-v2":
            return self._whoami()
        if path in ("/api/models", "/api/models/"):
            return self._search()
        if path.startswith("/api/models/"):
            return self._api_repo(path[len("/api/models/"):])
        if "/resolve/" in path and not path.startswith("/api/"):
            return self._resolve(path)
        raise _Reply(404, "Not Found")

    def _check_fail(self, path: str, repo_id: str | None = None, file: str | None = None) -> None:
        fault = self.hub._take_fault(("fail",), self.method, path, repo_id, file)
        if fault is not None:
            raise _Reply(fault.status, f"Injected fault: HTTP {fault.status}", fault.headers)

    def _check_token(self) -> None:
        if self.rec.authorization and self.user is None:
            raise _Reply(401, _INVALID_CREDENTIALS, {"X-Error-Message": _INVALID_CREDENTIALS})

    @property
    def user(self) -> str | None:
        return self.hub.valid_tokens.get(self.rec.token) if self.rec.token else None

    def _send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None,
              content_type: str = "application/json; charset=utf-8") -> None:
        self.rec.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", f"hubserver-{id(self.rec):x}")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.method != "HEAD" and body:
            self.wfile.write(body)

    def _send_json(self, data: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(200, json.dumps(data).encode(), headers)

    def _send_error(self, reply: _Reply) -> None:
        self._send(reply.status, json.dumps({"error": reply.message}).encode(), reply.headers)

    # -- repositories --------------------------------------------------------------------------------

    def _find_repo(self, segments: list[str]) -> tuple[str, list[str]]:
        """Split URL segments into (repo_id, rest): repo ids may have one or two segments."""
        two = "/".join(segments[:2])
        if len(segments) >= 2 and (two in self.hub.repos or segments[1] not in _SUBROUTES):
            return two, segments[2:]
        return segments[0], segments[1:]

    def _repo(self, repo_id: str) -> HubRepo:
        repo = self.hub.repos.get(repo_id)
        if repo is None or (repo.private and not self.hub._may_read(repo, self.user)):
            # The Hub answers 401 to anonymous callers and 404 to signed-in ones, both "RepoNotFound".
            status = 404 if self.user else 401
            raise _Reply(status, "Repository not found",
                         {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"})
        return repo

    def _commit(self, repo: HubRepo, revision: str) -> _Commit:
        commit = repo.commit(revision)
        if commit is None:
            message = f"Invalid rev id: {revision}"
            raise _Reply(404, message, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": message})
        return commit

    def _api_repo(self, rest: str) -> None:
        segments = rest.split("/")
        repo_id, rest_segments = self._find_repo(segments)
        self.rec.repo_id = repo_id
        self._check_fail(self.rec.path, repo_id)
        repo = self._repo(repo_id)
        if not rest_segments:
            return self._model_info(repo, repo.refs.get("main", "main"))
        head, tail = rest_segments[0], rest_segments[1:]
        if head == "revision" and tail:
            return self._model_info(repo, unquote("/".join(tail)))
        if head == "tree" and tail:
            return self._tree(repo, unquote(tail[0]), unquote("/".join(tail[1:])))
        if head == "paths-info" and tail and self.method == "POST":
            return self._paths_info(repo, unquote("/".join(tail)))
        if head == "refs" and not tail:
            return self._refs(repo)
        raise _Reply(404, "Not Found")

    def _model_info(self, repo: HubRepo, revision: str) -> None:
        commit = self._commit(repo, revision)
        blobs = _flag(self.rec.query, "blobs")
        info = self.hub._model_json(repo, commit, blobs=blobs, full=True)
        expand = self.rec.query.get("expand")
        if expand:
            info = {k: v for k, v in info.items() if k in ("_id", "id") or k in expand}
        self._send_json(info)

    def _refs(self, repo: HubRepo) -> None:
        branches = [{"name": name, "ref": f"refs/heads/{name}", "targetCommit": sha}
                    for name, sha in repo.refs.items()]
        self._send_json({"branches": branches, "converts": [], "tags": []})

    def _tree(self, repo: HubRepo, revision: str, path: str) -> None:
        commit = self._commit(repo, revision)
        path = path.strip("/")
        recursive = _flag(self.rec.query, "recursive")
        expand = _flag(self.rec.query, "expand")
        directories = _directories(commit.files)
        if path and path not in directories:
            message = f"{path} does not exist on \"{revision}\""
            raise _Reply(404, message, {"X-Error-Code": "EntryNotFound", "X-Error-Message": message})
        prefix = f"{path}/" if path else ""

        def wanted(entry_path: str) -> bool:
            if not entry_path.startswith(prefix) or entry_path == path:
                return False
            return recursive or "/" not in entry_path[len(prefix):]

        entries = [_dir_entry(d, commit, expand) for d in sorted(directories) if d and wanted(d)]
        entries += [_file_entry(f, commit, expand) for p, f in sorted(commit.files.items()) if wanted(p)]
        page_size = self.hub.tree_page_size if not expand else min(self.hub.tree_page_size, 50)
        self._send_page(entries, page_size)

    def _paths_info(self, repo: HubRepo, revision: str) -> None:
        commit = self._commit(repo, revision)
        form = parse_qs(self.body.decode(), keep_blank_values=True)
        expand = _flag(form, "expand")
        directories = _directories(commit.files)
        out = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.files:
                out.append(_file_entry(commit.files[path], commit, expand))
            elif path in directories:
                out.append(_dir_entry(path, commit, expand))
        self._send_json(out)

    def _send_page(self, items: list, page_size: int) -> None:
        """One page, with a GitHub-style Link header to the next one as huggingface_hub follows it."""
        cursor = int((self.rec.query.get("cursor") or ["0"])[0])
        page = items[cursor:cursor + page_size]
        headers = {}
        if cursor + page_size < len(items):
            query = {k: v for k, v in self.rec.query.items() if k != "cursor"}
            query["cursor"] = [str(cursor + page_size)]
            headers["Link"] = f'<{self.hub.url}{self.rec.path}?{urlencode(query, doseq=True)}>; rel="next"'
        self._send_json(page, headers)

    def _search(self) -> None:
        q = self.rec.query
        search = (q.get("search") or [""])[0].lower()
        author = (q.get("author") or [None])[0]
        filters = q.get("filter", [])
        pipeline = (q.get("pipeline_tag") or [None])[0]
        gated = (q.get("gated") or [None])[0]
        found = []
        for repo in list(self.hub.repos.values()):
            if repo.private and not self.hub._may_read(repo, self.user):
                continue
            labels = {t.lower() for t in self.hub._tags(repo)}
            labels |= {x.lower() for x in (repo.pipeline_tag, repo.library_name) if x}
            if search and search not in repo.repo_id.lower():
                continue
            if author and repo.author != author:
                continue
            if any(f.lower() not in labels for f in filters):
                continue
            if pipeline and repo.pipeline_tag != pipeline:
                continue
            if gated is not None and bool(repo.gated) != (gated.lower() == "true"):
                continue
            found.append(repo)
        sort = (q.get("sort") or [None])[0]
        if sort in ("downloads", "likes", "lastModified", "createdAt", "trendingScore"):
            found.sort(key=lambda r: self.hub._model_json(r, r.commit("main"))[sort] or 0, reverse=True)
        limit = (q.get("limit") or [None])[0]
        if limit:
            found = found[:int(limit)]
        self._send_page([self._search_entry(r) for r in found], self.hub.search_page_size)

    def _search_entry(self, repo: HubRepo) -> dict:
        q = self.rec.query
        info = self.hub._model_json(repo, repo.commit("main"), blobs=False, full=True)
        if q.get("expand"):
            keep = set(q["expand"])
        else:
            # What /api/models lists by default, and what full / cardData / config add.
            keep = {"likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name",
                    "createdAt", "modelId"}
            if _flag(q, "full"):
                keep |= {"author", "sha", "lastModified", "gated", "disabled", "siblings", "gguf"}
            if _flag(q, "cardData"):
                keep.add("cardData")
            if _flag(q, "config"):
                keep.add("config")
        if "siblings" in info:
            info["siblings"] = [{"rfilename": s["rfilename"]} for s in info["siblings"]]
        return {k: v for k, v in info.items() if k in ("_id", "id") or k in keep}

    def _whoami(self) -> None:
        user = self.user
        if user is None:
            raise _Reply(401, _INVALID_CREDENTIALS, {"X-Error-Message": _INVALID_CREDENTIALS})
        self._send_json({
            "type": "user", "id": hashlib.sha1(user.encode()).hexdigest()[:24], "name": user,
            "fullname": user.title(), "email": f"{user}@example.invalid", "emailVerified": True,
            "canPay": False, "isPro": False, "avatarUrl": "", "orgs": [],
            "auth": {"type": "access_token",
                     "accessToken": {"displayName": "tests", "role": "read", "createdAt": _DEFAULT_DATE}},
        })

    # -- files ---------------------------------------------------------------------------------------

    def _resolve(self, path: str) -> None:
        repo_part, _, after = path.partition("/resolve/")
        repo_id = unquote(repo_part.strip("/"))
        revision_raw, _, file_raw = after.partition("/")
        revision, file = unquote(revision_raw), unquote(file_raw)
        self.rec.repo_id, self.rec.file = repo_id, file
        self._check_fail(path, repo_id, file)
        repo = self._repo(repo_id)
        commit = self._commit(repo, revision)
        if repo.gated and not self.hub._may_read(repo, self.user):
            self._refuse_gated(repo)
        hub_file = commit.files.get(file)
        if hub_file is None:
            raise _Reply(404, "Entry not found", {"X-Error-Code": "EntryNotFound",
                                                  "X-Error-Message": "Entry not found",
                                                  "X-Repo-Commit": commit.sha})
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{hub_file.etag}"', "Accept-Ranges": "bytes"}
        if hub_file.lfs:
            headers["X-Linked-Etag"] = f'"{hub_file.sha256}"'
            headers["X-Linked-Size"] = str(hub_file.size)
            if self.hub.lfs_redirect:
                query = urlencode({"repo": repo_id, "file": file, "commit": commit.sha})
                headers["Location"] = f"{self.hub.cdn_url}/lfs/{hub_file.sha256}?{query}"
                self._send(302, b"", headers)
                return
        self._serve_file(hub_file, repo_id, headers)

    def _refuse_gated(self, repo: HubRepo) -> None:
        if self.user is None:
            status = 401
            message = (f"Access to model {repo.repo_id} is restricted. You must have access to it"
                       " and be authenticated to access it. Please log in.")
        else:
            status = 403
            message = (f"Access to model {repo.repo_id} is restricted and you are not in the"
                       f" authorized list. Visit {self.hub.url}/{repo.repo_id} to ask for access.")
        raise _Reply(status, message, {"X-Error-Code": "GatedRepo", "X-Error-Message": message})

    def _cdn(self, path: str) -> None:
        """A signed-URL store: no auth, content addressed by sha256, like the Hub's LFS CDN."""
        file = (self.rec.query.get("file") or [None])[0]
        repo_id = (self.rec.query.get("repo") or [None])[0]
        self.rec.repo_id, self.rec.file = repo_id, file
        self._check_fail(path, repo_id, file)
        sha256 = path.rsplit("/", 1)[-1]
        hub_file = self.hub._blob(sha256)
        if not path.startswith("/lfs/") or hub_file is None:
            raise _Reply(404, "NoSuchKey")
        headers = {"ETag": f'"{hub_file.sha256}"', "Accept-Ranges": "bytes",
                   "Content-Disposition": f"inline; filename*=UTF-8''{quote(file or sha256)}; "
                                          f'filename="{(file or sha256).rsplit("/", 1)[-1]}";'}
        self._serve_file(hub_file, repo_id, headers, file=file)

    def _serve_file(self, hub_file: HubFile, repo_id: str | None, headers: dict,
                    file: str | None = None) -> None:
        file = file or hub_file.path
        take = self.hub._take_fault
        data = hub_file.data
        truncate = take(("truncate",), self.method, self.rec.path, repo_id, file)
        if truncate is not None:
            data = data[:truncate.n_bytes]
        if self.method == "GET":
            corrupt = take(("corrupt",), self.method, self.rec.path, repo_id, file)
            if corrupt is not None and 0 <= corrupt.offset < len(data):
                flipped = bytearray(data)
                flipped[corrupt.offset] ^= 0xFF
                data = bytes(flipped)
        size = len(data)
        start, end, status = 0, size, 200
        wanted = self.rec.range
        match = _RANGE.match(wanted) if wanted and self.method == "GET" else None
        if match and (match.group(1) or match.group(2)):
            first, last = match.groups()
            if first:
                start, end = int(first), (min(int(last) + 1, size) if last else size)
            else:
                start, end = max(size - int(last), 0), size
            if start >= size or start >= end:
                raise _Reply(416, "Requested Range Not Satisfiable", {"Content-Range": f"bytes */{size}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        body = data[start:end]
        self.rec.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.method == "HEAD":
            return
        drop = None
        candidate = self.hub._peek_fault(("drop",), self.method, self.rec.path, repo_id, file)
        if candidate is not None and candidate.n_bytes < len(body):
            drop = take(("drop",), self.method, self.rec.path, repo_id, file)
        stall = None
        candidate = self.hub._peek_fault(("stall",), self.method, self.rec.path, repo_id, file)
        if candidate is not None and candidate.n_bytes < len(body):
            stall = take(("stall",), self.method, self.rec.path, repo_id, file)
        slow = take(("slow",), self.method, self.rec.path, repo_id, file)
        limit = drop.n_bytes if drop is not None else stall.n_bytes if stall is not None else len(body)
        self._write_body(body[:limit], slow.bytes_per_second if slow is not None else 0)
        if stall is not None:
            self.wfile.flush()
            # Keep the connection open and send nothing, as a dead link or a stuck server does.
            self.hub._stopping.wait(stall.seconds)
            self._drop_connection()
        elif drop is not None:
            self._drop_connection()

    def _write_body(self, body: bytes, bytes_per_second: int) -> None:
        if bytes_per_second <= 0:
            self.wfile.write(body)
            return
        # Small slices with sleeps in between, so a client can cancel mid-file at a known pace.
        step = max(1, bytes_per_second // 20)
        for at in range(0, len(body), step):
            if self.hub._stopping.is_set():
                self._drop_connection()
                return
            self.wfile.write(body[at:at + step])
            self.hub._stopping.wait(step / bytes_per_second)

    def _drop_connection(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    return (query.get(name) or ["false"])[0].lower() in ("1", "true", "yes")


def _directories(files: Iterable[str]) -> set[str]:
    out = {""}
    for path in files:
        parts = path.split("/")[:-1]
        out.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def _last_commit(commit: _Commit) -> dict:
    return {"id": commit.sha, "title": commit.title, "date": commit.date}


def _file_entry(f: HubFile, commit: _Commit, expand: bool) -> dict:
    entry: dict[str, Any] = {"type": "file", "oid": f.oid, "size": f.size, "path": f.path}
    if f.lfs:
        entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
    if expand:
        entry["lastCommit"] = _last_commit(commit)
    return entry


def _dir_entry(path: str, commit: _Commit, expand: bool) -> dict:
    oid = hashlib.sha1(f"{commit.sha}:{path}".encode()).hexdigest()
    entry: dict[str, Any] = {"type": "directory", "oid": oid, "size": 0, "path": path}
    if expand:
        entry["lastCommit"] = _last_commit(commit)
    return entry


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck handler must never keep the test process alive
    allow_reuse_address = True


class HubServer:
    """A Hub-compatible HTTP server on 127.0.0.1 with an in-memory repo store and fault injection.

    ``lfs_redirect=True`` answers /resolve of LFS files with a 302 to a second "CDN" port, as
    huggingface.co does; by default LFS files are served directly (huggingface_hub accepts both).
    """

    def __init__(self, *, lfs_redirect: bool = False, tree_page_size: int = 1000,
                 search_page_size: int = 1000):
        self.repos: dict[str, HubRepo] = {}
        self.valid_tokens: dict[str, str] = {}
        self.requests: list[RequestRecord] = []
        self.errors: list[str] = []  # exceptions raised inside handlers: should stay empty
        self.faults: list[Fault] = []
        self.lfs_redirect = lfs_redirect
        self.tree_page_size = tree_page_size
        self.search_page_size = search_page_size
        self._access: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self.url = ""
        self.cdn_url = ""

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> HubServer:
        if self._servers:
            return self
        self._stopping.clear()
        try:
            for origin in ("hub", "cdn") if self.lfs_redirect else ("hub",):
                handler = type(f"_{origin.title()}Handler", (_Handler,), {"hub": self, "origin": origin})
                server = _Server(("127.0.0.1", 0), handler)
                self._servers.append(server)
                url = f"http://127.0.0.1:{server.server_address[1]}"
                if origin == "hub":
                    self.url = url
                else:
                    self.cdn_url = url
                thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                          name=f"hubserver-{origin}", daemon=True)
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Shut down both ports and every open connection; safe to call twice or after a failed start."""
        self._stopping.set()
        for server, thread in zip(self._servers, self._threads, strict=False):
            if thread.is_alive():
                server.shutdown()
        for server in self._servers:
            server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- repositories --------------------------------------------------------------------------------

    def add_repo(self, repo_id: str, files: Mapping[str, bytes | str], *, revision_sha: str | None = None,
                 gated: bool | str = False, private: bool = False, tags: Iterable[str] = (),
                 pipeline_tag: str | None = None, library_name: str | None = None, license: str | None = None,
                 card_data: Mapping[str, Any] | None = None, gguf: Mapping[str, Any] | None = None,
                 safetensors: Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None,
                 downloads: int = 0, likes: int = 0, lfs: Iterable[str] | None = None,
                 last_modified: str = _DEFAULT_DATE, created_at: str = _DEFAULT_DATE,
                 extra: Mapping[str, Any] | None = None) -> HubRepo:
        """Create (or replace) a model repo whose ``main`` points at one commit holding ``files``.

        ``lfs`` names the paths stored with LFS; by default the weight suffixes (.gguf, .onnx,
        .onnx_data, .data, .bin, .safetensors, ...) and anything over 10 MB. ``gated`` is False,
        "auto" or "manual": both gated kinds need :meth:`grant_access` before /resolve answers.
        """
        if gated not in (False, "auto", "manual"):
            raise ValueError(f"gated must be False, 'auto' or 'manual', not {gated!r}")
        card = dict(card_data or {})
        if license is not None:
            card["license"] = license
        repo = HubRepo(repo_id=repo_id, private=private, gated=gated, tags=list(tags),
                       pipeline_tag=pipeline_tag, library_name=library_name, card_data=card,
                       downloads=downloads, likes=likes,
                       gguf=dict(gguf) if gguf is not None else None,
                       safetensors=dict(safetensors) if safetensors is not None else None,
                       config=dict(config) if config is not None else None, created_at=created_at,
                       extra=dict(extra or {}))
        with self._lock:
            self.repos[repo_id] = repo
        self.update_repo(repo_id, files, revision_sha=revision_sha, lfs=lfs, date=last_modified)
        return repo

    def update_repo(self, repo_id: str, files: Mapping[str, bytes | str], *, revision_sha: str | None = None,
                    ref: str = "main", lfs: Iterable[str] | None = None, date: str = _DEFAULT_DATE,
                    title: str = "Upload files") -> str:
        """Add a commit with ``files`` and point ``ref`` at it; older commits stay resolvable by sha."""
        repo = self.repos[repo_id]
        forced = set(lfs) if lfs is not None else None
        built = {}
        for path, content in files.items():
            data = content.encode() if isinstance(content, str) else bytes(content)
            is_lfs = (path in forced) if forced is not None else (
                path.lower().endswith(_LFS_SUFFIXES) or len(data) > _LFS_THRESHOLD)
            built[path] = HubFile(path=path, data=data, lfs=is_lfs)
        if revision_sha is None:
            digest = hashlib.sha1(repo_id.encode())
            for path, f in sorted(built.items()):
                digest.update(f"{path}\0{f.sha256}\0".encode())
            digest.update(str(len(repo.commits)).encode())
            revision_sha = digest.hexdigest()
        if not re.fullmatch(r"[0-9a-f]{40}", revision_sha):
            raise ValueError(f"revision_sha must be 40 lowercase hex digits, not {revision_sha!r}")
        with self._lock:
            repo.commits[revision_sha] = _Commit(sha=revision_sha, files=built, date=date, title=title)
            repo.refs[ref] = revision_sha
        return revision_sha

    def grant_access(self, repo_id: str, user: str) -> None:
        """Let ``user`` through the gate (accepted licence) or into a private repo."""
        with self._lock:
            self._access.setdefault(repo_id, set()).add(user)

    def revoke_access(self, repo_id: str, user: str) -> None:
        with self._lock:
            self._access.get(repo_id, set()).discard(user)

    def file(self, repo_id: str, path: str, revision: str = "main") -> HubFile:
        commit = self.repos[repo_id].commit(revision)
        assert commit is not None, f"no revision {revision} in {repo_id}"
        return commit.files[path]

    # -- faults --------------------------------------------------------------------------------------

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def fail_with(self, path: str | None = None, status: int = 500, times: int | None = 1, *,
                  method: str | None = None, repo_id: str | None = None,
                  headers: Mapping[str, str] | None = None) -> Fault:
        """Answer the next ``times`` matching requests (HEAD and GET alike unless ``method``) with
        ``status``. ``path`` is an in-repo file path, a URL path prefix such as ``"/api/models"``,
        or None for every request."""
        return self._add_fault(Fault("fail", path, repo_id, times, method, status=status,
                                     headers=dict(headers or {})))

    def drop_after(self, path: str | None, n_bytes: int, times: int | None = 1, *,
                   repo_id: str | None = None) -> Fault:
        """Close the socket after ``n_bytes`` of the next ``times`` GET bodies (counted from the start
        of that response, so a resumed request is dropped after n_bytes more). Content-Length still
        announces the whole body. A body no longer than n_bytes is sent whole and uses no ``times``."""
        return self._add_fault(Fault("drop", path, repo_id, times, "GET", n_bytes=n_bytes))

    def slow(self, path: str | None, bytes_per_second: int, times: int | None = None, *,
             repo_id: str | None = None) -> Fault:
        """Send GET bodies in 1/20 s slices at ``bytes_per_second``; ends early when the server stops."""
        if bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        return self._add_fault(Fault("slow", path, repo_id, times, "GET", bytes_per_second=bytes_per_second))

    def stall(self, path: str | None, n_bytes: int, times: int | None = 1, *, seconds: float = 120.0,
              repo_id: str | None = None) -> Fault:
        """Send ``n_bytes`` of the next ``times`` GET bodies, then nothing more for ``seconds`` with the
        connection left open (then drop it). A body no longer than n_bytes is sent whole."""
        return self._add_fault(Fault("stall", path, repo_id, times, "GET", n_bytes=n_bytes, seconds=seconds))

    def delay(self, path: str | None, seconds: float, times: int | None = None, *,
              method: str | None = None) -> Fault:
        """Wait ``seconds`` before answering matching Hub requests (not the CDN). ``path`` is a URL
        path prefix such as ``"/api/models/acme/tiny-GGUF"``, or None for every request."""
        return self._add_fault(Fault("delay", path, None, times, method, seconds=seconds))

    def truncate(self, path: str | None, n_bytes: int, times: int | None = None, *,
                 repo_id: str | None = None) -> Fault:
        """Serve only the first ``n_bytes`` with a Content-Length that matches (HEAD too), while model
        info, tree and ``X-Linked-Size``/``X-Linked-Etag`` keep the true size and sha256."""
        return self._add_fault(Fault("truncate", path, repo_id, times, n_bytes=n_bytes))

    def corrupt(self, path: str | None, offset: int, times: int | None = None, *,
                repo_id: str | None = None) -> Fault:
        """Flip the byte at file ``offset`` in GET bodies; all metadata keeps the true sha256."""
        return self._add_fault(Fault("corrupt", path, repo_id, times, "GET", offset=offset))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _peek_fault(self, kinds: tuple[str, ...], method: str, url_path: str, repo_id: str | None,
                    file: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(method, url_path, repo_id, file):
                    return fault
        return None

    def _take_fault(self, kinds: tuple[str, ...], method: str, url_path: str, repo_id: str | None,
                    file: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(method, url_path, repo_id, file):
                    fault.hits += 1
                    return fault
        return None

    # -- request log ---------------------------------------------------------------------------------

    def requests_for(self, file: str | None = None, method: str | None = None,
                     origin: str | None = None) -> list[RequestRecord]:
        return [r for r in list(self.requests)
                if (file is None or r.file == file) and (method is None or r.method == method)
                and (origin is None or r.origin == origin)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- JSON ----------------------------------------------------------------------------------------

    def _may_read(self, repo: HubRepo, user: str | None) -> bool:
        if user is None:
            return False
        return user == repo.author or user in self._access.get(repo.repo_id, set())

    def _blob(self, sha256: str) -> HubFile | None:
        for repo in list(self.repos.values()):
            for commit in list(repo.commits.values()):
                for f in commit.files.values():
                    if f.sha256 == sha256:
                        return f
        return None

    def _tags(self, repo: HubRepo) -> list[str]:
        """The repo's tags plus those the Hub derives: file formats, library and licence."""
        files = repo.commit("main").files if repo.commit("main") else {}
        derived = []
        for suffix, tag in ((".gguf", "gguf"), (".onnx", "onnx"), (".safetensors", "safetensors")):
            if any(p.lower().endswith(suffix) for p in files):
                derived.append(tag)
        if repo.library_name:
            derived.append(repo.library_name)
        if repo.card_data.get("license"):
            derived.append(f"license:{repo.card_data['license']}")
        return list(dict.fromkeys([*repo.tags, *derived]))

    def _model_json(self, repo: HubRepo, commit: _Commit | None, *, blobs: bool = False,
                    full: bool = True) -> dict:
        files = commit.files if commit else {}
        siblings = []
        for path, f in files.items():
            sibling: dict[str, Any] = {"rfilename": path}
            if blobs:
                sibling.update({"blobId": f.oid, "size": f.size})
                if f.lfs:
                    sibling["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
            siblings.append(sibling)
        gguf = repo.gguf
        if gguf is None and any(p.lower().endswith(".gguf") for p in files):
            gguf = {"total": 0, "architecture": "llama", "context_length": 2048}
        info: dict[str, Any] = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.author,
            "sha": commit.sha if commit else None,
            "lastModified": commit.date if commit else repo.created_at,
            "createdAt": repo.created_at,
            "private": repo.private,
            "gated": repo.gated,
            "disabled": False,
            "downloads": repo.downloads,
            "likes": repo.likes,
            "trendingScore": 0,
            "tags": self._tags(repo),
            "pipeline_tag": repo.pipeline_tag,
            "library_name": repo.library_name,
            "cardData": dict(repo.card_data),
            "siblings": siblings,
            "spaces": [],
            "usedStorage": sum(f.size for f in files.values()),
        }
        if gguf is not None:
            info["gguf"] = gguf
        if repo.safetensors is not None:
            info["safetensors"] = repo.safetensors
        if repo.config is not None:
            info["config"] = repo.config
        info.update(repo.extra)
        return info


def point_huggingface_hub_at(server: HubServer, monkeypatch: Any, hf_home: Any) -> None:
    """Make an already imported huggingface_hub talk to ``server`` with ``hf_home`` as its home.

    Setting HF_ENDPOINT is not enough: huggingface_hub reads its environment once, at import, into
    ``huggingface_hub.constants`` (and the module-level ``HfApi`` keeps the endpoint it saw), so those
    are patched too. ``monkeypatch`` is pytest's fixture; everything is undone after the test.
    """
    import os

    from huggingface_hub import constants, hf_api

    home = os.fspath(hf_home)
    cache = os.path.join(home, "hub")
    env = {"HF_ENDPOINT": server.url, "HF_HOME": home, "HF_HUB_CACHE": cache, "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_TOKEN_PATH": os.path.join(home, "token")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                 "HF_OIDC_RESOURCE", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    patches = {
        "ENDPOINT": server.url,
        "HUGGINGFACE_CO_URL_TEMPLATE": server.url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": home,
        "HF_HUB_CACHE": cache,
        "HUGGINGFACE_HUB_CACHE": cache,
        "HF_ASSETS_CACHE": os.path.join(home, "assets"),
        "HUGGINGFACE_ASSETS_CACHE": os.path.join(home, "assets"),
        "HF_XET_CACHE": os.path.join(home, "xet"),
        "CHECK_FOR_UPDATE_DONE_PATH": os.path.join(home, ".check_for_update_done"),
        "CHECK_FOR_SKILL_UPDATE_DONE_PATH": os.path.join(home, ".check_for_skill_update_done"),
        "AGENT_HARNESSES_PATH": os.path.join(home, ".agent_harnesses.json"),
        "HF_TOKEN_PATH": os.path.join(home, "token"),
        "HF_STORED_TOKENS_PATH": os.path.join(home, "stored_tokens"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_TELEMETRY": True,
    }
    for name, value in patches.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(hf_api.api, "endpoint", server.url)
    # scan_cache_dir() took its default cache folder with a from-import.
    from huggingface_hub.utils import _cache_manager

    if hasattr(_cache_manager, "HF_HUB_CACHE"):
        monkeypatch.setattr(_cache_manager, "HF_HUB_CACHE", cache)
