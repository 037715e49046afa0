"""The conversation view: a column of message bubbles in a scroll area."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.markdown_view import MarkdownView

ROLE_LABELS = {
    "user": QT_TRANSLATE_NOOP("MessageWidget", "You"),
    "assistant": QT_TRANSLATE_NOOP("MessageWidget", "Assistant"),
    "system": QT_TRANSLATE_NOOP("MessageWidget", "System"),
}
STATUS_NOTES = {
    "stopped": QT_TRANSLATE_NOOP("MessageWidget", "Stopped"),
    "interrupted": QT_TRANSLATE_NOOP("MessageWidget",
                                     "Interrupted: the app closed while this reply was written"),
    "error": QT_TRANSLATE_NOOP("MessageWidget", "Error"),
}


# One style sheet for the whole conversation, set on the view: a sheet per message (and per
# button) is parsed once per widget, and that doubled the time to open a long chat.
MESSAGE_STYLE = """
QFrame#message_user { border-radius: 8px; background: palette(alternate-base); }
QFrame#message_assistant, QFrame#message_system { border-radius: 8px; background: palette(base); }
QLabel#message_header { font-weight: 600; }
QLabel#message_header[leftOut="true"] { color: palette(placeholder-text); }
QLabel#message_footer, QLabel#message_note { color: palette(placeholder-text); font-size: 11px; }
QLabel#message_footer[error="true"] { color: #c0392b; }
QToolButton#message_action { font-size: 11px; padding: 1px 4px; }
QToolButton#thinking_toggle { font-size: 11px; color: palette(placeholder-text); border: none; }
QLabel#thinking_text { color: palette(placeholder-text); font-size: 12px;
                       border-left: 2px solid palette(mid); padding-left: 6px; }
