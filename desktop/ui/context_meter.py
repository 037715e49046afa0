"""The context meter: how much of the model's context the next reply's prompt will take."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


class ContextMeter(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(140)
        self.bar.setMaximumHeight(10)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # the reason can be an engine's error text
        self.label.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self.state = "unknown"
        self.result = None  # the last CountResult shown
        self.set_unknown()

    def set_unknown(self, reason: str = "") -> None:
        self.state = "unknown"
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.label.setText(reason or self.tr("Context: no model loaded"))
        self.setToolTip("")

    def show_count(self, result, n_ctx: int, reserve: int, policy: str) -> None:
        """result: the counter's CountResult; reserve: tokens kept free for the reply."""
        self.result = result
        total = result.total
        self.bar.setRange(0, max(n_ctx, 1))
        self.bar.setValue(min(total, n_ctx))
        text = self.tr("{used} / {size} tokens").format(used=f"{total:,}", size=f"{n_ctx:,}")
        if result.full:
            self.state = "full"
            if policy == "stop":
                text += " · " + self.tr("too long: you will be asked what to leave out")
            else:
                text += " · " + self.tr("too long even on its own: shorten the message")
        elif result.dropped:
            self.state = "trimmed"
            text += " · " + self.tr("{count} earlier messages will be left out").format(
                count=result.dropped)
        elif total + reserve > n_ctx:
            self.state = "near"
        else:
            self.state = "ok"
        colors = {"ok": "", "near": "#b7791f", "trimmed": "#b7791f", "full": "#c0392b"}
        chunk = colors[self.state]
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {chunk}; }}" if chunk else "")
        self.label.setText(text)
        self.setToolTip(self.tr(
            "System prompt: {system} · Chat: {history} · Your message: {draft}\n"
            "Kept free for the reply: {reserve} · Context length: {size}\n"
            "Counted with the model's own tokenizer."
        ).format(system=f"{result.system:,}", history=f"{result.history:,}",
                 draft=f"{result.draft:,}", reserve=f"{reserve:,}", size=f"{n_ctx:,}"))
