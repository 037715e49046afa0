"""The Library view with real widgets, the real catalog and downloads from a local Hub."""

import pytest
from PySide6.QtCore import Qt

from desktop.models.library import Library
from desktop.ui.library_window import LibraryWindow
from desktop.ui.table_model import Roles
from tests.hubserver import HubServer, point_huggingface_hub_at


@pytest.fixture
def hub(tmp_path, monkeypatch, model_path):
    server = HubServer()
    server.add_repo("bartowski/SmolLM2-135M-Instruct-GGUF",
                    {"SmolLM2-135M-Instruct-Q4_K_M.gguf": model_path.read_bytes()}, tags=["gguf"])
    with server:
        point_huggingface_hub_at(server, monkeypatch, tmp_path / "hf-home")
        yield server


@pytest.fixture
def window(qtbot, tmp_path):
    w = LibraryWindow(Library(tmp_path / "models"))
    qtbot.addWidget(w)
    w.show()
    # Hardware and the catalog's fit arrive from the library thread.
    qtbot.waitUntil(lambda: w.catalog is not None, timeout=30_000)
    yield w
    assert w.shutdown()


def test_models_pass_qtmodeltester(window, qtbot, qtmodeltester, model_path):
    window.library.import_path(model_path)
    with qtbot.waitSignal(window.tasks.library.surveyed, timeout=30_000):
        window.refresh()
    for model in (window.installed_model, window.catalog_model, window.catalog_proxy,
                  window.search_model):
        qtmodeltester.check(model)
    assert window.installed_model.rowCount() == 1  # the bundled file, imported: listed once
    # One row per model, its variants behind the picker.
    assert window.catalog_model.rowCount() == len(window.catalog.models) >= 20
    assert sum(len(r.variants) for r in window.catalog_model.rows()) >= 30
    assert "RAM" in window.hardware_label.text()


def test_catalog_filters_and_details(window):
    proxy = window.catalog_proxy
    everything = proxy.rowCount()
    window.format_filter.setCurrentIndex(2)  # ONNX
    onnx = proxy.rowCount()
    assert 0 < onnx < everything
    assert all(proxy.index(r, 2).data().startswith("ONNX") for r in range(onnx))
    window.fit_filter.setCurrentIndex(1)  # fits this machine: no DirectML/CUDA folders here
    assert all("needs" not in proxy.index(r, 5).data() for r in range(proxy.rowCount()))
    window.format_filter.setCurrentIndex(0)
    window.fit_filter.setCurrentIndex(0)
    window.catalog_search.setText("phi-3 mini")
    assert 0 < proxy.rowCount() < everything
    window.catalog_view.setCurrentIndex(proxy.index(0, 0))
    details = window.details.toPlainText()
    assert "Fit:" in details and "Needs about" in details and "Licence:" in details
    assert "Reasoning:" not in details
    # Models that think say how, so a user knows what the folded block and the switch are.
    for query, says in (("Qwen3 4B", "Think switch"), ("R1-Distill-Qwen 1.5B", "Always thinks")):
        window.catalog_search.setText(query)
        window.catalog_view.setCurrentIndex(proxy.index(0, 0))
        assert says in window.details.toPlainText()
    # Every variant says its speed here and what that means.
    for row in window.catalog_model.rows():
        for variant in row.variants:
            text = window._variant_text(variant)
            assert any(word in text for word in ("Fast", "Usable", "Slow", "Won't fit", "needs")), text
            if variant.fit.fits and variant.speed is not None:
                assert "tok/s" in text


def test_download_from_the_catalog_with_pause_and_resume(window, qtbot, hub):
    hub.slow("SmolLM2-135M-Instruct-Q4_K_M.gguf", 20_000_000)
    catalog = window.catalog
    model, variant = catalog.variant("gguf-smollm2-135m-instruct-q4_k_m")
    key = variant.id
    window.download_variant(model, variant)
    row = window.downloads[key]
    # What the user sees: the bar moves, with bytes and speed.
    qtbot.waitUntil(lambda: row.bar.value() > 0 and "MB/s" in row.status.text(), timeout=30_000)
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.pause_button.text() == "Resume", timeout=10_000)
    assert "Paused" in row.status.text()
    assert window.library.get(key) is None
    hub.clear_faults()
    hub.clear_requests()
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Installed and verified" in row.status.text(), timeout=60_000)
    (get,) = hub.requests_for("SmolLM2-135M-Instruct-Q4_K_M.gguf", "GET")
    assert get.range and get.range != "bytes=0-"  # resumed, not restarted
    installed = window.library.get(key)
    assert installed is not None and installed.source == "download"
    assert window.installed_model.rowCount() == 2  # with the bundled model
    chosen = []
    window.model_chosen.connect(chosen.append)
    (row,) = [i for i, r in enumerate(window.installed_model.rows()) if r.path == installed.path]
    window.installed_view.setCurrentIndex(window.installed_model.index(row, 0))
    window._use_selected()
    assert chosen == [installed.path]


