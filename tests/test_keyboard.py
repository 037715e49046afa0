"""The keyboard in the real window: each flow a user leans on, pressed as keys (pytest-qt).

Keys go to the widget that has the focus, as a user's would; the window's shortcuts (Ctrl+N,
Esc, F2) go through Qt's shortcut map from there.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.ui.conversation_list import DRAFT_ID, Roles
from tests.conftest import LONG_PROMPT


def focus(qtbot, widget):
    widget.window().activateWindow()
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=2000)


def focused(qtbot, widget, timeout=2000):
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=timeout)
    return True


@pytest.fixture
def chats(make_window):
    """A window (no model) on two stored chats, the older one open."""
    window = make_window(load=False)
    store = window.store
    trip = store.create_conversation("Trip to Paris")
    store.add_message(trip.id, "user", "What is the capital of France?")
    store.add_message(trip.id, "assistant", "The capital of France is Paris.")
    other = store.create_conversation("Onions")
    store.add_message(other.id, "user", "How do I chop an onion?")
    store.add_message(other.id, "assistant", "Carefully, with a sharp knife.")
    window.refresh_conversations()
    window.session.open_conversation(trip.id)
    return window, trip, other


def test_ctrl_n_selects_the_new_chat_and_puts_the_cursor_in_the_input(chats, qtbot):
    window, trip, other = chats
    focus(qtbot, window.conversation_list)
    qtbot.keyClick(window.conversation_list, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.session.current_id is None
    current = window.conversation_list.currentIndex()
    assert current.data(Roles.ConversationId) == DRAFT_ID and current.row() == 0
    assert window.conversation_list.selectionModel().isSelected(current)
    assert focused(qtbot, window.prompt)
    # What is typed next is the message, not a jump to another chat by its first letters.
    qtbot.keyClicks(QApplication.focusWidget(), "Onions are")
    assert window.prompt.toPlainText() == "Onions are"
    assert window.session.current_id is None
    assert window.chat_stack.currentWidget() is window.welcome


def test_typing_in_the_chat_list_does_not_jump_to_another_chat(chats, qtbot):
    window, trip, other = chats
    focus(qtbot, window.conversation_list)
    qtbot.keyClicks(window.conversation_list, "Oni")
    assert window.session.current_id == trip.id


def test_after_a_message_action_the_keys_go_back_to_the_input(chats, qtbot):
    window, trip, _other = chats
    user, reply = window.chat_view.messages()
    button = reply.copy_button
    button.show()
    focus(qtbot, button)
    qtbot.keyClick(button, Qt.Key.Key_Space)  # a keyboard press of Copy
    assert QApplication.clipboard().text() == "The capital of France is Paris."
    assert focused(qtbot, window.prompt)
    qtbot.keyClicks(QApplication.focusWidget(), "Thanks")
    assert window.prompt.toPlainText() == "Thanks"


def test_after_regenerate_the_keys_are_in_the_input(make_window, qtbot):
    window = make_window()
    window.session.params = {"temperature": 0, "max_tokens": 8}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Say hi")
    reply = window.chat_view.messages()[-1]
    focus(qtbot, reply.redo_button)
    window.session.params = {"temperature": 0.9, "seed": 5, "max_tokens": 8}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        reply.redo_button.click()
    assert focused(qtbot, window.prompt)
    assert window.chat_view.messages()[-1]._versions == (2, 2)


def test_down_and_enter_move_from_the_search_field_into_its_hits(chats, qtbot):
    window, trip, other = chats
    window.new_chat()
    focus(qtbot, window.search_panel.field)
    qtbot.keyClicks(window.search_panel.field, "capital")
    qtbot.waitUntil(lambda: window.search_panel.model.rowCount() == 2, timeout=3000)
    results = window.search_panel.results
    qtbot.keyClick(window.search_panel.field, Qt.Key.Key_Down)
    assert focused(qtbot, results) and results.currentIndex().row() == 0
    qtbot.keyClick(results, Qt.Key.Key_Down)
    assert results.currentIndex().row() == 1
    qtbot.keyClick(results, Qt.Key.Key_Return)
    assert window.session.current_id == trip.id
    # The hit stays marked in the results, and its words are marked in the message.
    assert results.selectionModel().isSelected(results.currentIndex())
    message_id, marks = window.highlighted
    assert marks >= 1
    widget = window.binder.widgets[message_id]
    assert widget.body.extraSelections()[0].cursor.selectedText().lower() == "capital"
    # Up from the first hit goes back to the field.
    results.setCurrentIndex(window.search_panel.model.index(0, 0))
    qtbot.keyClick(results, Qt.Key.Key_Up)
    assert focused(qtbot, window.search_panel.field)


def test_enter_in_the_search_field_opens_the_first_hit(chats, qtbot):
    window, trip, other = chats
    window.new_chat()
    focus(qtbot, window.search_panel.field)
    qtbot.keyClicks(window.search_panel.field, "onion")
    qtbot.keyClick(window.search_panel.field, Qt.Key.Key_Return)  # before the pause: searched now
    assert window.session.current_id == other.id
    assert window.highlighted[1] >= 1


def test_tab_goes_input_send_chat_settings_then_the_messages(chats, qtbot):
    window, _trip, _other = chats
    focus(qtbot, window.prompt)
    order = []
    for _ in range(3):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order[0] is window.send_button
    assert order[1] is window.chat_settings_button  # Stop is skipped: nothing is running
    assert window.chat_view.isAncestorOf(order[2]) or order[2] is window.chat_view
    # Shift+Tab walks back.
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is window.chat_settings_button


def test_esc_closes_the_drawer_it_is_in(chats, qtbot):
    window, _trip, _other = chats
    window.show_chat_settings(False)  # as an earlier test's window may have left it
    window.chat_settings_action.trigger()
    assert window.chat_settings.isVisible()
    assert focused(qtbot, window.chat_settings.system_edit)
    qtbot.keyClick(window.chat_settings.system_edit, Qt.Key.Key_Escape)
    assert not window.chat_settings.isVisible() and not window.chat_settings_button.isChecked()
    assert focused(qtbot, window.prompt)
    # Opened again and the keys left in the input: Esc still closes it.
    window.show_chat_settings(True, focus=False)
    focus(qtbot, window.prompt)
    qtbot.keyClick(window.prompt, Qt.Key.Key_Escape)
    assert not window.chat_settings.isVisible()


def test_esc_ends_a_search(chats, qtbot):
    window, _trip, _other = chats
    focus(qtbot, window.search_panel.field)
    qtbot.keyClicks(window.search_panel.field, "capital")
    qtbot.waitUntil(lambda: window.search_panel.model.rowCount() == 2, timeout=3000)
    assert not window.conversation_list.isVisible()
    qtbot.keyClick(window.search_panel.field, Qt.Key.Key_Escape)
    assert window.search_panel.field.text() == "" and window.conversation_list.isVisible()
    assert focused(qtbot, window.prompt)


def test_esc_stops_a_reply_even_with_the_drawer_open(make_window, qtbot):
    window = make_window()
    window.show_chat_settings(True, focus=False)
    window.session.params = {"temperature": 0, "max_tokens": 4000}
    with qtbot.waitSignal(window.host.chunk_generated, timeout=30_000):
        window.send(LONG_PROMPT)
    focus(qtbot, window.prompt)
    with qtbot.waitSignal(window.session.reply_finished, timeout=5_000) as done:
        qtbot.keyClick(window.prompt, Qt.Key.Key_Escape)
    assert done.args[0].finish_reason == "cancelled"
    assert window.chat_settings.isVisible()  # the first Esc stops; the next one closes it
    qtbot.keyClick(window.prompt, Qt.Key.Key_Escape)
    assert not window.chat_settings.isVisible()


def test_enter_sends_and_shift_enter_adds_a_line_in_the_edit_box_too(chats, qtbot):
    window, _trip, _other = chats
    user = window.chat_view.messages()[0]
    user.start_edit()
    editor = user.editor
    assert focused(qtbot, editor)
    editor.clear()
    qtbot.keyClicks(editor, "first")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(editor, "second")
    assert editor.toPlainText() == "first\nsecond"
    with qtbot.waitSignal(user.edit_submitted, timeout=2000) as sent:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert sent.args == ["first\nsecond"]


def test_esc_in_the_edit_box_cancels_the_edit_only(chats, qtbot):
    window, _trip, _other = chats
    window.show_chat_settings(True, focus=False)
    user = window.chat_view.messages()[0]
    user.start_edit()
    assert focused(qtbot, user.editor)
    qtbot.keyClick(user.editor, Qt.Key.Key_Escape)
    assert user.editor is None
    assert window.chat_settings.isVisible()


def test_f2_renames_the_chat_in_place_and_esc_cancels(chats, qtbot):
    window, trip, _other = chats
    focus(qtbot, window.conversation_list)
    qtbot.keyClick(window.conversation_list, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert window.conversation_list.isAncestorOf(editor) and editor.text() == "Trip to Paris"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert window.store.conversation(trip.id).title == "Trip to Paris"
    assert window.conversation_list.state() != window.conversation_list.State.EditingState
    # From anywhere: F2 (Chat ▸ Rename chat) edits the open chat's name in the list.
    focus(qtbot, window.prompt)
    qtbot.keyClick(window.prompt, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert window.conversation_list.isAncestorOf(editor)
    editor.selectAll()
    qtbot.keyClicks(editor, "Paris in May")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # committed from the event loop, as Qt does
    qtbot.waitUntil(lambda: window.store.conversation(trip.id).title == "Paris in May", timeout=2000)
    assert window.conversation_model.index(window.conversation_list.currentIndex().row()).data() == \
        "Paris in May"


def test_ctrl_b_hides_and_shows_the_chat_list_and_it_is_remembered(make_window, qtbot):
    window = make_window(load=False)
    focus(qtbot, window.prompt)
    qtbot.keyClick(window.prompt, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert not window.sidebar.isVisible() and not window.sidebar_action.isChecked()
    window.close()
    window.store.close()
    again = make_window(load=False)
    assert not again.sidebar.isVisible()
    focus(qtbot, again.prompt)
    qtbot.keyClick(again.prompt, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert again.sidebar.isVisible() and again.splitter.sizes()[0] >= again.sidebar.minimumWidth()
    # Ctrl+F shows it too, to search.
    qtbot.keyClick(again.prompt, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    again.search_action.trigger()
    assert again.sidebar.isVisible() and focused(qtbot, again.search_panel.field)
