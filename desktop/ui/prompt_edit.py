"""The message input: Enter sends, Shift+Enter starts a new line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy

MIN_LINES, MAX_LINES = 2, 10


class PromptEdit(QPlainTextEdit):
    submitted = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText(self.tr("Message the model (Enter to send, Shift+Enter for a new line)"))
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Grows with what is typed, between MIN_LINES and MAX_LINES, then scrolls.
        self.document().contentsChanged.connect(self._fit_height)
        self._fit_height()

    def _fit_height(self) -> None:
        lines = min(max(self.document().size().height(), MIN_LINES), MAX_LINES)
        margins = self.contentsMargins()
        height = int(lines * self.fontMetrics().lineSpacing() + 2 * self.document().documentMargin()
                     + margins.top() + margins.bottom())
        if height != self.height():
            self.setFixedHeight(height)

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            text = self.toPlainText().strip()
            if text:
                self.submitted.emit(text)
            event.accept()
            return
        super().keyPressEvent(event)