def test_corrupt_download_is_reported_in_the_view(window, qtbot, hub):
    hub.corrupt("SmolLM2-135M-Instruct-Q4_K_M.gguf", 1000)
    model, variant = window.catalog.variant("gguf-smollm2-135m-instruct-q4_k_m")
    window.download_variant(model, variant)
    qtbot.waitUntil(lambda: "failed verification" in window.message.text(), timeout=60_000)
    assert window.library.get(variant.id) is None
    assert window.downloads[variant.id].pause_button.text() == "Retry"


def test_hugging_face_search_lists_quantizations(window, qtbot, hub):
    window.tabs.setCurrentIndex(2)
    window.search_edit.setText("SmolLM2")
    window.search()
    qtbot.waitUntil(lambda: window.search_model.rowCount() == 1, timeout=30_000)
    window.search_view.setCurrentIndex(window.search_model.index(0, 0))
    qtbot.waitUntil(lambda: window.repo_files.count() == 1, timeout=30_000)
    assert "SmolLM2-135M-Instruct-Q4_K_M.gguf" in window.repo_files.item(0).text()


def test_settings_store_and_clear_the_token(qtbot):
    import keyring

    from desktop.models import tokens
    from desktop.ui.settings_dialog import SettingsDialog
    from tests.helpers.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        dialog = SettingsDialog()
        qtbot.addWidget(dialog)
        assert "No token is stored" in dialog.status_label.text()
        qtbot.keyClicks(dialog.token_edit, "hf_settingstoken42")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert tokens.get_token() == "hf_settingstoken42"
        assert dialog.token_edit.text() == "" and "hf_settingstoken42" not in dialog.status_label.text()
        qtbot.mouseClick(dialog.clear_button, Qt.MouseButton.LeftButton)
        assert tokens.get_token() is None and ring.store == {}
    finally:
        keyring.set_keyring(previous)


def test_settings_without_a_keyring_explain_and_refuse(qtbot):
    import keyring
    from keyring.backends import fail

    from desktop.ui.settings_dialog import SettingsDialog

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # a bare Linux session: no Secret Service
    try:
        dialog = SettingsDialog()
        qtbot.addWidget(dialog)
        assert "never writes tokens in plain text" in dialog.status_label.text()
        assert not dialog.save_button.isEnabled() and not dialog.token_edit.isEnabled()
    finally:
        keyring.set_keyring(previous)


# -- the bundled model, the loaded one, the recommendation -----------------------------------------

def installed_rows(window) -> list:
    return window.installed_model.rows()


def test_the_bundled_model_is_installed_and_marked_when_loaded(window, qtbot, model_path):
    (bundled,) = installed_rows(window)
    assert bundled.bundled and bundled.path == str(model_path)
    assert window.installed_model.index(0, 5).data() == "Comes with EdgeChat"
    assert window.installed_model.index(0, 1).data() == ""
    window.set_loaded(str(model_path))
    assert installed_rows(window)[0].loaded
    assert window.installed_model.index(0, 1).data() == "● Loaded"
    assert "tok/s" in window.installed_model.index(0, 4).data()  # its speed here
    window.set_loaded(None)
    assert not installed_rows(window)[0].loaded


