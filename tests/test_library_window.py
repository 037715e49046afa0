"""The Library view with real widgets, the real catalog and downloads from a local Hub."""

import pytest
from PySide6.QtCore import Qt

from desktop.models.library import Library
from desktop.ui.library_window import LibraryWindow
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
    assert window.installed_model.rowCount() == 1
    assert window.catalog_model.rowCount() >= 30
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
    recommended = [window.catalog_model.index(r, 5).data() for r in range(window.catalog_model.rowCount())]
    assert any(text.endswith("★") for text in recommended)


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
    assert window.installed_model.rowCount() == 1
    chosen = []
    window.model_chosen.connect(chosen.append)
    window.installed_view.setCurrentIndex(window.installed_model.index(0, 0))
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
    from tests.test_library import MemoryKeyring

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
