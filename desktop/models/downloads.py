"""Verified, resumable model downloads.

The bytes come through huggingface_hub's HTTP client (its session, headers and error mapping)
with Range requests of our own. The partial file is ours: it lives under ``<models>/.partial/``
and survives a pause, a dropped connection, a full disk or an app restart, and the next attempt
continues from its last byte. (``hf_hub_download`` deletes a partial file on failure.)
The client does not check the bytes against the sha256 the Hub advertises, so every file is
hashed here before it is moved into place; a file that fails is moved to ``.quarantine/`` and
reported, never deleted silently and never listed as installed.

Pause and cancel are a ``DownloadControl`` that whoever asks for the download makes first, so
that a click lands whether the download is queued, planning or transferring. Every network call
runs on a helper thread that the download stops waiting for as soon as it is paused (a silent
server would otherwise hold it for the whole read timeout). The timeouts and tries are
hub.py's network policy; a transfer that receives nothing for ``stall_timeout_s`` is paused as
stalled instead of being retried.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import posixpath
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop.errors import UserError
from desktop.models import hub, tokens
from desktop.models.hub import (
    HubError,
    Interrupted,
    RemoteFile,
    RepoInfo,
    call_interruptibly,
    describe_error,
    repo_info,
)
from desktop.models.library import InstalledModel, Library, LibraryError
from desktop.models.names import is_repo_id, path_problem
from desktop.storage.jsondoc import JsonDocument
from desktop.text import translate
from desktop.units import format_bytes

DISK_MARGIN = 200 * 1024 * 1024  # leave room for the OS and the app's own files
HASH_BLOCK = 4 * 1024 * 1024
# The body is written in whole pieces of this size: a drop, a pause or a kill loses the piece in
# flight. Small enough that progress moves every second at 1 MB/s.
CHUNK = 1024 * 1024


class DownloadError(UserError):
    pass


class DiskFullError(DownloadError):
    pass


class VerificationError(DownloadError):
    def __init__(self, message: str, quarantined: Path):
        super().__init__(message)
        self.quarantined = quarantined


class DownloadStopped(Exception):
    """Raised inside the transfer when the user paused or cancelled."""


class DownloadStalled(DownloadStopped, UserError):
    """The server stopped sending: paused like a user's pause, what arrived is kept."""


def stalled_message() -> str:
    return translate("Core", "The server stopped sending; paused — resume when the connection "
                             "is back. What arrived is kept.")


class DownloadControl:
    """Pause and cancel for one download, safe to use from any thread.

    Made by whoever asks for the download before it is queued (as a generation's CancelToken
    is), so the request is honoured at every stage: still queued, planning (seconds of network)
    or transferring. ``Downloader`` and ``plan_download`` consult it after every network call."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._cancel = threading.Event()

    def pause(self) -> None:
        self._stop.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def event(self) -> threading.Event:
        """Set on pause and on cancel."""
        return self._stop

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True at once if paused or cancelled meanwhile."""
        return self._stop.wait(seconds)

    def check(self) -> None:
        if self._stop.is_set():
            raise DownloadStopped()

    def call(self, fn: Callable, name: str = "download-net"):
        """A blocking network call that gives way to pause/cancel at once (hub.call_interruptibly)."""
        self.check()
        try:
            result = call_interruptibly(fn, self._stop, name)
        except Interrupted:
            raise DownloadStopped() from None
        self.check()
        return result


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    speed: float  # bytes per second, over the last few seconds
    eta_s: float | None
    file: str
    phase: str  # "downloading" | "verifying" | "retrying" | "done"
    message: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DownloadPlan:
    """Immutable: it is handed between threads and kept by the view to resume the same commit."""

    repo_id: str
    revision: str
    format: str  # "gguf" | "onnx"
    files: tuple[RemoteFile, ...]
    target: str  # relative to the models folder: the .gguf file or the ONNX folder
    name: str
    subfolder: str | None = None
    filename: str | None = None
    catalog_id: str | None = None
    variant_id: str | None = None
    execution_provider: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def id(self) -> str:
        return self.variant_id or f"{self.repo_id}/{self.filename or self.subfolder}"

    @property
    def total(self) -> int:
        return sum(f.size for f in self.files)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> DownloadPlan:
        data = dict(data)
        data["files"] = [RemoteFile(**f) for f in data["files"]]
        return cls(**data)


