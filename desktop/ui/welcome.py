"""What an empty chat shows: a welcome, a few prompts to start from, and (while the small
bundled model is loaded) a pointer to a better model for this computer."""

from __future__ import annotations

import contextlib
import logging
import threading

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.models import speed
from desktop.ui.context_meter import ElidedLabel
from desktop.units import format_bytes

log = logging.getLogger(__name__)

# (title on the card, the prompt sent); translated when shown.
EXAMPLES = (
    (QT_TRANSLATE_NOOP("WelcomeView", "Write code"),
     QT_TRANSLATE_NOOP("WelcomeView", "Write a Python function that checks whether a word is a palindrome.")),
    (QT_TRANSLATE_NOOP("WelcomeView", "Explain"),
     QT_TRANSLATE_NOOP("WelcomeView", "Explain how a rainbow forms, in three sentences.")),
    (QT_TRANSLATE_NOOP("WelcomeView", "Brainstorm"),
     QT_TRANSLATE_NOOP("WelcomeView", "Give me five ideas for a rainy Sunday afternoon.")),
    (QT_TRANSLATE_NOOP("WelcomeView", "Translate"),
     QT_TRANSLATE_NOOP("WelcomeView", "Translate “Good morning, how are you?” into Chinese.")),
)

# Colours only from the palette: the view follows a theme switch when its sheet is re-applied.
STYLE = """
QLabel#welcome_title { font-size: 20px; font-weight: 600; }
QLabel#welcome_subtitle, QLabel#recommend_detail { color: palette(placeholder-text); }
QFrame#example { border: 1px solid palette(mid); border-radius: 10px; background: palette(base); }
QFrame#example:hover, QFrame#example:focus { border: 1px solid palette(highlight); }
QLabel#example_title { font-weight: 600; }
QLabel#example_prompt { color: palette(placeholder-text); }
QFrame#recommend_card { border: 1px solid palette(highlight); border-radius: 10px;
                        background: palette(alternate-base); }
"""


def _t(text: str) -> str:
    return QCoreApplication.translate("WelcomeView", text)


def fetch_recommendation():
    """desktop.models.recommend.recommend(), or None when that is missing or fails: the welcome
    works without it."""
    try:
        from desktop.models.recommend import recommend
    except ImportError:
        return None
    try:
        return recommend()
    except Exception:  # a hint, never a reason for the welcome to fail
        log.exception("could not work out a recommended model")
        return None


class ExampleCard(QFrame):
    """A prompt to start from: its title over the prompt itself; a click, Enter or Space sends
    it. Signals: clicked()."""

    clicked = Signal()

    def __init__(self, title: str, prompt: str, parent=None):
        super().__init__(parent)
        self.setObjectName("example")
        self.prompt = prompt
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName(prompt)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.title = QLabel(title)
        self.title.setObjectName("example_title")
        self.text = ElidedLabel(prompt)  # one line, whatever the width: the tooltip has it all
        self.text.setObjectName("example_prompt")
        self.setToolTip(prompt)
        for label in (self.title, self.text):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def mouseReleaseEvent(self, event):  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


class _Fetch(QObject):
    # Reading the hardware can take a moment (it may ask the GPU driver): off the window's thread.
    done = Signal(object)


