"""The user's models: what is installed, imported or found on disk, and where.

A model is listed as installed only after every one of its files was verified (downloads) or
validated (imports). The registry is one JSON file written atomically. Imported and discovered
models stay where they are: removing them unlists them, it never deletes the user's file.

Several writers share the registry: the window, a download on its own thread (with its own
``Library``), the command line and a second app instance. Each one's copy in memory goes stale
as soon as another writes, so every change is a read-modify-write under a file lock beside the
registry: the file is read again inside the lock and the change applied to what is there now.
Writing back a copy read earlier is what lost a removal or an import made meanwhile.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from desktop import config
from desktop.errors import UserError
from desktop.paths import data_dir, disk_size
from desktop.storage.jsondoc import JsonDocument
from desktop.text import translate

REGISTRY = "library.json"
# Long enough for a slow disk under another writer (a removal deletes gigabytes inside the lock),
# short enough that a stuck holder becomes a message instead of a frozen command.
LOCK_TIMEOUT_S = 30.0
# "opened": a file the user opened (File ▸ Open model file…) and that loaded; listed so that it
# stays offered until removed, like an import.
SOURCES = ("download", "import", "discovered", "opened")


class LibraryError(UserError):
    pass


@contextmanager
def locked(path: Path, what: str) -> Iterator[None]:
    """Hold the lock file ``path`` (beside the file it guards) for one read-modify-write.

    flock/LockFileEx locks belong to an open file, so two ``Library`` objects in one process
    exclude each other just as two processes do."""
    try:
        with FileLock(str(path), timeout=LOCK_TIMEOUT_S):
            yield
    except Timeout:
        raise LibraryError(translate(
            "Core", "{what} is being changed by another EdgeChat window or command and did not "
            "become free within {seconds} s ({path}). Try again.").format(
            what=what, seconds=f"{LOCK_TIMEOUT_S:.0f}", path=path)) from None


@dataclass
class InstalledModel:
    id: str
    name: str
    format: str  # "gguf" | "onnx"
    path: str  # the .gguf file, or the folder holding genai_config.json
    source: str  # "download" | "import" | "discovered"
    size: int = 0
    repo_id: str | None = None
    filename: str | None = None
    subfolder: str | None = None
    revision: str | None = None
    catalog_id: str | None = None
    variant_id: str | None = None
    execution_provider: str | None = None
    verified: dict = field(default_factory=dict)  # path in repo -> "sha256:..." / "git-sha1:..."
    added_at: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _parse_registry(raw) -> dict | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
        return None
    return raw


def _models_of(entries: list) -> tuple[dict[str, InstalledModel], list]:
    """The entries this version understands, by id, and the others as they are."""
    models: dict[str, InstalledModel] = {}
    unknown = []
    for raw in entries:
        try:
            model = InstalledModel(**raw)
        except TypeError:
            unknown.append(raw)  # a field from a newer version: skip the entry, keep the rest
            continue
        models[model.id] = model
    return models, unknown


def models_dir() -> Path:
    override = config.models_dir_override()
    path = Path(override) if override else data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "model"


def identify(path: str | os.PathLike) -> tuple[str, Path]:
    """Validate a local model and say what it is: ('gguf', file) or ('onnx', folder).

    Raises the engines' own clear errors for a bad file or folder.
    """
    from desktop.engines import detect_backend
    from desktop.engines.gguf import read_gguf
    from desktop.engines.onnx_engine import model_dir, validate_folder

    p = Path(path).expanduser()
    if not p.exists():
        raise LibraryError(translate("Core", "Nothing to import at {path}: it does not exist.").format(
            path=p))
    if detect_backend(str(p)) == "onnx":
        folder = model_dir(p)
        validate_folder(folder)
        return "onnx", folder.resolve()
    read_gguf(p)
    return "gguf", p.resolve()


class Library:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else models_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self._path = self.root / REGISTRY
        self._models: dict[str, InstalledModel] = {}
        self._load()

    # -- registry ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the registry again: other threads and processes write it too."""
        self._models = self._read()

    def _load(self) -> None:
        self._models = self._read()

    def _document(self) -> JsonDocument:
        return JsonDocument(self._path, what=translate("Core", "The model list"),
                            default=lambda: {"models": []}, parse=_parse_registry,
                            lock_timeout=LOCK_TIMEOUT_S, error=LibraryError)

    def _read(self) -> dict[str, InstalledModel]:
        # A damaged registry is moved aside with a notice and the list starts empty: models on
        # disk are not lost and can be found again with discover().
        return _models_of(self._document().read()["models"])[0]

    def _change(self, change: Callable[[dict[str, InstalledModel]], object]):
        """Apply ``change`` to the registry as it is on disk now, under the lock, and save it.

        ``change`` edits the dict it is given and returns the call's result; the copy in memory
        becomes what was written."""

        def apply(data: dict):
            models, unknown = _models_of(data["models"])
            result = change(models)
            # Entries this version cannot read (a newer one's) are written back as they were.
            data["models"] = [m.to_dict() for m in models.values()] + unknown
            return models, result

        models, result = self._document().update(apply)
        self._models = models
        return result

    def models(self) -> list[InstalledModel]:
        return sorted(self._models.values(), key=lambda m: m.name.lower())

    def get(self, model_id: str) -> InstalledModel | None:
        return self._models.get(model_id)

    def find(self, model_id: str) -> InstalledModel:
        model = self._models.get(model_id)
        if model is None:
            matches = [m for m in self._models.values() if model_id in (m.variant_id, m.name)]
            if len(matches) == 1:
                return matches[0]
            raise LibraryError(translate(
                "Core", "No installed model is called {model_id}.").format(
                model_id=f"{model_id!r}"))
        return model

    def add(self, model: InstalledModel) -> InstalledModel:
        model.added_at = model.added_at or time.time()

        def change(models: dict[str, InstalledModel]) -> InstalledModel:
            models[model.id] = model
            return model

        return self._change(change)

    def is_inside(self, path: str | os.PathLike) -> bool:
        try:
            Path(path).resolve().relative_to(self.root.resolve())
            return True
        except ValueError:
            return False

    def remove(self, model_id: str) -> InstalledModel:
        """Unlist a model; delete its files only when EdgeChat downloaded them into its folder."""

        def change(models: dict[str, InstalledModel]) -> InstalledModel:
            self._models = models  # find() looks at what is on disk now, not an older copy
            model = self.find(model_id)
            if model.source == "download" and self.is_inside(model.path):
                target = Path(model.path)
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                elif target.exists():
                    target.unlink()
                self._prune_empty(target.parent)
            del models[model.id]
            return model

        return self._change(change)

    def _prune_empty(self, folder: Path) -> None:
        root = self.root.resolve()
        folder = folder.resolve()
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    # -- import and discovery ----------------------------------------------------------------
    def import_path(self, path: str | os.PathLike, source: str = "import") -> InstalledModel:
        """Validate and list a local model. Validation reads the whole model header (ONNX: every
        .onnx file), so it is slow for big models: call it off the GUI thread."""
        fmt, resolved = identify(path)
        return self._list(resolved, fmt, source, disk_size(resolved))

    def add_opened(self, path: str | os.PathLike, fmt: str) -> InstalledModel:
        """List a model that was opened from its file and loaded (``fmt`` "gguf" or "onnx"): no
        validation, the engine just read it. Returns the entry already listing it, if any."""
        resolved = Path(path).expanduser().resolve()
        return self._list(resolved, fmt, "opened", disk_size(resolved))

    def _list(self, resolved: Path, fmt: str, source: str, size: int) -> InstalledModel:
        """List the model at ``resolved`` (its id: its name and a hash of its path), unless an
        entry already lists it: then that entry."""
        name = resolved.stem if fmt == "gguf" else resolved.name
        digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
        new = InstalledModel(id=f"{slug(name)}-{digest}", name=name, format=fmt, path=str(resolved),
                             source=source, size=size, added_at=time.time())

        def change(models: dict[str, InstalledModel]) -> InstalledModel:
            for existing in models.values():
                if Path(existing.path).resolve() == resolved:
                    return existing
            models[new.id] = new
            return new

        return self._change(change)

    def discover(self, roots: list[Path] | None = None) -> list[tuple[str, Path]]:
        """GGUF files and ONNX GenAI folders already on disk that are not listed yet."""
        known = {Path(m.path).resolve() for m in self._models.values()}
        found: list[tuple[str, Path]] = []
        for root in roots if roots is not None else other_apps_model_dirs():
            if not root.is_dir():
                continue
            for path in _walk(root, max_depth=7):
                resolved = path.resolve()
                if resolved in known or self.is_inside(resolved):
                    continue
                known.add(resolved)
                found.append(("onnx" if path.is_dir() else "gguf", resolved))
        return found


