"""Settings: appearance and language, and the Hugging Face access token (kept only in the OS
keyring)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from desktop.models import tokens
from desktop.ui import settings_keys
from desktop.ui.i18n import available_languages, choose_language
from desktop.ui.theme import apply_theme


class SettingsDialog(QDialog):
    """Signals: restart_requested(): "Restart now" after a language change (the main window
    restarts EdgeChat on the same chat)."""

    restart_requested = Signal()
    offline_changed = Signal(bool)  # Work offline was switched (the status bar shows it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(600)  # the keyring's notes wrap to a few lines, not a clipped column
        settings = QSettings()
        self.theme_combo = QComboBox()
        for key, label in (("system", self.tr("Same as the system")), ("light", self.tr("Light")),
                           ("dark", self.tr("Dark"))):
            self.theme_combo.addItem(label, key)
        self.theme_combo.setCurrentIndex(max(self.theme_combo.findData(
            settings.value(settings_keys.THEME, "system")), 0))
        self.language_combo = QComboBox()
        self.language_combo.addItem(self.tr("Same as the system"), "system")
        for code, name in available_languages().items():
            self.language_combo.addItem(name, code)
        self.language_combo.setCurrentIndex(max(self.language_combo.findData(
            settings.value(settings_keys.LANGUAGE, "system")), 0))
        self.language_note = QLabel()
        self.language_note.setWordWrap(True)
        # A language is read when the widgets are made: restarting shows it everywhere at once,
        # and the window comes back on the same chat.
        self.restart_button = QPushButton(self.tr("Restart now"))
        self.restart_button.hide()
        self.restart_button.clicked.connect(self._restart)
        self._start_language = choose_language(settings.value(settings_keys.LANGUAGE, "system"))
        self.theme_combo.currentIndexChanged.connect(self._on_theme)
        self.language_combo.currentIndexChanged.connect(self._on_language)
        appearance = QFormLayout()
        appearance.addRow(self.tr("Theme"), self.theme_combo)
        appearance.addRow(self.tr("Language"), self.language_combo)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText(self.tr("hf_…  (needed only for gated or private models)"))
        self.token_edit.setAccessibleName(self.tr("Hugging Face access token"))
        self.save_button = QPushButton(self.tr("Save token"))
        self.clear_button = QPushButton(self.tr("Remove token"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.token_edit, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>" + self.tr("Appearance") + "</b>"))
        layout.addLayout(appearance)
        language_row = QHBoxLayout()
        language_row.addWidget(self.language_note, 1)
        language_row.addWidget(self.restart_button)
        layout.addLayout(language_row)
        layout.addWidget(QLabel("<b>" + self.tr("Hugging Face access token") + "</b>"))
        layout.addWidget(self.status_label)
        layout.addLayout(row)
        layout.addWidget(self.message)
        # What is kept where (chats, prompt cache, logs), with a button to delete each.
        from desktop.ui.privacy_panel import PrivacyPanel

        self.privacy = PrivacyPanel(getattr(parent, "session", None), self)
        self.cache_label, self.clear_cache_button = self.privacy.cache_label, self.privacy.clear_cache_button
        layout.addWidget(QLabel("<b>" + self.tr("Privacy") + "</b>"))
        layout.addWidget(self.privacy)
        self._add_network_section(layout)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self.save_token)
        self.clear_button.clicked.connect(self.clear_token)
        self.refresh()
        self.adjustSize()  # tall enough for the wrapped notes at this width (they were clipped)

    def refresh(self) -> None:
        state = tokens.status()
        has = tokens.get_token() is not None
        if not state.available:
            self.status_label.setText(state.message)
        else:
            self.status_label.setText(
                (self.tr("A token is stored.") if has else self.tr("No token is stored.")) + " "
                + state.message)
        for widget in (self.token_edit, self.save_button):
            widget.setEnabled(state.available)
        self.clear_button.setEnabled(state.available and has)
        # The whole note at the dialog's width: a dialog sizes itself without asking a wrapped
        # label for its height, which cut a long note's first and last lines.
        margins = self.layout().contentsMargins() if self.layout() else None
        inner = max(self.width(), self.minimumWidth()) - (margins.left() + margins.right() if margins else 0)
        for note in (self.status_label, self.offline_note):
            note.setMinimumHeight(note.heightForWidth(inner))

    def save_token(self) -> None:
        try:
            tokens.set_token(self.token_edit.text())
        except tokens.TokenStoreError as exc:
            self.message.setText(str(exc))
        else:
            self.message.setText(self.tr("Saved in the OS keyring."))
        self.token_edit.clear()
        self.refresh()

    def clear_token(self) -> None:
        try:
            tokens.clear_token()
        except tokens.TokenStoreError as exc:
            self.message.setText(str(exc))
        else:
            self.message.setText(self.tr("Removed."))
        self.refresh()

    def _add_network_section(self, layout: QVBoxLayout) -> None:
        """Work offline (desktop/privacy.py): kept in QSettings, applied at once and at every
        start. --offline or EDGECHAT_OFFLINE=1 hold it on for the run: the box then cannot
        be unticked."""
        from PySide6.QtWidgets import QCheckBox

        from desktop import privacy

        self.offline_check = QCheckBox(self.tr("Work offline"))
        self.offline_check.setChecked(privacy.offline())
        self.offline_check.setEnabled(not privacy.forced())
        self.offline_check.toggled.connect(self._on_offline)
        note = self.tr("EdgeChat then connects to nothing outside this computer: Hugging Face search "
                       "and downloads and servers on other computers are turned off. Chatting with "
                       "the models on this computer never needs the network.")
        if privacy.forced():
            note += " " + self.tr("It is on for this run (--offline or EDGECHAT_OFFLINE=1).")
        self.offline_note = QLabel(note)
        self.offline_note.setWordWrap(True)
        layout.addSpacing(12)
        layout.addWidget(QLabel("<b>" + self.tr("Network") + "</b>"))
        layout.addWidget(self.offline_check)
        layout.addWidget(self.offline_note)

    def _on_offline(self, on: bool) -> None:
        from desktop import privacy

        QSettings().setValue(settings_keys.OFFLINE, on)
        privacy.set_offline(on)
        self.offline_changed.emit(on)

    def _on_theme(self) -> None:
        choice = self.theme_combo.currentData()
        QSettings().setValue(settings_keys.THEME, choice)
        apply_theme(QApplication.instance(), choice)

    def _on_language(self) -> None:
        QSettings().setValue(settings_keys.LANGUAGE, self.language_combo.currentData())
        # Widgets take their text when they are built; a restart rebuilds them all.
        changed = choose_language(self.language_combo.currentData()) != self._start_language
        self.language_note.setText(self.tr("The new language is used from the next start of EdgeChat.")
                                   if changed else "")
        self.restart_button.setVisible(changed)

    def _restart(self) -> None:
        self.accept()
        self.restart_requested.emit()
