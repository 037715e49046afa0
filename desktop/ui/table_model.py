"""One table model for the library's lists: rows of plain values, columns that read them.

The lists (installed, catalog, search results) differ only in their columns, so they share
this model rather than three near-copies. Rows are replaced whole: the core owns the data.

Sorting compares the columns' Python values (``Column.sort``), never Qt variants: a count above
2**31 (8 B parameters, a 5 GB file) does not survive the trip through a QVariant as a number, and
sorted as text "8 B" came before "135 M". ``RowsModel.sort`` sorts the rows itself (a view with
no proxy), and ``sort_key`` is what a proxy's lessThan compares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt


class Roles(IntEnum):
    Row = Qt.ItemDataRole.UserRole + 1  # the whole row object
    Sort = Qt.ItemDataRole.UserRole + 2  # a value that sorts right (bytes, not "1.2 GB")


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None
    tooltip: Callable[[Any], str] | None = None


class RowsModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], parent: QObject | None = None):
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list = []

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)
                                       and 0 <= index.column() < len(self._columns)):
            return None
        row, column = self._rows[index.row()], self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.tooltip(row)
        if role == Roles.Row:
            return row
        if role == Roles.Sort:
            value = self.sort_key(index.row(), index.column())
            # As a double: Qt keeps it a number at any size (a Python int above 2**31 is not).
            return float(value[1]) if value[0] == 0 and isinstance(value[1], (int, float)) else value[1]
        return None

    def sort_key(self, row: int, column: int) -> tuple:
        """A key that orders rows by this column: numbers as numbers, text without case, and a
        missing value (None) after every real one."""
        item = self._rows[row]
        col = self._columns[column]
        value = col.sort(item) if col.sort else col.text(item)
        if value is None:
            return (1, 0)
        if isinstance(value, str):
            return (0, value.casefold())
        return (0, value)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:  # noqa: D102
        if not (0 <= column < len(self._columns)):
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        rows_before = list(self._rows)
        keyed = sorted(range(len(self._rows)), key=lambda i: self.sort_key(i, column),
                       reverse=order == Qt.SortOrder.DescendingOrder)
        self._rows = [rows_before[i] for i in keyed]
        where = {old_row: new_row for new_row, old_row in enumerate(keyed)}
        self.changePersistentIndexList(old, [self.index(where[i.row()], i.column()) for i in old])
        self.layoutChanged.emit()

    def replace_row(self, index: int, row) -> None:
        """Put a changed row in place (its chosen variant, its mark) without a reset."""
        if 0 <= index < len(self._rows):
            self._rows[index] = row
            self.dataChanged.emit(self.index(index, 0), self.index(index, len(self._columns) - 1))

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self._columns)):
            return self._columns[section].title
        return None

    def set_rows(self, rows: Sequence) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, index: int):
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def rows(self) -> list:
        return list(self._rows)
