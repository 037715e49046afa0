"""A finished feel, in the real window: notices stay until closed, nothing stale is left on screen
after the world changed, every sentence is read whole, versions show without hovering, an error
is said once and in plain words, file dialogs open somewhere sensible, and small words are right.

Real widgets (pytest-qt), the real model, real SQLite, the real remote engine against the fault
server on loopback.
"""

from __future__ import annotations

import errno
import threading

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QFileDialog, QLabel

from desktop import notices
from desktop.models import remotes
from desktop.ui.conversation_list import DRAFT_ID, Roles
from tests.test_remote_engine import _free_port


@pytest.fixture(autouse=True)
def _no_leftover_notices():
    notices.drain()  # what an earlier test's code said is not this test's
    yield
    notices.drain()


def _load_remote(window, qtbot, faults):
    saved = remotes.save_server(faults.base_url, ["fault-model"], name="Fault box")
    with qtbot.waitSignal(window.host.model_loaded, timeout=20_000):
        window.load_model(remotes.make_id(saved.id, "fault-model"))


def _texts(window) -> list[str]:
    return [row.text() for row in window.banner.rows()]


# -- notices that stay ---------------------------------------------------------------------------
def test_start_up_notices_stay_after_the_model_loads_until_each_is_closed(make_window, qtbot):
    # Said by the core before the window exists (as run_app does for a damaged database)...
    notices.post("The chat database was damaged; it was moved aside to /tmp/x.damaged.")
    window = make_window(load=False)
    assert window.banner.isVisible() and "moved aside" in window.banner.text()
    # ...and from another thread once it is up (a settings file read by a worker).
    worker = threading.Thread(target=notices.post,
                              args=("models.json was damaged; kept as models.json.bad.",))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(window.banner.rows()) == 2, timeout=5000)
    # Loading a model no longer takes them away.
    from desktop.models.default_model import default_model_path

    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(default_model_path()))
    qtbot.wait(50)
    assert window.banner.isVisible() and len(window.banner.rows()) == 2
    # Nor does sending a message (that only clears an error).
    window.session.params = {"max_tokens": 2}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Hi")
    assert len(window.banner.rows()) == 2
    # Each row has its own close button; closing one leaves the other.
    first, second = window.banner.rows()
    assert first.close_button.isVisible() and second.close_button.isVisible()
    qtbot.mouseClick(first.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.banner.rows()) == 1)
    assert "models.json" in window.banner.text() and window.banner.isVisible()
    qtbot.mouseClick(window.banner.rows()[0].close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.banner.isVisible())
    assert notices.drain() == []  # shown means taken


def test_the_same_notice_twice_is_one_row(make_window, qtbot):
    window = make_window(load=False)
    window.show_notice("The model list was damaged.")
    window.show_notice("The model list was damaged.")
    notices.post("The model list was damaged.")
    qtbot.wait(50)
    assert _texts(window) == ["The model list was damaged."]


# -- stale state ---------------------------------------------------------------------------------
def test_the_error_banner_closes_with_its_button_reached_by_keyboard(make_window, qtbot):
    window = make_window(load=False)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.show_error("Could not write /nowhere/chat.md: the disk is full")
    [row] = window.banner.rows()
    button = row.close_button
    assert button.isVisible() and button.toolTip() and button.accessibleName()
    assert not button.icon().isNull()
    assert button.focusPolicy() & Qt.FocusPolicy.TabFocus
    button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.banner.isVisible())
    assert window.prompt.hasFocus()  # the keys are back where the user types
    # Esc on the button closes it too.
    window.show_error("Something else")
    window.banner.rows()[0].close_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(window.banner.rows()[0].close_button, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.banner.isVisible())


def test_a_failed_reply_is_said_in_the_reply_only_and_nothing_stays_after_a_regenerate(
        make_window, qtbot, faults, memory_keyring):
    window = make_window(load=False)
    _load_remote(window, qtbot, faults)
    window.statusBar().clearMessage()
    faults.mode = "500"
    with qtbot.waitSignal(window.session.error_reported, timeout=20_000):
        window.send("Hello?")
    reply = window.chat_view.messages()[-1]
    assert "out of memory" in reply.footer.text() and reply.footer.isVisible()
    # Said once: not again above the chat, nor in the status bar.
    assert not window.banner.isVisible()
    assert window.statusBar().currentMessage() == ""
    faults.mode = "ok"
    with qtbot.waitSignal(window.session.reply_finished, timeout=20_000):
        qtbot.mouseClick(reply.redo_button, Qt.MouseButton.LeftButton)
    reply = window.chat_view.messages()[-1]
    assert reply.text == "".join(faults.pieces) and "out of memory" not in reply.footer.text()
    assert not window.banner.isVisible()


