"""The context meter: how much of the model's context the next reply's prompt will take."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QWidget,
)

BAR_WIDTH, BAR_MIN = 140, 56


class ElidedLabel(QLabel):
    """One line that ends in "…" when narrower than its text: a long meter text must never
    widen the chat column and squeeze the chat list (the full text is in the meter's tooltip)."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.is_elided():
            QToolTip.showText(event.globalPos(), self.text(), self)  # what the "…" hides
            return True
        return super().event(event)


class WrappedLabel(QLabel):
    """The meter's words: wrapped onto more lines when the column is narrow, never cut. Its
    narrowest is its longest word, so a long text cannot widen the chat column either."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

    def sizeHint(self) -> QSize:  # noqa: N802
        # As wide as the text on one line (its height for that width): a wrapped label's own
        # hint picks a width of its choosing, which the layout would then share out wrongly.
        width = self.fontMetrics().horizontalAdvance(self.text()) + 2 * self.margin() + 2
        return QSize(width, self.heightForWidth(width))

    def is_elided(self) -> bool:
        """Any word cut off: narrower than the longest word, or shorter than its lines."""
        rect = self.contentsRect()
        words = self.text().split()
        widest = max((self.fontMetrics().horizontalAdvance(w) for w in words), default=0)
        return widest > rect.width() or self.heightForWidth(self.width()) > self.height()


class _Fixes(QWidget):
    """The buttons under a refusal, side by side (two at most: they fit the narrowest chat
    column, beside an open drawer at 800 pixels)."""

    def __init__(self, buttons, parent=None):
        super().__init__(parent)
        self.buttons = list(buttons)
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        for button in self.buttons:
            button.hide()
            box.addWidget(button)
        box.addStretch(1)


class _Bar(QProgressBar):
    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.minimumWidth(), super().sizeHint().height())


class ContextMeter(QWidget):
    """settings_requested(): the user asked for the setting that would make room (the model's
    load settings, at Context length). library_requested(): for a model made for longer texts.

    ``model_context`` is (allocated, trained) for the loaded model, set by whoever loads it: a
    refusal offers to raise the context only while the model can take more."""

    settings_requested = Signal()
    library_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        # A server's model is counted by an estimate here (drafts never travel to the server).
        self.estimated = False
        self.bar = _Bar()
        self.bar.setTextVisible(False)
        # Narrower in a narrow column, so the words beside it keep their room (resizeEvent).
        self.bar.setFixedWidth(BAR_WIDTH)
        self.bar.setMaximumHeight(10)
        self.label = WrappedLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # the reason can be an engine's error text
        self._label_style = "color: palette(placeholder-text); font-size: 11px;"
        self.label.setStyleSheet(self._label_style)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(2)
        layout.addWidget(self.bar, 0, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label, 0, 1)
        layout.setColumnStretch(1, 1)
        # Shown when the message alone cannot fit: the one setting that makes room. Under the
        # words, so they keep the row's width.
        self.settings_button = QPushButton(self.tr("Context length…"))
        self.settings_button.setFlat(True)
        self.settings_button.setToolTip(self.tr("Model ▸ Load settings… ▸ Context length"))
        self.settings_button.clicked.connect(self.settings_requested)
        from desktop.ui.icons import set_icon

        set_icon(self.settings_button, "mdi6.tune-variant", tone="accent")
        # What else makes room: a model made for longer texts (the system prompt and the reply's
        # length are under Chat settings, whose button is on this row already).
        self.library_button = QPushButton(self.tr("Models for longer texts…"))
        self.library_button.setFlat(True)
        self.library_button.setToolTip(self.tr("The library: each model says how long a text it reads"))
        self.library_button.clicked.connect(self.library_requested)
        set_icon(self.library_button, "mdi6.download-outline", tone="accent")
        self.fixes = _Fixes((self.settings_button, self.library_button))
        # Under the whole meter, its widest row: a button is never narrower than its words.
        layout.addWidget(self.fixes, 2, 0, 1, 3)
        self.model_context: tuple[int | None, int | None] = (None, None)
        self.state = "unknown"
        self.result = None  # the last CountResult shown
        # The draft of the newest count asked for, and of the count shown: the counter reports
        # only its newest request, so the count shown is of the draft asked for last.
        self.counting_draft: str | None = None
        self.counted_draft: str | None = None
        self.set_unknown()

    def set_unknown(self, reason: str = "") -> None:
        self.state = "unknown"
        self.result = None
        self.counted_draft = None
        self._show_fixes(False)
        self._plain_label()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.label.setText(reason or self.tr("Context: no model loaded"))
        self.setToolTip("")

    def show_count(self, result, n_ctx: int, reserve: int, policy: str) -> None:
        """result: the counter's CountResult; reserve: tokens kept free for the reply."""
        self.result = result
        self.counted_draft = self.counting_draft
        self._plain_label()
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
        self._show_fixes(self.draft_too_long())
        how = (self.tr("Estimated at about four characters per token: the server counts for itself.")
               if self.estimated else self.tr("Counted with the model's own tokenizer."))
        self.setToolTip(self.tr(
            "System prompt: {system} · Chat: {history} · Your message: {draft}\n"
            "Kept free for the reply: {reserve} · Context length: {size}"
        ).format(system=f"{result.system:,}", history=f"{result.history:,}",
                 draft=f"{result.draft:,}", reserve=f"{reserve:,}", size=f"{n_ctx:,}") + "\n" + how)

    def draft_too_long(self) -> bool:
        """The last count says the message alone (with the system prompt and the room kept for
        the reply) cannot fit, whatever is left out."""
        r = self.result
        if r is None or not r.full or not r.draft:
            return False
        # Under "stop" any overflow is full; the message alone is what matters here.
        return r.policy != "stop" or r.system + r.draft > r.limit

    def refuse(self, text: str) -> bool:
        """True, with the reason shown here, when ``text`` is the draft counted and it cannot
        fit; False when it may be sent (or was not counted yet: the engine then says why)."""
        if self.counted_draft is None or self.counted_draft != text.strip() or not self.draft_too_long():
            return False
        r = self.result
        need, limit = f"{r.system + r.draft:,}", f"{r.limit:,}"
        if self.can_raise_context():
            text = self.tr(
                "Not sent: with the system prompt this message needs {need} tokens, and the model's "
                "context has room for {limit} (the rest is kept for the reply). Shorten it, raise "
                "Context length in the model's load settings, or use a model made for longer texts."
            ).format(need=need, limit=limit)
        else:
            # The field is at the model's limit already: sending the user there would not help.
            text = self.tr(
                "Not sent: with the system prompt this message needs {need} tokens, and this model "
                "reads at most {trained}, {limit} of them for the prompt (the rest is kept for the "
                "reply). Shorten the message, shorten the system prompt or the reply in Chat "
                "settings, or use a model made for longer texts."
            ).format(need=need, limit=limit, trained=f"{self.model_context[1]:,}")
        self.label.setText(text)
        self._refused_style()
        self._place_label(wide=True)
        self._show_fixes(True)
        self.state = "refused"
        return True

    def can_raise_context(self) -> bool:
        """The loaded model could be given more context than it has (or its limit is not known)."""
        allocated, trained = self.model_context
        return not (allocated and trained and allocated >= trained)

    def _show_fixes(self, shown: bool) -> None:
        self.settings_button.setVisible(shown and self.can_raise_context())
        self.library_button.setVisible(shown)

    def _plain_label(self) -> None:
        self.label.setStyleSheet(self._label_style)
        self._place_label(wide=False)

    def _place_label(self, wide: bool) -> None:
        """Beside the bar (a count), or on a row of its own under it, as wide as the meter (a
        refusal: several sentences, which beside the bar wrapped to a word a line)."""
        layout = self.layout()
        at = (1, 0, 1, 3) if wide else (0, 1, 1, 1)
        index = layout.indexOf(self.label)
        if index >= 0 and layout.getItemPosition(index) == at:
            return
        layout.removeWidget(self.label)
        layout.addWidget(self.label, *at)

    def _refused_style(self) -> None:
        from desktop.ui.icons import tone_color

        self.label.setStyleSheet(f"color: {tone_color('danger').name()}; font-size: 11px;")

    def add_trailing(self, widget: QWidget) -> None:
        """A widget at the end of the meter's first row (the window's Chat settings switch):
        the buttons under a refusal then have the whole row's width."""
        self.layout().addWidget(widget, 0, 2, Qt.AlignmentFlag.AlignTop)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        # A third of the meter at most: the words beside the bar are what must be read.
        width = max(BAR_MIN, min(BAR_WIDTH, self.width() // 3))
        if self.bar.width() != width:
            self.bar.setFixedWidth(width)

    def changeEvent(self, event):  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            # A style sheet reads palette colours when it is applied: apply it again in the
            # new theme, or the text stays in the old one's grey (unreadable on the other).
            self.label.setStyleSheet("")
            if self.state == "refused":
                self._refused_style()
            else:
                self.label.setStyleSheet(self._label_style)