def _safe_rel(path: str) -> str:
    if path_problem(path):
        raise DownloadError(translate(
            "Core", "Refusing a file path from the Hub that leaves the model folder: {path}").format(
            path=path))
    return path


def _safe_repo(repo_id: str) -> str:
    if not is_repo_id(repo_id):
        raise DownloadError(translate(
            "Core", "{repo_id} is not a repository id (owner/name).").format(
            repo_id=f"{repo_id!r}"))
    return repo_id


def plan_download(
    repo_id: str,
    filename: str | None = None,
    subfolder: str | None = None,
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    info: RepoInfo | None = None,
    name: str | None = None,
    catalog_id: str | None = None,
    variant_id: str | None = None,
    execution_provider: str | None = None,
    expected: dict[str, tuple[int | None, str | None]] | None = None,
    control: DownloadControl | None = None,
) -> DownloadPlan:
    """What to fetch for one GGUF file or one ONNX folder, pinned to one commit.

    With a ``control``, a pause or cancel during the repository listing raises DownloadStopped
    at once instead of after the listing arrives."""
    _safe_repo(repo_id)
    if bool(filename) == bool(subfolder is not None):
        raise DownloadError("Name either a GGUF file or an ONNX folder to download.")
    if info is None:
        def listing() -> RepoInfo:
            return repo_info(repo_id, revision=revision, token=token, endpoint=endpoint)

        info = control.call(listing, "download-plan") if control is not None else listing()
    notes: list[str] = []
    if filename:
        filename = _safe_rel(filename)
        files = [f for f in info.files if f.path == filename]
        if not files:
            raise DownloadError(translate(
                "Core", "{repo_id} has no file {filename}.").format(
                repo_id=repo_id, filename=filename))
        fmt, target = "gguf", f"{repo_id}/{filename}"
    else:
        subfolder = _safe_rel(subfolder.rstrip("/")) if subfolder not in ("", ".", "/") else ""
        files = info.folder_files(subfolder)
        if not any(f.name == "genai_config.json" for f in files):
            raise DownloadError(translate(
                "Core", "{folder} is not an ONNX GenAI folder (no genai_config.json). Folders with "
                "one: {folders}.").format(
                folder=f"{repo_id}/{subfolder or '.'}",
                folders=", ".join(info.onnx_folders()) or translate("Core", "none")))
        fmt, target = "onnx", f"{repo_id}/{subfolder}".rstrip("/")
    for f in files:
        _safe_rel(f.path)
        if f.sha256 is None and f.git_sha1 is None:
            raise DownloadError(translate(
                "Core", "The Hub gives no checksum for {file}; it cannot be verified.").format(
                file=f.path))
        if expected and f.path in expected:
            size, sha = expected[f.path]
            if (size and size != f.size) or (sha and f.sha256 and sha != f.sha256):
                # The uploader replaced the file: the Hub's own metadata is what we verify against.
                notes.append(f"{f.path} differs from the catalog (re-uploaded on the Hub); "
                             f"verifying against the Hub's checksum.")
    return DownloadPlan(
        repo_id=repo_id, revision=info.revision, format=fmt, files=tuple(files), target=target,
        name=name or (posixpath.basename(filename) if filename else target),
        subfolder=subfolder if not filename else None, filename=filename, catalog_id=catalog_id,
        variant_id=variant_id, execution_provider=execution_provider, notes=notes,
    )


def _git_blob_sha1(path: Path, stop: threading.Event | None = None) -> str:
    h = hashlib.sha1()
    h.update(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(HASH_BLOCK), b""):
            if stop is not None and stop.is_set():
                raise DownloadStopped()
            h.update(block)
    return h.hexdigest()


def _sha256(path: Path, on_bytes: Callable[[int], None] | None = None,
            stop: threading.Event | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(HASH_BLOCK), b""):
            if stop is not None and stop.is_set():
                raise DownloadStopped()
            h.update(block)
            if on_bytes:
                on_bytes(len(block))
    return h.hexdigest()


class _Speed:
    def __init__(self, window_s: float = 3.0):
        self.samples: deque[tuple[float, int]] = deque()
        self.window = window_s

    def add(self, done: int) -> float:
        now = time.monotonic()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()
        t0, d0 = self.samples[0]
        return (done - d0) / (now - t0) if now > t0 else 0.0


