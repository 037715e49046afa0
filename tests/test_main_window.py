"""The real window, offscreen, with the real model and a real SQLite file."""

import time

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument

from desktop.ui.conversation_list import DRAFT_ID
from desktop.ui.markdown_view import MarkdownView
from tests.conftest import LONG_PROMPT


def send_and_wait(qtbot, window, text, **params):
    window.session.params = {"temperature": 0, "max_tokens": 48, **params}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000) as done:
        qtbot.keyClicks(window.prompt, text)
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    return done.args[0]


def test_a_message_gets_a_streamed_reply_that_is_stored(make_window, qtbot):
    window = make_window()
    seen = []
    window.host.chunk_generated.connect(
        lambda _rid, _t: seen.append(len(window.chat_view.messages()[-1].text)))
    stats = send_and_wait(qtbot, window, LONG_PROMPT)
    assert window.prompt.toPlainText() == ""
    user, reply = window.chat_view.messages()
    assert user.text == LONG_PROMPT
    assert reply.text.strip() and stats.completion_tokens == 48
    assert len(seen) >= 2 and seen == sorted(seen)  # the view grew chunk by chunk
    conv = window.store.conversations()
    assert len(conv) == 1 and conv[0].title.startswith("Write a very long story")
    stored = window.store.messages(conv[0].id)
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "complete")]
    assert stored[1].content == reply.text
    assert stored[1].meta["stats"]["completion_tokens"] == 48
    assert stored[1].meta["stats"]["model"] == "SmolLM2-135M-Instruct"
    footer = reply.footer.text()
    assert "48 tokens" in footer and "tok/s" in footer and "first token" in footer
    assert "SmolLM2-135M-Instruct on llama.cpp (CPU)" in footer
    assert window.conversation_model.rowCount() == 1
    assert "tok/s" in window.speed_label.text()
    label = window.model_label.text()
    assert "SmolLM2-135M-Instruct" in label and "llama.cpp" in label and "CPU" in label


def test_shift_enter_adds_a_line_and_enter_sends(make_window, qtbot):
    window = make_window()
    qtbot.keyClicks(window.prompt, "first line")
    qtbot.keyClick(window.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.prompt, "second line")
    assert window.prompt.toPlainText() == "first line\nsecond line"
    assert window.chat_view.messages() == []
    window.session.params = {"max_tokens": 4}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    assert window.chat_view.messages()[0].text == "first line\nsecond line"


def test_multi_turn_in_the_window(make_window, qtbot):
    window = make_window()
    send_and_wait(qtbot, window, "My name is Zorblax.", max_tokens=16)
    send_and_wait(qtbot, window, "What is my name?", max_tokens=16)
    assert "Zorblax" in window.chat_view.messages()[-1].text
    assert len(window.store.messages(window.session.current_id)) == 4


def test_stop_ends_a_long_reply_quickly_and_keeps_the_text(make_window, qtbot):
    window = make_window()
    window.session.params = {"temperature": 0, "max_tokens": 4000}
    with qtbot.waitSignal(window.host.chunk_generated, timeout=30_000):
        qtbot.keyClicks(window.prompt, LONG_PROMPT)
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    assert window.stop_button.isEnabled() and not window.send_button.isEnabled()
    with qtbot.waitSignal(window.session.reply_finished, timeout=5_000) as done:
        clicked = time.perf_counter()
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    # Quick: the reply would run on for many seconds; room for a loaded machine.
    assert time.perf_counter() - clicked < 3.0
    assert done.args[0].finish_reason == "cancelled"
    reply = window.chat_view.messages()[-1]
    assert reply.text.strip()
    stored = window.store.messages(window.session.current_id)[-1]
    assert (stored.content, stored.status) == (reply.text, "stopped")
    assert "Stopped" in reply.footer.text()
    assert window.send_button.isEnabled() and not window.stop_button.isEnabled()


def test_escape_stops(make_window, qtbot):
    window = make_window()
    window.session.params = {"temperature": 0, "max_tokens": 4000}
    with qtbot.waitSignal(window.host.chunk_generated, timeout=30_000):
        window.send(LONG_PROMPT)
    with qtbot.waitSignal(window.session.reply_finished, timeout=5_000) as done:
        qtbot.keyClick(window.prompt, Qt.Key.Key_Escape)
    assert done.args[0].finish_reason == "cancelled"


