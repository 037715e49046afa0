"""Background work for the model library, on the worker base (desktop/workers/base.py).

Three workers, each on its own thread, each behind its owner:

* ``Downloads``: one download at a time, in the order asked (a queue). Each download's
  ``DownloadControl`` is made here, on the asking thread, before the request is queued, so
  Pause and Cancel land whether it is still queued, planning (seconds of network) or
  transferring; the worker only reads it.
* ``HubLookups``: searches and a repository's file list, so a slow Hub never holds up a
  download's progress or the window. Each look-up has its own cancel event; a cancelled one
  stops being waited for at once and its late answer is never sent.
* ``LibraryJobs``: the library's own slow work: hardware detection (``nvidia-smi`` may take
  seconds), loading the catalog and its fit, finding models of other apps, validating imports
  (an ONNX folder's .onnx files are read whole) and removals (deleting gigabytes).

Every payload is immutable: the core's frozen dataclasses (DownloadPlan, Progress, RepoInfo,
SearchResult) or the frozen ones below; an InstalledModel is copied before it leaves.
"""

from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop import config
from desktop.models.downloads import (
    DiskFullError,
    DownloadControl,
    Downloader,
    DownloadError,
    DownloadPlan,
    DownloadStalled,
    DownloadStopped,
    VerificationError,
    plan_download,
)
from desktop.models.hub import HubError, Interrupted, call_interruptibly, repo_info, search
from desktop.models.library import InstalledModel, Library
from desktop.workers.base import Worker, WorkerOwner, guarded, shutdown_all, with_events

# All owners together get this long to stop at shutdown (a download mid-transfer included).
SHUTDOWN_S = 4.5


def _endpoint() -> str | None:
    return config.hub_endpoint()