def test_a_reply_that_fails_in_a_chat_left_behind_is_named_and_goes_when_opened(
        make_window, qtbot, faults, memory_keyring):
    window = make_window(load=False)
    _load_remote(window, qtbot, faults)
    faults.mode, faults.delay = "error_event", 0.3
    window.send("Tell me a story")
    failed_chat = window.session.current_id
    window.new_chat()  # the reply goes on in the chat left behind
    with qtbot.waitSignal(window.session.error_reported, timeout=20_000):
        pass
    assert window.banner.isVisible()
    text = window.banner.text()
    assert "Tell me a story" in text and "out of memory" in text
    # Opening that chat shows the failure in its reply; the line above goes.
    window.session.open_conversation(failed_chat)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=5000)
    assert "out of memory" in window.chat_view.messages()[-1].footer.text()


def test_after_ctrl_n_a_click_highlights_the_chat_that_opened(make_window, qtbot):
    window = make_window(load=False)
    store = window.store
    ids = [store.create_conversation(title).id for title in ("First", "Second", "Third")]
    store.add_message(ids[0], "user", "one")
    window.refresh_conversations()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.prompt, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    model, view = window.conversation_model, window.conversation_list
    assert model.conversation_id(0) == DRAFT_ID
    target = model.row_of(ids[1])  # "Second", below the new chat's row
    rect = view.visualRect(model.index(target))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.session.current_id == ids[1])
    qtbot.wait(50)
    selected = [i.data(Roles.ConversationId) for i in view.selectionModel().selectedIndexes()]
    assert selected == [ids[1]]
    assert view.currentIndex().data(Roles.ConversationId) == ids[1]


def test_the_meter_counts_the_new_chat_after_the_open_one_is_deleted(make_window, qtbot):
    window = make_window()
    meter = window.context_meter
    window.session.params = {"temperature": 0, "max_tokens": 24}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Name three colours, please, and say why you like each of them.")
    qtbot.waitUntil(lambda: meter.result is not None and meter.result.history > 20, timeout=30_000)
    # Some time later (the user reads the reply): nothing is being counted any more.
    qtbot.waitUntil(lambda: not window._count_timer.isActive(), timeout=30_000)
    qtbot.wait(500)
    assert meter.result.history > 20
    window.delete_conversation(window.session.current_id, confirm=False)
    assert window.session.current_id is None
    qtbot.waitUntil(lambda: meter.result is not None and meter.result.history == 0, timeout=30_000)
    assert meter.result.total == meter.result.system + meter.result.draft


def test_the_status_bar_forgets_the_last_models_speed_on_a_switch(make_window, qtbot, model_path):
    window = make_window()
    window.session.params = {"max_tokens": 8}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Hi")
    assert "tok/s" in window.speed_label.text()
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(model_path), n_ctx=1024)
    assert window.speed_label.text() == ""


# -- every sentence read whole -------------------------------------------------------------------
def _cut_words(window) -> list[str]:
    """Every visible label or button in the window whose words do not all show."""
    cut = []
    for widget in window.findChildren(QLabel):
        if not widget.isVisible() or not widget.text() or widget.textFormat() == Qt.TextFormat.RichText:
            continue
        if widget is window.model_label:  # a file's name; its tooltip has the whole path
            continue
        if window.welcome.isAncestorOf(widget):  # example prompts: one line each, by design
            continue
        if widget.wordWrap():
            need = widget.heightForWidth(widget.contentsRect().width())
            words = widget.text().split()
            widest = max(widget.fontMetrics().horizontalAdvance(w) for w in words)
            if need > widget.contentsRect().height() + 1 or widest > widget.contentsRect().width() + 1:
                cut.append(widget.text())
        else:
            elided = getattr(widget, "is_elided", None)
            widest = max(widget.fontMetrics().horizontalAdvance(line) for line in widget.text().splitlines())
            if (elided is not None and elided()) or widest > widget.contentsRect().width() + 1:
                cut.append(widget.text())
    for button in window.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and button.width() < button.sizeHint().width():
            cut.append(button.text())
    return cut


@pytest.mark.parametrize("size", [(800, 600), (1280, 800)])
def test_no_sentence_is_cut_with_the_drawer_open_and_a_message_refused(make_window, qtbot, size):
    window = make_window(n_ctx=512)
    window.resize(*size)
    window.show_chat_settings(True, focus=False)
    meter = window.context_meter
    window.session.params = {"max_tokens": 256}
    text = "A very long message about many things. " * 60
    window.prompt.setPlainText(text)
    qtbot.waitUntil(lambda: meter.counted_draft == text.strip() and meter.state == "full", timeout=30_000)
    assert "/ 512 tokens" in meter.label.text()
    # Once laid out (a wait for the layout, not for time: a cut word never passes).
    qtbot.waitUntil(lambda: _cut_words(window) == [], timeout=5000)
    window.send(text)
    assert meter.state == "refused" and meter.label.text().startswith("Not sent: with the system prompt")
    qtbot.waitUntil(lambda: not meter.label.is_elided() and _cut_words(window) == [], timeout=5000)
    assert meter.settings_button.isVisible()
    # An error said above the chat is read whole too.
    window.show_error("Could not write /home/someone/Documents/a chat with a long name.md: "
                      "the disk is full. Free some space and export again.")
    qtbot.waitUntil(lambda: _cut_words(window) == [], timeout=5000)


