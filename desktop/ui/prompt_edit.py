"""The box a message is written in: Enter sends, Shift+Enter starts a new line.

One behaviour wherever a message is written (the main input and a message's Edit box): a user
should never have to remember which box sends on Enter.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy

MIN_LINES, MAX_LINES = 2, 10


def is_send_key(event) -> bool:
    """Enter or Return without Shift: send (Shift+Enter is a new line)."""
    return event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
        event.modifiers() & Qt.KeyboardModifier.ShiftModifier)


class PromptEdit(QPlainTextEdit):
    """Signals: submitted(str): Enter with some text (stripped); cancelled(): Esc, only when
    made with cancel_on_escape (an Edit box; the main input leaves Esc to the window, which
    stops a reply or closes a panel)."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent=None, *, placeholder: str | None = None, min_lines: int = MIN_LINES,
                 max_lines: int = MAX_LINES, cancel_on_escape: bool = False):
        super().__init__(parent)
        self.min_lines, self.max_lines = min_lines, max_lines
        self.cancel_on_escape = cancel_on_escape
        self.setPlaceholderText(placeholder if placeholder is not None else self.tr(
            "Message the model (Enter to send, Shift+Enter for a new line)"))
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Grows with what is typed, between min_lines and max_lines, then scrolls.
        self.document().contentsChanged.connect(self._fit_height)
        self._fit_height()

    def _fit_height(self) -> None:
        lines = min(max(self.document().size().height(), self.min_lines), self.max_lines)
        margins = self.contentsMargins()
        height = int(lines * self.fontMetrics().lineSpacing() + 2 * self.document().documentMargin()
                     + margins.top() + margins.bottom())
        if height != self.height():
            self.setFixedHeight(height)

    def event(self, event) -> bool:
        # An Edit box takes Esc before the window's Esc shortcut (stop / close panel) sees it.
        if (event.type() == QEvent.Type.ShortcutOverride and self.cancel_on_escape
                and event.key() == Qt.Key.Key_Escape):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event):  # noqa: N802
        if is_send_key(event):
            text = self.toPlainText().strip()
            if text:
                self.submitted.emit(text)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self.cancel_on_escape:
            self.cancelled.emit()
            event.accept()
            return
        super().keyPressEvent(event)
