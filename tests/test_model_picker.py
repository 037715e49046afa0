"""The model picker above the chat, the remembered model, and sending what cannot fit: the real
window, the real model (and a copy of it registered in the library, so there are two)."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QSettings, Qt

from desktop.ui import settings_keys
from desktop.ui.model_picker import load_at_start, same_model


@pytest.fixture(autouse=True)
def _no_remembered_model():
    QSettings().remove(settings_keys.LAST_MODEL)
    yield
    QSettings().remove(settings_keys.LAST_MODEL)


@pytest.fixture
def copy_installed(tmp_path, model_path):
    """A second model: a copy of the default GGUF, imported into the library."""
    from desktop.models.library import Library

    copy = tmp_path / "models" / "SmolLM2-copy.Q4_1.gguf"
    copy.parent.mkdir()
    shutil.copyfile(model_path, copy)
    Library().import_path(copy)
    return copy


def _actions(window):
    menu = window.model_picker.menu
    menu.aboutToShow.emit()  # the menu is filled as it opens
    return {a.text().split("\t")[0]: a for a in menu.actions() if a.text()}


def test_the_picker_lists_the_models_here_and_marks_the_loaded_one(make_window, copy_installed, model_path):
    window = make_window()
    picker = window.model_picker
    assert window.top_bar.indexOf(picker) >= 0  # in the chat column's top bar
    assert picker.button.text() == "SmolLM2-135M-Instruct"
    actions = _actions(window)
    bundled = actions["SmolLM2-135M-Instruct (bundled)"]
    copy = actions["SmolLM2-copy.Q4_1"]
    assert bundled.isChecked() and not copy.isChecked()
    assert "GGUF" in bundled.text() and "MB" in bundled.text()
    assert "Get more models…" in actions and "Load settings…" in [a.text().replace("&", "") for a in
                                                                   picker.menu.actions()]
    assert "Connect to a server…" in actions


def test_picking_a_model_loads_it_keeps_the_chat_and_is_remembered(make_window, qtbot, copy_installed,
                                                                   model_path):
    window = make_window()
    window.session.params = {"temperature": 0, "max_tokens": 8}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Hello")
    chat = window.session.current_id
    loading = []
    window.host.model_loaded.connect(lambda _info: loading.append(window.model_picker.button.text()))
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000) as loaded:
        _actions(window)["SmolLM2-copy.Q4_1"].trigger()
        assert window.model_picker.button.text() == "Loading SmolLM2-copy.Q4_1…"
        assert window.model_picker.progress.isVisibleTo(window.model_picker)
    assert same_model(loaded.args[0].path, str(copy_installed))
    assert not window.model_picker.progress.isVisibleTo(window.model_picker)
    assert _actions(window)["SmolLM2-copy.Q4_1"].isChecked()
    assert window.session.current_id == chat and len(window.chat_view.messages()) == 2  # chat kept
    assert same_model(QSettings().value(settings_keys.LAST_MODEL), str(copy_installed))
    # The next reply, in the same chat, names the model that wrote it.
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000) as done:
        window.send("And again")
    assert done.args[0].model == "SmolLM2-copy"  # the GGUF's name, from its file
    messages = window.chat_view.messages()
    assert "SmolLM2-copy on llama.cpp" in messages[-1].footer.text()
    assert "SmolLM2-135M-Instruct on llama.cpp" in messages[1].footer.text()  # the first reply's

    # A new start (the window rebuilt, the app's start-up path) loads the same model.
    window.close()
    again = make_window(load=False)
    with qtbot.waitSignal(again.host.model_loaded, timeout=60_000) as loaded:
        assert load_at_start(again)
    assert same_model(loaded.args[0].path, str(copy_installed))
    assert not again.banner.isVisible()


def test_a_remembered_model_that_is_gone_falls_back_to_the_bundled_one_with_a_note(
        make_window, qtbot, tmp_path, model_path):
    gone = tmp_path / "deleted.gguf"
    QSettings().setValue(settings_keys.LAST_MODEL, str(gone))
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000) as loaded:
        assert load_at_start(window)
    assert same_model(loaded.args[0].path, str(model_path))
    assert window.banner.isVisible()
    banner = window.banner.text()
    assert "deleted.gguf" in banner and "bundled model is loaded instead" in banner
    # A stand-in is said, not saved: the user's pick loads again once its file is back.
    assert QSettings().value(settings_keys.LAST_MODEL) == str(gone)


def test_a_remembered_model_that_fails_to_load_falls_back_too(make_window, qtbot, not_gguf, model_path):
    QSettings().setValue(settings_keys.LAST_MODEL, str(not_gguf))
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000) as loaded:
        load_at_start(window)
    assert same_model(loaded.args[0].path, str(model_path))
    assert "could not be loaded" in window.banner.text()



def test_a_remembered_server_model_whose_server_is_down_falls_back_too(make_window, qtbot, model_path):
    remotes = pytest.importorskip("desktop.models.remotes")
    # Port 9 (discard) refuses connections here: the server is down at start-up.
    saved = remotes.save_server("http://127.0.0.1:9/v1", ["big-model"], name="GPU box")
    remote_id = next(m.id for m in remotes.saved_models() if m.model == "big-model")
    QSettings().setValue(settings_keys.LAST_MODEL, remote_id)
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000) as loaded:
        load_at_start(window)
    assert same_model(loaded.args[0].path, str(model_path))
    assert "could not be loaded" in window.banner.text()
    assert saved.id in remote_id
    assert QSettings().value(settings_keys.LAST_MODEL) == remote_id  # tried again at the next start

@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen has no window stack
def test_get_more_models_opens_the_library(make_window, qtbot):
    window = make_window(load=False)
    _actions(window)["Get more models…"].trigger()
    assert window.library_window is not None and window.library_window.isVisible()


def test_send_is_refused_in_place_when_the_message_alone_cannot_fit(make_window, qtbot):
    window = make_window(n_ctx=512)
    meter = window.context_meter
    window.session.params = {"max_tokens": 256}
    text = "A very long message about many things. " * 60  # ~600 tokens; 256 free for it
    window.prompt.setPlainText(text)
    qtbot.waitUntil(lambda: meter.counted_draft == text.strip() and meter.state == "full", timeout=30_000)
    assert meter.settings_button.isVisible()
    qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    assert window.chat_view.messages() == [] and window.store.conversations() == []
    assert window.prompt.toPlainText() == text  # nothing typed is lost
    assert "Not sent" in meter.label.text() and "Context length" in meter.label.text()
    window.send_button.click()
    assert window.store.conversations() == []
    meter.settings_button.click()
    dialog = window.model_picker._load_settings_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=10_000)  # read on the job thread
    assert dialog.n_ctx.value() == 512
    dialog.reject()
    # Once it is short enough it goes.
    window.prompt.setPlainText("Short now.")
    qtbot.waitUntil(lambda: meter.counted_draft == "Short now." and meter.state == "ok", timeout=30_000)
    assert not meter.settings_button.isVisible()
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.session.params = {"max_tokens": 4}
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    assert len(window.chat_view.messages()) == 2


def test_an_error_naming_the_context_setting_offers_to_open_it(make_window, qtbot):
    from desktop.engines.base import ContextOverflowError
    from desktop.engines.context import context_setting, fit_messages

    window = make_window(n_ctx=4096)  # the model could take more (at its limit: another model)
    with pytest.raises(ContextOverflowError) as overflow:
        fit_messages([{"role": "user", "content": "x " * 100}], lambda m: 1000, 100)
    message = str(overflow.value)
    assert context_setting() in message and "Model ▸ Load settings… ▸ Context length" in message
    window.show_error(message)
    assert window.banner_fix.isVisible()
    window.banner_fix.click()
    dialog = window.model_picker._load_settings_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.reject()
    window.show_error("Something else went wrong.")
    assert not window.banner_fix.isVisible()
    window.banner.hide()
    assert not window.banner_fix.isVisible()
    # The menu the message names exists, with the action it names.
    model_menu = window.model_picker.model_menu
    assert model_menu.title().replace("&", "") == "Model"
    assert "Load settings…" in [a.text().replace("&", "") for a in model_menu.actions()]


def test_models_of_saved_servers_are_listed_apart(make_window, qtbot):
    remotes = pytest.importorskip("desktop.models.remotes")
    remotes.save_server("http://127.0.0.1:9/v1", ["qwen2.5-7b"], name="GPU box")
    window = make_window(load=False)
    actions = _actions(window)
    assert "qwen2.5-7b" in actions and "Server · GPU box" in actions["qwen2.5-7b"].text()
    sections = [a.text() for a in window.model_picker.menu.actions() if a.isSeparator() and a.text()]
    assert sections == ["On this computer", "On servers"]
    picked = []
    window.model_picker.model_chosen.disconnect()  # only the pick is checked: no server runs here
    window.model_picker.model_chosen.connect(picked.append)
    actions["qwen2.5-7b"].trigger()
    assert len(picked) == 1
    assert picked[0].startswith("remote://") and picked[0].endswith("/qwen2.5-7b")


def test_two_picks_in_a_row_end_on_the_second(make_window, qtbot, copy_installed, model_path):
    window = make_window()
    picker = window.model_picker
    loads = []
    window.host.model_loaded.connect(lambda info: loads.append(info.path))
    picker.choose(str(copy_installed))
    picker.choose(str(model_path))
    assert picker.button.text() == "Loading SmolLM2-135M-Instruct…"
    qtbot.waitUntil(lambda: len(loads) == 2, timeout=60_000)
    # After the first of the two loads, the picker still says the second is coming.
    assert picker.pending_id is None and same_model(picker.loaded_id, str(model_path))
    assert picker.button.text() == "SmolLM2-135M-Instruct"
