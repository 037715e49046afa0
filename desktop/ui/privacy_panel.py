"""Settings ▸ Privacy: what EdgeChat keeps on this computer, where, how big, with a button to
delete each (desktop/storage/footprint.py finds them). The README's "Privacy" section says the
same, so a user can check one against the other."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from desktop.storage import footprint
from desktop.units import format_bytes


def _label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # paths to copy
    return label


class PrivacyPanel(QWidget):
    """``session``: the window's ChatSession (deleting chats goes through it, so their prompt
    states go too); without one (no window) chats can only be looked at."""

    def __init__(self, session=None, parent=None):
        super().__init__(parent)
        self.session = session
        self.intro = QLabel(self.tr(
            "EdgeChat sends nothing anywhere: there is no telemetry, and chatting never needs the "
            "network. This is what it keeps on this computer."))
        self.intro.setWordWrap(True)
        self.chats_label = _label()
        self.cache_label = _label()
        self.key_label = _label()
        self.logs_label = _label()
        self.delete_chats_button = QPushButton(self.tr("Delete all chats…"))
        self.clear_cache_button = QPushButton(self.tr("Clear prompt cache"))
        self.delete_logs_button = QPushButton(self.tr("Delete logs"))
        self.delete_chats_button.clicked.connect(lambda: self.delete_all_chats())
        self.clear_cache_button.clicked.connect(self.clear_prompt_cache)
        self.delete_logs_button.clicked.connect(self.delete_logs)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        for row, (name, label, button) in enumerate((
                (self.tr("Chats"), self.chats_label, self.delete_chats_button),
                (self.tr("Prompt cache"), self.cache_label, self.clear_cache_button),
                (self.tr("Logs"), self.logs_label, self.delete_logs_button))):
            title = QLabel(name)
            grid.addWidget(title, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, row, 1)
            grid.addWidget(button, row, 2, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.key_label, 3, 1, 1, 2)
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
        text = self.tr("Your conversations, their settings and your presets, in {path} ({size}).").format(
            path=place.path, size=format_bytes(place.size))
        if count is not None:
            text += " " + self.tr("{count} chats.").format(count=f"{count:,}")
        self.chats_label.setText(text)
        self.delete_chats_button.setEnabled(bool(count))

    def _show_cache(self) -> None:
        place = footprint.prompt_cache()
        self.cache_label.setText(self.tr(
            "What a model read of your conversations, encrypted, so they continue at once after a "
            "restart: {path} ({size}). A chat's states go when the chat is deleted.").format(
            path=place.path, size=format_bytes(place.size)))
        self.clear_cache_button.setEnabled(place.size > 0)

    def _show_logs(self) -> None:
        place = footprint.logs()
        self.logs_label.setText(self.tr(
            "Errors and warnings with their details, to find what went wrong: {path} ({size}).").format(
            path=place.path, size=format_bytes(place.size)))
        self.delete_logs_button.setEnabled(place.size > 0)

    def _show_key(self) -> None:
        from desktop.engines import cache_key

        where, detail = cache_key.where()
        if where == cache_key.KEYRING:
            text = self.tr("The prompt cache's key is kept in the OS keyring ({name}).").format(name=detail)
        else:
            text = self.tr("No OS keyring was found: the prompt cache's key is kept in {path}, which only "
                           "your user account can read.").format(path=detail)
        self.key_label.setText(text)

    def delete_all_chats(self, confirm: bool = True) -> bool:
        """Delete every chat (after asking), and with them every prompt state."""
        if self.session is None:
            return False
        if confirm:
            count = len(self.session.store.conversations())
            answer = QMessageBox.question(
                self, self.tr("Delete all chats"),
                self.tr("Delete all {count} chats and every message in them? This cannot be "
                        "undone.").format(count=f"{count:,}"))
            if answer != QMessageBox.StandardButton.Yes:
                return False
        freed = footprint.chats(self._database()).size
        self.session.delete_all_conversations()
        self.refresh()
        freed -= footprint.chats(self._database()).size
        self.chats_label.setText(self.tr("All chats deleted: {size} freed.").format(
            size=format_bytes(max(freed, 0))))
        return True

    def clear_prompt_cache(self) -> None:
        from desktop.engines.prompt_cache import clear_disk_cache

        freed = clear_disk_cache()
        if self.session is not None:
            # The engine's states in RAM and those waiting to be written go too, or they would
            # come back on disk.
            self.session.host.clear_cache()
        self._show_cache()
        self.cache_label.setText(self.tr("Prompt cache cleared: {size} freed.").format(
            size=format_bytes(freed)))

    def delete_logs(self) -> None:
        freed = footprint.delete_logs()
        self._show_logs()
        self.logs_label.setText(self.tr("Logs deleted: {size} freed.").format(size=format_bytes(freed)))
