"""Help ▸ Keyboard shortcuts: every shortcut of the window, read from its actions when the dialog
opens, so the list cannot drift from what the keys do."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

# Keys that belong to a widget rather than to an action (the input, the list, the search field).
# Kept beside the code that handles them: tests/test_keyboard.py presses each one.
WIDGET_KEYS = (
    ("Return", QT_TRANSLATE_NOOP("ShortcutsDialog", "Send the message (any message box)")),
    ("Shift+Return", QT_TRANSLATE_NOOP("ShortcutsDialog", "New line in the message")),
    ("Down", QT_TRANSLATE_NOOP("ShortcutsDialog", "From the search field into its results")),
    ("Tab", QT_TRANSLATE_NOOP("ShortcutsDialog", "Input → Send → Chat settings → messages")),
)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").rstrip(".")


def menu_actions(window: QWidget) -> list[tuple[str, QAction]]:
    """(menu title, action) for every action with a shortcut, in menu order, then any action
    with a shortcut that sits in no menu."""
    found: list[tuple[str, QAction]] = []
    seen: set[int] = set()

    def walk(menu_title: str, actions) -> None:
        for action in actions:
            if action.menu() is not None:
                walk(_plain(action.menu().title()), action.menu().actions())
            elif not action.isSeparator() and id(action) not in seen:
                seen.add(id(action))
                if not action.shortcuts():
                    continue
                found.append((menu_title, action))

    walk("", window.menuBar().actions() if hasattr(window, "menuBar") else [])
    others = [a for a in window.findChildren(QAction) if id(a) not in seen and a.shortcuts()]
    walk(QCoreApplication.translate("ShortcutsDialog", "Window"), others)
    return found


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(group, what it does, keys as this platform writes them) for the window's actions and
    the widget keys."""
    rows = []
    for menu, action in menu_actions(window):
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
        rows.append((menu, _plain(action.text()), keys))
    group = QCoreApplication.translate("ShortcutsDialog", "Writing and moving around")
    for key, what in WIDGET_KEYS:
        rows.append((group, QCoreApplication.translate("ShortcutsDialog", what),
                     QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget, parent=None):
        super().__init__(parent or window)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.resize(600, 600)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([self.tr("Action"), self.tr("Keys")])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.rows = shortcut_rows(window)
        groups: dict[str, QTreeWidgetItem] = {}
        for group, what, keys in self.rows:
            parent_item = groups.get(group)
            if parent_item is None:
                parent_item = groups[group] = QTreeWidgetItem(self.tree, [group])
                font = parent_item.font(0)
                font.setBold(True)
                parent_item.setFont(0, font)
                parent_item.setFirstColumnSpanned(True)
                parent_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            QTreeWidgetItem(parent_item, [what, keys])
        self.tree.expandAll()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