"""


def _restyle(widget: QWidget, name: str, value: bool) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def _t(text: str) -> str:
    return QCoreApplication.translate("MessageWidget", text)


_ENDED_EARLY = ("stopped", "interrupted", "error")


def thought_for(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return QCoreApplication.translate("ThinkingBlock", "Thought")
    return QCoreApplication.translate("ThinkingBlock", "Thought for {seconds} s").format(
        seconds=max(round(seconds), 1))


class ThinkingBlock(QWidget):
    """A reasoning model's thinking, above its answer: open while it streams in ("Thinking…"),
    folded once the answer starts ("Thought for 12 s"); a click opens or folds it. Plain,
    muted text: it is the model's scratch work, not the answer."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.toggle = QToolButton()
        self.toggle.setObjectName("thinking_toggle")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.toggled.connect(self._on_toggled)
        self.copy_button = QToolButton()
        self.copy_button.setObjectName("message_action")
        self.copy_button.setAutoRaise(True)
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setToolTip(self.tr("Copy the thinking"))
        self.copy_button.setAccessibleName(self.tr("Copy the thinking"))
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.toggle)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.label = QLabel()
        self.label.setObjectName("thinking_text")
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # the model's words, never markup
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addLayout(row)
        layout.addWidget(self.label)
        self._text = ""
        self.live = False
        self.seconds: float | None = None
        self.start()

    @property
    def text(self) -> str:
        return self._text

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def start(self) -> None:
        self.live = True
        self.toggle.setText(self.tr("Thinking…"))
        self.toggle.setChecked(True)
        self._on_toggled(True)

    def append(self, text: str) -> None:
        self._text += text
        self.label.setText(self._text.strip())

    def set_text(self, text: str) -> None:
        self._text = text
        self.label.setText(text.strip())

    def finish(self, seconds: float | None, stopped: bool = False) -> None:
        """The thinking ended: fold it under a title that says for how long (or that it was
        stopped before the answer)."""
        self.live = False
        self.seconds = seconds
        title = thought_for(seconds)
        if stopped:
            title = self.tr("Stopped while thinking") + (
                f" · {max(round(seconds), 1)} s" if seconds is not None and seconds >= 0 else "")
        self.toggle.setText(title)
        self.toggle.setChecked(False)
        self._on_toggled(False)

    def _on_toggled(self, expanded: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.label.setVisible(expanded)

    def copy(self) -> str:
        text = self._text.strip()
        QGuiApplication.clipboard().setText(text)
        return text


class MessageWidget(QFrame):
    """One message: who said it, the Markdown text, a status line and its actions.

    Signals: action_requested(str): "copy", "edit", "regenerate", "delete", "previous" or
    "next" (version); edit_submitted(str): the edited text, to send as a new version.
    """

    action_requested = Signal(str)
    edit_submitted = Signal(str)

    def __init__(self, role: str, text: str = "", status: str = "complete", parent=None):
        super().__init__(parent)
        self.role = role
        self.left_out = False
        self._versions = (1, 1)
        self._actions_enabled = True
        # The user's own words stand apart from the model's: a tinted bubble (MESSAGE_STYLE).
        self.setObjectName(f"message_{role}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        self.header = QLabel(_t(ROLE_LABELS.get(role, role)))
        self.header.setObjectName("message_header")
        # Header and footer quote roles from imported chats and engine or template errors: text
        # that must show as written, never as links or images.
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.body = MarkdownView()
        self.thinking: ThinkingBlock | None = None  # made only for a reply that thought
        self._status = status
        self.editor: QPlainTextEdit | None = None
        self.footer = QLabel()
        self.footer.setWordWrap(True)
        self.footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.footer.setObjectName("message_footer")
        self.footer.setTextFormat(Qt.TextFormat.PlainText)
        self.footer.hide()
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        layout.addWidget(self.footer)
        layout.addLayout(self._build_actions())
        self._text = text
        self.body.set_markdown(text)
        self.set_status(status)

    def _build_actions(self) -> QHBoxLayout:
        # Small flat buttons, always there (not only on hover) so they can be reached by Tab.
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self._actions_row = row
        # The version switch is made only for a turn that has versions (few do): widgets are
        # what a long chat's opening time is spent on.
        self.previous_button = self.version_label = self.next_button = None
        self.copy_button = self._tool(self.tr("Copy"), "copy", self.tr("Copy this message as Markdown"))
        if self.role == "user":
            self.redo_button = self._tool(self.tr("Edit"), "edit",
                                          self.tr("Edit and send again as a new version"))
        else:
            self.redo_button = self._tool(self.tr("Regenerate"), "regenerate",
                                          self.tr("Write a new version of this reply"))
        self.delete_button = self._tool(self.tr("Delete"), "delete", self.tr("Delete this message"))
        for button in (self.copy_button, self.redo_button, self.delete_button):
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _tool(self, text: str, action: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.setObjectName("message_action")
        button.clicked.connect(lambda: self.action_requested.emit(action))
        return button

    def set_versions(self, index: int, count: int) -> None:
        """Show "‹ index/count ›" when this turn has more than one version (index from 1)."""
        self._versions = (index, count)
        if self.version_label is None:
            if count < 2:
                return
            self.previous_button = self._tool("‹", "previous", self.tr("Previous version"))
            self.version_label = QLabel()
            self.version_label.setObjectName("message_note")
            self.next_button = self._tool("›", "next", self.tr("Next version"))
            for at, widget in enumerate((self.previous_button, self.version_label, self.next_button)):
                self._actions_row.insertWidget(at, widget)
        self.version_label.setText(f"{index}/{count}")
        for widget in (self.previous_button, self.version_label, self.next_button):
            widget.setVisible(count > 1)
        self.set_actions_enabled(self._actions_enabled)

    def set_actions_enabled(self, enabled: bool) -> None:
        """While a reply is written, nothing that starts another one or changes the chat."""
        self._actions_enabled = enabled
        index, count = self._versions
        self.redo_button.setEnabled(enabled)
        self.delete_button.setEnabled(enabled)
        if self.previous_button is not None:
            self.previous_button.setEnabled(enabled and index > 1)
            self.next_button.setEnabled(enabled and index < count)

    def set_left_out(self, left_out: bool) -> None:
        """Mark a message the model did not see for the latest reply (the context was full)."""
        self.left_out = left_out
        label = _t(ROLE_LABELS.get(self.role, self.role))
        if left_out:
            label += " · " + self.tr("left out of the context")
        self.header.setText(label)
        _restyle(self.header, "leftOut", left_out)

    # -- editing -------------------------------------------------------------------------
    def start_edit(self) -> None:
        if self.editor is not None:
            self.editor.setFocus()
            return
        self.editor = QPlainTextEdit(self._text)
        self.editor.setMinimumHeight(80)
        send = QPushButton(self.tr("Send"))
        send.setDefault(True)
        cancel = QPushButton(self.tr("Cancel"))
        note = QLabel(self.tr("Sends as a new version; the current one is kept."))
        note.setObjectName("message_note")
        buttons = QHBoxLayout()
        buttons.addWidget(note, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(send)
        self._edit_box = QWidget()
        box = QVBoxLayout(self._edit_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.editor)
        box.addLayout(buttons)
        self.layout().insertWidget(2, self._edit_box)
        self.body.hide()
        send.clicked.connect(self._submit_edit)
        cancel.clicked.connect(self.cancel_edit)
        QShortcut(QKeySequence("Ctrl+Return"), self.editor, self._submit_edit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.editor, self.cancel_edit)
        self.editor.setFocus()
        self.editor.selectAll()

    def _submit_edit(self) -> None:
        text = self.editor.toPlainText().strip() if self.editor is not None else ""
        if text:
            self.edit_submitted.emit(text)

    def cancel_edit(self) -> None:
        if self.editor is None:
            return
        self._edit_box.deleteLater()
        self.editor = None
        self.body.show()

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.body.set_markdown(text)

    def append_text(self, text: str) -> None:
        if self.thinking is not None and self.thinking.live and text.strip():
            self.thinking.finish(None)  # the answer began; the session sends the exact time
        # Only the new text is rendered (and the Markdown block it extends), not the whole reply.
        self._text += text
        self.body.append_markdown(text)

    # -- thinking ----------------------------------------------------------------------
    def _thinking_block(self) -> ThinkingBlock:
        if self.thinking is None:
            self.thinking = ThinkingBlock()
            self.layout().insertWidget(self.layout().indexOf(self.body), self.thinking)
            self.set_status(self._status)  # its own "Thinking…" replaces the footer's
        return self.thinking

    def append_thinking(self, text: str) -> None:
        block = self._thinking_block()
        if not block.live and not self._text:
            block.start()
        block.append(text)

    def set_thinking(self, text: str, seconds: float | None, live: bool = False) -> None:
        """A reply's thinking as stored (folded), or still streaming (open)."""
        block = self._thinking_block()
        block.set_text(text)
        if not live:
            block.finish(seconds, stopped=self._status in _ENDED_EARLY and not self._text)

    def end_thinking(self, seconds: float | None) -> None:
        if self.thinking is not None and (self.thinking.live or self.thinking.seconds is None):
            self.thinking.finish(seconds, stopped=self._status in _ENDED_EARLY and not self._text)

    def set_status(self, status: str, detail: str = "") -> None:
        self._status = status
        block = self.thinking
        if block is not None and status in _ENDED_EARLY and not self._text:
            # Ended before any answer: stopped (or failed) mid-thought, and the block says so.
            block.finish(block.seconds, stopped=True)
        elif block is not None and status != "streaming" and block.live:
            block.finish(block.seconds)
        note = _t(STATUS_NOTES[status]) if status in STATUS_NOTES else ""
        if status == "streaming" and not self._text and self.thinking is None:
            note = self.tr("Thinking…")
        if detail:
            note = f"{note}: {detail}" if note else detail
        self.footer.setText(note)
        _restyle(self.footer, "error", status == "error")
        self.footer.setVisible(bool(note))


class LeftOutMark(QLabel):
    """A line in the chat where history stopped reaching the model (see set_left_out)."""

    def __init__(self, count: int, parent=None):
        super().__init__(parent)
        self.count = count
        self.setText(QCoreApplication.translate(
            "ChatView", "⋯ {count} messages above were left out of the model's context ⋯"
        ).format(count=count) if count != 1 else QCoreApplication.translate(
            "ChatView", "⋯ 1 message above was left out of the model's context ⋯"))
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("color: palette(placeholder-text); font-size: 11px; "
                           "border-top: 1px dashed palette(mid); padding-top: 4px;")


class ChatView(QScrollArea):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        container = QWidget()
        container.setObjectName("conversation")
        container.setStyleSheet(MESSAGE_STYLE)
        self._layout = QVBoxLayout(container)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(10)
        self._layout.addStretch(1)
        self.setWidget(container)
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.placeholder = QLabel(self.tr("Ask anything. Everything runs on this computer, offline."))
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
        for widget in self.messages() + self.marks():
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self.placeholder.show()

    def marks(self) -> list[LeftOutMark]:
        return [
            self._layout.itemAt(i).widget()
            for i in range(self._layout.count())
            if isinstance(self._layout.itemAt(i).widget(), LeftOutMark)
        ]

    def set_left_out(self, left_out: set[MessageWidget]) -> None:
        """Mark the messages the latest reply's model did not see, and draw a line after them."""
        for mark in self.marks():
            self._layout.removeWidget(mark)
            mark.deleteLater()
        widgets = self.messages()
        for widget in widgets:
            widget.set_left_out(widget in left_out)
        if left_out:
            last = max(widgets.index(w) for w in left_out if w in widgets)
            at = self._layout.indexOf(widgets[last]) + 1
            self._layout.insertWidget(at, LeftOutMark(len(left_out)))

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