def test_closing_during_a_reply_stops_the_thread_and_keeps_the_text(make_window, qtbot):
    window = make_window()
    window.session.params = {"temperature": 0, "max_tokens": 4000}
    with qtbot.waitSignal(window.host.chunk_generated, timeout=30_000):
        window.send(LONG_PROMPT)
    qtbot.wait(200)
    conversation_id = window.session.current_id
    window.close()
    assert window.host.thread.isFinished() and not window.host.thread.isRunning()
    stored = window.store.messages(conversation_id)[-1]
    assert stored.status == "stopped" and stored.content.strip()


def test_reopening_restores_conversations(make_window, qtbot):
    window = make_window()
    send_and_wait(qtbot, window, "Hello there", max_tokens=8)
    window.session.new_conversation()
    send_and_wait(qtbot, window, "Second chat", max_tokens=8)
    titles = [window.conversation_model.index(r).data() for r in range(2)]
    assert titles == ["Second chat", "Hello there"]
    window.close()
    window.store.close()

    again = make_window(load=False)
    model = again.conversation_model
    assert [model.index(r).data() for r in range(model.rowCount())] == titles
    again.conversation_list.setCurrentIndex(model.index(1))
    shown = again.chat_view.messages()
    assert [m.role for m in shown] == ["user", "assistant"]
    assert shown[0].text == "Hello there" and shown[1].text.strip()


def test_rename_and_delete(make_window, qtbot):
    window = make_window()
    send_and_wait(qtbot, window, "Name me", max_tokens=4)
    conversation_id = window.session.current_id
    index = window.conversation_model.index(0)
    assert window.conversation_model.setData(index, "Renamed", Qt.ItemDataRole.EditRole)
    assert window.conversation_model.index(0).data() == "Renamed"
    assert window.store.conversation(conversation_id).title == "Renamed"
    window.delete_conversation(conversation_id, confirm=False)
    # Only the new, unsaved chat the window moved to is left in the list.
    model = window.conversation_model
    assert [model.conversation_id(r) for r in range(model.rowCount())] == [DRAFT_ID]
    assert window.chat_view.messages() == []
    assert window.store.conversation(conversation_id) is None


@pytest.mark.parametrize("fixture, message", [
    ("not_gguf", "not a GGUF model file"),
    ("truncated_gguf", "truncated"),
])
def test_a_bad_model_file_is_reported_and_the_app_lives(make_window, qtbot, request, fixture,
                                                         message):
    window = make_window()
    send_and_wait(qtbot, window, "Before", max_tokens=4)
    with qtbot.waitSignal(window.host.model_load_failed, timeout=10_000):
        window.load_model(str(request.getfixturevalue(fixture)))
    assert window.banner.isVisible() and message in window.banner.text()
    # Nothing lost: the conversation is there and the loaded model still answers.
    assert "SmolLM2-135M-Instruct" in window.model_label.text()
    send_and_wait(qtbot, window, "After", max_tokens=4)
    assert len(window.store.messages(window.session.current_id)) == 4


def test_a_model_llama_cpp_refuses_is_reported(make_window, qtbot, unknown_arch_gguf, model_path):
    window = make_window()
    with qtbot.waitSignal(window.host.model_load_failed, timeout=30_000):
        window.load_model(str(unknown_arch_gguf))
    assert "could not load alien.gguf" in window.banner.text()
    # llama.cpp only refuses it after the old model was unloaded to make room: say so.
    assert window.model_label.text() == "No model loaded"
    window.send("Hello?")
    assert window.banner.isVisible() and "No model is loaded" in window.banner.text()
    assert window.chat_view.messages() == []
    # A good model brings the window back to work.
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(model_path))
    send_and_wait(qtbot, window, "Hello again", max_tokens=4)


def test_conversation_model_passes_qtmodeltester(make_window, qtbot, qtmodeltester):
    window = make_window(load=False)
    for title in ("a", "b", "c"):
        window.store.create_conversation(title)
    window.refresh_conversations()
    qtmodeltester.check(window.conversation_model)


def test_markdown_renders_and_loads_nothing(qtbot, tmp_path):
    image = tmp_path / "pixel.png"
    QImage(4, 4, QImage.Format.Format_RGB32).save(str(image))
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown(f"# Title\n\n**bold** and `code`\n\n![img]({image.as_uri()})")
    doc = view.document()
    assert doc.toPlainText().startswith("Title")
    assert doc.firstBlock().blockFormat().headingLevel() == 1
    # A plain QTextBrowser would read the file; ours resolves every resource to nothing.
    url = QUrl(image.as_uri())
    assert view.loadResource(QTextDocument.ResourceType.ImageResource.value, url) is None
    opened = []
    view.link_opened.connect(opened.append)
    view.anchorClicked.emit(QUrl("file:///etc/passwd"))
    view.anchorClicked.emit(QUrl("javascript:alert(1)"))
    assert opened == []