def test_enter_or_double_click_loads_an_installed_model(window, qtbot, model_path, tmp_path):
    import shutil

    copy = tmp_path / "copy.gguf"
    shutil.copyfile(model_path, copy)
    window.library.import_path(copy)
    window.refresh_installed()
    window.set_loaded(str(model_path))
    view = window.installed_view
    (row,) = [i for i, r in enumerate(installed_rows(window)) if r.path == str(copy.resolve())]
    window.tabs.setCurrentIndex(0)
    view.setFocus()
    view.setCurrentIndex(window.installed_model.index(row, 0))
    with qtbot.waitSignal(window.model_chosen, timeout=1_000) as chosen:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert chosen.args == [str(copy.resolve())]
    assert "Loading" in window.message.text()
    rect = view.visualRect(window.installed_model.index(row, 0))
    # A double click is a press and release, then the double-click event (as a mouse sends it).
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(window.model_chosen, timeout=1_000) as chosen:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert chosen.args == [str(copy.resolve())]
    # The loaded one is not loaded again: the window says it is already in use.
    (loaded,) = [i for i, r in enumerate(installed_rows(window)) if r.loaded]
    view.setCurrentIndex(window.installed_model.index(loaded, 0))
    with qtbot.assertNotEmitted(window.model_chosen):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert "loaded now" in window.message.text()


def test_remove_is_refused_for_the_bundled_model(window, qtbot, model_path):
    window.installed_view.setCurrentIndex(window.installed_model.index(0, 0))
    assert "cannot be removed" in window.remove_button.toolTip()
    with qtbot.assertNotEmitted(window.tasks.library.removed, wait=300):
        window._remove_selected(confirm=False)
    assert "comes with EdgeChat and cannot be removed" in window.message.text()
    assert model_path.exists() and installed_rows(window)[0].bundled


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen has no window stack
def test_variant_picker_and_recommendation(window, qtbot):
    rows = window.catalog_model.rows()
    assert window.recommendation is not None, "a 2-core machine with 20 GB still gets a pick"
    (pick,) = [r for r in rows if r.recommended_here]
    assert pick.variant.id == window.recommendation.variant_id
    assert "Recommended for this computer" in window.recommended_label.text()
    assert "tok/s" in window.recommended_label.text()
    window.tabs.setCurrentIndex(0)
    window.show_recommended()
    assert window.tabs.currentIndex() == 1
    current = window.catalog_view.currentIndex().data(Roles.Row)
    assert current is pick
    assert window.catalog_view.currentIndex().data().startswith("★ ")
    assert "Recommended for this computer" in window.details.toPlainText()
    # A model with several variants: the picker lists them, and picking one shows it.
    (index,) = [i for i, r in enumerate(rows) if r.model.id == "phi-3-mini-4k-instruct"]
    proxy_index = window.catalog_proxy.mapFromSource(window.catalog_model.index(index, 0))
    window.catalog_view.setCurrentIndex(proxy_index)
    picker = window.variant_picker
    assert picker.count() == 4 and picker.isEnabled()
    onnx_cpu = [i for i in range(picker.count()) if "ONNX cpu" in picker.itemText(i)][0]
    picker.setCurrentIndex(onnx_cpu)
    picker.activated.emit(onnx_cpu)
    row = window.catalog_model.row(index)
    assert row.variant.format == "onnx" and row.variant.execution_provider == "cpu"
    assert "ONNX cpu" in window.details.toPlainText()
    assert window.catalog_view.currentIndex().sibling(proxy_index.row(), 2).data() == "ONNX (cpu)"


