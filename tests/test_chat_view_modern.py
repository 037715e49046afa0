"""The conversation view's look and feel, in the real window: the centred column, bubbles,
icon actions that show on hover and focus and never move, "Copied" feedback, the code box's
copy button, focus back in the input after an action, and a live theme switch."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QEnterEvent, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop.storage import ConversationStore
from desktop.ui.chat_view import COLUMN_MAX, ChatView, bubble_color
from desktop.ui.markdown_view import _COLOURS, code_box_colors
from desktop.ui.theme import apply_theme, is_dark
from desktop.workers.generation import EngineHost

CODE = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)"
REPLY = f"Here is one:\n\n```python\n{CODE}\n```\n\nIt is slow for big n."


@pytest.fixture
def window(qtbot, tmp_path):
    from desktop.ui.main_window import MainWindow

    store = ConversationStore(tmp_path / "c.sqlite3")
    window = MainWindow(store, EngineHost())
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()
    store.close()


def open_chat(window, qtbot, versions: bool = False):
    """A stored chat: a question, a reply with a code block (two versions when asked)."""
    store = window.store
    conversation = store.create_conversation("Fibonacci")
    user = store.add_message(conversation.id, "user", "Write fib in Python.")
    store.add_message(conversation.id, "assistant", "An older answer.", meta={"stats": {"model": "Old-1B"}})
    if versions:
        store.add_message(conversation.id, "assistant", REPLY, parent_id=user.id,
                          meta={"stats": {"model": "SmolLM2-135M-Instruct"}})
    else:
        store.update_message(store.messages(conversation.id)[-1].id, REPLY,
                             meta={"stats": {"model": "SmolLM2-135M-Instruct"}})
    window.refresh_conversations()
    window.session.open_conversation(conversation.id)
    qtbot.waitUntil(lambda: len(window.chat_view.messages()) == 2)
    return window.chat_view.messages()


def hover(widget, inside: bool = True) -> None:
    if inside:
        QApplication.sendEvent(widget, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    else:
        from PySide6.QtCore import QEvent

        QApplication.sendEvent(widget, QEvent(QEvent.Type.Leave))


def in_view(view: ChatView, widget):
    return widget.geometry().translated(widget.parentWidget().mapTo(view, QPoint(0, 0)))


def test_user_bubbles_on_the_right_replies_over_the_column(qtbot):
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    user = view.add_message("user", "Hello there")
    reply = view.add_message("assistant", "A reply that is long enough to wrap over the column " * 8)
    reply.set_model("SmolLM2-135M-Instruct")
    qtbot.waitUntil(lambda: user.bubble.height() < 100 and reply.body.height() > 30)
    column = in_view(view, view.column)
    bubble = in_view(view, user.bubble)
    # A short message: a small bubble against the column's right edge.
    assert abs(bubble.right() - column.right()) <= 2
    assert bubble.width() < column.width() / 2
    assert bubble.left() > column.center().x()
    # The reply: no bubble, its text over the column's width, under the model's badge.
    assert reply.bubble is None
    body = in_view(view, reply.body)
    assert abs(body.left() - column.left()) <= 2 and body.width() >= column.width() - 4
    assert reply.badge.isVisible() and reply.badge.text() == "SmolLM2-135M-Instruct"
    assert in_view(view, reply.badge).bottom() <= body.top()
    assert not user.badge.isVisible()


@pytest.mark.parametrize("size", [(1920, 1080), (800, 600)])
def test_the_column_is_capped_and_centred_and_fits_a_small_window(window, qtbot, size):
    open_chat(window, qtbot)
    window.resize(*size)
    view = window.chat_view
    qtbot.waitUntil(lambda: window.width() == size[0])
    qtbot.wait(50)
    viewport = view.viewport().width()
    column = in_view(view, view.column)
    if size[0] == 1920:
        assert column.width() == COLUMN_MAX
        left, right = column.left(), viewport - column.right() - 1
        assert abs(left - right) <= 2 and left > 100  # side margins on a wide window
    else:
        assert window.width() <= 800  # nothing in the view made the window wider
        assert column.left() >= 8 and column.right() < viewport  # fits: nothing scrolls sideways
        for message in view.messages():
            assert in_view(view, message).right() < viewport
            assert in_view(view, message.body).right() < viewport


def test_actions_show_on_hover_and_focus_and_never_move(window, qtbot):
    user, reply = open_chat(window, qtbot)
    for message in (user, reply):
        assert not message.actions_shown and not message.copy_button.isVisible()
        hover(message)
        assert message.actions_shown and message.copy_button.isVisible()
        for button in (message.copy_button, message.redo_button, message.delete_button):
            assert button.toolTip() and button.text() == "" and not button.icon().isNull()
        hover(message, inside=False)
        assert not message.actions_shown
    # Hidden, the actions keep their room: the message does not grow when they show.
    height = reply.height()
    hover(reply)
    qtbot.wait(20)
    assert reply.height() == height
    hover(reply, inside=False)
    # The keyboard in a message shows its actions too (and Tab can reach them).
    window.activateWindow()
    reply.body.setFocus()
    qtbot.waitUntil(lambda: reply.actions_shown)
    qtbot.keyClick(reply.body, Qt.Key.Key_Tab)  # from the text to its first button
    qtbot.waitUntil(lambda: reply.copy_button.hasFocus())
    assert reply.actions_shown
    window.prompt.setFocus()
    qtbot.waitUntil(lambda: not reply.actions_shown)

    # A version switch appears beside the buttons without moving any of them.
    for message in (user, reply):
        hover(message)
        qtbot.wait(20)
        before = [in_view(window.chat_view, b) for b in
                  (message.copy_button, message.redo_button, message.delete_button)]
        message.set_versions(2, 2)
        qtbot.wait(50)
        after = [in_view(window.chat_view, b) for b in
                 (message.copy_button, message.redo_button, message.delete_button)]
        assert after == before
        assert message.version_label.text() == "2/2" and message.previous_button.isVisible()
        message.set_versions(10, 12)
        qtbot.wait(50)
        assert [in_view(window.chat_view, b) for b in
                (message.copy_button, message.redo_button, message.delete_button)] == before


def test_copy_says_copied_and_focus_returns_to_the_input(window, qtbot):
    _user, reply = open_chat(window, qtbot)
    window.activateWindow()
    hover(reply)
    reply.copy_button.setFocus()  # as if reached with Tab
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(reply.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == REPLY
    assert reply.copied.active and reply.copy_button.toolTip() == "Copied"
    assert reply.copy_button.property("edgechatIcon") == "mdi6.check|accent"
    qtbot.waitUntil(lambda: window.prompt.hasFocus(), timeout=2000)
    qtbot.waitUntil(lambda: not reply.copied.active, timeout=3000)
    assert reply.copy_button.property("edgechatIcon") == "mdi6.content-copy|muted"
    assert reply.copy_button.toolTip() != "Copied"


def test_a_code_block_copies_from_its_header_and_the_next_message_is_not_lost(window, qtbot):
    _user, reply = open_chat(window, qtbot)
    window.activateWindow()
    body = reply.body
    assert body.code_blocks() == [CODE]
    qtbot.waitUntil(lambda: body.copy_button(0) is not None and body.copy_button(0).isVisible())
    button = body.copy_button(0)
    assert button.text() == "Copy" and button.toolTip()
    # On the code box's own header line, on its right.
    header = next(h for i, _box, h in body._boxes() if i == 0)
    assert header.top() <= button.geometry().center().y() <= header.bottom()
    assert button.geometry().right() <= header.right() and button.geometry().left() > header.center().x()

    # The user had clicked in the reply (to select something), then copies the code.
    window.prompt.setPlainText("")
    body.setFocus()
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == CODE
    assert button.text() == "Copied"
    qtbot.waitUntil(lambda: window.prompt.hasFocus(), timeout=2000)
    qtbot.keyClicks(QApplication.focusWidget(), "next question")
    assert window.prompt.toPlainText() == "next question"


def test_the_edit_box_sends_on_enter_and_adds_a_line_on_shift_enter(window, qtbot):
    user, _reply = open_chat(window, qtbot)
    edited = []
    user.edit_submitted.connect(edited.append)
    user.start_edit()
    editor = user.editor
    assert editor is not None and editor.toPlainText() == "Write fib in Python."
    assert user.bubble.width() >= window.chat_view.column.width() - 2  # room to write
    editor.setPlainText("Write fib")
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(editor, "in Rust.")
    assert editor.toPlainText() == "Write fib\nin Rust." and edited == []
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert edited == ["Write fib\nin Rust."]


def test_a_theme_switch_repaints_bubbles_code_badges_and_icons_at_once(window, qtbot, qapp):
    try:
        apply_theme(qapp, "light")
        user, reply = open_chat(window, qtbot)
        view = window.chat_view
        body = reply.body
        qtbot.waitUntil(lambda: body.copy_button(0) is not None and body.copy_button(0).isVisible())

        def bubble_pixel() -> QColor:
            image = user.bubble.grab().toImage()
            return image.pixelColor(image.width() - 5, image.height() // 2)

        def code_pixel() -> QColor:
            _i, box, _header = next(body._boxes())
            image = body.grab().toImage()
            return image.pixelColor(int(box.left()) + 4, int(box.bottom()) - 3)

        def keyword_color() -> QColor:
            block = body.document().begin()
            while block.isValid():
                it = block.begin()
                while not it.atEnd():
                    if it.fragment().text().startswith("def"):
                        return it.fragment().charFormat().foreground().color()
                    it += 1
                block = block.next()
            raise AssertionError("no keyword")

        def icon_lightness() -> int:
            image = reply.copy_button.icon().pixmap(16, 16).toImage()
            return max(image.pixelColor(x, y).lightness() for x in range(16) for y in range(16)
                       if image.pixelColor(x, y).alpha() > 90)

        light = qapp.palette()
        assert bubble_pixel() == bubble_color(light)
        assert code_pixel() == code_box_colors(light)[0]
        assert keyword_color() == QColor(_COLOURS["keyword"][0])
        assert icon_lightness() < 128
        assert view.viewport().grab().toImage().pixelColor(2, 2) == light.color(QPalette.ColorRole.Base)

        apply_theme(qapp, "dark")
        dark = qapp.palette()
        qtbot.waitUntil(lambda: bubble_pixel() == bubble_color(dark), timeout=2000)
        assert code_pixel() == code_box_colors(dark)[0] and code_pixel().lightness() < 60
        assert keyword_color() == QColor(_COLOURS["keyword"][1])
        assert icon_lightness() > 128
        assert body.copy_button(0).isVisible()  # the box was drawn again, with its button
        assert view.viewport().grab().toImage().pixelColor(2, 2) == dark.color(QPalette.ColorRole.Base)
        badge = reply.badge.grab().toImage()
        assert badge.pixelColor(badge.width() // 2, 1).lightness() < 100  # a dark pill
        # The context meter's text follows too.
        meter = window.context_meter.label
        qtbot.waitUntil(lambda: is_dark(dark) and meter.palette().color(meter.foregroundRole())
                        == dark.color(QPalette.ColorRole.PlaceholderText), timeout=2000)
    finally:
        apply_theme(qapp, "system")


def test_a_reply_being_written_wears_its_model_badge_from_the_start(qtbot, tmp_path, model_path):
    from desktop.ui.chat_binder import ChatBinder
    from desktop.workers.chat_session import ChatSession
    from tests.test_reasoning_view import ThinkingEngine

    ThinkingEngine.go_on.clear()
    store = ConversationStore(tmp_path / "chats.sqlite3")
    host = EngineHost(ThinkingEngine)
    session = ChatSession(store, host)
    view = ChatView()
    qtbot.addWidget(view)
    ChatBinder(session, view)
    view.show()
    try:
        with qtbot.waitSignal(host.model_loaded, timeout=10_000):
            host.load(str(model_path))
        session.send("How many r's in strawberry?")
        reply = view.messages()[-1]
        # Shown while it is written, not put on at the end (which would push the reply down).
        qtbot.waitUntil(lambda: reply.thinking is not None and "count" in reply.thinking.text)
        assert session.busy and reply.badge.isVisible() and reply.badge.text() == "Thinker"
        ThinkingEngine.go_on.set()
        qtbot.waitUntil(lambda: not session.busy, timeout=10_000)
        assert reply.badge.isVisible() and reply.badge.text() == "Thinker"
    finally:
        ThinkingEngine.go_on.set()
        assert host.shutdown()
        store.close()