def _walk(root: Path, max_depth: int):
    """Model candidates under root: *.gguf files and folders with genai_config.json."""
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        if any(e.name == "genai_config.json" for e in entries):
            yield folder
            continue
        for entry in entries:
            if entry.name.startswith(".") and entry.name not in (".cache", ".lmstudio"):
                continue
            try:
                if entry.is_dir() and depth < max_depth:
                    stack.append((Path(entry.path), depth + 1))
                elif entry.name.lower().endswith(".gguf") and entry.is_file():
                    # The HF cache keeps files as links into blobs/: the link is the named file.
                    yield Path(entry.path)
            except OSError:
                continue


def other_apps_model_dirs() -> list[Path]:
    """Where the Hugging Face cache and today's local-LLM apps keep their models."""
    home = Path.home()
    dirs = []
    try:
        from huggingface_hub import constants

        dirs.append(Path(constants.HF_HUB_CACHE))
    except Exception:  # noqa: BLE001
        dirs.append(home / ".cache" / "huggingface" / "hub")
    local = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
    support = home / "Library" / "Application Support"
    dirs += [
        home / ".lmstudio" / "models",  # LM Studio
        home / ".cache" / "lm-studio" / "models",
        home / ".local" / "share" / "nomic.ai" / "GPT4All",  # GPT4All
        support / "nomic.ai" / "GPT4All",
        local / "nomic.ai" / "GPT4All",
        home / "jan" / "models",  # Jan
        home / ".local" / "share" / "Jan" / "data" / "models",
        support / "Jan" / "data" / "models",
        home / ".aitk" / "models",  # AI Toolkit / Foundry Local caches
        home / ".foundry" / "cache" / "models",
    ]
    return dirs