class _Events:
    """Cancel events or download controls in flight, reachable from the owner's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set = set()
        self.closing = threading.Event()

    def add(self, item) -> None:
        with self._lock:
            self._items.add(item)
        if self.closing.is_set():
            self._stop(item)

    def discard(self, item) -> None:
        with self._lock:
            self._items.discard(item)

    def stop_all(self) -> None:
        self.closing.set()
        with self._lock:
            items = list(self._items)
        for item in items:
            self._stop(item)

    @staticmethod
    def _stop(item) -> None:
        # Pause, not cancel: what arrived is kept and resumes next time.
        item.pause() if isinstance(item, DownloadControl) else item.set()


# -- downloads ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DownloadRequest:
    key: str
    control: DownloadControl
    spec: dict | None = None  # plan_download's arguments (a private copy)
    plan: DownloadPlan | None = None  # or the pinned plan of a paused download


DOWNLOAD_EVENTS = {
    "download_started": (str, object),  # key, DownloadPlan
    "download_progressed": (str, object),  # key, Progress
    "download_finished": (str, object),  # key, InstalledModel (a copy)
    # key, how it ended without finishing ('paused', 'stalled', 'cancelled', 'disk',
    # 'verification' or 'error'), and the message for the user
    "download_stopped": (str, str, str),
}


class DownloadWorker(with_events(Worker, DOWNLOAD_EVENTS)):
    def __init__(self, library_root: str):
        super().__init__()
        self._root = library_root
        self.controls = _Events()

    def stop_work(self) -> None:
        self.controls.stop_all()

    @Slot(object)
    @guarded("_run_failed")
    def run(self, request: DownloadRequest) -> None:
        try:
            self._run(request)
        finally:
            self.controls.discard(request.control)

    def _run_failed(self, _exc: BaseException, message: str, request: DownloadRequest) -> None:
        self.controls.discard(request.control)
        self.download_stopped.emit(request.key, "error", message)

    def _run(self, request: DownloadRequest) -> None:
        key, control = request.key, request.control
        if control.stopped:
            self._stopped(key, control, None, before=True)
            return
        downloader = None
        try:
            plan = request.plan or plan_download(endpoint=_endpoint(), control=control,
                                                 **(request.spec or {}))
            downloader = Downloader(
                plan, Library(self._root), endpoint=_endpoint(), control=control,
                on_progress=lambda p: self.download_progressed.emit(key, p))
            self.download_started.emit(key, plan)
            model = downloader.run()
        except DownloadStalled as exc:
            self.download_stopped.emit(key, "stalled", str(exc))
        except DownloadStopped:
            self._stopped(key, control, downloader, before=downloader is None)
        except DiskFullError as exc:
            self.download_stopped.emit(key, "disk", str(exc))
        except VerificationError as exc:
            self.download_stopped.emit(key, "verification", str(exc))
        except (DownloadError, HubError) as exc:
            self.download_stopped.emit(key, "error", str(exc))
        except OSError as exc:
            self.download_stopped.emit(key, "error", self.tr("The download failed: {reason}").format(
                reason=exc.strerror or exc))
        else:
            self.download_finished.emit(key, copy.deepcopy(model))

    def _stopped(self, key: str, control: DownloadControl, downloader: Downloader | None,
                 before: bool) -> None:
        if control.cancelled:
            if downloader is not None:
                downloader.discard_partial()
            self.download_stopped.emit(key, "cancelled", self.tr(
                "Cancelled before it started.") if before else self.tr(
                "Cancelled; the partial file was removed."))
        else:
            self.download_stopped.emit(key, "paused", self.tr(
                "Paused before it started.") if before else self.tr(
                "Paused. What arrived is kept."))

    @Slot(str, object)
    @guarded("_discard_failed")
    def discard(self, key: str, plan: DownloadPlan | None) -> None:
        """Cancel a download that is not running (paused, stalled, failed): its partial files
        and its resume entry go."""
        if plan is not None:
            Downloader(plan, Library(self._root)).discard_partial()
        self.download_stopped.emit(key, "cancelled", self.tr("Cancelled; the partial file was removed."))

    def _discard_failed(self, _exc: BaseException, message: str, key: str, _plan) -> None:
        self.download_stopped.emit(key, "error", message)


class Downloads(with_events(WorkerOwner, DOWNLOAD_EVENTS)):
    """The GUI's handle on the download thread."""

    _run_requested = Signal(object)
    _discard_requested = Signal(str, object)

    def __init__(self, library_root: str, parent: QObject | None = None):
        super().__init__(DownloadWorker(library_root), "downloads", parent)
        self._live: dict[str, DownloadControl] = {}
        self._run_requested.connect(self.worker.run)
        self._discard_requested.connect(self.worker.discard)
        self.download_finished.connect(self._forget)
        self.download_stopped.connect(self._forget)
        self.start()

    def download(self, key: str, spec: dict | None = None,
                 plan: DownloadPlan | None = None) -> DownloadControl:
        """Queue a download: ``spec`` are plan_download's arguments, or a plan to resume."""
        control = DownloadControl()
        self._live[key] = control
        self.worker.controls.add(control)
        self._run_requested.emit(DownloadRequest(key, control, copy.deepcopy(spec), plan))
        return control

    def pause(self, key: str) -> None:
        control = self._live.get(key)
        if control is not None:
            control.pause()

    def cancel(self, key: str, plan: DownloadPlan | None = None) -> None:
        control = self._live.get(key)
        if control is not None:
            control.cancel()
        else:
            self._discard_requested.emit(key, plan)

    def running(self, key: str) -> bool:
        return key in self._live

    def _forget(self, key: str, *_rest) -> None:
        self._live.pop(key, None)


# -- Hub look-ups ------------------------------------------------------------------------------

HUB_EVENTS = {
    "search_finished": (int, object),  # search id, tuple[SearchResult, ...]
    "search_failed": (int, str),  # search id, message
    "repo_loaded": (str, object),  # repo id, RepoInfo
    "repo_failed": (str, str),  # repo id, message
}


class HubWorker(with_events(Worker, HUB_EVENTS)):
    def __init__(self):
        super().__init__()
        self.cancels = _Events()

    def stop_work(self) -> None:
        self.cancels.stop_all()

    @Slot(int, str, object)
    @guarded("_search_failed")
    def search(self, search_id: int, query: str, cancel: threading.Event) -> None:
        try:
            results = call_interruptibly(lambda: search(query, endpoint=_endpoint()), cancel,
                                         "hub-search")
        except Interrupted:
            return  # the view stopped waiting for it
        finally:
            self.cancels.discard(cancel)
        self.search_finished.emit(search_id, tuple(results))

    def _search_failed(self, _exc, message: str, search_id: int, _query, cancel) -> None:
        if not cancel.is_set():
            self.search_failed.emit(search_id, message)

    @Slot(str, object)
    @guarded("_inspect_failed")
    def inspect(self, repo_id: str, cancel: threading.Event) -> None:
        try:
            info = call_interruptibly(lambda: repo_info(repo_id, endpoint=_endpoint()), cancel,
                                      "hub-repo")
        except Interrupted:
            return
        finally:
            self.cancels.discard(cancel)
        self.repo_loaded.emit(repo_id, info)

    def _inspect_failed(self, _exc, message: str, repo_id: str, cancel) -> None:
        if not cancel.is_set():
            self.repo_failed.emit(repo_id, message)


