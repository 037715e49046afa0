"""A read-only Markdown view that sizes itself to its text and never loads anything.

A model's reply is untrusted: an image or link in it must not reach the network or the disk.
Resources resolve to nothing; a link opens in the system browser only when clicked.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QTextDocument
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser

SAFE_SCHEMES = {"http", "https", "mailto"}


class MarkdownView(QTextBrowser):
    link_opened = Signal(QUrl)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().setDocumentMargin(2)
        self.document().contentsChanged.connect(self._fit_height)
        self.anchorClicked.connect(self._open_link)
        self._markdown = ""

    def loadResource(self, resource_type, url):  # noqa: N802 - Qt override
        return None  # nothing from the network or the disk

    def set_markdown(self, text: str) -> None:
        if text != self._markdown:
            self._markdown = text
            self.document().setMarkdown(text, QTextDocument.MarkdownFeature.MarkdownDialectGitHub)

    def markdown(self) -> str:
        return self._markdown

    def _open_link(self, url: QUrl) -> None:
        if url.scheme().lower() in SAFE_SCHEMES:
            self.link_opened.emit(url)
            QDesktopServices.openUrl(url)

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self.document().setTextWidth(self.viewport().width())
        self._fit_height()

    def _fit_height(self) -> None:
        height = int(self.document().size().height()) + 4
        if height != self.height():
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, int(self.document().size().height()) + 4)
