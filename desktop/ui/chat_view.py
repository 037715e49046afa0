"""The conversation view: one centred column of messages in a scroll area.

The column grows with the window up to COLUMN_MAX pixels, with side margins beyond: lines of
text stay readable on a wide screen. The user's messages are tinted bubbles on the right; the
model's replies are plain text over the column's width, under a small badge with the model that
wrote them. A message's actions are icon buttons under it that show while the pointer is over
it or the keyboard is in it; their place is kept while they are hidden, so nothing moves under
the pointer. Every colour comes from the palette and is set again when it changes, so a theme
switch repaints the whole view at once.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.markdown_view import CopiedFeedback, MarkdownView, icon_button
from desktop.ui.prompt_edit import PromptEdit

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

COLUMN_MAX = 800  # the conversation column's widest: ~90 characters a line
SIDE_MARGIN = 16  # at least this much room on each side of the column
BUBBLE_SHARE = 0.82  # a user's bubble takes at most this share of the column
BUTTON_SIZE = 28


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """a moved towards b by amount (0..1)."""
    return QColor(round(a.red() + (b.red() - a.red()) * amount),
                  round(a.green() + (b.green() - a.green()) * amount),
                  round(a.blue() + (b.blue() - a.blue()) * amount))


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def bubble_color(palette: QPalette) -> QColor:
    return mix(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Highlight),
               0.24 if is_dark(palette) else 0.10)


def conversation_style(palette: QPalette) -> str:
    """The style sheet of the whole conversation, in the colours of palette.

    One sheet, set on the view: a sheet per message (and per button) is parsed once per widget,
    and that doubled the time to open a long chat. Colours are written out rather than named
    with palette(...), which a style sheet resolves once: set again on every palette change, the
    view follows a theme switch.
    """
    roles = QPalette.ColorRole
    dark = is_dark(palette)
    base, text = palette.color(roles.Base), palette.color(roles.Text)
    # Placeholder text is half-transparent text in some palettes (Fusion's light one): the sheet
    # gets the colour it shows on the background.
    placeholder = palette.color(roles.PlaceholderText)
    muted = mix(base, placeholder, placeholder.alphaF()).name()
    colors = {
        "base": base.name(),
        "text": text.name(),
        "muted": muted,
        "bubble": bubble_color(palette).name(),
        "badge": mix(base, text, 0.10 if dark else 0.06).name(),
        "hover": mix(base, text, 0.14 if dark else 0.08).name(),
        "line": mix(base, text, 0.25).name(),
        "focus": palette.color(roles.Highlight).name(),
        "error": "#ff7b72" if dark else "#c0392b",
        # Messages are read at length: a point larger than the window's controls. (In the sheet:
        # under a style sheet, a font set on a parent widget does not reach its children.)
        "text_pt": f"{QGuiApplication.font().pointSizeF() + 1:g}",
    }
    return """
QWidget#conversation {{ background: {base}; }}
QTextBrowser {{ font-size: {text_pt}pt; background: transparent; }}
QFrame#bubble {{ background: {bubble}; border-radius: 16px; }}
QLabel#message_badge {{ background: {badge}; color: {muted}; border-radius: 8px;
                       padding: 2px 8px; font-size: 11px; }}
QLabel#message_header {{ color: {muted}; font-size: 11px; }}
QLabel#message_footer, QLabel#message_note {{ color: {muted}; font-size: 11px; }}
QLabel#message_footer[error="true"] {{ color: {error}; }}
QToolButton#message_action {{ border: 1px solid transparent; border-radius: 6px; padding: 2px;
                             color: {muted}; font-size: 12px; }}
QToolButton#message_action:hover {{ background: {hover}; }}
QToolButton#message_action:focus {{ border: 1px solid {focus}; }}
QToolButton#code_copy {{ border: none; border-radius: 6px; padding: 2px 6px; color: {muted};
                        font-size: 11px; background: transparent; }}