class WelcomeView(QWidget):
    """Signals: prompt_chosen(str): an example was clicked (the window fills it in and sends it);
    library_requested(): the recommendation's button (open the library on it)."""

    prompt_chosen = Signal(str)
    library_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("welcome")
        self.recommendation = None
        self._fetching = False
        self.fetched = False  # looked up once per run (None included): the hardware stays put
        self._fetch = _Fetch(self)
        self._fetch.done.connect(self.set_recommendation)
        self.title = QLabel(self.tr("What shall we talk about?"))
        self.title.setObjectName("welcome_title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.subtitle = QLabel(self.tr("Everything runs on this computer: your chats never leave it. "
                                       "Pick a start or write your own message below."))
        self.subtitle.setObjectName("welcome_subtitle")
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle.setWordWrap(True)
        self.example_buttons: list[ExampleCard] = []
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, (title, prompt) in enumerate(EXAMPLES):
            button = ExampleCard(_t(title), _t(prompt))
            button.clicked.connect(lambda p=prompt: self.prompt_chosen.emit(_t(p)))
            self.example_buttons.append(button)
            grid.addWidget(button, i // 2, i % 2)

        self.card = QFrame()
        self.card.setObjectName("recommend_card")
        self.recommend_label = QLabel()
        self.recommend_label.setWordWrap(True)
        self.recommend_label.setTextFormat(Qt.TextFormat.PlainText)  # a name from the catalog
        self.recommend_detail = QLabel()
        self.recommend_detail.setObjectName("recommend_detail")
        self.recommend_detail.setWordWrap(True)
        self.recommend_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.get_button = QPushButton(self.tr("Get it"))
        self.get_button.clicked.connect(self.library_requested)
        texts = QVBoxLayout()
        texts.addWidget(self.recommend_label)
        texts.addWidget(self.recommend_detail)
        card_layout = QHBoxLayout(self.card)
        card_layout.addLayout(texts, 1)
        card_layout.addWidget(self.get_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.card.hide()

        column = QWidget()
        column.setMaximumWidth(640)
        column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        inner = QVBoxLayout(column)
        inner.setSpacing(12)
        inner.addWidget(self.title)
        inner.addWidget(self.subtitle)
        inner.addSpacing(8)
        inner.addLayout(grid)
        # The card arrives a moment after the welcome shows (the lookup runs in the background).
        # It sits at the top of the space below the prompts: that space is two thirds of what the
        # column leaves free whether the card shows or not, so the title and the prompts stay
        # where they are when it appears (unless the window is too low to hold it there).
        below = QWidget()
        below.setMaximumWidth(640)
        below.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        below_layout = QVBoxLayout(below)  # the column's margins: the card lines up with the prompts
        below_layout.addSpacing(12)
        below_layout.addWidget(self.card)
        below_layout.addStretch(1)
        self.card_area = below
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(self._centred(column))
        outer.addLayout(self._centred(below), 2)
        self.setStyleSheet(STYLE)

    @staticmethod
    def _centred(widget: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(widget, 100)  # the whole width up to the column's maximum, centred
        row.addStretch(1)
        return row

    def restyle(self) -> None:
        """Re-read the palette colours of the sheet (after a theme switch)."""
        self.setStyleSheet(STYLE)

    def set_recommendation(self, recommendation) -> None:
        """Show a card for a desktop.models.recommend.Recommendation, or hide it (None)."""
        self._fetching = False
        self.fetched = True
        self.recommendation = recommendation
        if recommendation is None:
            self.card.hide()
            return
        name = getattr(recommendation, "name", None) or getattr(recommendation, "repo_id", "")
        rate = getattr(recommendation, "tokens_per_s", None)
        # The recommendation's own wording of its figures, as the library and the CLI show them.
        rate_text = getattr(recommendation, "speed_text", None) or speed.format_speed(rate)
        if rate_text:
            headline = self.tr("Recommended for this computer: {name} {speed}").format(
                name=name, speed=rate_text)
        else:
            headline = self.tr("Recommended for this computer: {name}").format(name=name)
        self.recommend_label.setText(headline)
        details = []
        if getattr(recommendation, "quantization", None):
            details.append(recommendation.quantization)
        if getattr(recommendation, "format_text", None):
            details.append(recommendation.format_text)
        size = getattr(recommendation, "file_bytes", None)
        if size:
            details.append(getattr(recommendation, "size_text", None) or format_bytes(size))
        details.append(self.tr("a bigger model than the small one bundled with EdgeChat: "
                               "better answers"))
        self.recommend_detail.setText(" · ".join(details))
        self.card.show()

    def show_recommendation_for(self, bundled_model_loaded: bool) -> None:
        """While the bundled model is loaded, look up (once, in the background) what to suggest."""
        if not bundled_model_loaded:
            self.card.hide()
            return
        if self.fetched:
            self.card.setVisible(self.recommendation is not None)
            return
        if self._fetching:
            return
        self._fetching = True
        fetch = self._fetch

        def run():
            result = fetch_recommendation()
            with contextlib.suppress(RuntimeError):  # the window closed meanwhile
                fetch.done.emit(result)

        threading.Thread(target=run, name="recommend", daemon=True).start()
