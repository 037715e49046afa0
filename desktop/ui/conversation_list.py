"""The sidebar: conversations, most recent first, under date headings (Today, Yesterday,
Previous 7 days, Older), renamed in place (F2 or a double-click).

The model stays a flat list of conversations (one row per chat, so selection, keyboard moves
and row_of() need no header rows to skip); the heading is a role that the delegate draws above
the first chat of each group.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from desktop.storage import Conversation


class Roles(IntEnum):
    ConversationId = Qt.ItemDataRole.UserRole + 1
    UpdatedAt = Qt.ItemDataRole.UserRole + 2
    Group = Qt.ItemDataRole.UserRole + 3  # the date heading of the chat's group, translated
    GroupStart = Qt.ItemDataRole.UserRole + 4  # True on the first chat of a group


# Group keys in the order they appear; shown translated.
GROUPS = {
    "draft": QT_TRANSLATE_NOOP("ConversationList", "Today"),
    "today": QT_TRANSLATE_NOOP("ConversationList", "Today"),
    "yesterday": QT_TRANSLATE_NOOP("ConversationList", "Yesterday"),
    "week": QT_TRANSLATE_NOOP("ConversationList", "Previous 7 days"),
    "older": QT_TRANSLATE_NOOP("ConversationList", "Older"),
}
DRAFT_ID = -1  # the new chat not stored yet (stored with its first message)


def date_group(updated_at: float, today: dt.date | None = None) -> str:
    """"today", "yesterday", "week" (the 7 days before yesterday) or "older", by local date."""
    today = today or dt.date.today()
    day = dt.datetime.fromtimestamp(updated_at).date()
    if day >= today:  # a clock set back shows its future chats as today's
        return "today"
    if day == today - dt.timedelta(days=1):
        return "yesterday"
    if day >= today - dt.timedelta(days=7):
        return "week"
    return "older"


class ConversationListModel(QAbstractListModel):
    """Signals:

    title_edited(int, str): the user renamed a conversation in place (id, new title).
    """

    title_edited = Signal(int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._items: list[Conversation] = []
        self._groups: list[str] = []
        self._draft = False

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        row = index.row()
        item = self._items[row]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole,
                    Qt.ItemDataRole.ToolTipRole):
            return item.title
        if role == Roles.ConversationId:
            return item.id
        if role == Roles.UpdatedAt:
            return item.updated_at
        if role == Roles.Group:
            return QCoreApplication.translate("ConversationList", GROUPS[self._groups[row]])
        if role == Roles.GroupStart:
            # The draft sits in Today: no second "Today" heading under it.
            group = self._groups[row].replace("draft", "today")
            return row == 0 or self._groups[row - 1].replace("draft", "today") != group
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._items[index.row()].id != DRAFT_ID:  # nothing stored to rename yet
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        title = str(value).strip()
        item = self._items[index.row()]
        if not title or item.id == DRAFT_ID:
            return False
        # The store is the truth: the controller renames there and the list is refreshed from it.
        self.title_edited.emit(item.id, title)
        return True

    def roleNames(self):
        names = super().roleNames()
        names[Roles.ConversationId] = b"conversationId"
        names[Roles.UpdatedAt] = b"updatedAt"
        names[Roles.Group] = b"group"
        names[Roles.GroupStart] = b"groupStart"
        return names

    def set_conversations(self, items: list[Conversation], draft: bool | None = None) -> None:
        """Show these chats; draft (if given) says whether a new, unsaved chat heads the list."""
        if draft is not None:
            self._draft = draft
        self.beginResetModel()
        self._items = [item for item in items if item.id != DRAFT_ID]
        today = dt.date.today()
        self._groups = [date_group(item.updated_at, today) for item in self._items]
        if self._draft:
            now = dt.datetime.now().timestamp()
            title = QCoreApplication.translate("ConversationList", "New chat")
            self._items.insert(0, Conversation(DRAFT_ID, title, now, now))
            self._groups.insert(0, "draft")
        self.endResetModel()

    @property
    def has_draft(self) -> bool:
        return self._draft

    def set_draft(self, draft: bool) -> None:
        """Show or drop the "New chat" row at the top (the chat not stored yet).

        A row inserted or removed, not a reset: this runs in the middle of a click on a chat
        (the click opens it, and the new chat's row goes), and the view then selects what it
        was pressed on through its persistent indexes, which a reset would invalidate: it
        highlighted the row below the chat that opened."""
        if draft == self._draft:
            return
        self._draft = draft
        if draft:
            now = dt.datetime.now().timestamp()
            title = QCoreApplication.translate("ConversationList", "New chat")
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._items.insert(0, Conversation(DRAFT_ID, title, now, now))
            self._groups.insert(0, "draft")
            self.endInsertRows()
        else:
            row = self.row_of(DRAFT_ID)
            if row < 0:
                return
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._items[row]
            del self._groups[row]
            self.endRemoveRows()
        # The first chat's heading comes and goes with the row above it: lay the rows out again
        # (no index moves, so selection and the press stay where they are).
        self.layoutAboutToBeChanged.emit()
        self.layoutChanged.emit()

    def conversation_id(self, row: int) -> int | None:
        return self._items[row].id if 0 <= row < len(self._items) else None

    def row_of(self, conversation_id: int) -> int:
        for row, item in enumerate(self._items):
            if item.id == conversation_id:
                return row
        return -1


class RenameEdit(QLineEdit):
    """The in-place rename box: Esc cancels the rename here, before the window's Esc (stop a
    reply, close a panel) sees it."""

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)


class GroupedDelegate(QStyledItemDelegate):
    """Draws a chat's row, with its group's heading above it when it starts a group."""

    PADDING = 6

    def _header_height(self, option, index) -> int:
        if not index.data(Roles.GroupStart):
            return 0
        return option.fontMetrics.height() + 2 * self.PADDING + (self.PADDING if index.row() else 0)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), option.fontMetrics.height()) + 2 * self.PADDING
                     + self._header_height(option, index))

    def paint(self, painter, option, index) -> None:
        header = self._header_height(option, index)
        if header:
            painter.save()
            font = QFont(option.font)  # a copy: the row below keeps the list's font
            font.setPointSizeF(max(font.pointSizeF() * 0.85, 7))
            font.setBold(True)
            painter.setFont(font)
            # From the palette at paint time, so a theme switch repaints it right.
            painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
            rect = QRect(option.rect.left() + self.PADDING, option.rect.top(),
                         option.rect.width() - 2 * self.PADDING, header - 2)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom),
                             index.data(Roles.Group) or "")
            painter.restore()
        item = QStyleOptionViewItem(option)
        item.rect = option.rect.adjusted(0, header, 0, 0)
        super().paint(painter, item, index)

    def initStyleOption(self, option, index) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        if index.data(Roles.ConversationId) == DRAFT_ID:
            font = QFont(option.font)
            font.setItalic(True)
            option.font = font

    def createEditor(self, parent, option, index):  # noqa: N802
        editor = RenameEdit(parent)
        editor.setFrame(False)
        return editor

    def updateEditorGeometry(self, editor, option, index) -> None:  # noqa: N802
        item = QStyleOptionViewItem(option)
        item.rect = option.rect.adjusted(0, self._header_height(option, index), 0, 0)
        super().updateEditorGeometry(editor, item, index)


class ConversationListView(QListView):
    """The chat list. Typing here does not jump to a chat by its first letters (Qt's
    type-ahead): a user who starts typing means to write a message, not to switch chats."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setItemDelegate(GroupedDelegate(self))
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.DoubleClicked)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformItemSizes(False)  # group starts are taller
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setAccessibleName(self.tr("Chats"))

    def keyboardSearch(self, search: str) -> None:  # noqa: N802
        pass
