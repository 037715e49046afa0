"""Background work for the model library: Hub look-ups and downloads, each on its own thread.

Downloads run one at a time on the download thread (a queue: the order they were asked in).
Pause and cancel reach a running download through its Downloader's Event, set from the GUI
thread; the worker reports how it ended. Hub look-ups (search, a repository's files) have their
own thread so a slow Hub never holds up a download's progress or the window.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import asdict

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.models.downloads import (
    DiskFullError,
    Downloader,
    DownloadError,
    DownloadPlan,
    DownloadStopped,
    VerificationError,
    plan_download,
)
from desktop.models.hub import HubError, repo_info, search
from desktop.models.library import Library


class DownloadWorker(QObject):
    """Signals (plan id first):

    download_started(str, dict): the plan, as a dict.
    download_progressed(str, dict): a Progress as a dict.
    download_finished(str, dict): the InstalledModel, as a dict.
    download_stopped(str, str, str): how it ended without finishing: 'paused', 'cancelled',
        'disk', 'verification' or 'error', and the message for the user.
    """

    download_started = Signal(str, dict)
    download_progressed = Signal(str, dict)
    download_finished = Signal(str, dict)
    download_stopped = Signal(str, str, str)

    def __init__(self, library_root: str):
        super().__init__()
        self._root = library_root
        self.active: dict[str, Downloader] = {}  # read from the GUI thread to pause/cancel
        self.cancelled_before_start: set[str] = set()

    @Slot(dict)
    def run(self, request: dict) -> None:
        key = request["key"]
        if key in self.cancelled_before_start:
            self.cancelled_before_start.discard(key)
            self.download_stopped.emit(key, "cancelled", self.tr("Cancelled before it started."))
            return
        library = Library(self._root)
        endpoint = os.environ.get("HF_ENDPOINT") or None
        try:
            plan = (DownloadPlan.from_dict(request["plan"]) if "plan" in request
                    else plan_download(endpoint=endpoint, **request["spec"]))
        except (DownloadError, HubError) as exc:
            self.download_stopped.emit(key, "error", str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a worker must report, not die silently
            traceback.print_exc()
            self.download_stopped.emit(
                key, "error", self.tr("Could not prepare the download: {reason}").format(reason=exc))
            return
        downloader = Downloader(
            plan, library, endpoint=endpoint,
            on_progress=lambda p: self.download_progressed.emit(key, p.to_dict()),
        )
        self.active[key] = downloader
        self.download_started.emit(key, plan.to_dict())
        try:
            model = downloader.run()
        except DownloadStopped:
            if downloader.cancel_requested:
                downloader.discard_partial()
                self.download_stopped.emit(
                    key, "cancelled", self.tr("Cancelled; the partial file was removed."))
            else:
                self.download_stopped.emit(key, "paused", self.tr("Paused. What arrived is kept."))
        except DiskFullError as exc:
            self.download_stopped.emit(key, "disk", str(exc))
        except VerificationError as exc:
            self.download_stopped.emit(key, "verification", str(exc))
        except (DownloadError, HubError, OSError) as exc:
            self.download_stopped.emit(key, "error", str(exc))
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self.download_stopped.emit(
                key, "error", self.tr("The download failed: {reason}").format(reason=exc))
        else:
            self.download_finished.emit(key, model.to_dict())
        finally:
            self.active.pop(key, None)


class HubWorker(QObject):
    """Signals: search_finished(str query, list[dict]), repo_loaded(str repo, dict),
    lookup_failed(str what, str message)."""

    search_finished = Signal(str, list)
    repo_loaded = Signal(str, dict)
    lookup_failed = Signal(str, str)

    @Slot(str)
    def search(self, query: str) -> None:
        try:
            results = search(query, endpoint=os.environ.get("HF_ENDPOINT") or None)
        except HubError as exc:
            self.lookup_failed.emit(query, str(exc))
            return
        self.search_finished.emit(query, [asdict(r) for r in results])

    @Slot(str)
    def inspect(self, repo_id: str) -> None:
        try:
            info = repo_info(repo_id, endpoint=os.environ.get("HF_ENDPOINT") or None)
        except HubError as exc:
            self.lookup_failed.emit(repo_id, str(exc))
            return
        data = asdict(info)
        data["gguf_files"] = [asdict(f) for f in info.gguf_files()]
        data["onnx_folders"] = info.onnx_folders()
        self.repo_loaded.emit(repo_id, data)


class LibraryTasks(QObject):
    """The GUI's handle on the two threads. Forwards the workers' signals."""

    run_requested = Signal(dict)
    search_requested = Signal(str)
    inspect_requested = Signal(str)

    def __init__(self, library_root: str, parent=None):
        super().__init__(parent)
        self.downloads = DownloadWorker(library_root)
        self.hub = HubWorker()
        self._threads = []
        for worker, name in ((self.downloads, "downloads"), (self.hub, "hub")):
            thread = QThread()
            thread.setObjectName(name)
            worker.moveToThread(thread)
            self._threads.append(thread)
        self.run_requested.connect(self.downloads.run)
        self.search_requested.connect(self.hub.search)
        self.inspect_requested.connect(self.hub.inspect)
        for thread in self._threads:
            thread.start()

    def download(self, key: str, spec: dict | None = None, plan: DownloadPlan | None = None) -> None:
        """Queue a download: ``spec`` are plan_download's arguments, or a plan to resume."""
        self.downloads.cancelled_before_start.discard(key)
        request = {"key": key, **({"plan": plan.to_dict()} if plan else {"spec": spec})}
        self.run_requested.emit(request)

    def pause(self, key: str) -> None:
        downloader = self.downloads.active.get(key)
        if downloader is not None:
            downloader.pause()

    def cancel(self, key: str) -> None:
        downloader = self.downloads.active.get(key)
        if downloader is not None:
            downloader.cancel()
        else:
            self.downloads.cancelled_before_start.add(key)

    def shutdown(self) -> None:
        for downloader in list(self.downloads.active.values()):
            downloader.pause()  # keep what arrived: it resumes next time
        for thread in self._threads:
            thread.quit()
        for thread in self._threads:
            thread.wait()