class Downloader:
    """Runs one plan to completion, pause, cancel, a stall or a clear error. Used from one thread.

    ``control`` is how other threads pause or cancel it; ``cancel_requested`` tells whether the
    partial files should go (cancel) or stay for a later resume (pause, stall).
    """

    def __init__(self, plan: DownloadPlan, library: Library, token: str | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 endpoint: str | None = None, control: DownloadControl | None = None,
                 stall_timeout_s: float | None = None):
        self.plan, self.library = plan, library
        self.token = token if token is not None else tokens.get_token()
        self.on_progress = on_progress or (lambda p: None)
        self.endpoint = endpoint
        self.control = control or DownloadControl()
        self.stop = self.control.event
        self.stall_timeout_s = stall_timeout_s or hub.stall_timeout_s()
        self.retries = hub.DOWNLOAD_RETRIES
        root = library.root
        self.final = root / plan.target
        self.partial = root / ".partial" / plan.target
        self.quarantine = root / ".quarantine" / plan.target
        self._speed = _Speed()
        self._done = 0
        self._last_report = 0.0
        self.backoff_s = hub.BACKOFF_S  # first retry wait; doubles each time

    # -- control from other threads ------------------------------------------------------------
    def pause(self) -> None:
        self.control.pause()

    def cancel(self) -> None:
        self.control.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self.control.cancelled

    # -- paths -----------------------------------------------------------------------------------
    def _rel(self, f: RemoteFile) -> str:
        if self.plan.format == "gguf":
            return ""
        prefix = f"{self.plan.subfolder}/" if self.plan.subfolder else ""
        return f.path[len(prefix):]

    def _final_path(self, f: RemoteFile) -> Path:
        return self.final if self.plan.format == "gguf" else self.final / self._rel(f)

    def _part_path(self, f: RemoteFile) -> Path:
        base = self.partial if self.plan.format == "gguf" else self.partial / self._rel(f)
        return base.with_name(base.name + ".part")

    def pending_bytes(self) -> int:
        left = 0
        for f in self.plan.files:
            if self._final_path(f).is_file():
                continue
            part = self._part_path(f)
            have = part.stat().st_size if part.exists() else 0
            left += max(f.size - have, 0) if have <= f.size else f.size
        return left

    # -- the work --------------------------------------------------------------------------------
    def run(self) -> InstalledModel:
        """Download, verify and install. Raises DownloadStopped (DownloadStalled), DownloadError
        or HubError."""
        hub.require_online()  # Work offline: refused (WorkOffline) before anything is written
        self.control.check()
        self._check_disk()
        self._save_state()
        self._done = sum(
            f.size if self._final_path(f).is_file() else min(self._part_size(f), f.size)
            for f in self.plan.files
        )
        for f in self.plan.files:
            if self._final_path(f).is_file():
                continue  # verified in an earlier run, before it was moved into place
            self._fetch(f)
            self._verify_and_place(f)
        model = self.library.add(InstalledModel(
            id=self.plan.id, name=self.plan.name, format=self.plan.format, path=str(self.final),
            source="download", size=self.plan.total, repo_id=self.plan.repo_id,
            filename=self.plan.filename, subfolder=self.plan.subfolder,
            revision=self.plan.revision, catalog_id=self.plan.catalog_id,
            variant_id=self.plan.variant_id, execution_provider=self.plan.execution_provider,
            verified={f.path: (f"sha256:{f.sha256}" if f.sha256 else f"git-sha1:{f.git_sha1}")
                      for f in self.plan.files},
        ))
        self._clear_state()
        self._report("done", "", force=True)
        return model

    def _part_size(self, f: RemoteFile) -> int:
        part = self._part_path(f)
        return part.stat().st_size if part.exists() else 0

    def _check_disk(self) -> None:
        needed = self.pending_bytes()
        probe = self.library.root
        free = shutil.disk_usage(probe).free
        if needed + DISK_MARGIN > free:
            raise DiskFullError(translate(
                "Core", "Not enough disk space for {name}: it needs {needed} more and {free} is free "
                "in {folder} (keeping {spare} spare). Free some space or choose a smaller model."
            ).format(name=self.plan.name, needed=format_bytes(needed), free=format_bytes(free), folder=probe,
                     spare=format_bytes(DISK_MARGIN)))

    def _fetch(self, f: RemoteFile) -> None:
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers

        part = self._part_path(f)
        part.parent.mkdir(parents=True, exist_ok=True)
        if part.exists() and part.stat().st_size > f.size:
            part.unlink()  # longer than the file can be: not ours to trust
        url = hf_hub_url(self.plan.repo_id, f.path, revision=self.plan.revision,
                         endpoint=self.endpoint)
        headers = build_hf_headers(token=self.token or False)
        attempt = 0
        while True:
            self.control.check()
            have = part.stat().st_size if part.exists() else 0
            if have == f.size:
                return
            try:
                self.control.call(lambda have=have: self._transfer(url, headers, f, part, have),
                                  f"download-{f.name}")
                return
            except DownloadStopped:
                raise
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise DiskFullError(translate(
                        "Core", "The disk filled up while downloading {name}. What arrived is kept; "
                        "free some space and resume.").format(name=f.name)) from None
                error = exc
            except Exception as exc:  # noqa: BLE001 - network and HTTP errors from the client
                error = exc
            self._done = self._sum_done()
            if _is_timeout(error):
                # Nothing arrived for stall_timeout_s: another try would wait as long again.
                self._report("stalled", stalled_message(), force=True)
                raise DownloadStalled(stalled_message()) from None
            status = getattr(getattr(error, "response", None), "status_code", None)
            if status in (401, 403, 404) or attempt >= self.retries:
                hub_error = describe_error(error, self.plan.repo_id, self.token)
                raise DownloadError(
                    f"{hub_error} ({format_bytes(self._part_size(f))} of {f.name} is kept; resume to "
                    f"continue.)" if status not in (401, 403, 404) else str(hub_error)
                ) from None
            attempt += 1
            wait = self.backoff_s * 2 ** (attempt - 1)
            self._report("retrying", translate(
                "Core", "Connection problem ({reason}); retrying in {seconds} s…").format(
                reason=type(error).__name__, seconds=f"{wait:.0f}"), force=True)
            if self.control.wait(wait):
                raise DownloadStopped()

    def _transfer(self, url: str, headers: dict, f: RemoteFile, part: Path, have: int) -> None:
        """One GET of the rest of ``f`` into its partial file: one try, no retries of its own.

        Not huggingface_hub's http_get: that one retries by itself (five more times, each
        waiting out a read timeout, its count reset by every chunk that arrives) and takes its
        timeout from a process-wide constant. Runs on a helper thread (DownloadControl.call)."""
        import httpx2
        from huggingface_hub.utils import get_session, hf_raise_for_status

        headers = dict(headers)
        if have:
            headers["Range"] = f"bytes={have}-"
        timeout = httpx2.Timeout(self.stall_timeout_s)
        with get_session().stream("GET", url, headers=headers, timeout=timeout) as response:
            hf_raise_for_status(response)
            # r+b, not append: a server that ignores Range sends the whole file from byte 0.
            with open(part, "r+b" if part.exists() else "wb") as out:
                if have and response.status_code == 200:
                    self._done -= have
                    have = 0
                    out.truncate()
                out.seek(have)
                got = have
                # Whole CHUNK pieces: the partial file grows a piece at a time, and the check
                # comes before each write, so after a pause it is a clean prefix of the file.
                for chunk in response.iter_bytes(chunk_size=CHUNK):
                    if self.stop.is_set():
                        raise DownloadStopped()
                    if not chunk:
                        continue
                    if got + len(chunk) > f.size:
                        raise OSError(f"the server sent more than the {f.size} bytes of {f.name}")
                    out.write(chunk)
                    got += len(chunk)
                    self._done += len(chunk)
                    self._report("downloading", f.name)
        if got != f.size:
            raise OSError(f"the server sent {got} of the {f.size} bytes of {f.name}")

    def _sum_done(self) -> int:
        return sum(f.size if self._final_path(f).is_file() else min(self._part_size(f), f.size)
                   for f in self.plan.files)

    def _verify_and_place(self, f: RemoteFile) -> None:
        part = self._part_path(f)
        self._report("verifying", translate("Core", "Verifying {name}…").format(name=f.name), force=True)
        if f.sha256:
            actual = _sha256(part, stop=self.stop)
            expected, kind = f.sha256, "sha256"
        else:
            actual, expected, kind = _git_blob_sha1(part, stop=self.stop), f.git_sha1, "git sha1"
        if actual != expected:
            aside = self.quarantine.parent / f"{self.quarantine.name}.{int(time.time())}" / (
                self._rel(f) or f.name)
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, aside)
            self._done = self._sum_done()
            raise VerificationError(translate(
                "Core", "{name} failed verification: the Hub says {kind} {expected}…, the downloaded "
                "file has {actual}…. It was not installed; the bad file is kept at {path}. Download "
                "it again.").format(name=f.name, kind=kind, expected=expected[:16], actual=actual[:16],
                                    path=aside), aside)
        target = self._final_path(f)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)

    # -- state for resuming after a restart ---------------------------------------------------
    def _save_state(self) -> None:
        save_pending(self.library, self.plan)

    def _clear_state(self) -> None:
        drop_pending(self.library, self.plan.id)
        if self.partial.is_dir():  # an ONNX folder's emptied partial tree
            shutil.rmtree(self.partial, ignore_errors=True)

    def discard_partial(self) -> None:
        """After a cancel: the partial bytes go, and so does the resume entry."""
        for f in self.plan.files:
            with contextlib.suppress(OSError):  # Windows: a given-up transfer may still hold it
                self._part_path(f).unlink(missing_ok=True)
        if self.partial.is_dir():
            shutil.rmtree(self.partial, ignore_errors=True)
        drop_pending(self.library, self.plan.id)

    def _report(self, phase: str, message: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < 0.1:
            return
        self._last_report = now
        speed = self._speed.add(self._done)
        total = self.plan.total
        eta = (total - self._done) / speed if speed > 0 and phase == "downloading" else None
        self.on_progress(Progress(self._done, total, speed, eta, message if phase ==
                                  "downloading" else "", phase, message))


def _is_timeout(exc: BaseException) -> bool:
    import httpx2

    return isinstance(exc, (httpx2.TimeoutException, TimeoutError))


def _pending_path(library: Library) -> Path:
    return library.root / ".partial" / "downloads.json"


def _parse_pending(raw) -> dict | None:
    if isinstance(raw, list):  # the shape before versions: the list alone
        raw = {"downloads": raw}
    if not isinstance(raw, dict):
        return None
    raw.setdefault("downloads", [])
    return raw if isinstance(raw["downloads"], list) else None


def _pending_document(library: Library) -> JsonDocument:
    return JsonDocument(_pending_path(library), what=translate("Core", "The list of paused downloads"),
                        default=lambda: {"downloads": []}, parse=_parse_pending, error=LibraryError)


def _plans(entries: list) -> tuple[list[DownloadPlan], list]:
    """The entries this version can resume, and the others as they are (a newer version's)."""
    plans, unknown = [], []
    for entry in entries:
        try:
            plans.append(DownloadPlan.from_dict(entry))
        except (TypeError, ValueError, KeyError, AttributeError):
            unknown.append(entry)
    return plans, unknown


def pending(library: Library) -> list[DownloadPlan]:
    """Downloads that were started and not finished: resumable after a restart."""
    return _plans(_pending_document(library).read()["downloads"])[0]


def save_pending(library: Library, plan: DownloadPlan) -> None:
    _change_pending(library, lambda plans: [p for p in plans if p.id != plan.id] + [plan])


def drop_pending(library: Library, plan_id: str) -> None:
    _change_pending(library, lambda plans: [p for p in plans if p.id != plan_id])


def _change_pending(library: Library,
                    change: Callable[[list[DownloadPlan]], list[DownloadPlan]]) -> None:
    """Read-modify-write under a lock: every download, the window and the CLI share the file,
    and a list read before another's change would undo it when written back."""

    def apply(data: dict) -> None:
        plans, unknown = _plans(data["downloads"])
        data["downloads"] = [p.to_dict() for p in change(plans)] + unknown

    _pending_document(library).update(apply)


__all__ = [
    "DiskFullError", "DownloadControl", "DownloadError", "DownloadPlan", "DownloadStalled",
    "DownloadStopped", "Downloader", "HubError", "Progress", "VerificationError", "pending",
    "plan_download", "stalled_message",
]
