"""Search across all conversations: a field and a list of hits with the matches in bold."""

from __future__ import annotations

import html

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAbstractTextDocumentLayout, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.storage import ConversationStore
from desktop.storage.store import HIT_END, HIT_START
from desktop.ui.table_model import Column, Roles, RowsModel

# Shown translated: QCoreApplication.translate("SearchPanel", ROLE_NAMES[role]).
ROLE_NAMES = {"user": QT_TRANSLATE_NOOP("SearchPanel", "You"),
              "assistant": QT_TRANSLATE_NOOP("SearchPanel", "Assistant"),
              "system": QT_TRANSLATE_NOOP("SearchPanel", "System")}


def hit_html(hit) -> str:
    snippet = html.escape(hit.snippet.replace("\n", " "))
    snippet = snippet.replace(HIT_START, "<b>").replace(HIT_END, "</b>")
    role = QCoreApplication.translate("SearchPanel", ROLE_NAMES[hit.role]) if hit.role in ROLE_NAMES \
        else hit.role
    return (f"<div><span style='font-weight:600'>{html.escape(hit.conversation_title)}</span>"
            f" · {html.escape(role)}</div><div>{snippet}</div>")


class HtmlDelegate(QStyledItemDelegate):
    """Draws the DisplayRole as rich text (the highlighted snippet)."""

    def _document(self, option, index) -> QTextDocument:
        doc = QTextDocument()
        doc.setDocumentMargin(4)
        doc.setHtml(index.data(Qt.ItemDataRole.DisplayRole) or "")
        doc.setTextWidth(max(option.rect.width(), 120))
        return doc

    def paint(self, painter, option, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        doc = self._document(option, index)
        context = QAbstractTextDocumentLayout.PaintContext()
        if opt.state & QStyle.StateFlag.State_Selected:
            context.palette.setColor(QPalette.ColorRole.Text,
                                     opt.palette.color(QPalette.ColorRole.HighlightedText))
        painter.save()
        painter.translate(option.rect.topLeft())
        painter.setClipRect(QRectF(0, 0, option.rect.width(), option.rect.height()))
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        doc = self._document(option, index)
        return QSize(int(doc.idealWidth()), int(doc.size().height()))


class SearchPanel(QWidget):
    """Signals: hit_chosen(int conversation_id, int message_id); searching_changed(bool).

    Keys: Down in the field moves into the results; Enter in the field opens the selected hit
    (the first one if none is); Enter in the results opens the current hit; Up on the first
    result goes back to the field.
    """

    hit_chosen = Signal(int, int)
    searching_changed = Signal(bool)

    def __init__(self, store: ConversationStore, parent=None):
        super().__init__(parent)
        self.store = store
        self.field = QLineEdit()
        self.field.setPlaceholderText(self.tr("Search all chats (Ctrl+F)"))
        self.field.setClearButtonEnabled(True)
        self.model = RowsModel([Column("Hit", hit_html)], self)
        self.results = QListView()
        self.results.setModel(self.model)
        self.results.setItemDelegate(HtmlDelegate(self.results))
        self.results.setWordWrap(True)
        self.results.setUniformItemSizes(False)
        self.results.hide()
        self.summary = QLabel()
        self.summary.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.summary)
        layout.addWidget(self.results, 1)
        # Search as the user types, but not on every key stroke.
        self._debounce = QTimer(self, singleShot=True, interval=150)
        self._debounce.timeout.connect(self.run)
        self.field.textChanged.connect(lambda _t: self._debounce.start())
        self.results.activated.connect(self._choose)
        self.results.clicked.connect(self._choose)
        self.field.installEventFilter(self)
        self.results.installEventFilter(self)
        self.field.setAccessibleName(self.tr("Search all chats"))
        self.results.setAccessibleName(self.tr("Search results"))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress:
            return False
        key = event.key()
        if watched is self.field:
            if key == Qt.Key.Key_Down:
                return self._enter_results()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._debounce.isActive():  # typed and pressed Enter at once: search now
                    self._debounce.stop()
                    self.run()
                if self._enter_results():
                    self._choose(self.results.currentIndex())
                return True
        elif watched is self.results and key == Qt.Key.Key_Up and self.results.currentIndex().row() <= 0:
            self.field.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        return False

    def _enter_results(self) -> bool:
        """Focus the results with a hit selected (the current one, else the first)."""
        if self._debounce.isActive():
            self._debounce.stop()
            self.run()
        if self.model.rowCount() == 0:
            return False
        index = self.results.currentIndex()
        if not index.isValid():
            index = self.model.index(0, 0)
        self.results.setCurrentIndex(index)
        self.results.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def query(self) -> str:
        return self.field.text().strip()

    def clear(self) -> None:
        """End the search: empty the field, hide the results (the chat list comes back)."""
        self.field.clear()
        self._debounce.stop()
        self.run()

    def run(self) -> None:
        query = self.field.text().strip()
        searching = bool(query)
        hits = self.store.search(query) if searching else []
        self.model.set_rows(hits)
        self.results.setVisible(searching)
        self.summary.setVisible(searching)
        if len(hits) >= 50:
            summary = self.tr("{count} matches (newest first; showing 50)").format(count=len(hits))
        elif len(hits) == 1:
            summary = self.tr("1 match")
        else:
            summary = self.tr("{count} matches").format(count=len(hits))
        self.summary.setText(summary)
        self.searching_changed.emit(searching)

    def _choose(self, index) -> None:
        hit = index.data(Roles.Row)
        if hit is not None:
            self.hit_chosen.emit(hit.conversation_id, hit.message_id)

    def focus(self) -> None:
        self.field.setFocus()
        self.field.selectAll()