def test_sorting_by_parameters_and_size_holds_above_two_to_the_31(window, qtbot):
    """8 B parameters and 5 GB files are past what a 32-bit int holds: they sort as numbers."""
    from desktop.ui.library_window import FilterProxy
    from desktop.ui.table_model import Column, RowsModel

    counts = [8_000_000_000, 1_000_000_000, 135_000_000, 3_800_000_000, 2**31 + 1, 2**31 - 1]
    model = RowsModel([Column("n", str, sort=lambda n: n)])
    model.set_rows(counts)
    proxy = FilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(0)
    assert [proxy.index(i, 0).data() for i in range(len(counts))] == [str(n) for n in sorted(counts)]
    model.sort(0, Qt.SortOrder.DescendingOrder)  # a view without a proxy sorts the model itself
    assert model.rows() == sorted(counts, reverse=True)
    # The real catalog, by the Params column and the Size column.
    view = window.catalog_view
    for column, key in ((1, lambda r: r.model.params), (4, lambda r: r.variant.download_size or 0)):
        view.sortByColumn(column, Qt.SortOrder.AscendingOrder)
        proxy = window.catalog_proxy
        shown = [proxy.index(i, 0).data(Roles.Row) for i in range(proxy.rowCount())]
        values = [key(r) for r in shown]
        assert values == sorted(values) and max(values) > 2**31 > min(values)


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen has no window stack
def test_the_main_window_marks_the_loaded_model_and_records_reply_speeds(make_window, qtbot, model_path,
                                                                           monkeypatch):
    """The hooks in the main window: a load marks the library's row; a reply's speed is kept
    when other programs left the CPU alone while it was written (as measured from the reply's
    start), and not when they kept it busy."""
    from desktop.models import speed
    from tests.conftest import LONG_PROMPT

    shares = []

    def others_share(since, now=None):
        assert since is not None, "the window marks the reply's start"
        return shares.pop(0)

    monkeypatch.setattr(speed, "others_share", others_share)
    window = make_window()
    window.session.params = {"temperature": 0, "max_tokens": 40}
    kept_speeds = []
    for share in (0.0, 0.9):  # quiet, then another program busy on most of the cores
        shares.append(share)
        with qtbot.waitSignal(window.session.reply_finished, timeout=60_000) as done:
            window.send(LONG_PROMPT)
        stats = done.args[0]
        assert stats.completion_tokens >= speed.MIN_TOKENS and stats.tokens_per_s
        kept_speeds.append(stats.tokens_per_s)
        qtbot.waitUntil(lambda: not window.session.busy, timeout=10_000)
    assert shares == []
    kept = speed._read()["measurements"]["llama"][window.model_info.path]
    assert kept["tokens_per_s"] == kept_speeds[:1] and kept["bytes"] == model_path.stat().st_size

    library = window.show_library()
    qtbot.waitUntil(lambda: library.catalog is not None, timeout=30_000)
    (row,) = [r for r in library.installed_model.rows() if r.loaded]
    assert row.bundled and row.path == str(model_path)
    assert row.speed is not None and "tok/s" in library.installed_model.index(0, 4).data()
    library.set_loaded(None)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(model_path))
    assert [r.loaded for r in library.installed_model.rows()] == [True]


def test_a_model_opened_from_a_file_is_listed_while_loaded(window, qtbot, model_path, tmp_path):
    import shutil

    opened = tmp_path / "elsewhere.gguf"
    shutil.copyfile(model_path, opened)
    window.set_loaded(str(opened))
    rows = installed_rows(window)
    assert [r.source for r in rows] == ["bundled", "opened"] and rows[1].loaded
    window.installed_view.setCurrentIndex(window.installed_model.index(1, 0))
    with qtbot.assertNotEmitted(window.tasks.library.removed, wait=200):
        window._remove_selected(confirm=False)
    assert "nothing to remove" in window.message.text() and opened.exists()
    window.set_loaded(str(model_path))
    assert [r.source for r in installed_rows(window)] == ["bundled"]


# -- the catalog at common window sizes, closing the window, downloads that never started --------

@pytest.mark.parametrize("size", [(800, 600), (1280, 800)])
def test_catalog_model_names_are_never_cut(window, qtbot, size):
    """The model column is as wide as its longest name, on screen, whatever the window's size;
    the size and the speed here stay in view beside it at 800×600 too."""
    window.resize(*size)
    window.tabs.setCurrentIndex(1)
    view, proxy = window.catalog_view, window.catalog_proxy
    header = view.horizontalHeader()
    qtbot.waitUntil(lambda: view.viewport().width() > 0 and header.sectionSize(0) > 0)
    qtbot.wait(50)  # the header sizes its sections in a queued layout pass
    metrics = view.fontMetrics()
    names = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert len(names) >= 20 and any(name.startswith("★ ") for name in names)
    widest = max(names, key=metrics.horizontalAdvance)
    assert header.sectionSize(0) >= metrics.horizontalAdvance(widest), widest
    assert header.sectionViewportPosition(0) == 0
    # The size and speed columns follow the name, all on screen.
    size_column, speed_column = 4, 5
    assert header.visualIndex(size_column) == 2 and header.visualIndex(speed_column) == 3
    right = header.sectionViewportPosition(speed_column) + header.sectionSize(speed_column)
    assert right <= view.viewport().width() + 1, (right, view.viewport().width())
    speeds = [proxy.index(r, speed_column).data() for r in range(proxy.rowCount())]
    assert header.sectionSize(speed_column) >= max(metrics.horizontalAdvance(t) for t in speeds)