def test_copied_on_a_code_box_is_read_whole(make_window, qtbot):
    from tests.test_chat_view_modern import open_chat

    window = make_window(load=False)
    window.resize(800, 600)
    _user, reply = open_chat(window, qtbot)
    body = reply.body
    qtbot.waitUntil(lambda: body.copy_button(0) is not None and body.copy_button(0).isVisible())
    button = body.copy_button(0)
    right = button.geometry().right()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.text() == "Copied"
    assert button.width() >= button.sizeHint().width()
    assert button.geometry().right() == right  # it grew to the left, inside the box
    button.copied.reset()
    assert button.text() == "Copy" and button.geometry().right() == right


# -- versions in sight ---------------------------------------------------------------------------
def test_a_regenerated_reply_says_it_has_versions_without_hovering(make_window, qtbot):
    window = make_window()
    window.session.params = {"temperature": 0, "max_tokens": 6}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Say one word.")
    reply = window.chat_view.messages()[-1]
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        qtbot.mouseClick(reply.redo_button, Qt.MouseButton.LeftButton)
    # The pointer is elsewhere and the keys are in the input.
    window.prompt.setFocus()
    user, reply = window.chat_view.messages()
    from tests.test_chat_view_modern import hover

    hover(reply, inside=False)
    qtbot.wait(20)
    assert not reply.actions_shown
    assert reply.version_label.isVisible() and reply.version_label.text() == "2/2"
    assert reply.previous_button.isVisible() and reply.previous_button.isEnabled()
    assert not user.version_box.isVisible()  # one version: nothing to say
    # An edit gives the user's message versions: said the same way.
    user.start_edit()
    user.editor.setPlainText("Say two words.")
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        qtbot.keyClick(user.editor, Qt.Key.Key_Return)
    window.prompt.setFocus()
    user = window.chat_view.messages()[0]
    hover(user, inside=False)
    assert not user.actions_shown and user.version_label.isVisible()
    assert user.version_label.text() == "2/2"


# -- errors said once, in plain words ------------------------------------------------------------
def test_a_server_that_is_not_there_is_said_in_plain_words(make_window, qtbot, memory_keyring):
    window = make_window(load=False)
    window.statusBar().clearMessage()
    saved = remotes.save_server(f"http://127.0.0.1:{_free_port()}/v1", ["m"], name="Gone box")
    with qtbot.waitSignal(window.host.model_load_failed, timeout=20_000):
        window.load_model(remotes.make_id(saved.id, "m"))
    text = window.banner.text()
    assert "Could not connect" in text and "nothing is answering at that address" in text
    for jargon in ("Errno", "ConnectError", "Error)", "Connection refused"):
        assert jargon not in text
    assert window.statusBar().currentMessage() == ""  # said once, above the chat


