"""The conversation view: a column of message bubbles in a scroll area."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.markdown_view import MarkdownView

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}
STATUS_NOTES = {
    "stopped": "Stopped",
    "interrupted": "Interrupted: the app closed while this reply was written",
    "error": "Error",
}


class MessageWidget(QFrame):
    """One message: who said it, the Markdown text and a status line."""

    def __init__(self, role: str, text: str = "", status: str = "complete", parent=None):
        super().__init__(parent)
        self.role = role
        self.setObjectName(f"message_{role}")
        # The user's own words stand apart from the model's: a tinted bubble, no frame.
        self.setStyleSheet(
            f"QFrame#message_{role} {{ border-radius: 8px; background: palette("
            f"{'alternate-base' if role == 'user' else 'base'}); }}"
        )
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        self.header = QLabel(ROLE_LABELS.get(role, role))
        self.header.setStyleSheet("font-weight: 600;")
        self.body = MarkdownView()
        self.footer = QLabel()
        self.footer.setWordWrap(True)
        self.footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.footer.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        self.footer.hide()
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        layout.addWidget(self.footer)
        self._text = text
        self.body.set_markdown(text)
        self.set_status(status)

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.body.set_markdown(text)

    def append_text(self, text: str) -> None:
        # Only the new text is rendered (and the Markdown block it extends), not the whole reply.
        self._text += text
        self.body.append_markdown(text)

    def set_status(self, status: str, detail: str = "") -> None:
        note = STATUS_NOTES.get(status, "")
        if status == "streaming" and not self._text:
            note = "Thinking…"
        if detail:
            note = f"{note}: {detail}" if note else detail
        self.footer.setText(note)
        self.footer.setStyleSheet(
            "color: #c0392b; font-size: 11px;" if status == "error"
            else "color: palette(placeholder-text); font-size: 11px;"
        )
        self.footer.setVisible(bool(note))


class ChatView(QScrollArea):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        container = QWidget()
        self._layout = QVBoxLayout(container)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(10)
        self._layout.addStretch(1)
        self.setWidget(container)
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.placeholder = QLabel("Ask anything. Everything runs on this computer, offline.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: palette(placeholder-text); font-size: 15px;")
        self._layout.insertWidget(0, self.placeholder)

    def messages(self) -> list[MessageWidget]:
        return [
            self._layout.itemAt(i).widget()
            for i in range(self._layout.count())
            if isinstance(self._layout.itemAt(i).widget(), MessageWidget)
        ]

    def clear(self) -> None:
        for widget in self.messages():
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self.placeholder.show()

    def add_message(self, role: str, text: str = "", status: str = "complete") -> MessageWidget:
        self.placeholder.hide()
        widget = MessageWidget(role, text, status)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._follow = True
        QTimer.singleShot(0, self.scroll_to_bottom)
        return widget

    def scroll_to_bottom(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_scrolled(self, value: int) -> None:
        # Follow the stream only while the reader is at the bottom; scrolling up to read
        # something earlier must not be yanked back down by every new chunk.
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _on_range_changed(self, _min: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