def activate(window, qtbot) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


@pytest.mark.parametrize("how", ["escape", "ctrl+w", "button"])
def test_the_library_closes_with_esc_ctrl_w_or_its_close_button(window, qtbot, how):
    """Without a window manager there is no title bar to close it with: the window has its own
    Close button, and Esc and Ctrl+W close it from any tab."""
    for tab in range(window.tabs.count()):
        activate(window, qtbot)
        window.tabs.setCurrentIndex(tab)
        focus = (window.installed_view, window.catalog_search, window.search_edit)[tab]
        focus.setFocus()
        if how == "escape":
            qtbot.keyClick(focus, Qt.Key.Key_Escape)
        elif how == "ctrl+w":
            qtbot.keyClick(focus, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        else:
            assert window.close_button.isVisible() and window.close_button.text() == "Close"
            qtbot.mouseClick(window.close_button, Qt.MouseButton.LeftButton)
        assert not window.isVisible(), (how, tab)


def test_escape_during_a_search_stops_it_and_leaves_the_window_open(window, qtbot, hub):
    hub.delay("/api/models", 1.0)
    activate(window, qtbot)
    window.tabs.setCurrentIndex(2)
    window.search_edit.setFocus()
    window.search_edit.setText("tiny")
    window.search()
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Escape)
    assert window.message.text() == "Search cancelled." and window.isVisible()
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Escape)  # nothing to stop now: it closes
    assert not window.isVisible()


def test_a_download_that_never_started_offers_download_not_resume(window, qtbot, hub):
    hub.delay("/api/models", 2.0)  # the listing takes a while: Pause lands before any byte
    model, variant = window.catalog.variant("gguf-smollm2-135m-instruct-q4_k_m")
    assert not window.download_list.isVisible()
    window.download_variant(model, variant)
    row = window.downloads[variant.id]
    assert window.download_list.isVisible()
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not row.running, timeout=10_000)
    assert row.received == 0 and "before it started" in row.status.text()
    assert row.pause_button.text() == "Download" and row.pause_button.isEnabled()
    # Download starts it from the top (not "Resuming…"), and pausing after bytes came offers
    # Resume.
    hub.clear_faults()
    hub.slow("SmolLM2-135M-Instruct-Q4_K_M.gguf", 20_000_000)
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    assert row.status.text() == "Waiting…"
    qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=30_000)
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not row.running, timeout=10_000)
    assert row.received > 0 and row.pause_button.text() == "Resume"


def test_a_failure_before_the_first_byte_offers_retry(window, qtbot, hub):
    hub.fail_with("/api/models", status=404, times=None)
    model, variant = window.catalog.variant("gguf-smollm2-135m-instruct-q4_k_m")
    window.download_variant(model, variant)
    row = window.downloads[variant.id]
    qtbot.waitUntil(lambda: not row.running, timeout=30_000)
    assert row.received == 0 and row.pause_button.text() == "Retry"


def test_a_paused_download_from_an_earlier_session_says_whether_anything_arrived(qtbot, tmp_path, hub):
    from desktop.models.downloads import Downloader, plan_download, save_pending
    from desktop.models.fit_catalog import download_spec

    library = Library(tmp_path / "models")
    first = LibraryWindow(library)
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.catalog is not None, timeout=30_000)
    model, variant = first.catalog.variant("gguf-smollm2-135m-instruct-q4_k_m")
    assert first.shutdown()
    plan = plan_download(endpoint=hub.url, **download_spec(model, variant))
    save_pending(library, plan)  # planned, then the app quit before the first byte

    def reopened():
        window = LibraryWindow(library)
        qtbot.addWidget(window)
        return window, window.downloads[plan.id]

    window, row = reopened()
    assert row.pause_button.text() == "Download" and "Not started" in row.status.text()
    assert window.shutdown()
    part = Downloader(plan, library, token="")._part_path(plan.files[0])
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"\0" * 1000)  # some bytes arrived before the app quit
    window, row = reopened()
    assert row.received == 1000 and row.pause_button.text() == "Resume"
    assert "What arrived is kept" in row.status.text()
    assert window.shutdown()
