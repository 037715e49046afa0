"""The app shell in the real window: the chat list by date, the drawer, the meter, the welcome,
the Help and Settings menus, live theme and the restart after a language change."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from desktop.ui.conversation_list import DRAFT_ID, ConversationListModel, Roles, date_group
from desktop.ui.theme import apply_theme, dark_palette, light_palette

DAY = 86400


def test_date_groups_by_local_day():
    today = dt.date(2026, 3, 10)
    noon = dt.datetime(2026, 3, 10, 12).timestamp()
    assert date_group(noon, today) == "today"
    assert date_group(dt.datetime(2026, 3, 10, 0, 1).timestamp(), today) == "today"
    assert date_group(dt.datetime(2026, 3, 9, 23, 59).timestamp(), today) == "yesterday"
    assert date_group(noon - 3 * DAY, today) == "week"
    assert date_group(noon - 7 * DAY, today) == "week"
    assert date_group(noon - 8 * DAY, today) == "older"
    assert date_group(noon + DAY, today) == "today"  # a clock set back


def test_the_list_shows_headings_and_a_new_chat_row(qtmodeltester):
    from desktop.storage import Conversation

    now = time.time()
    chats = [Conversation(i, title, now - age, now - age) for i, (title, age) in enumerate(
        [("a", 0), ("b", 60), ("c", DAY + 1), ("d", 3 * DAY), ("e", 4 * DAY), ("f", 40 * DAY)], 1)]
    model = ConversationListModel()
    model.set_conversations(chats)
    starts = [model.index(r).data(Roles.GroupStart) for r in range(model.rowCount())]
    groups = [model.index(r).data(Roles.Group) for r in range(model.rowCount())]
    assert groups == ["Today", "Today", "Yesterday", "Previous 7 days", "Previous 7 days", "Older"] \
        or dt.datetime.fromtimestamp(now - 60).date() != dt.date.today()  # run at midnight
    assert starts[0] and starts[2] and starts[3] and starts[5] and not starts[4]
    qtmodeltester.check(model)
    model.set_draft(True)
    assert model.index(0).data(Roles.ConversationId) == DRAFT_ID and model.rowCount() == 7
    assert model.index(0).data(Roles.GroupStart) and not model.index(1).data(Roles.GroupStart)
    assert not model.flags(model.index(0)) & Qt.ItemFlag.ItemIsEditable  # nothing to rename yet
    assert model.row_of(3) == 3
    qtmodeltester.check(model)


def test_the_list_paints_its_headings(make_window, qtbot):
    window = make_window(load=False)
    old = window.store.create_conversation("Old chat")
    window.store.add_message(old.id, "user", "hi")
    window.store._db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                             (time.time() - 30 * DAY, old.id))
    window.store._db.commit()
    window.refresh_conversations()
    rows = [window.conversation_list.visualRect(window.conversation_model.index(r))
            for r in range(window.conversation_model.rowCount())]
    # Each row starting a group is taller: its heading is drawn above it.
    assert [r.height() for r in rows][0] > window.conversation_list.fontMetrics().height() * 2
    image = window.conversation_list.viewport().grab().toImage()
    assert not image.isNull()


def test_the_drawer_scrolls_rather_than_clips_at_800_by_600(make_window, qtbot):
    window = make_window(load=False)
    window.resize(800, 600)
    window.show_chat_settings(True, focus=False)
    qtbot.waitUntil(lambda: window.chat_settings.width() >= window.chat_settings.minimumWidth())
    qtbot.wait(50)
    drawer = window.chat_settings
    body = drawer.widget()
    assert body.width() <= drawer.viewport().width()  # nothing cut off on the right
    assert body.minimumSizeHint().width() <= drawer.viewport().width()
    assert drawer.verticalScrollBar().maximum() > 0  # taller than the window: it scrolls
    sizes = window.splitter.sizes()
    assert sizes[1] >= 300 and sizes[0] >= window.sidebar.minimumWidth()
    # At the default width too.
    window.resize(1100, 720)
    qtbot.wait(50)
    assert drawer.widget().width() <= drawer.viewport().width()


def test_a_long_meter_text_wraps_and_leaves_the_list_alone(make_window, qtbot):
    window = make_window(load=False)
    window.resize(800, 600)
    window.show_chat_settings(False)  # as an earlier test may have left it
    qtbot.wait(50)
    before = window.splitter.sizes()[0]
    window.context_meter.set_unknown("Context: " + "a very long reason from the engine " * 12)
    qtbot.wait(50)
    assert window.splitter.sizes()[0] == before >= window.sidebar.minimumWidth()
    assert not window.context_meter.label.is_elided()  # read whole, on several lines
    assert window.context_meter.label.text().startswith("Context: a very long")


def test_the_empty_chat_welcomes_and_an_example_is_sent(make_window, qtbot):
    window = make_window()
    assert window.chat_stack.currentWidget() is window.welcome
    assert len(window.welcome.example_buttons) == 4
    window.session.params = {"temperature": 0, "max_tokens": 8}
    example = window.welcome.example_buttons[1]
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        qtbot.mouseClick(example, Qt.MouseButton.LeftButton)
    user = window.chat_view.messages()[0]
    assert user.text == example.prompt and window.prompt.toPlainText() == ""
    assert window.chat_stack.currentWidget() is window.chat_view
    window.new_chat()
    assert window.chat_stack.currentWidget() is window.welcome


def test_the_bundled_model_gets_a_better_model_card(make_window, qtbot, monkeypatch):
    import desktop.ui.welcome as welcome

    pick = SimpleNamespace(repo_id="org/Qwen-GGUF", name="Qwen2.5 1.5B Instruct", filename="q.gguf",
                           quantization="Q4_K_M", file_bytes=1_100_000_000, tokens_per_s=23.4,
                           label="usable")
    monkeypatch.setattr(welcome, "fetch_recommendation", lambda: pick)
    window = make_window()  # the bundled default model
    qtbot.waitUntil(lambda: window.welcome.card.isVisible(), timeout=5000)
    assert "Qwen2.5 1.5B Instruct ≈ 23 tok/s" in window.welcome.recommend_label.text()
    assert "Q4_K_M" in window.welcome.recommend_detail.text()
    shown = []
    library = SimpleNamespace(show_recommended=shown.append)
    monkeypatch.setattr(window, "show_library", lambda: library)
    qtbot.mouseClick(window.welcome.get_button, Qt.MouseButton.LeftButton)
    assert shown == [pick]  # the library opens on the model the card names
    # Another model loaded: no card.
    window.welcome.show_recommendation_for(False)
    assert not window.welcome.card.isVisible()


def test_no_recommendation_no_card(make_window, qtbot, monkeypatch):
    import desktop.ui.welcome as welcome

    monkeypatch.setattr(welcome, "fetch_recommendation", lambda: None)
    window = make_window()
    qtbot.wait(200)
    assert not window.welcome.card.isVisible()
    assert window.welcome.isVisible()


def test_shortcuts_dialog_lists_every_shortcut_of_the_window(make_window, qtbot):
    window = make_window(load=False)
    extra = QAction("Brand new thing", window, shortcut=QKeySequence("Ctrl+Alt+J"))
    window.chat_menu.addAction(extra)
    dialog = window.show_shortcuts()
    rows = {(what, keys) for _group, what, keys in dialog.rows}
    native = QKeySequence.SequenceFormat.NativeText
    for action in window.findChildren(QAction):
        if action.shortcuts():
            keys = ", ".join(s.toString(native) for s in action.shortcuts())
            assert any(keys == k for _w, k in rows), action.text()
    assert ("Brand new thing", "Ctrl+Alt+J") in rows
    assert any(k == "Ctrl+N" for _w, k in rows) and any(k == "Ctrl+B" for _w, k in rows)
    assert any(k == "Esc" for _w, k in rows) and any(k == "Ctrl+," for _w, k in rows)
    assert dialog.tree.topLevelItemCount() >= 3
    dialog.close()


def test_about_names_versions_and_licences(make_window, qtbot):
    from importlib import metadata

    import PySide6
    from PySide6.QtCore import qVersion

    import desktop

    window = make_window(load=False)
    dialog = window.show_about()
    text = dialog.text()
    labels = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert desktop.__version__ in labels and "Apache License 2.0" in labels
    assert qVersion() in text and PySide6.__version__ in text
    assert metadata.version("llama_cpp_python") in text
    assert metadata.version("onnxruntime-genai") in text
    assert "MIT" in text and "LGPL-3.0" in text
    dialog.close()


def test_settings_has_its_own_menu_a_shortcut_and_the_mac_role(make_window):
    window = make_window(load=False)
    action = window.settings_action
    assert action.shortcut().toString() == "Ctrl+,"
    assert action.menuRole() == QAction.MenuRole.PreferencesRole
    assert window.settings_menu.actions() == [action]
    titles = [a.text() for a in window.menuBar().actions()]
    assert "S&ettings" in titles and titles[-1] == "&Help"
    help_texts = [a.text() for a in window.help_menu.actions()]
    assert "&Keyboard shortcuts" in help_texts and "&About EdgeChat" in help_texts


def test_a_theme_switch_repaints_the_shell(make_window, qtbot, qapp):
    try:
        apply_theme(qapp, "light")
        window = make_window(load=False)
        window.show_chat_settings(True, focus=False)
        window.show_error("Something broke")
        muted = QPalette.ColorRole.PlaceholderText

        def color(widget):
            return widget.palette().color(widget.foregroundRole()).name()

        assert color(window.context_meter.label) == light_palette().color(muted).name()
        light_banner = window.banner.styleSheet()
        apply_theme(qapp, "dark")
        dark = dark_palette().color(muted).name()
        qtbot.waitUntil(lambda: color(window.context_meter.label) == dark, timeout=3000)
        assert color(window.welcome.subtitle) == dark
        assert color(window.chat_settings.defaults_label) == dark
        assert window.banner.styleSheet() != light_banner
        assert window.conversation_list.palette().color(QPalette.ColorRole.Base).lightness() < 128
    finally:
        apply_theme(qapp, "system")


def test_restart_now_after_a_language_change_restarts_on_the_same_chat(make_window, qtbot,
                                                                      monkeypatch):
    import desktop.ui.main_window as main_window
    from desktop.ui.settings_dialog import SettingsDialog

    window = make_window(load=False)
    chat = window.store.create_conversation("Kept")
    window.store.add_message(chat.id, "user", "hello")
    window.refresh_conversations()
    window.session.open_conversation(chat.id)
    dialog = SettingsDialog(window)
    try:
        assert not dialog.restart_button.isVisibleTo(dialog)
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("zh_CN"))
        assert dialog.restart_button.isVisibleTo(dialog)
        with qtbot.waitSignal(dialog.restart_requested):
            dialog.restart_button.click()
    finally:
        QSettings().setValue("ui/language", "system")
    started = []
    monkeypatch.setattr(main_window, "_start_again", lambda program, args: started.append((program, args)))
    monkeypatch.setattr(main_window, "_quit_soon", lambda: None)  # the test's app goes on
    window.restart()
    assert not window.isVisible()
    QApplication.instance().aboutToQuit.emit()
    program, args = main_window.restart_command()
    assert started == [(program, args)]
    assert args and "pytest" in " ".join(args)  # this very process's arguments
    assert QSettings().value(window._last_chat_key(), type=int) == chat.id
