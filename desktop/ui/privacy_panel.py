"""Settings ▸ Privacy: what EdgeChat keeps on this computer, where, how big, with a button to
delete each (desktop/storage/footprint.py finds them). The README's "Privacy" section says the
same, so a user can check one against the other."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from desktop.storage import footprint
from desktop.units import format_bytes


def _note(rich: bool = True) -> QLabel:
    """One fact and a path per note, on lines of their own: not wrapped, as a dialog works out
    its size without asking a wrapped label for its height (it cut the last lines off). A long
    path widens the dialog instead."""
    label = QLabel()
    if rich:
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # paths to copy
    return label


def _place(name: str, facts: str, path) -> str:
    return f"<b>{html.escape(name)}</b> · {html.escape(facts)}<br>{html.escape(str(path))}"


class PrivacyPanel(QWidget):
    """``session``: the window's ChatSession (deleting chats goes through it, so their prompt
    states go too); without one (no window) chats can only be looked at."""

    def __init__(self, session=None, parent=None):
        super().__init__(parent)
        self.session = session
        self.intro = _note(rich=False)
        self.intro.setText(self.tr("EdgeChat sends nothing on its own (no telemetry). It keeps, on this "
                                   "computer:"))
        self.chats_label = _note()
        self.cache_label = _note()
        self.key_label = _note()
        self.logs_label = _note()
        self.delete_chats_button = QPushButton(self.tr("Delete all chats…"))
        self.clear_cache_button = QPushButton(self.tr("Clear prompt cache"))
        self.delete_logs_button = QPushButton(self.tr("Delete logs"))
        self.delete_chats_button.clicked.connect(lambda: self.delete_all_chats())
        self.clear_cache_button.clicked.connect(self.clear_prompt_cache)
        self.delete_logs_button.clicked.connect(self.delete_logs)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(0, 1)
        grid.setVerticalSpacing(10)
        rows = ((self.chats_label, self.delete_chats_button), (self.cache_label, self.clear_cache_button),
                (self.key_label, None), (self.logs_label, self.delete_logs_button))
        for row, (label, button) in enumerate(rows):
            grid.addWidget(label, row, 0)
            if button is not None:
                grid.addWidget(button, row, 1, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.intro)
        layout.addLayout(grid)
        self.refresh()

    def _database(self):
        store = getattr(self.session, "store", None)
        return getattr(store, "path", None)

    def refresh(self) -> None:
        self._show_chats()
        self._show_cache()
        self._show_logs()
        self._show_key()

    def _show_chats(self) -> None:
        place = footprint.chats(self._database())
        count = len(self.session.store.conversations()) if self.session is not None else None
        facts = format_bytes(place.size)
        if count is not None:
            facts = self.tr("{count} chats, their settings and your presets").format(
                count=f"{count:,}") + " · " + facts
        aside = len(footprint.set_aside(self._database()))
        if aside:
            facts += " · " + self.tr("with {count} damaged copies kept aside").format(count=aside)
        self.chats_label.setText(_place(self.tr("Chats"), facts, place.path))
        self.delete_chats_button.setEnabled(bool(count) or (self.session is not None and bool(aside)))

    def _show_cache(self) -> None:
        place = footprint.prompt_cache()
        self.cache_label.setText(_place(self.tr("Prompt cache"), self.tr(
            "what models read of your chats, encrypted · {size}").format(size=format_bytes(place.size)),
            place.path))
        self.clear_cache_button.setEnabled(place.size > 0)

    def _show_logs(self) -> None:
        place = footprint.logs()
        self.logs_label.setText(_place(self.tr("Logs"), self.tr("errors and warnings · {size}").format(
            size=format_bytes(place.size)), place.path))
        self.delete_logs_button.setEnabled(place.size > 0)

    def _show_key(self) -> None:
        from desktop.engines import cache_key

        where, detail = cache_key.where()
        if where == cache_key.KEYRING:
            text = html.escape(self.tr("The prompt cache's key: in the OS keyring ({name})").format(
                name=detail))
        else:
            text = html.escape(self.tr("The prompt cache's key: no OS keyring was found, so in a file "
                                       "only your user account can read:"))
            text = text.replace(", ", ",<br>", 1) + "<br>" + html.escape(detail)  # a narrow note
        self.key_label.setText(text)

    def delete_all_chats(self, confirm: bool = True) -> bool:
        """Delete every chat (after asking), and with them every prompt state."""
        if self.session is None:
            return False
        if confirm:
            count = len(self.session.store.conversations())
            question = self.tr("Delete all {count} chats and every message in them? This cannot be "
                               "undone.").format(count=f"{count:,}")
            if footprint.set_aside(self._database()):
                question += " " + self.tr("The damaged copies of the chats kept aside go too.")
            answer = QMessageBox.question(self, self.tr("Delete all chats"), question)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        freed = footprint.chats(self._database()).size
        self.session.delete_all_conversations()
        footprint.delete_set_aside(self._database())
        self.refresh()
        freed -= footprint.chats(self._database()).size
        self.chats_label.setText(html.escape(self.tr("All chats deleted: {size} freed.").format(
            size=format_bytes(max(freed, 0)))))
        return True

    def clear_prompt_cache(self) -> None:
        from desktop.engines.prompt_cache import clear_disk_cache

        freed = clear_disk_cache()
        if self.session is not None:
            # The engine's states in RAM and those waiting to be written go too, or they would
            # come back on disk.
            self.session.host.clear_cache()
        self._show_cache()
        self.cache_label.setText(html.escape(self.tr("Prompt cache cleared: {size} freed.").format(
            size=format_bytes(freed))))

    def delete_logs(self) -> None:
        freed = footprint.delete_logs()
        self._show_logs()
        self.logs_label.setText(html.escape(self.tr("Logs deleted: {size} freed.").format(
            size=format_bytes(freed))))