class HubLookups(with_events(WorkerOwner, HUB_EVENTS)):
    """The GUI's handle on the Hub thread. A new search or repository replaces the one before:
    that one is cancelled and its answer never arrives."""

    _search_requested = Signal(int, str, object)
    _inspect_requested = Signal(str, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(HubWorker(), "hub", parent)
        self._search_id = 0
        self._search_cancel: threading.Event | None = None
        self._inspect_cancel: threading.Event | None = None
        self._search_requested.connect(self.worker.search)
        self._inspect_requested.connect(self.worker.inspect)
        self.start()

    def search(self, query: str) -> int:
        """Start a search; its id comes back with search_finished or search_failed."""
        self.cancel_search()
        self._search_id += 1
        self._search_cancel = threading.Event()
        self.worker.cancels.add(self._search_cancel)
        self._search_requested.emit(self._search_id, query, self._search_cancel)
        return self._search_id

    def cancel_search(self) -> None:
        if self._search_cancel is not None:
            self._search_cancel.set()
            self._search_cancel = None

    def inspect(self, repo_id: str) -> None:
        if self._inspect_cancel is not None:
            self._inspect_cancel.set()
        self._inspect_cancel = threading.Event()
        self.worker.cancels.add(self._inspect_cancel)
        self._inspect_requested.emit(repo_id, self._inspect_cancel)


# -- the library's own slow work ---------------------------------------------------------------

@dataclass(frozen=True)
class CatalogRow:
    model: object  # catalog.CatalogModel
    variant: object  # catalog.Variant
    fit: object  # fit.Fit
    verdict: str
    recommended: bool  # the best variant of its model here (fit_catalog.best_variant)
    speed: object = None  # speed.SpeedEstimate, or None when it cannot be said
    speed_label: str = "unknown"  # speed.speed_label(): fast, usable, slow, wont_fit


@dataclass(frozen=True)
class Survey:
    """This machine and the catalog's fit for it. ``profile`` is made for this survey alone."""

    profile: object  # hardware.HardwareProfile
    hardware_summary: str
    catalog: object | None  # catalog.Catalog
    rows: tuple[CatalogRow, ...] = ()
    catalog_error: str | None = None
    recommendation: object = None  # recommend.Recommendation: "Recommended for this computer"


@dataclass(frozen=True)
class ImportOutcome:
    added: tuple[InstalledModel, ...] = ()  # copies
    skipped: tuple[tuple[str, str], ...] = ()  # path, why
    discovery: bool = False  # "find models from other apps", not one import
    found: int = 0


LIBRARY_EVENTS = {
    "surveyed": (object,),  # Survey
    "imported": (object,),  # ImportOutcome
    "removed": (object,),  # InstalledModel (a copy)
    "previewed": (str, str),  # model path, its prompt for a sample chat (or why there is none)
}


def survey(models_dir: str) -> Survey:
    from desktop import hardware
    from desktop.models import recommend, speed
    from desktop.models.catalog import CatalogError, load_catalog
    from desktop.models.fit_catalog import assess_variant, best_variant, variant_speed, verdict_text

    profile = hardware.detect(models_dir)
    summary = "  ·  ".join(profile.summary_lines()[1:])
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        return Survey(profile, summary, None, catalog_error=str(exc))
    speed.settle_probe()  # once per machine: every estimate below starts from it
    calibration = speed.calibrate(profile)
    pick = recommend.recommend(profile, catalog, calibration)
    rows = []
    for model in catalog.models:
        best = best_variant(model, profile)
        for variant in model.variants:
            fit = assess_variant(model, variant, profile)
            if pick is not None and variant.id == pick.variant_id and fit.fits:
                # The recommendation's own figures, as the welcome and the CLI show them.
                estimate = pick.estimate
            else:
                estimate = variant_speed(variant, fit, profile, calibration)
            label = speed.speed_label(estimate.tokens_per_s if estimate else None, fit.fits and
                                      estimate is not None)
            rows.append(CatalogRow(model, variant, fit, verdict_text(variant, fit, profile),
                                   best is not None and best.id == variant.id, estimate, label))
    return Survey(profile, summary, catalog, tuple(rows), recommendation=pick)


class LibraryWorker(with_events(Worker, LIBRARY_EVENTS)):
    """Failures come as ``failed`` (base.Failure) whose task is the slot's name."""

    def __init__(self, library_root: str):
        super().__init__()
        self._root = library_root

    @Slot()
    @guarded()
    def survey(self) -> None:
        self.surveyed.emit(survey(self._root))

    @Slot(str)
    @guarded()
    def import_path(self, path: str) -> None:
        model = Library(self._root).import_path(path)
        self.imported.emit(ImportOutcome(added=(copy.deepcopy(model),)))

    @Slot()
    @guarded()
    def discover(self) -> None:
        from desktop.engines.base import EngineError
        from desktop.models.library import LibraryError

        library = Library(self._root)
        found = library.discover()
        added, skipped = [], []
        for _fmt, path in found:
            if QThread.currentThread().isInterruptionRequested():
                break  # shutting down: each import validates a whole model
            try:
                added.append(copy.deepcopy(library.import_path(path, source="discovered")))
            except (LibraryError, EngineError, OSError) as exc:  # one bad file must not stop the rest
                skipped.append((str(path), str(exc)))
        self.imported.emit(ImportOutcome(tuple(added), tuple(skipped), discovery=True,
                                         found=len(found)))

    @Slot(str)
    @guarded()
    def remove(self, model_id: str) -> None:
        self.removed.emit(copy.deepcopy(Library(self._root).remove(model_id)))

    @Slot(str)
    @guarded("_preview_failed")
    def preview(self, path: str) -> None:
        from desktop.models.open_model import preview

        self.previewed.emit(path, preview(path))

    def _preview_failed(self, _exc: BaseException, message: str, path: str) -> None:
        self.previewed.emit(path, message)


class LibraryJobs(with_events(WorkerOwner, LIBRARY_EVENTS)):
    """The GUI's handle on the library thread."""

    _survey_requested = Signal()
    _import_requested = Signal(str)
    _discover_requested = Signal()
    _remove_requested = Signal(str)
    _preview_requested = Signal(str)

    def __init__(self, library_root: str, parent: QObject | None = None):
        super().__init__(LibraryWorker(library_root), "library", parent)
        self._survey_requested.connect(self.worker.survey)
        self._import_requested.connect(self.worker.import_path)
        self._discover_requested.connect(self.worker.discover)
        self._remove_requested.connect(self.worker.remove)
        self._preview_requested.connect(self.worker.preview)
        self.start()

    def survey(self) -> None:
        self._survey_requested.emit()

    def import_path(self, path: str | os.PathLike) -> None:
        self._import_requested.emit(str(Path(path)))

    def discover(self) -> None:
        self._discover_requested.emit()

    def remove(self, model_id: str) -> None:
        self._remove_requested.emit(model_id)

    def preview(self, path: str | os.PathLike) -> None:
        """Render a sample chat with the model's template (``previewed`` answers)."""
        self._preview_requested.emit(str(path))

    def request_shutdown(self) -> None:
        self.thread.requestInterruption()  # discovery stops between models
        super().request_shutdown()


class LibraryTasks(QObject):
    """The library window's three owners, shut down together within SHUTDOWN_S."""

    def __init__(self, library_root: str, parent: QObject | None = None):
        super().__init__(parent)
        self.downloads = Downloads(library_root, self)
        self.hub = HubLookups(self)
        self.library = LibraryJobs(library_root, self)
        self.owners = (self.downloads, self.hub, self.library)

    def shutdown(self, timeout_s: float = SHUTDOWN_S) -> bool:
        """Pause running downloads (they resume next time), drop look-ups, stop the threads,
        all against one deadline."""
        return shutdown_all(self.owners, timeout_s)
