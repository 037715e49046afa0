"""The window with a model on a server: the status bar says the chat goes to a server and where,
a reply streams into the chat, a reply cut mid-way keeps its text and says so; and the
"Connect to a server…" dialog lists a server's models on a worker, with errors in words.

The server here is the fault-injecting one (tests/helpers/fault_server.py), driven through the
real remote engine, worker, session and widgets; real servers are in test_remote_engine.py.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.models import remotes
from tests.test_remote_engine import _free_port


def _load_remote(window, qtbot, faults):
    saved = remotes.save_server(faults.base_url, ["fault-model"], name="Fault box")
    model_id = remotes.make_id(saved.id, "fault-model")
    with qtbot.waitSignal(window.host.model_loaded, timeout=20_000):
        window.load_model(model_id)
    return model_id


def test_the_status_bar_says_a_chat_goes_to_the_server_and_a_reply_streams(
        make_window, qtbot, faults, memory_keyring):
    faults.delay = 0.06
    faults.context_length = 8192
    faults.tokenize = True
    window = make_window(load=False)
    model_id = _load_remote(window, qtbot, faults)
    label = window.model_label.text()
    assert "remote" in label and f"127.0.0.1:{faults.port}" in label
    assert "palette(link)" in window.model_label.styleSheet()  # set apart from a local model
    assert faults.base_url in window.model_label.toolTip() and "Fault box" in window.model_label.toolTip()
    assert window.model_info.path == model_id and window.model_info.n_ctx == 8192

    seen = []
    window.host.chunk_generated.connect(lambda _rid, text: seen.append(text))
    with qtbot.waitSignal(window.session.reply_finished, timeout=20_000):
        window.send("Hello over there")
    reply = window.chat_view.messages()[-1]
    assert reply.text == "".join(faults.pieces)
    assert len(seen) > 3  # it streamed, piece by piece
    assert "fault-model on remote" in reply.footer.text()
    assert f"127.0.0.1:{faults.port}" in reply.footer.text()
    assert faults.requests[-1]["messages"][-1] == {"role": "user", "content": "Hello over there"}
    # The context meter counts for a remote model too, estimating: a draft still being typed
    # never goes to the server, not even to its tokenizer.
    qtbot.waitUntil(lambda: window.context_meter.state != "unknown", timeout=10_000)
    assert "8,192" in window.context_meter.label.text()
    counted = window.context_meter.label.text()
    window.prompt.setPlainText("a secret draft " * 20)
    qtbot.waitUntil(lambda: window.context_meter.label.text() != counted, timeout=10_000)
    assert not any("secret" in text for text in faults.tokenized)


def test_a_reply_cut_mid_way_keeps_its_text_and_says_so(make_window, qtbot, faults, memory_keyring):
    window = make_window(load=False)
    _load_remote(window, qtbot, faults)
    faults.mode = "cut"
    with qtbot.waitSignal(window.session.error_reported, timeout=20_000) as failed:
        window.send("Tell me something")
    reply = window.chat_view.messages()[-1]
    half = "".join(faults.pieces[: len(faults.pieces) // 2])
    assert reply.text == half
    assert "cut off" in reply.footer.text() and "cut off" in failed.args[0]
    stored = window.store.messages(window.session.current_id)[-1]
    assert (stored.content, stored.status) == (half, "error")


@pytest.mark.slow
def test_a_server_that_went_away_is_reported_and_the_local_model_stays(make_window, qtbot, memory_keyring,
                                                                      faults):
    remotes.save_server(faults.base_url, ["fault-model"], name="Fault box")  # saved, not chosen
    window = make_window()  # the local default model
    local = window.model_info
    saved = remotes.save_server(f"http://127.0.0.1:{_free_port()}/v1", ["m"], name="Gone box")
    with qtbot.waitSignal(window.host.model_load_failed, timeout=20_000) as failed:
        window.load_model(remotes.make_id(saved.id, "m"))
    assert "Could not connect" in failed.args[0]
    assert window.model_info == local and "remote" not in window.model_label.text()
    assert window.model_label.styleSheet() == ""
    window.session.params = {"max_tokens": 8, "temperature": 0}
    # Generous: on a machine shared by many test runs the first local reply can be slow.
    with qtbot.waitSignal(window.session.reply_finished, timeout=180_000):
        window.send("Still here?")  # the local model still answers
    assert window.chat_view.messages()[-1].text
    assert faults.requests == []  # a saved server gets no chat unless its model is the one in use


def test_the_dialog_lists_a_servers_models_and_adds_the_chosen_ones(qtbot, faults, memory_keyring):
    from desktop.ui.remote_dialog import RemoteDialog

    faults.models = ["big-model", "small-model"]
    faults.context_length = 32768
    faults.api_key = "sk-dialog"
    dialog = RemoteDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url_edit.setText(f"127.0.0.1:{faults.port}")
    dialog.key_edit.setText("sk-wrong")
    with qtbot.waitSignal(dialog.lister.failed_listing, timeout=10_000):
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert "key" in dialog.status.text() and "401" in dialog.status.text()
    assert dialog.url_edit.text() == f"127.0.0.1:{faults.port}"  # nothing typed is lost

    dialog.key_edit.setText("sk-dialog")
    with qtbot.waitSignal(dialog.lister.finished_listing, timeout=10_000):
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.models_list.count() == 2
    assert "32,768" in dialog.models_list.item(0).text()
    assert not dialog.add_button.isEnabled()  # nothing ticked yet
    dialog.models_list.item(1).setCheckState(Qt.CheckState.Checked)
    dialog.name_edit.setText("Lab server")
    dialog.timeout_spin.setValue(120)
    with qtbot.waitSignal(dialog.model_chosen) as chosen:
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    [model] = remotes.saved_models()
    assert chosen.args == [model.id]
    assert (model.server_name, model.model, model.base_url) == ("Lab server", "small-model", faults.base_url)
    assert remotes.get_api_key(remotes.parse_id(model.id)[0]) == "sk-dialog"
    assert "sk-dialog" not in (remotes._path()).read_text()
    assert remotes.servers()[0].read_timeout == 120


def test_the_dialog_test_can_be_cancelled_and_bad_addresses_are_explained(qtbot, faults, memory_keyring):
    from desktop.ui.remote_dialog import RemoteDialog

    dialog = RemoteDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url_edit.setText("ftp://nowhere")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert "not a server address" in dialog.status.text() and not dialog.progress.isVisible()

    faults.models_delay = 3
    dialog.url_edit.setText(faults.base_url)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()
    assert not dialog.test_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.progress.isVisible() and dialog.test_button.isEnabled()
    assert "Cancelled" in dialog.status.text()
    qtbot.wait(3500)  # the late answer is dropped
    assert dialog.models_list.count() == 0
    dialog.close()


def test_a_saved_server_can_be_picked_again_and_forgotten(qtbot, faults, memory_keyring):
    from desktop.ui.remote_dialog import RemoteDialog

    saved = remotes.save_server(faults.base_url, ["fault-model"], name="Fault box", api_key="sk-1")
    dialog = RemoteDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.server_combo.setCurrentIndex(dialog.server_combo.findData(saved.id))
    assert dialog.url_edit.text() == faults.base_url and dialog.name_edit.text() == "Fault box"
    assert dialog.checked_models() == ["fault-model"]
    assert dialog.key_edit.text() == "" and "stored" in dialog.key_edit.placeholderText()
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert remotes.servers() == [] and remotes.get_api_key(saved.id) is None
    assert dialog.server_combo.count() == 1


def test_add_and_use_loads_the_model_in_the_window(make_window, qtbot, faults, memory_keyring):
    from shiboken6 import isValid

    from desktop.ui.remote_dialog import RemoteDialog

    window = make_window(load=False)
    dialog = window.model_picker.connect_to_server()  # "Connect to a server…" in the picker
    assert isinstance(dialog, RemoteDialog) and dialog.isVisible()
    dialog.url_edit.setText(faults.base_url)
    with qtbot.waitSignal(dialog.lister.finished_listing, timeout=10_000):
        dialog.test_connection()
    assert dialog.checked_models() == ["fault-model"]  # the only model is ticked already
    loads = []
    window.host.model_loaded.connect(loads.append)
    with qtbot.waitSignal(window.host.model_loaded, timeout=20_000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.wait(500)
    assert len(loads) == 1  # loaded once
    qtbot.waitUntil(lambda: not isValid(dialog) or not dialog.isVisible(), timeout=5_000)  # closed
    assert window.model_info.path == remotes.saved_models()[0].id
    assert "remote" in window.model_label.text()


def test_stop_in_the_window_ends_a_remote_reply_within_a_second(make_window, qtbot, faults, memory_keyring):
    import time

    faults.delay = 0.2
    faults.pieces = [f" word{i}" for i in range(200)]
    window = make_window(load=False)
    _load_remote(window, qtbot, faults)
    seen = []
    window.host.chunk_generated.connect(lambda _rid, text: seen.append(text))
    window.send("Talk for a long time")
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=10_000)
    started = time.perf_counter()
    with qtbot.waitSignal(window.session.reply_finished, timeout=5_000) as finished:
        window.session.stop()
    # Well within a second on an idle machine; the reply would run on for 40 s. Room for a
    # loaded one (two shared cores).
    assert time.perf_counter() - started < 3.0
    assert finished.args[0].finish_reason == "cancelled"
    reply = window.chat_view.messages()[-1]
    assert reply.text.startswith(" word0 word1") and "Stopped" in reply.footer.text()
    assert faults.disconnected.wait(2)  # the server saw the request closed