QToolButton#code_copy:hover {{ background: {hover}; }}
QToolButton#thinking_toggle {{ font-size: 12px; color: {muted}; border: none; }}
QLabel#thinking_text {{ color: {muted}; font-size: 12px; border-left: 2px solid {line};
                       padding-left: 8px; }}
QLabel#left_out_mark {{ color: {muted}; font-size: 11px; border-top: 1px dashed {line};
                       padding-top: 4px; }}
QLabel#chat_placeholder {{ color: {muted}; font-size: 15px; }}
""".format(**colors)


def _restyle(widget: QWidget, name: str, value: bool) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def _t(text: str) -> str:
    return QCoreApplication.translate("MessageWidget", text)


def action_button(icon_name: str, tip: str) -> QToolButton:
    """A message's action: a small flat icon button with a tooltip."""
    button = icon_button(icon_name, tip)
    button.setObjectName("message_action")
    button.setFixedSize(BUTTON_SIZE, BUTTON_SIZE)
    return button


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

    copy_done = Signal()  # the thinking was copied (the window puts the focus back in the input)

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
        self.copy_button = action_button("mdi6.content-copy", self.tr("Copy the thinking"))
        self.copy_button.setFixedSize(BUTTON_SIZE - 4, BUTTON_SIZE - 4)
        self.copied = CopiedFeedback(self.copy_button)
        self.copy_button.clicked.connect(self._copy_clicked)
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

    def _copy_clicked(self) -> None:
        self.copy()
        self.copied.show()
        self.copy_done.emit()


