"""The sidebar's item model: conversations, most recent first."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, Signal

from desktop.storage import Conversation


class Roles(IntEnum):
    ConversationId = Qt.ItemDataRole.UserRole + 1
    UpdatedAt = Qt.ItemDataRole.UserRole + 2


class ConversationListModel(QAbstractListModel):
    """Signals:

    title_edited(int, str): the user renamed a conversation in place (id, new title).
    """

    title_edited = Signal(int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._items: list[Conversation] = []

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole,
                    Qt.ItemDataRole.ToolTipRole):
            return item.title
        if role == Roles.ConversationId:
            return item.id
        if role == Roles.UpdatedAt:
            return item.updated_at
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        title = str(value).strip()
        if not title:
            return False
        # The store is the truth: the controller renames there and the list is refreshed from it.
        self.title_edited.emit(self._items[index.row()].id, title)
        return True

    def roleNames(self):
        names = super().roleNames()
        names[Roles.ConversationId] = b"conversationId"
        names[Roles.UpdatedAt] = b"updatedAt"
        return names

    def set_conversations(self, items: list[Conversation]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def conversation_id(self, row: int) -> int | None:
        return self._items[row].id if 0 <= row < len(self._items) else None

    def row_of(self, conversation_id: int) -> int:
        for row, item in enumerate(self._items):
            if item.id == conversation_id:
                return row
        return -1
