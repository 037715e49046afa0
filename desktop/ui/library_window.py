"""The model library: installed models, the catalog with its fit for this machine, a Hugging
Face search, and the downloads in progress (pause, resume, cancel).

Nothing slow runs here: hardware detection, the catalog's fit, finding and validating models,
removals, Hub look-ups and downloads are on worker threads (desktop/workers/library.py), and
the window says what it is waiting for meanwhile.

Text from the Hub, the catalog and the engines is shown as plain text, never as rich text: a
model card or a repository name may hold HTML (links, images) that must show as it is written.
"""

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.models import speed
from desktop.models.library import InstalledModel, Library
from desktop.ui.table_model import Column, Roles, RowsModel
from desktop.units import format_bytes, format_parameters
from desktop.workers.base import Failure
from desktop.workers.library import CatalogRow, ImportOutcome, LibraryTasks, Survey


def plain_label(text: str = "", wrap: bool = True) -> QLabel:
    """A label that never interprets its text as HTML."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setText(text)
    return label


def plain_tooltip(text: str) -> str:
    """Tooltips have no plain-text switch (Qt guesses): escaped, the text shows as written."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>" if text else ""


class FilterProxy(QSortFilterProxyModel):
    """Text search over every column, plus a predicate on the row (format, fit)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(Roles.Sort)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.predicate = lambda row: True

    def set_predicate(self, predicate) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            self.predicate = predicate
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.predicate = predicate
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row, source_parent):  # noqa: N802
        row = self.sourceModel().row(source_row)
        return self.predicate(row) and super().filterAcceptsRow(source_row, source_parent)

    def lessThan(self, left, right):  # noqa: N802
        # The source's Python values: a count above 2**31 is no number once in a QVariant.
        model = self.sourceModel()
        return model.sort_key(left.row(), left.column()) < model.sort_key(right.row(), right.column())


@dataclasses.dataclass(frozen=True)
class InstalledRow:
    """One installed model as listed: the library's entry (or the bundled model), whether it is
    the one loaded now, and its speed estimate here."""

    model: InstalledModel
    bundled: bool = False
    loaded: bool = False
    speed: object = None  # speed.SpeedEstimate

    def __getattr__(self, name):  # name, path, format, size, source, id: the entry's own
        if name.startswith("__") or name == "model":
            raise AttributeError(name)
        return getattr(self.model, name)


@dataclasses.dataclass(frozen=True)
class ModelRow:
    """One catalog model with its variants (GGUF file, ONNX folders) and the one picked."""

    variants: tuple  # CatalogRow, one per variant
    chosen: int = 0
    recommended_here: bool = False  # "Recommended for this computer" (recommend.recommend())

    @property
    def current(self):
        return self.variants[self.chosen]

    def __getattr__(self, name):  # model, variant, fit, verdict, speed, speed_label: the pick's
        if name.startswith("__") or name in ("variants", "chosen", "recommended_here"):
            raise AttributeError(name)
        return getattr(self.variants[self.chosen], name)


def _variants(row) -> tuple:
    return getattr(row, "variants", None) or (row,)


def _same_path(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return os.path.normcase(str(Path(a).resolve())) == os.path.normcase(str(Path(b).resolve()))
    except OSError:
        return a == b


def _bytes_on_disk(plan, library) -> int:
    """How much of a paused download is on disk (finished files and partial ones)."""
    from desktop.models.downloads import Downloader

    try:
        return max(0, plan.total - Downloader(plan, library, token="").pending_bytes())
    except OSError:
        return 0


def _table(model, stretch: int = 0, sort_column: int = 0) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setSortingEnabled(True)
    view.sortByColumn(sort_column, Qt.SortOrder.AscendingOrder)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


class _RefittingSplitter(QSplitter):
    """A splitter that calls ``refit()`` after each resize (the window's, or its tab shown)."""

    def __init__(self, refit):
        super().__init__()
        self._refit = refit

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self._refit()


class DownloadRow(QWidget):
    """One download: its bar, its status, Pause/Resume and Cancel. "Resume" is offered only when
    something arrived to resume from; before the first byte the button says Download or Retry."""

    RESUMABLE = ("paused", "stalled", "error", "disk")

    def __init__(self, key: str, title: str, tasks: LibraryTasks):
        super().__init__()
        self.key, self.tasks, self.spec, self.plan = key, tasks, None, None
        self.received = 0  # bytes on disk for it (the progress's count, or the partial files')
        self.title = plain_label(title, wrap=False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.status = plain_label(self.tr("Waiting…"))
        self.pause_button = QPushButton(self.tr("Pause"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.pause_button)
        top.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        self.running = True
        self.pause_button.clicked.connect(self.toggle)
        self.cancel_button.clicked.connect(self.cancel)

    def toggle(self) -> None:
        if self.running:
            self.tasks.downloads.pause(self.key)
            self.status.setText(self.tr("Pausing…"))
        else:
            self.start()

    def start(self) -> None:
        self.running = True
        self.pause_button.setText(self.tr("Pause"))
        self.pause_button.setEnabled(True)
        self.cancel_button.setEnabled(True)
        self.status.setText(self.tr("Resuming…") if self.received > 0 else self.tr("Waiting…"))
        self.tasks.downloads.download(self.key, spec=self.spec, plan=self.plan)

    def cancel(self) -> None:
        self.tasks.downloads.cancel(self.key, self.plan)
        self.status.setText(self.tr("Cancelling…"))

    def progress(self, p) -> None:
        self.received = max(self.received, p.done or 0)
        if p.total:
            self.bar.setValue(int(1000 * p.done / p.total))
        if p.phase == "downloading":
            eta = p.eta_s
            left = (self.tr(", {minutes} min left").format(minutes=f"{eta / 60:.0f}") if eta and eta >= 90
                    else self.tr(", {seconds} s left").format(seconds=f"{eta:.0f}") if eta else "")
            self.status.setText(self.tr("{done} of {total} — {speed} MB/s{left}").format(
                done=format_bytes(p.done), total=format_bytes(p.total or None), speed=f"{p.speed / 1e6:.1f}",
                left=left))
        else:
            self.status.setText(p.message or p.phase)

    def stopped(self, kind: str, message: str) -> None:
        self.running = False
        self.status.setText(message)
        self.pause_button.setEnabled(kind in self.RESUMABLE)
        self.cancel_button.setEnabled(kind != "cancelled")
        if kind in ("cancelled", "verification"):
            self.pause_button.setText(self.tr("Retry"))
            self.pause_button.setEnabled(True)
        elif self.received > 0:
            self.pause_button.setText(self.tr("Resume"))
        else:  # nothing arrived: there is nothing to resume, the download starts from the top
            self.pause_button.setText(self.tr("Download") if kind == "paused" else self.tr("Retry"))


class LibraryWindow(QWidget):
    """Signals: model_chosen(str path): the user wants to chat with this model now (the main
    window loads it). ``set_loaded(path)`` marks the model loaded there; ``show_recommended()``
    opens the catalog on the model recommended for this computer."""

    model_chosen = Signal(str)

    def __init__(self, library: Library | None = None, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Model library"))
        self.resize(1000, 680)
        self.library = library or Library()
        self.tasks = LibraryTasks(str(self.library.root), self)
        self.downloads: dict[str, DownloadRow] = {}
        self.profile = None
        self.catalog = None
        self.recommendation = None  # recommend.Recommendation, once the survey is in
        self._loaded: str | None = None  # the model id (path) loaded in the main window
        self._bundled: InstalledModel | None | bool = False  # False: not looked up yet
        self._show_recommended_when_ready = False
        self._requested_pick = None  # the welcome card's recommendation, to show once the survey is in
        self._search_id = 0  # the search whose answer is awaited; 0: none

        self.hardware_label = plain_label()
        self.tabs = QTabWidget()
        self.tabs.addTab(self._installed_tab(), self.tr("Installed"))
        self.tabs.addTab(self._catalog_tab(), self.tr("Catalog"))
        self.tabs.addTab(self._search_tab(), self.tr("Hugging Face"))
        self.download_list = QListWidget()
        self.download_list.setMaximumHeight(150)
        self.downloads_label = QLabel(self.tr("Downloads"))
        for widget in (self.downloads_label, self.download_list):
            widget.hide()  # shown with the first download: until then the catalog has the room
        self.message = plain_label()
        # A visible way out, so the window closes where no window manager draws a title bar (a
        # bare X server, a kiosk); Esc and Ctrl+W (the platform's Close key) do the same.
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hardware_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.downloads_label)
        layout.addWidget(self.download_list)
        layout.addLayout(bottom)
        self.escape_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._escape)
        self.close_shortcuts = [QShortcut(QKeySequence(key), self, self.close) for key in dict.fromkeys(
            (QKeySequence(QKeySequence.StandardKey.Close).toString(), "Ctrl+W")) if key]

        downloads = self.tasks.downloads
        downloads.download_started.connect(self._on_started)
        downloads.download_progressed.connect(self._on_progress)
        downloads.download_finished.connect(self._on_finished)
        downloads.download_stopped.connect(self._on_stopped)
        downloads.failed.connect(self._on_failure)
        hub = self.tasks.hub
        hub.search_finished.connect(self._on_search_results)
        hub.search_failed.connect(self._on_search_failed)
        hub.repo_loaded.connect(self._on_repo_loaded)
        hub.repo_failed.connect(lambda _repo, message: self.show_message(message, error=True))
        hub.failed.connect(self._on_failure)
        jobs = self.tasks.library
        jobs.surveyed.connect(self._on_surveyed)
        jobs.imported.connect(self._on_imported)
        jobs.removed.connect(self._on_removed)
        jobs.previewed.connect(self._on_previewed)
        jobs.failed.connect(self._on_failure)
        self.refresh()
        self._offer_paused_downloads()

    # -- tabs --------------------------------------------------------------------------------
    def _installed_tab(self) -> QWidget:
        sources = {"bundled": self.tr("Comes with EdgeChat"), "download": self.tr("Downloaded"),
                   "opened": self.tr("Opened from a file"),
                   "import": self.tr("Imported"), "discovered": self.tr("Found on this computer")}
        self.installed_model = RowsModel([
            Column(self.tr("Name"), lambda m: m.name),
            Column(self.tr("In use"), lambda m: self.tr("● Loaded") if m.loaded else "",
                   sort=lambda m: 0 if m.loaded else 1,
                   tooltip=lambda m: self.tr("The model the chat uses now") if m.loaded else ""),
            Column(self.tr("Format"), lambda m: m.format.upper()),
            Column(self.tr("Size"), lambda m: format_bytes(m.size or None), sort=lambda m: m.size),
            Column(self.tr("Speed here"), lambda m: self._speed_text(m.speed),
                   sort=lambda m: m.speed.tokens_per_s if m.speed else None,
                   tooltip=lambda m: self._speed_tooltip(m.speed)),
            Column(self.tr("Source"), lambda m: sources.get(m.source, m.source)),
            Column(self.tr("Location"), lambda m: m.path, tooltip=lambda m: plain_tooltip(m.path)),
        ], self)
        self.installed_view = _table(self.installed_model, stretch=6)
        # Double-click or Enter on a model loads it, as "Chat with it" does.
        self.installed_view.activated.connect(self._use_index)
        use = QPushButton(self.tr("Chat with it"))
        remove = QPushButton(self.tr("Remove"))
        self.remove_button = remove
        import_file = QPushButton(self.tr("Import GGUF file…"))
        import_folder = QPushButton(self.tr("Import ONNX folder…"))
        find = QPushButton(self.tr("Find models from other apps"))
        use.clicked.connect(self._use_selected)
        remove.clicked.connect(self._remove_selected)
        import_file.clicked.connect(lambda: self._import(folder=False))
        import_folder.clicked.connect(lambda: self._import(folder=True))
        find.clicked.connect(self.discover)
        self.find_button = find
        buttons = QHBoxLayout()
        for b in (use, remove, import_file, import_folder, find):
            buttons.addWidget(b)
        buttons.addStretch(1)
        # How the selected model is spoken to: its template rendered for a sample chat.
        self.installed_details = QPlainTextEdit()
        self.installed_details.setReadOnly(True)
        self.installed_details.setPlaceholderText(self.tr("Select a model to see its prompt format"))
        self.installed_view.selectionModel().currentRowChanged.connect(self._show_installed_details)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.installed_view)
        split.addWidget(self.installed_details)
        split.setSizes([420, 200])
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        return tab

    def _show_installed_details(self, current, _previous=None) -> None:
        model = current.data(Roles.Row) if current.isValid() else None
        self._previewing = model.path if model is not None else None
        if model is None:
            self.installed_details.clear()
            self.remove_button.setToolTip("")
            return
        self.remove_button.setToolTip(self._bundled_reason() if getattr(model, "bundled", False) else "")
        self.installed_details.setPlainText(self.tr("Rendering a sample chat with {name}'s template…")
                                            .format(name=model.name))
        self.tasks.library.preview(model.path)  # opens the tokenizer: the library thread's work

    def _on_previewed(self, path: str, text: str) -> None:
        if path != getattr(self, "_previewing", None):
            return  # an answer for a model no longer selected
        self.installed_details.setPlainText(
            self.tr("The prompt this model reads for a sample chat:") + "\n\n" + text)

    def _catalog_tab(self) -> QWidget:
        # One row per model; its variants (GGUF file, ONNX folders) are picked in the details.
        self.catalog_model = RowsModel([
            Column(self.tr("Model"), lambda r: ("★ " if getattr(r, "recommended_here", False) else "")
                   + r.model.display_name,
                   # The recommendation first, then by name.
                   sort=lambda r: (0 if getattr(r, "recommended_here", False) else 1,
                                   r.model.display_name.casefold())),
            Column(self.tr("Params"), lambda r: format_parameters(r.model.params),
                   sort=lambda r: r.model.params),
            Column(self.tr("Format"), lambda r: r.variant.format.upper() + (
                f" ({r.variant.execution_provider})" if r.variant.execution_provider else "")),
            Column(self.tr("Quantization"), lambda r: r.variant.quant),
            Column(self.tr("Size"), lambda r: format_bytes(r.variant.download_size or None),
                   sort=lambda r: r.variant.download_size or 0),
            Column(self.tr("On this computer"), self._rating_text,
                   sort=lambda r: (getattr(r, "speed", None).tokens_per_s
                                   if getattr(r, "speed", None) and r.fit.fits else -1.0),
                   tooltip=self._rating_tooltip),
            Column(self.tr("Variants"), lambda r: str(len(_variants(r))), sort=lambda r: len(_variants(r)),
                   tooltip=lambda r: plain_tooltip("\n".join(self._variant_text(v) for v in _variants(r)))),
        ], self)
        self.catalog_proxy = FilterProxy(self)
        self.catalog_proxy.setSourceModel(self.catalog_model)
        self.catalog_view = _table(self.catalog_proxy, stretch=0, sort_column=0)
        self._arrange_catalog_columns()
        self.recommended_label = plain_label(self.tr("Finding the model to recommend for this computer…"))
        self.recommended_button = QPushButton(self.tr("Show it"))
        self.recommended_button.setEnabled(False)
        self.recommended_button.clicked.connect(lambda: self.show_recommended())
        self.catalog_search = QLineEdit()
        self.catalog_search.setPlaceholderText(self.tr("Filter by name…"))
        self.format_filter = QComboBox()
        self.format_filter.addItems([self.tr("All formats"), "GGUF", "ONNX"])
        self.fit_filter = QComboBox()
        self.fit_filter.addItems([self.tr("Any fit"), self.tr("Fits this machine"), self.tr("Runs on GPU"),
                                  self.tr("Usable speed or faster")])
        self.size_filter = QComboBox()
        self.size_filter.addItems([self.tr("Any size"), self.tr("Under 1 GB"), self.tr("Under 3 GB"),
                                   self.tr("Under 5 GB")])
        for combo in (self.format_filter, self.fit_filter, self.size_filter):
            combo.currentIndexChanged.connect(self._apply_catalog_filters)
        self.catalog_search.textChanged.connect(self.catalog_proxy.setFilterFixedString)
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.catalog_view.selectionModel().currentRowChanged.connect(self._show_details)
        # The quantization picker: the selected model's variants, with size and speed here.
        self.variant_picker = QComboBox()
        self.variant_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.variant_picker.setMinimumContentsLength(12)
        self.variant_picker.view().setMinimumWidth(420)  # the list shows each variant whole
        self.variant_picker.activated.connect(self._pick_variant)
        download = QPushButton(self.tr("Download"))
        download.clicked.connect(self._download_selected_variant)
        self.download_button = download
        filters = QHBoxLayout()
        for w in (self.catalog_search, self.format_filter, self.fit_filter, self.size_filter):
            filters.addWidget(w)
        recommended = QHBoxLayout()
        recommended.addWidget(self.recommended_label, 1)
        recommended.addWidget(self.recommended_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel(self.tr("Variant")))
        right_layout.addWidget(self.variant_picker)
        right_layout.addWidget(download)
        right_layout.addWidget(self.details, 1)
        right.setMinimumWidth(self.DETAILS_MIN_WIDTH)
        split = _RefittingSplitter(self._fit_catalog_split)
        split.addWidget(self.catalog_view)
        split.addWidget(right)
        split.setSizes([760, 330])
        split.setStretchFactor(0, 1)
        split.setChildrenCollapsible(False)
        self.catalog_split = split
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(recommended)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        return tab

    # Visual order of the catalog's columns: the model and what decides a choice first, the
    # details (also in the variant picker and the details pane) after, where a narrow window
    # crops them. The model column is as wide as its longest name, always: it is never cut.
    CATALOG_ORDER = (0, 1, 4, 5, 2, 3, 6)  # Model, Params, Size, On this computer, Format, Quant, Variants

    DETAILS_MIN_WIDTH = 220

    def _fit_catalog_split(self) -> None:
        """Give the catalog table the width its first columns need (the model's whole name, its
        size and speed here), taken from the details pane down to its minimum: at 800 px the
        table would otherwise show two columns and a half."""
        split = getattr(self, "catalog_split", None)
        sizes = split.sizes() if split is not None else []
        if len(sizes) != 2 or sum(sizes) <= 0:
            return
        view, header = self.catalog_view, self.catalog_view.horizontalHeader()
        # What ResizeToContents will give them (their sizes now may be from before the rows came).
        wanted = (sum(max(view.sizeHintForColumn(logical), header.sectionSizeHint(logical))
                      for logical in self.CATALOG_ORDER[:4])
                  + 2 * view.frameWidth() + view.verticalScrollBar().sizeHint().width())
        total = sum(sizes)
        if sizes[0] < wanted and sizes[1] > self.DETAILS_MIN_WIDTH:
            left = min(wanted, total - self.DETAILS_MIN_WIDTH)
            split.setSizes([left, total - left])

    def _arrange_catalog_columns(self) -> None:
        header = self.catalog_view.horizontalHeader()
        for visual, logical in enumerate(self.CATALOG_ORDER):
            header.moveSection(header.visualIndex(logical), visual)
        for logical in range(self.catalog_model.columnCount()):
            header.setSectionResizeMode(logical, QHeaderView.ResizeMode.ResizeToContents)
        # ONNX quantization names are long ("int4-rtn-block-32 (accuracy level 4)"): elided.
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.catalog_view.setColumnWidth(3, 110)
        header.setStretchLastSection(True)

    # -- speed and rating text ---------------------------------------------------------------
    @staticmethod
    def _speed_text(estimate) -> str:
        return speed.format_speed(estimate.tokens_per_s) if estimate is not None else ""

    def _speed_tooltip(self, estimate) -> str:
        if estimate is None:
            return ""
        return plain_tooltip(self.tr("Estimated decode speed {speed}, {how}.").format(
            speed=speed.format_speed(estimate.tokens_per_s), how=estimate.note))

    def _rating_text(self, row) -> str:
        label = getattr(row, "speed_label", None)
        estimate = getattr(row, "speed", None)
        if not row.fit.fits and row.verdict == getattr(row.fit, "label", None):
            return speed.label_text("wont_fit")
        if label is None or estimate is None or not row.fit.fits:
            # the fit's own words: "needs CUDA" says more than "won't fit" for a folder built for
            # another provider
            return row.verdict
        return f"{speed.format_speed(estimate.tokens_per_s)} · {speed.label_text(label)}"

    def _rating_tooltip(self, row) -> str:
        text = row.fit.explain()
        estimate = getattr(row, "speed", None)
        if estimate is not None and row.fit.fits:
            text = self.tr("Estimated decode speed {speed}, {how}.").format(
                speed=speed.format_speed(estimate.tokens_per_s), how=estimate.note) + "\n" + text
        return plain_tooltip(text)

    def _search_tab(self) -> QWidget:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(self.tr("Search GGUF and ONNX repositories on Hugging Face…"))
        self.search_edit.returnPressed.connect(self.search)
        self.search_cancel_button = QPushButton(self.tr("Cancel"))
        self.search_cancel_button.setEnabled(False)
        self.search_cancel_button.clicked.connect(self.cancel_search)
        yes = self.tr("yes")
        self.search_model = RowsModel([
            Column(self.tr("Repository"), lambda r: r.repo_id),
            Column(self.tr("Formats"), lambda r: ", ".join(r.formats).upper()),
            Column(self.tr("Downloads", "column: how often a repository was downloaded"),
                   lambda r: f"{r.downloads:,}" if r.downloads else "",
                   sort=lambda r: r.downloads or 0),
            Column(self.tr("Gated"), lambda r: yes if r.gated else ""),
        ], self)
        self.search_view = _table(self.search_model, stretch=0, sort_column=2)
        self.search_view.selectionModel().currentRowChanged.connect(self._inspect_selected_repo)
        self.repo_files = QListWidget()
        download = QPushButton(self.tr("Download selected file or folder"))
        download.clicked.connect(self._download_repo_item)
        split = QSplitter()
        split.addWidget(self.search_view)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(QLabel(self.tr("Quantizations in this repository")))
        right_layout.addWidget(self.repo_files, 1)
        right_layout.addWidget(download)
        split.addWidget(right)
        tab = QWidget()
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.search_cancel_button)
        layout = QVBoxLayout(tab)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        return tab

    # -- data --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """The installed list now (a small file), this machine and the catalog's fit from the
        library thread (detecting GPUs may take seconds)."""
        self.refresh_installed()
        if self.profile is None:
            self.hardware_label.setText(self.tr("Detecting hardware…"))
        self.tasks.library.survey()

    def bundled_model(self) -> InstalledModel | None:
        """The model that comes with EdgeChat, as an installed entry (None if it is missing)."""
        if self._bundled is False:
            from desktop.models.default_model import DefaultModelMissing, default_model_path

            try:
                path = default_model_path()
                self._bundled = InstalledModel(
                    id="bundled", name=path.stem, format="gguf", path=str(path), source="bundled",
                    size=path.stat().st_size)
            except (DefaultModelMissing, OSError):
                self._bundled = None
        return self._bundled

    def _bundled_reason(self) -> str:
        return self.tr("This model comes with EdgeChat and cannot be removed: it is the one that "
                       "loads when no other model can.")

    def refresh_installed(self) -> None:
        """The library's models, and the bundled one unless the library lists its file too."""
        self.library.reload()
        current = self.installed_view.currentIndex().data(Roles.Row)
        models = [(m, False) for m in self.library.models()]
        bundled = self.bundled_model()
        if bundled is not None and not any(_same_path(m.path, bundled.path) for m, _ in models):
            models.insert(0, (bundled, True))
        loaded = self._loaded
        if (loaded and "://" not in loaded and os.path.exists(loaded)
                and not any(_same_path(m.path, loaded) for m, _ in models)):
            # Opened from a file (File ▸ Open): listed while loaded, so the mark is somewhere.
            path = Path(loaded)
            fmt = "onnx" if path.is_dir() else "gguf"
            try:
                size = path.stat().st_size if fmt == "gguf" else sum(
                    f.stat().st_size for f in path.iterdir() if f.is_file())
            except OSError:
                size = 0
            models.append((InstalledModel(id="opened", name=path.stem if fmt == "gguf" else path.name,
                                          format=fmt, path=loaded, source="opened", size=size), False))
        calibration = speed.calibrate(self.profile) if self.profile is not None else None
        rows = [InstalledRow(m, bundled=is_bundled, loaded=_same_path(m.path, self._loaded),
                             speed=self._installed_speed(m, calibration))
                for m, is_bundled in models]
        self.installed_model.set_rows(rows)
        if current is not None:  # keep the selection across a refresh
            for i, row in enumerate(rows):
                if row.path == current.path:
                    self.installed_view.setCurrentIndex(self.installed_model.index(i, 0))
                    break

    def _installed_speed(self, model: InstalledModel, calibration):
        if calibration is None:  # before the survey: no probe on the GUI thread
            return None
        profile = self.profile
        engine = speed.engine_of(model.format)
        # On a GPU an engine here can use when the weights fit it with room (as fit.py judges).
        gpus = [g for g in profile.usable_gpus(engine or "llama", model.execution_provider)
                if g.vram_usable and g.vram_usable > 1.3 * (model.size or 0)] if engine else []
        return speed.estimate(model.size, model.format, profile, gpu=gpus[0] if gpus else None,
                              calibration=calibration)

    def set_loaded(self, model_id: str | None) -> None:
        """Mark the model loaded in the main window (a path; None: nothing is loaded)."""
        self._loaded = model_id
        self.refresh_installed()

    def show_recommended(self, pick=None) -> None:
        """Open the catalog on a recommendation (recommend.Recommendation) with its variant
        picked: ``pick``, the one the welcome's card names, else this window's own (once the
        survey is in, if it is still running)."""
        self.show()
        self.raise_()
        self.tabs.setCurrentIndex(1)
        if getattr(pick, "model_id", None):
            self._requested_pick = pick
        if self.catalog is None:
            self._show_recommended_when_ready = True
            return
        self._show_recommended_when_ready = False
        pick, self._requested_pick = self._requested_pick or self.recommendation, None
        if pick is None:
            return
        for combo in (self.format_filter, self.fit_filter, self.size_filter):
            combo.setCurrentIndex(0)
        self.catalog_search.clear()
        for i, row in enumerate(self.catalog_model.rows()):
            if not isinstance(row, ModelRow) or row.model.id != pick.model_id:
                continue
            chosen = next((j for j, v in enumerate(row.variants) if v.variant.id == pick.variant_id),
                          row.chosen)
            if chosen != row.chosen:
                self.catalog_model.replace_row(i, dataclasses.replace(row, chosen=chosen))
            index = self.catalog_proxy.mapFromSource(self.catalog_model.index(i, 0))
            self.catalog_view.setCurrentIndex(index)
            self.catalog_view.scrollTo(index)
            self._show_details(index)
            self.catalog_view.setFocus()
            break

    @Slot(object)
    def _on_surveyed(self, survey: Survey) -> None:
        self.profile = survey.profile
        self.hardware_label.setText(survey.hardware_summary)
        self.refresh_installed()  # now with speeds
        if survey.catalog is None:
            self.show_message(survey.catalog_error or "", error=True)
            return
        self.catalog = survey.catalog
        self.recommendation = getattr(survey, "recommendation", None)
        self.catalog_model.set_rows(self._group(survey.rows))
        self._apply_catalog_filters()
        self._fit_catalog_split()
        pick = self.recommendation
        if pick is None:
            self.recommended_label.setText(self.tr(
                "No catalog model both fits this computer with room to spare and writes at a usable "
                "speed here (5 tokens/s or more)."))
            self.recommended_button.setEnabled(False)
        else:
            # The recommendation's own wording: the welcome and the CLI show the same figures.
            self.recommended_label.setText(self.tr("Recommended for this computer: {summary}")
                                           .format(summary=pick.summary))
            self.recommended_button.setEnabled(True)
        if self._show_recommended_when_ready:
            self.show_recommended()
        if self.catalog.skipped:
            self.show_message(self.tr("{count} catalog entries were skipped as malformed.")
                              .format(count=len(self.catalog.skipped)))

    def _group(self, rows) -> list[ModelRow]:
        """One row per model, its default variant picked: the recommended one, else the best
        that fits here (fit_catalog.best_variant), else its first."""
        pick = self.recommendation
        grouped: dict[str, list] = {}
        for row in rows:
            grouped.setdefault(row.model.id, []).append(row)
        result = []
        rank = {"fast": 3, "usable": 2, "slow": 1}
        for model_id, variants in grouped.items():
            here = pick is not None and pick.model_id == model_id

            def merit(i: int, variants=variants, here=here) -> tuple:
                v = variants[i]
                tps = v.speed.tokens_per_s if getattr(v, "speed", None) and v.fit.fits else 0.0
                # the recommendation; else the best speed class here, the faster within it
                return (here and v.variant.id == pick.variant_id,
                        rank.get(getattr(v, "speed_label", ""), 0), tps, v.recommended)

            result.append(ModelRow(tuple(variants), max(range(len(variants)), key=merit), here))
        return result

    @Slot(object)
    def _on_failure(self, failure: Failure) -> None:
        if failure.task == "survey" and self.profile is None:
            self.hardware_label.setText(self.tr("Could not detect this machine's hardware."))
        self.find_button.setEnabled(True)
        self.show_message(failure.message, error=True)

    def _apply_catalog_filters(self) -> None:
        fmt = {1: "gguf", 2: "onnx"}.get(self.format_filter.currentIndex())
        fit = self.fit_filter.currentIndex()
        limit = {1: 1 << 30, 2: 3 << 30, 3: 5 << 30}.get(self.size_filter.currentIndex())

        def accept(row: CatalogRow) -> bool:
            v = row.variant
            if fmt and v.format != fmt:
                return False
            if fit == 1 and (not row.fit.fits or row.verdict.startswith("needs")):
                return False
            if fit == 2 and row.fit.verdict != "gpu":
                return False
            if fit == 3 and getattr(row, "speed_label", None) not in ("fast", "usable"):
                return False
            return not (limit and (v.download_size or 0) > limit)

        # A model is listed when one of its variants passes, showing that variant.
        for i, row in enumerate(self.catalog_model.rows()):
            if isinstance(row, ModelRow) and not accept(row.current):
                passing = [j for j, v in enumerate(row.variants) if accept(v)]
                if passing:
                    self.catalog_model.replace_row(i, dataclasses.replace(row, chosen=passing[0]))
        self.catalog_proxy.set_predicate(lambda row: any(accept(v) for v in _variants(row)))
        self._show_details(self.catalog_view.currentIndex())

    def _selected(self, view, model):
        index = view.currentIndex()
        return index.data(Roles.Row) if index.isValid() else None

    def _show_details(self, current, _previous=None) -> None:
        row = current.data(Roles.Row) if current.isValid() else None
        self._fill_variant_picker(row)
        if row is None:
            self.details.clear()
            return
        m, v, fit = row.model, row.variant, row.fit
        gated = {True: self.tr("yes: accept the licence on its page and set a token in Settings"),
                 False: self.tr("no"), None: self.tr("unknown")}[v.gated]
        where = f"{v.repo_id} / {v.filename or v.subfolder}"
        tokens = self.tr("{count} tokens").format(count=m.context_length or "?")
        lines = [
            m.display_name, "", m.description or "", "",
            f"{self.tr('Fit:')} {row.verdict}", fit.explain(), "",
            f"{self.tr('Parameters:')} {format_parameters(m.params)}",
            f"{self.tr('Context:')} {tokens}",
            f"{self.tr('Format:')} {' '.join(filter(None, (v.format.upper(), v.execution_provider)))}"
            f" · {v.quant}",
            f"{self.tr('Size:')} {format_bytes(v.download_size or None)}",
            f"{self.tr('Licence:')} {m.license}",
            f"{self.tr('Gated:')} {gated}",
            f"{self.tr('From:')} {where}",
        ]
        thinking = {
            "switch": self.tr("Thinks before answering, unless the chat's Think switch is off "
                              "(Chat settings); /think and /no_think in a message switch it too. "
                              "The thinking shows folded above the answer."),
            "always": self.tr("Always thinks before answering; the thinking shows folded above the "
                              "answer and takes part of the reply's tokens."),
        }.get(m.reasoning)
        if thinking:
            lines[4:4] = [f"{self.tr('Reasoning:')} {thinking}", ""]
        estimate = getattr(row, "speed", None)
        if estimate is not None and fit.fits:
            lines[4:4] = [self.tr("Speed here: {speed} ({label}), {how}.").format(
                speed=speed.format_speed(estimate.tokens_per_s),
                label=speed.label_text(row.speed_label), how=estimate.note)]
        if getattr(row, "recommended_here", False):
            lines[1:1] = [self.tr("★ Recommended for this computer: the most capable model that fits "
                                  "with room to spare and writes at a usable speed here.")]
        # Plain text: a description with markup shows as written, it is never rendered.
        self.details.setPlainText("\n".join(lines))

    def _variant_text(self, row) -> str:
        v = row.variant
        fmt = v.format.upper() + (f" {v.execution_provider}" if v.execution_provider else "")
        parts = [v.quant, fmt, format_bytes(v.download_size or None)]
        rating = self._rating_text(row)
        return " · ".join([*parts, rating] if rating else parts)

    def _fill_variant_picker(self, row) -> None:
        picker = self.variant_picker
        picker.blockSignals(True)
        picker.clear()
        if row is not None:
            for variant in _variants(row):
                picker.addItem(self._variant_text(variant))
                picker.setItemData(picker.count() - 1, plain_tooltip(variant.fit.explain()),
                                   Qt.ItemDataRole.ToolTipRole)
            picker.setCurrentIndex(getattr(row, "chosen", 0))
        picker.setEnabled(row is not None and len(_variants(row)) > 1)
        self.download_button.setEnabled(row is not None)
        picker.blockSignals(False)

    def _pick_variant(self, chosen: int) -> None:
        index = self.catalog_view.currentIndex()
        if not index.isValid():
            return
        source = self.catalog_proxy.mapToSource(index).row()
        row = self.catalog_model.row(source)
        if isinstance(row, ModelRow) and 0 <= chosen < len(row.variants) and chosen != row.chosen:
            self.catalog_model.replace_row(source, dataclasses.replace(row, chosen=chosen))
            self._show_details(self.catalog_view.currentIndex())

    # -- actions -----------------------------------------------------------------------------
    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if error else "")

    def _use_selected(self) -> None:
        self._use_index(self.installed_view.currentIndex())

    def _use_index(self, index) -> None:
        model = index.data(Roles.Row) if index.isValid() else None
        if model is None:
            return
        if getattr(model, "loaded", False):
            self.show_message(self.tr("{name} is the model loaded now.").format(name=model.name))
            return
        self.show_message(self.tr("Loading {name} in the chat window…").format(name=model.name))
        self.model_chosen.emit(model.path)

    def _remove_selected(self, confirm: bool = True) -> None:
        model = self._selected(self.installed_view, self.installed_model)
        if model is None:
            return
        if getattr(model, "bundled", False):
            self.show_message(self._bundled_reason(), error=True)
            return
        if getattr(model, "id", "") == "opened":  # listed only while loaded, not kept in the library
            self.show_message(self.tr("{name} was opened from a file and is not in the library: there "
                                      "is nothing to remove. Import it to keep it listed.")
                              .format(name=model.name), error=True)
            return
        what = (self.tr("Its files will be deleted.") if model.source == "download"
                else self.tr("Its files stay where they are."))
        question = self.tr("Remove {name}? {what}").format(name=model.name, what=what)
        if confirm:
            box = QMessageBox(QMessageBox.Icon.Question, self.tr("Remove model"), question,
                              QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
            box.setTextFormat(Qt.TextFormat.PlainText)  # a model's name is not markup
            if box.exec() != QMessageBox.StandardButton.Yes:
                return
        self.show_message(self.tr("Removing {name}…").format(name=model.name))
        self.tasks.library.remove(model.model.id if isinstance(model, InstalledRow) else model.id)

    @Slot(object)
    def _on_removed(self, model) -> None:
        self.show_message(self.tr("Removed {name}.").format(name=model.name))
        self.refresh_installed()

    def import_path(self, path: str) -> None:
        """Validate and list a model on the library thread (an ONNX folder is read whole)."""
        self.show_message(self.tr("Checking {path}…").format(path=path))
        self.tasks.library.import_path(path)

    def _import(self, folder: bool) -> None:
        path = (QFileDialog.getExistingDirectory(self, self.tr("Import an ONNX GenAI folder")) if folder else
                QFileDialog.getOpenFileName(self, self.tr("Import a GGUF file"), "", "GGUF (*.gguf)")[0])
        if path:
            self.import_path(path)

    def discover(self) -> None:
        self.find_button.setEnabled(False)
        self.show_message(self.tr("Looking for models…"))
        self.tasks.library.discover()

    @Slot(object)
    def _on_imported(self, outcome: ImportOutcome) -> None:
        self.refresh_installed()
        if not outcome.discovery:
            (model,) = outcome.added
            self.show_message(self.tr("Imported {name} (left where it is).").format(name=model.name))
            return
        self.find_button.setEnabled(True)
        if outcome.skipped:
            path, error = outcome.skipped[-1]
            self.show_message(self.tr("Skipped {path}: {error}").format(path=path, error=error), error=True)
            return
        self.show_message(self.tr("Found {count} model(s) from other apps; listed without copying.")
                          .format(count=outcome.found)
                          if outcome.found else self.tr("No models from other apps were found."))

    def download_variant(self, model, variant) -> None:
        from desktop.models.fit_catalog import download_spec

        spec = download_spec(model, variant)
        self.start_download(variant.id, spec["name"], spec=spec)

    def _download_selected_variant(self) -> None:
        row = self._selected(self.catalog_view, self.catalog_proxy)
        if row is not None:
            self.download_variant(row.model, row.variant)

    def start_download(self, key: str, title: str, spec: dict | None = None, plan=None) -> None:
        if self.library.get(key) is not None:
            self.show_message(self.tr("{title} is already installed.").format(title=title))
            return
        row = self.downloads.get(key)
        if row is None:
            row = DownloadRow(key, title, self.tasks)
            item = QListWidgetItem(self.download_list)
            item.setSizeHint(row.sizeHint())
            self.download_list.setItemWidget(item, row)
            self.downloads[key] = row
            self._show_downloads()
        elif row.running:
            return
        row.spec, row.plan = spec, plan
        row.start()

    def _show_downloads(self) -> None:
        self.downloads_label.show()
        self.download_list.show()

    def _offer_paused_downloads(self) -> None:
        from desktop.models.downloads import pending

        for plan in pending(self.library):
            row = DownloadRow(plan.id, plan.name, self.tasks)
            row.plan = plan
            row.received = _bytes_on_disk(plan, self.library)
            item = QListWidgetItem(self.download_list)
            item.setSizeHint(row.sizeHint())
            self.download_list.setItemWidget(item, row)
            self.downloads[plan.id] = row
            self._show_downloads()
            row.stopped("paused", self.tr("Paused in an earlier session. What arrived is kept: Resume.")
                        if row.received else self.tr("Not started in an earlier session: Download "
                                                     "starts it."))

    # -- Hugging Face search ---------------------------------------------------------------------
    def search(self) -> None:
        self.show_message(self.tr("Searching…"))
        self.search_cancel_button.setEnabled(True)
        self._search_id = self.tasks.hub.search(self.search_edit.text().strip())

    def _escape(self) -> None:
        """Esc: stops a search that is being waited for, else closes the window."""
        if self._search_id:
            self.cancel_search()
        else:
            self.close()

    def cancel_search(self) -> None:
        """Cancel button or Esc: stop waiting; the cancelled search's answer is ignored."""
        if not self._search_id:
            return
        self._search_id = 0
        self.tasks.hub.cancel_search()
        self.search_cancel_button.setEnabled(False)
        self.show_message(self.tr("Search cancelled."))

    @Slot(int, object)
    def _on_search_results(self, search_id: int, results) -> None:
        if search_id != self._search_id:
            return  # cancelled, or an older search
        self._search_id = 0
        self.search_cancel_button.setEnabled(False)
        self.search_model.set_rows(list(results))
        self.show_message(self.tr("{count} repositories found.").format(count=len(results)))

    @Slot(int, str)
    def _on_search_failed(self, search_id: int, message: str) -> None:
        if search_id != self._search_id:
            return
        self._search_id = 0
        self.search_cancel_button.setEnabled(False)
        self.show_message(message, error=True)

    def _inspect_selected_repo(self, current, _previous=None) -> None:
        row = current.data(Roles.Row) if current.isValid() else None
        if row is not None:
            self.repo_files.clear()
            self.tasks.hub.inspect(row.repo_id)

    @Slot(str, object)
    def _on_repo_loaded(self, repo_id: str, info) -> None:
        self.repo_files.clear()
        for f in info.gguf_files():
            item = QListWidgetItem(f"GGUF  {f.path}  ({format_bytes(f.size or None)})")
            item.setData(Qt.ItemDataRole.UserRole, {"repo_id": repo_id, "filename": f.path})
            self.repo_files.addItem(item)
        for folder in info.onnx_folders():
            total = sum(f.size for f in info.folder_files(folder))
            name = folder or self.tr("(top folder)")
            item = QListWidgetItem(f"ONNX  {name}  ({format_bytes(total or None)})")
            item.setData(Qt.ItemDataRole.UserRole, {"repo_id": repo_id, "subfolder": folder})
            self.repo_files.addItem(item)
        if not self.repo_files.count():
            self.show_message(self.tr("{repo} has no GGUF file or ONNX GenAI folder.").format(repo=repo_id))

    def _download_repo_item(self) -> None:
        item = self.repo_files.currentItem()
        if item is None:
            return
        spec = item.data(Qt.ItemDataRole.UserRole)
        key = f"{spec['repo_id']}/{spec.get('filename') or spec.get('subfolder')}"
        self.start_download(key, key, spec=spec)

    # -- download events ---------------------------------------------------------------------
    @Slot(str, object)
    def _on_started(self, key: str, plan) -> None:
        row = self.downloads.get(key)
        if row is not None:
            row.plan = plan  # a resume uses the same pinned commit
            row.status.setText(self.tr("Starting…"))

    @Slot(str, object)
    def _on_progress(self, key: str, progress) -> None:
        row = self.downloads.get(key)
        if row is not None and row.running:
            row.progress(progress)

    @Slot(str, object)
    def _on_finished(self, key: str, model) -> None:
        row = self.downloads.get(key)
        if row is not None:
            row.running = False
            row.bar.setValue(1000)
            row.status.setText(self.tr("Installed and verified: {path}").format(path=model.path))
            row.pause_button.setEnabled(False)
            row.cancel_button.setEnabled(False)
        self.refresh()

    @Slot(str, str, str)
    def _on_stopped(self, key: str, kind: str, message: str) -> None:
        row = self.downloads.get(key)
        if row is not None:
            row.stopped(kind, message)
        if kind in ("error", "disk", "verification"):
            self.show_message(message, error=True)

    def worker_owners(self) -> list:
        """The owners of this window's threads, for the app to stop with its own at exit
        (a running download is paused there: it resumes next time)."""
        return list(self.tasks.owners)

    def shutdown(self) -> bool:
        """At app exit: pause running downloads (they resume next time) and stop the threads,
        within LibraryTasks.SHUTDOWN_S. False if a thread had to be left behind (logged)."""
        return self.tasks.shutdown()