class MessageWidget(QFrame):
    """One message: the Markdown text (a bubble for the user's), a status line and its actions.

    Signals: action_requested(str): "copy", "edit", "regenerate", "delete", "previous" or
    "next" (version); edit_submitted(str): the edited text, to send as a new version;
    edit_ended(): the edit box closed (sent or cancelled); code_copied(int): a code block's copy
    button was used.
    """

    action_requested = Signal(str)
    edit_submitted = Signal(str)
    edit_ended = Signal()
    code_copied = Signal(int)

    def __init__(self, role: str, text: str = "", status: str = "complete", parent=None):
        super().__init__(parent)
        self.role = role
        self.left_out = False
        self.model = ""
        self._versions = (1, 1)
        self._actions_enabled = True
        self._hovered = self._focused = False
        self.setObjectName(f"message_{role}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        mine = role == "user"
        # Widgets are what a long chat's opening time is spent on: the header row, the footer
        # and the action buttons are made when there is something to show in them.
        self._top: QWidget | None = None
        self._footer: QLabel | None = None
        self._buttons_made = False
        self._bubble_key: tuple | None = None
        self.body = MarkdownView()
        self.body.code_copied.connect(self.code_copied)
        self.thinking: ThinkingBlock | None = None  # made only for a reply that thought
        self.editor: PromptEdit | None = None
        if mine:
            # The user's own words stand apart from the model's: a tinted bubble on the right,
            # as wide as its text (up to BUBBLE_SHARE of the column).
            self.bubble = QFrame()
            self.bubble.setObjectName("bubble")
            inner = QVBoxLayout(self.bubble)
            inner.setContentsMargins(14, 9, 14, 5)  # the text view keeps 4 px below its text
            inner.addWidget(self.body)
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.addStretch(1)
            row.addWidget(self.bubble)
            layout.addLayout(row)
        else:
            self.bubble = None
            layout.addWidget(self.body)
        self._status = status
        layout.addWidget(self._build_actions())
        self._text = text
        self.body.set_markdown(text)
        if role not in ("user", "assistant"):
            self._update_top()
        self.set_status(status)

    # -- header and footer -------------------------------------------------------------------
    def _make_top(self) -> QWidget:
        # Above the text: the model that wrote a reply (a badge), and notes (left out of the
        # context, a system message). Header and badge quote roles from imported chats and model
        # names: text that must show as written, never as links or images.
        if self._top is None:
            self._header = QLabel()
            self._header.setObjectName("message_header")
            self._header.setTextFormat(Qt.TextFormat.PlainText)
            self._badge = QLabel()
            self._badge.setObjectName("message_badge")
            self._badge.setTextFormat(Qt.TextFormat.PlainText)
            self._badge.hide()
            top = QHBoxLayout()
            top.setContentsMargins(0, 0, 0, 0)
            top.setSpacing(6)
            if self.role == "user":
                top.addStretch(1)
            top.addWidget(self._badge)
            top.addWidget(self._header)
            if self.role != "user":
                top.addStretch(1)
            self._top = QWidget()
            self._top.setLayout(top)
            self._top.hide()
            self.layout().insertWidget(0, self._top)
        return self._top

    @property
    def header(self) -> QLabel:
        self._make_top()
        return self._header

    @property
    def badge(self) -> QLabel:
        self._make_top()
        return self._badge

    @property
    def footer(self) -> QLabel:
        if self._footer is None:
            footer = self._footer = QLabel()
            footer.setWordWrap(True)
            footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            footer.setObjectName("message_footer")
            footer.setTextFormat(Qt.TextFormat.PlainText)
            if self.role == "user":
                footer.setAlignment(Qt.AlignmentFlag.AlignRight)
            footer.hide()
            layout = self.layout()
            layout.insertWidget(layout.indexOf(self._bar), footer)
        return self._footer

    # -- actions ---------------------------------------------------------------------------
    def _build_actions(self) -> QWidget:
        # Icon buttons under the message, shown while the pointer is over it or the keyboard is
        # in it. Their row keeps its height and their place while they are hidden, and the
        # version switch goes on the side away from them: nothing moves under the pointer. The
        # switch itself always shows: that a turn has other versions must be seen, not found.
        bar = self._bar = QWidget()
        bar.setFixedHeight(BUTTON_SIZE)
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.setSpacing(2)
        self.version_box = QWidget()
        self.version_box.hide()
        self._version_row = QHBoxLayout(self.version_box)
        self._version_row.setContentsMargins(0, 0, 0, 0)
        self._version_row.setSpacing(0)
        self.action_box = QWidget()
        policy = self.action_box.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.action_box.setSizePolicy(policy)
        row = QHBoxLayout(self.action_box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self._actions_row = row
        if self.role == "user":
            bar_layout.addStretch(1)
            bar_layout.addWidget(self.version_box)
            bar_layout.addWidget(self.action_box)
        else:
            bar_layout.addWidget(self.action_box)
            bar_layout.addWidget(self.version_box)
            bar_layout.addStretch(1)
        # The buttons are made when first shown (the version switch only for a turn that has
        # versions): widgets are what a long chat's opening time is spent on.
        self.previous_button = self.version_label = self.next_button = None
        self.action_box.hide()
        return bar

    def _make_buttons(self) -> None:
        if self._buttons_made:
            return
        self._buttons_made = True
        self._copy_button = self._tool("mdi6.content-copy", "copy", self.tr("Copy this message as Markdown"))
        self._copied = CopiedFeedback(self._copy_button)
        if self.role == "user":
            self._redo_button = self._tool("mdi6.pencil-outline", "edit",
                                           self.tr("Edit and send again as a new version"))
        else:
            self._redo_button = self._tool("mdi6.refresh", "regenerate",
                                           self.tr("Write a new version of this reply"))
        self._delete_button = self._tool("mdi6.delete-outline", "delete", self.tr("Delete this message"))
        # A user's actions are on the right, after a version switch; a reply's on the left.
        at = self._actions_row.count() if self.role == "user" else 0
        for offset, button in enumerate((self._copy_button, self._redo_button, self._delete_button)):
            self._actions_row.insertWidget(at + offset, button)
        self.set_actions_enabled(self._actions_enabled)
        self._chain_tab_order()

    def _chain_tab_order(self) -> None:
        """Tab goes from the message's text to its buttons, left to right: made late, they
        would otherwise come last in the window's tab order."""
        previous: QWidget = self.body
        rows = (self._version_row, self._actions_row)
        for row in rows if self.role == "user" else reversed(rows):
            for i in range(row.count()):
                widget = row.itemAt(i).widget()
                if isinstance(widget, QToolButton):
                    QWidget.setTabOrder(previous, widget)
                    previous = widget

    @property
    def copy_button(self) -> QToolButton:
        self._make_buttons()
        return self._copy_button

    @property
    def redo_button(self) -> QToolButton:
        self._make_buttons()
        return self._redo_button

    @property
    def delete_button(self) -> QToolButton:
        self._make_buttons()
        return self._delete_button

    @property
    def copied(self) -> CopiedFeedback:
        self._make_buttons()
        return self._copied

    def _tool(self, icon_name: str, action: str, tip: str) -> QToolButton:
        button = action_button(icon_name, tip)
        button.clicked.connect(lambda: self.action_requested.emit(action))
        return button

    @property
    def actions_shown(self) -> bool:
        return self.action_box.isVisibleTo(self)

    def enterEvent(self, event):  # noqa: N802
        self._hovered = True
        self._reveal()
        super().enterEvent(event)

    def leaveEvent(self, event):  # noqa: N802
        self._hovered = False
        self._reveal()
        super().leaveEvent(event)

    def set_focused(self, focused: bool) -> None:
        """The keyboard focus entered or left this message (ChatView follows the focus)."""
        self._focused = focused
        self._reveal()

    def _reveal(self) -> None:
        shown = self._hovered or self._focused
        if shown != self.actions_shown:
            if shown:
                self._make_buttons()
            self.action_box.setVisible(shown)

    def show_copied(self) -> None:
        """The message is on the clipboard: say so on its copy button."""
        self.copied.show()

    def set_versions(self, index: int, count: int) -> None:
        """Show "‹ index/count ›" when this turn has more than one version (index from 1)."""
        self._versions = (index, count)
        if self.version_label is None:
            if count < 2:
                return
            self._make_buttons()
            self.previous_button = self._tool("mdi6.chevron-left", "previous", self.tr("Previous version"))
            self.version_label = QLabel()
            self.version_label.setObjectName("message_note")
            self.version_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            # Wide enough for "99/99": the arrows stay put as the numbers change.
            metrics = self.version_label.fontMetrics()
            self.version_label.setMinimumWidth(metrics.horizontalAdvance("99/99") + 4)
            self.next_button = self._tool("mdi6.chevron-right", "next", self.tr("Next version"))
            # The user's actions are on the right, so the switch goes on their left; a reply's
            # are on the left, so it goes on their right (the bar's layout).
            for widget in (self.previous_button, self.version_label, self.next_button):
                self._version_row.addWidget(widget)
            self._chain_tab_order()
        self.version_label.setText(f"{index}/{count}")
        self.version_label.setAccessibleName(self.tr("Version {index} of {count}").format(
            index=index, count=count))
        self.version_label.setToolTip(self.tr("Version {index} of {count}").format(index=index, count=count))
        self.version_box.setVisible(count > 1)
        self.set_actions_enabled(self._actions_enabled)

    def set_actions_enabled(self, enabled: bool) -> None:
        """While a reply is written, nothing that starts another one or changes the chat."""
        self._actions_enabled = enabled
        if not self._buttons_made:
            return  # applied when they are made
        index, count = self._versions
        self._redo_button.setEnabled(enabled)
        self._delete_button.setEnabled(enabled)
        if self.previous_button is not None:
            self.previous_button.setEnabled(enabled and index > 1)
            self.next_button.setEnabled(enabled and index < count)

    # -- header --------------------------------------------------------------------------
    def set_model(self, model: str | None) -> None:
        """The model that wrote this reply, on its badge."""
        self.model = (model or "").strip()
        self._update_top()

    def set_left_out(self, left_out: bool) -> None:
        """Mark a message the model did not see for the latest reply (the context was full)."""
        if left_out == self.left_out:
            return
        self.left_out = left_out
        self._update_top()
        _restyle(self.header, "leftOut", left_out)

    def _update_top(self) -> None:
        if self._top is None and not (self.left_out or self.model or self.role not in ("user", "assistant")):
            return
        self._make_top()
        notes = []
        if self.role not in ("user", "assistant"):
            notes.append(_t(ROLE_LABELS.get(self.role, self.role)))
        if self.left_out:
            notes.append(self.tr("left out of the context"))
        self._header.setText(" · ".join(notes))
        self._header.setVisible(bool(notes))
        badge = self.role == "assistant" and bool(self.model)
        if badge:
            self._badge.setText(self.model)
            self._badge.setToolTip(self.tr("Written by {model}").format(model=self.model))
        self._badge.setVisible(badge)
        self._top.setVisible(bool(notes) or badge)

    # -- bubble width ----------------------------------------------------------------------
    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self._fit_bubble()

    def _fit_bubble(self) -> None:
        if self.bubble is None or self.width() <= 0:
            return
        # Resized many times while a chat opens and the column settles: measure once a width.
        key = (self.width(), len(self._text), self.editor is not None, self.body.font().pointSizeF())
        if key == self._bubble_key:
            return
        self._bubble_key = key
        margins = self.bubble.layout().contentsMargins()
        padding = margins.left() + margins.right()
        widest = max(int(self.width() * BUBBLE_SHARE), 120)
        if self.editor is not None:
            width = self.width()  # an edit box takes the whole column
        else:
            width = min(self.body.natural_width(widest - padding) + padding, widest)
        if self.bubble.width() != width or self.bubble.maximumWidth() != width:
            self.bubble.setFixedWidth(width)

    # -- editing -------------------------------------------------------------------------
    def start_edit(self) -> None:
        if self.editor is not None:
            self.editor.setFocus()
            return
        # The same box as the main input: Enter sends, Shift+Enter starts a new line, Esc cancels.
        self.editor = PromptEdit(placeholder=self.tr("Edit the message"), min_lines=2, max_lines=12,
                                 cancel_on_escape=True)
        self.editor.setPlainText(self._text)
        send = QPushButton(self.tr("Send"))
        send.setDefault(True)
        cancel = QPushButton(self.tr("Cancel"))
        note = QLabel(self.tr("Enter sends as a new version; the current one is kept. "
                              "Shift+Enter: new line."))
        note.setObjectName("message_note")
        note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(note, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(send)
        self._edit_box = QWidget()
        box = QVBoxLayout(self._edit_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.editor)
        box.addLayout(buttons)
        if self.bubble is not None:
            self.bubble.layout().addWidget(self._edit_box)
        else:
            self.layout().insertWidget(self.layout().indexOf(self.body), self._edit_box)
        self.body.hide()
        self._fit_bubble()
        send.clicked.connect(self._submit_edit)
        cancel.clicked.connect(self.cancel_edit)
        self.editor.submitted.connect(self._submit_edit)
        self.editor.cancelled.connect(self.cancel_edit)
        self.editor.setFocus()
        self.editor.selectAll()

    def _submit_edit(self, *_args) -> None:
        text = self.editor.toPlainText().strip() if self.editor is not None else ""
        if text:
            self.edit_submitted.emit(text)
            self.edit_ended.emit()

    def cancel_edit(self) -> None:
        if self.editor is None:
            return
        self._edit_box.hide()
        self._edit_box.deleteLater()
        self.editor = None
        self.body.show()
        self._fit_bubble()
        self.edit_ended.emit()

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.body.set_markdown(text)
        self._bubble_key = None
        self._fit_bubble()

    def append_text(self, text: str) -> None:
        if self.thinking is not None and self.thinking.live and text.strip():
            self.thinking.finish(None)  # the answer began; the session sends the exact time
        # Only the new text is rendered (and the Markdown block it extends), not the whole reply.
        self._text += text
        self.body.append_markdown(text)
        if self.bubble is not None:
            self._fit_bubble()

    # -- thinking ----------------------------------------------------------------------
    def _thinking_block(self) -> ThinkingBlock:
        if self.thinking is None:
            self.thinking = ThinkingBlock()
            self.thinking.copy_done.connect(lambda: self.code_copied.emit(-1))
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
        if self._footer is None and not note:
            return
        footer = self.footer
        footer.setText(note)
        _restyle(footer, "error", status == "error")
        footer.setVisible(bool(note))


class LeftOutMark(QLabel):
    """A line in the chat where history stopped reaching the model (see set_left_out)."""

    def __init__(self, count: int, parent=None):
        super().__init__(parent)
        self.count = count
        self.setObjectName("left_out_mark")
        self.setText(QCoreApplication.translate(
            "ChatView", "⋯ {count} messages above were left out of the model's context ⋯"
        ).format(count=count) if count != 1 else QCoreApplication.translate(
            "ChatView", "⋯ 1 message above was left out of the model's context ⋯"))
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)


class ChatView(QScrollArea):
    """Signals: action_done(): a message action ended (a copy, a version switch, an edit sent or
    cancelled, a code block copied): the window puts the keyboard focus back in its input, so
    the next message typed goes where it should."""

    action_done = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        container = QWidget()
        container.setObjectName("conversation")
        # One centred column: the stretches share what is left beyond COLUMN_MAX.
        outer = QHBoxLayout(container)
        outer.setContentsMargins(SIDE_MARGIN, 20, SIDE_MARGIN, 20)
        outer.setSpacing(0)
        self.column = QWidget()
        self.column.setMaximumWidth(COLUMN_MAX)
        self.column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        outer.addStretch(1)
        outer.addWidget(self.column, 1000)
        outer.addStretch(1)
        self._layout = QVBoxLayout(self.column)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self.setWidget(container)
        self._apply_style()
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.placeholder = QLabel(self.tr("Ask anything. Everything runs on this computer, offline."))
        self.placeholder.setObjectName("chat_placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self._layout.insertWidget(0, self.placeholder)
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self._on_focus_changed)

    # -- colours ---------------------------------------------------------------------------
    def _apply_style(self) -> None:
        palette = self.palette()
        self.widget().setStyleSheet(conversation_style(palette))
        # Scoped by name: a rule without a selector would give every widget inside a background.
        self.viewport().setObjectName("chat_viewport")
        self.viewport().setStyleSheet(
            f"QWidget#chat_viewport {{ background: {palette.color(QPalette.ColorRole.Base).name()}; }}")

    def changeEvent(self, event):  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_style()
            # The code's colours are in each reply's text: those with code render again.
            for message in self.messages():
                message.body.follow_palette()

    # -- messages --------------------------------------------------------------------------
    def messages(self) -> list[MessageWidget]:
        return [
            self._layout.itemAt(i).widget()
            for i in range(self._layout.count())
            if isinstance(self._layout.itemAt(i).widget(), MessageWidget)
        ]

    def clear(self) -> None:
        for widget in self.messages() + self.marks():
            self._layout.removeWidget(widget)
            widget.hide()
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
        widget.code_copied.connect(self.action_done)
        widget.edit_ended.connect(self.action_done)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._follow = True
        QTimer.singleShot(0, self.scroll_to_bottom)
        return widget

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        # A message's actions show while the keyboard is in it, as they do under the pointer.
        before, after = self._message_of(old), self._message_of(new)
        if before is not after:
            if before is not None:
                before.set_focused(False)
            if after is not None:
                after.set_focused(True)

    def _message_of(self, widget: QWidget | None) -> MessageWidget | None:
        column = self.column
        while widget is not None and widget is not column:
            if isinstance(widget, MessageWidget):
                return widget if widget.parentWidget() is column else None
            widget = widget.parentWidget()
        return None

    # -- scrolling -----------------------------------------------------------------------
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
