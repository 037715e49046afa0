"""The messages above the chat: what went wrong in the app, and notices, each with a close button.

A notice (a damaged file moved aside, a remembered model that could not load, the device a model
fell back to) stays until the user closes it or it stops being true; an error is replaced by the
next one and goes once what failed works again. Several show at once, one row each, oldest first;
the same words twice are one row. A reply's own failure is not said here: it is in the reply.

Rows have keys: a row shown again under the same key replaces the old one (the window keys its
single error row, the loaded model's notes, and a failed reply's chat), so nothing said about
the world before it changed stays on screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

# Light and dark colours of each kind: readable text on a tint of the message's colour.
COLORS = {("error", False): ("#fdecea", "#611a15"),
          ("error", True): ("#4a1f1c", "#ffd7d2"),
          ("notice", False): ("#fff4e5", "#663c00"),
          ("notice", True): ("#45361c", "#ffe3b3")}


def banner_style(dark: bool) -> str:
    """The sheet of the whole stack: one per theme (set again on a switch)."""
    rules = []
    for kind in ("error", "notice"):
        background, text = COLORS[kind, dark]
        rules.append(f'QFrame#banner_row[kind="{kind}"] {{ background: {background}; '
                     f"border-radius: 6px; }}\n"
                     f'QFrame#banner_row[kind="{kind}"] QLabel {{ color: {text}; background: transparent; }}')
    rules.append("QToolButton#banner_close { border: 1px solid transparent; border-radius: 4px; "
                 "padding: 2px; background: transparent; }\n"
                 "QToolButton#banner_close:hover { background: rgba(128, 128, 128, 0.25); }\n"
                 "QToolButton#banner_close:focus { border: 1px solid palette(highlight); }")
    return "\n".join(rules)


class BannerRow(QFrame):
    """One message: its words (plain text, wrapped, selectable) and a close button.

    closed(): the user closed it (a click, or Space on its focused button)."""

    closed = Signal()

    def __init__(self, text: str, kind: str, key: str | None, parent=None):
        super().__init__(parent)
        self.setObjectName("banner_row")
        self.key = key
        self.kind = ""
        self.label = QLabel()
        self.label.setObjectName("banner_text")
        self.label.setWordWrap(True)
        # Banners quote engines, templates and the Hub: their text must never become links or images.
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setObjectName("banner_close")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip(self.tr("Close this message"))
        self.close_button.setAccessibleName(self.tr("Close this message"))
        # Reached with Tab like any button, not only with the mouse.
        self.close_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.close_button.setCursor(Qt.CursorShape.PointingHandCursor)
        try:
            from desktop.ui.icons import set_icon

            set_icon(self.close_button, "mdi6.close")
        except Exception:  # noqa: BLE001 - without its icon set the button says what it does
            self.close_button.setText("×")
        self.close_button.clicked.connect(self.closed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 4, 6)
        layout.setSpacing(6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.set_message(text, kind)

    def set_message(self, text: str, kind: str) -> None:
        self.label.setText(text)
        self.label.setAccessibleDescription(text)
        if kind != self.kind:
            self.kind = kind
            self.setProperty("kind", kind)
            self.style().unpolish(self)
            self.style().polish(self)
            for child in (self.label, self.close_button):
                child.style().unpolish(child)
                child.style().polish(child)

    def text(self) -> str:
        return self.label.text()


class BannerStack(QWidget):
    """The rows, oldest first; hidden when there are none.

    dismissed(str): a row went (closed by the user or dismissed by the window): its key, or "".
    closed_by_user(bool): the user closed a row; True when the keyboard was on its button (the
    window then puts the keys back where the user types)."""

    dismissed = Signal(str)
    closed_by_user = Signal(bool)
    MAX_ROWS = 5  # beyond this the oldest goes: a stack, not a log

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 4, 0, 2)
        self._layout.setSpacing(4)
        self._rows: list[BannerRow] = []
        self.hide()

    # -- what is shown ------------------------------------------------------------------------
    def rows(self) -> list[BannerRow]:
        return list(self._rows)

    def row(self, key: str) -> BannerRow | None:
        return next((r for r in self._rows if r.key == key), None)

    def text(self) -> str:
        """The words of every row, oldest first (one per line)."""
        return "\n".join(r.text() for r in self._rows)

    def textFormat(self) -> Qt.TextFormat:  # noqa: N802 - as a QLabel's: rows are plain text
        return Qt.TextFormat.PlainText

    # -- showing and dismissing ---------------------------------------------------------------
    def show_message(self, text: str, kind: str = "notice", key: str | None = None) -> BannerRow | None:
        """Show ``text``; a row with the same key is replaced, the same words are not repeated."""
        text = str(text).strip()
        if not text:
            if key is not None:
                self.dismiss(key)
            return None
        row = self.row(key) if key is not None else None
        if row is None:
            row = next((r for r in self._rows if r.text() == text), None)
        if row is None:
            row = BannerRow(text, kind, key)
            row.closed.connect(lambda r=row: self.close_row(r))
            self._rows.append(row)
            self._layout.addWidget(row)
            row.show()  # now, not when the layout gets round to it
            while len(self._rows) > self.MAX_ROWS:
                self._remove(self._rows[0])
        else:
            row.set_message(text, kind)
        self.show()
        return row

    def dismiss(self, key: str) -> bool:
        """Take away the row shown under ``key``; False if there is none."""
        row = self.row(key)
        if row is None:
            return False
        self._remove(row)
        return True

    def dismiss_all(self) -> None:
        for row in list(self._rows):
            self._remove(row)

    def close_row(self, row: BannerRow) -> None:
        """The user closed ``row``."""
        had_focus = row.window().focusWidget() is row.close_button
        self._remove(row)
        self.closed_by_user.emit(had_focus)

    def _remove(self, row: BannerRow) -> None:
        if row not in self._rows:
            return
        self._rows.remove(row)
        self._layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        if not self._rows:
            self.hide()
        self.dismissed.emit(row.key or "")