def test_exceptions_from_outside_the_app_read_as_sentences():
    import socket

    from desktop.errors import plain_reason
    from desktop.workers.base import user_message

    assert plain_reason(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")) \
        == "nothing is answering at that address"
    assert plain_reason(socket.gaierror(-2, "Name or service not known")) \
        == "the server's name could not be found"
    assert plain_reason(OSError(errno.ENOSPC, "No space left on device")) == "the disk is full"

    class ConnectError(Exception):  # as a client library wraps the OS's error
        pass

    try:
        try:
            raise OSError(errno.ECONNREFUSED, "Connection refused")
        except OSError as inner:
            raise ConnectError("[Errno 111] Connection refused") from inner
    except ConnectError as outer:
        assert plain_reason(outer) == "nothing is answering at that address"
    assert plain_reason(ValueError("bad")) is None
    disk = user_message(OSError(errno.ENOSPC, "No space left on device"))
    assert "the disk is full" in disk and "Errno" not in disk and "OSError" not in disk
    bug = user_message(TypeError("unsupported operand"))
    assert "went wrong" in bug and "log" in bug and "TypeError" not in bug


# -- file dialogs ----------------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    (home / "config").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    for purpose in ("model", "onnx_folder", "import", "export"):
        QSettings().remove(f"dialogs/last_folder/{purpose}")
    return home


def test_file_dialogs_start_in_documents_and_remember_each_purpose(make_window, qtbot, home, tmp_path,
                                                                   monkeypatch, not_gguf):
    asked = []

    def open_file(_parent, _title, folder, _filter=""):
        asked.append(("open", folder))
        return answer.pop(0), ""

    def save_file(_parent, _title, suggested, _filter=""):
        asked.append(("save", suggested))
        return answer.pop(0), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_file))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_file))
    documents = str(home / "Documents")
    monkeypatch.chdir(tmp_path)  # the process's working folder is never where a dialog opens
    window = make_window(load=False)

    answer = [str(not_gguf)]
    with qtbot.waitSignal(window.host.model_load_failed, timeout=20_000):
        window.open_model_action.trigger()
    answer = [""]
    window.open_model_action.trigger()
    answer = [""]
    window.import_action.trigger()  # another purpose: Documents still
    assert asked == [("open", documents), ("open", str(not_gguf.parent)), ("open", documents)]

    # Export: a title ending in a dot gives one dot before the suffix, in Documents first.
    conversation = window.store.create_conversation("Name three colours.")
    window.store.add_message(conversation.id, "user", "Name three colours.")
    window.refresh_conversations()
    window.session.open_conversation(conversation.id)
    out = tmp_path / "exports"
    out.mkdir()
    asked.clear()
    answer = [str(out / "mine.json")]
    window.export_json_action.trigger()
    answer = [""]
    window.export_md_action.trigger()
    assert asked == [("save", str(home / "Documents" / "Name three colours.json")),
                     ("save", str(out / "Name three colours.md"))]
    qtbot.waitUntil((out / "mine.json").is_file, timeout=10_000)  # written off the window's thread
    # Remembered across starts (QSettings), not only in this window.
    window.close()
    again = make_window(load=False)
    asked.clear()
    answer = [""]
    again.open_model_action.trigger()
    assert asked == [("open", str(not_gguf.parent))]


@pytest.mark.parametrize("title, name", [
    ("Name three colours.", "Name three colours.json"),
    ("What is a/b? <html> ...", "What is a b html.json"),
    ("  ..  ", "chat.json"),
    ("CON", "chat CON.json"),
    ("x" * 300, "x" * 120 + ".json"),
])
def test_export_names_are_made_safe(title, name):
    from desktop.ui.file_dialogs import file_name

    assert file_name(title, ".json") == name


# -- small words -----------------------------------------------------------------------------------
def test_one_thread_is_one_thread(make_window, qtbot, model_path):
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(model_path), n_threads=1)
    label = window.model_label.text()
    assert "1 thread" in label and "1 threads" not in label
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(model_path), n_threads=2)
    assert "2 threads" in window.model_label.text()


def test_the_status_bar_gives_the_address_others_use(make_window, qtbot, monkeypatch):
    from desktop.ui import server_panel

    window = make_window()
    bridge = server_panel.bridge_for(window)
    bridge.start("127.0.0.1", 0)
    try:
        port = int(bridge.url.rsplit(":", 1)[1].split("/")[0])
        labels = [w for w in window.statusBar().findChildren(QLabel) if w.text().startswith("Serving at")]
        assert [w.text() for w in labels] == [f"Serving at http://localhost:{port}/v1"]
    finally:
        bridge.stop()
    monkeypatch.setattr(server_panel, "_lan_address", lambda: "192.168.1.20")
    assert server_panel.address_for_others("http://0.0.0.0:8080/v1") == "http://192.168.1.20:8080/v1"
    assert server_panel.address_for_others("http://10.0.0.5:8080/v1") == "http://10.0.0.5:8080/v1"


def test_tab_reaches_the_close_buttons(make_window, qtbot):
    window = make_window(load=False)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.show_error("A first problem")
    window.show_notice("A notice")
    buttons = {r.close_button for r in window.banner.rows()}
    window.prompt.setFocus()
    seen = set()
    for _ in range(60):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen |= {QApplication.focusWidget()} & buttons
        if seen == buttons:
            break
    assert seen == buttons


def test_damaged_settings_files_are_said_and_still_shown_after_the_model_loads(make_window, qtbot,
                                                                               data_dir):
    """The whole path: real damaged files, the real core reading them while the window starts and
    loads a model, and the notices still on screen after the load, each naming where the file went."""
    (data_dir / "models").mkdir(parents=True)
    (data_dir / "models" / "library.json").write_text('{"models": [', encoding="utf-8")
    (data_dir / "load_settings.json").write_bytes(b"\xff\xfe not json")
    window = make_window(load=True)
    qtbot.wait(100)
    text = window.banner.text()
    assert window.banner.isVisible()
    for name in ("library.json", "load_settings.json"):
        asides = [p for p in data_dir.rglob(name + ".damaged-*")]
        assert len(asides) == 1, name
        assert str(asides[0].name) in text
    assert len(window.banner.rows()) >= 2
