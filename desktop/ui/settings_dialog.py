"""Settings: the Hugging Face access token, kept only in the OS keyring."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from desktop.models import tokens


class SettingsDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("hf_…  (needed only for gated or private models)")
        self.save_button = QPushButton("Save token")
        self.clear_button = QPushButton("Remove token")
        self.message = QLabel()
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.token_edit, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Hugging Face access token</b>"))
        layout.addWidget(self.status_label)
        layout.addLayout(row)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self.save_token)
        self.clear_button.clicked.connect(self.clear_token)
        self.refresh()

    def refresh(self) -> None:
        state = tokens.status()
        has = tokens.get_token() is not None
        if not state.available:
            self.status_label.setText(state.message)
        else:
            self.status_label.setText(
                ("A token is stored. " if has else "No token is stored. ") + state.message)
        for widget in (self.token_edit, self.save_button):
            widget.setEnabled(state.available)
        self.clear_button.setEnabled(state.available and has)

    def save_token(self) -> None:
        try:
            tokens.set_token(self.token_edit.text())
        except tokens.TokenStoreError as exc:
            self.message.setText(str(exc))
        else:
            self.message.setText("Saved in the OS keyring.")
        self.token_edit.clear()
        self.refresh()

    def clear_token(self) -> None:
        try:
            tokens.clear_token()
        except tokens.TokenStoreError as exc:
            self.message.setText(str(exc))
        else:
            self.message.setText("Removed.")
        self.refresh()
