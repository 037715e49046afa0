"""Theme, language and restored state of the real window."""

import pytest
from PySide6.QtWidgets import QApplication

from desktop.storage import ConversationStore
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import apply_theme, is_dark
from desktop.workers.generation import EngineHost


@pytest.fixture
def window_factory(qtbot, tmp_path):
    made = []

    def make():
        store = ConversationStore(tmp_path / "c.sqlite3")
        window = MainWindow(store, EngineHost())
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
        window.store.close()


def test_dark_and_light_themes_repaint_the_window(qapp, qtbot, window_factory):
    try:
        assert apply_theme(qapp, "dark") == "dark" and is_dark(qapp.palette())
        window = window_factory()
        assert is_dark(window.chat_view.palette()) and is_dark(window.prompt.palette())
        assert apply_theme(qapp, "light") == "light"
        # Widgets take the new palette from a posted change event, and the style sheets that
        # name palette colours are applied again after it.
        qtbot.waitUntil(lambda: not is_dark(window.prompt.palette()), timeout=2000)
        assert not is_dark(window.chat_view.palette())
    finally:
        apply_theme(qapp, "system")
    # Offscreen reports no colour scheme: "system" keeps the style's own (light) palette.
    assert not is_dark(qapp.palette())


def test_settings_dialog_switches_theme_and_stores_the_choice(qapp, window_factory):
    from PySide6.QtCore import QSettings

    from desktop.ui.settings_dialog import SettingsDialog

    window = window_factory()
    dialog = SettingsDialog(window)
    try:
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
        assert QSettings().value("ui/theme") == "dark" and is_dark(qapp.palette())
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("zh_CN"))
        assert QSettings().value("ui/language") == "zh_CN" and dialog.language_note.text()
    finally:
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("system"))
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("system"))
        dialog.close()
    assert not is_dark(qapp.palette())


def test_window_geometry_panels_and_the_open_chat_are_restored(qtbot, window_factory):
    first = window_factory()
    conversation = first.store.create_conversation("Kept open")
    first.store.add_message(conversation.id, "user", "hello")
    first.refresh_conversations()
    first.session.open_conversation(conversation.id)
    first.resize(760, 560)
    first.show_chat_settings(True)
    first.splitter.setSizes([300, 400, 200])
    sizes = first.splitter.sizes()
    first.close()
    second = window_factory()
    assert second.session.current_id == conversation.id
    assert [w.text for w in second.chat_view.messages()] == ["hello"]
    assert second.chat_settings.isVisible() and second.chat_settings_action.isChecked()
    assert second.size().width() == 760
    # Within a few pixels: the layout settles minimum widths after restoring.
    assert all(abs(a - b) <= 8 for a, b in zip(second.splitter.sizes(), sizes, strict=True))


def test_shortcuts_are_the_platform_ones(window_factory):
    from PySide6.QtGui import QKeySequence

    window = window_factory()
    # "Ctrl" in a QKeySequence is Cmd on macOS: one definition serves both.
    assert window.new_action.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert window.search_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    assert window.focus_action.shortcut().toString() == "Ctrl+L"
    assert window.stop_action.shortcut().toString() == "Esc"
    assert QApplication.instance() is not None
