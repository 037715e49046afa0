"""A read-only Markdown view that sizes itself to its text and never loads anything.

A model's reply is untrusted: an image or link in it must not reach the network or the disk.
Resources resolve to nothing; a link opens in the system browser only when clicked.

A streamed reply grows a chunk at a time. Re-rendering all of it for every chunk costs more the
longer it gets, so the view renders each finished top-level block once (see markdown_stream)
and re-renders only the open block at the end. Each piece is rendered by Qt's own Markdown
importer into a scratch document and copied to the end of the view's document, so the result is
what rendering the whole text at once gives. Code blocks get colours and a "Copy" link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QImage,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser

from desktop.ui.markdown_stream import Block, BlockSplitter, highlight, language_family

SAFE_SCHEMES = {"http", "https", "mailto"}
_IMG_TAG = re.compile(r"<img", re.IGNORECASE)
# What every image in a reply shows (see _unname_images): a resource of the document itself.
IMAGE_PLACEHOLDER = "edgechat-image:placeholder"
COPY_SCHEME = "copy"
GITHUB = QTextDocument.MarkdownFeature.MarkdownDialectGitHub
CODE_LANGUAGE = QTextFormat.Property.BlockCodeLanguage
# Marks the block that holds a code block's "Copy" link (its value: the code block's number).
COPY_LINK_PROPERTY = QTextFormat.Property.UserProperty.value + 1

_COLOURS = {
    # light background, dark background
    "keyword": ("#7c3aed", "#c4a7ff"),
    "string": ("#0a7d32", "#9fdc8c"),
    "comment": ("#6a737d", "#8b949e"),
    "number": ("#b35900", "#f2a65a"),
}


def _unname_images(block: QTextBlock) -> bool:
    """Point every image from block on at the placeholder; True if there was any.

    Even when no resource loads, Qt's image handler reads an image's name as a file path from
    the disk. Named after a resource the document holds, it never looks further. The image's
    own text and address stay readable as its tooltip.
    """
    cursor = QTextCursor(block.document())
    images = []
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().isImageFormat():
                images.append((fragment.position(), fragment.length(), fragment.charFormat()))
            it += 1
        block = block.next()
    for pos, length, fmt in images:
        image = fmt.toImageFormat()
        alt = image.stringProperty(QTextFormat.Property.ImageAltText)
        image.setToolTip(f"{alt} ({image.name()})" if alt else image.name())
        image.setName(IMAGE_PLACEHOLDER)
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.setCharFormat(image)
    return bool(images)


def _placeholder_image() -> QImage:
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    image.fill(QColor(128, 128, 128, 90))
    return image


def _join_code(before: str, more: str) -> str:
    return f"{before}\n{more}" if before else more


class _NothingLoaded(QTextDocument):
    """A document that resolves every resource (an image in a reply) to nothing."""

    def loadResource(self, resource_type, url):  # noqa: N802 - Qt override
        # QTextDocument's own version reads a local file itself when the widget's loadResource
        # gives nothing; an image in a reply must not make the app read the disk.
        return None


@dataclass
class _OpenFence:
    """A fenced code block still open at the end of the reply, rendered up to its last line."""

    start: int  # where its opening line starts in the Markdown
    opening: str  # its opening line
    marker: str  # the fence that would close it
    committed: int  # where, in the Markdown, the lines in the document for good end
    state: str  # the highlighter's state after those lines
    pos: int  # where they end in the document
    code: int  # its number among the code blocks
    code_text: str  # those lines, as code


class MarkdownView(QTextBrowser):
    link_opened = Signal(QUrl)
    code_copied = Signal(int)

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
        self.setDocument(_NothingLoaded(self))
        document = self.document()
        document.setDocumentMargin(2)
        # Every re-rendered tail would otherwise pile up in the undo stack of a read-only view.
        document.setUndoRedoEnabled(False)
        document.contentsChanged.connect(self._fit_height)
        self.anchorClicked.connect(self._open_link)
        self._scratch = _NothingLoaded(self)
        self._last_state = ""
        self._start_over()

    def loadResource(self, resource_type, url):  # noqa: N802 - Qt override
        return None  # nothing from the network or the disk

    # -- text ----------------------------------------------------------------------------
    def set_markdown(self, text: str) -> None:
        old = self._splitter.text
        if text == old:
            return
        if old and text.startswith(old):
            self.append_markdown(text[len(old):])
            return
        self._start_over()
        self.document().clear()
        self.append_markdown(text)

    def append_markdown(self, chunk: str) -> None:
        """Add streamed text: finished blocks are rendered once, the open one again."""
        if chunk:
            self._render(self._splitter.feed(chunk))

    def markdown(self) -> str:
        return self._splitter.text

    def code_blocks(self) -> list[str]:
        """The text of each code block, in order; "copy:N" links copy the Nth."""
        return list(self._codes)

    def _start_over(self) -> None:
        self._splitter = BlockSplitter()
        self._done_pos = 0  # where the rendering of what is still open starts in the document
        self._codes: list[str] = []
        self._done_codes = 0  # code blocks of finished blocks; later ones are the open block's
        self._fence: _OpenFence | None = None

    def _render(self, finished: list[Block]) -> None:
        document = self.document()
        text = self._splitter.text
        fence = self._fence
        keep = fence.pos if fence else self._done_pos
        if keep == 0:
            document.clear()  # nothing is kept: all there is, is the old open block
        cursor = QTextCursor(document)
        # One edit block: the layout and the height fit run once for the whole chunk.
        cursor.beginEditBlock()
        if keep:
            self._cut(cursor, keep)
        del self._codes[fence.code + 1 if fence else self._done_codes:]
        if fence is not None:
            self._codes[fence.code] = fence.code_text
            if finished and finished[0].start == fence.start:
                # Its closing fence came: the lines before it are all it still needs.
                self._extend_fence(cursor, text.rfind("\n", 0, finished[0].end - 1) + 1)
                finished = finished[1:]
                self._fence = fence = None
                self._mark_done()
        # Blocks finished by the same chunk render together, except that a fenced code block
        # renders alone: its rendering is then exactly one code block, the one its link copies.
        group_start = None
        for i, block in enumerate(finished):
            if group_start is None:
                group_start = block.start
            if block.fence or i + 1 == len(finished) or finished[i + 1].fence:
                self._insert(cursor, text[group_start:block.end])
                group_start = None
        if finished:
            self._mark_done()
        self._render_open(cursor)
        cursor.endEditBlock()

    def _render_open(self, cursor: QTextCursor) -> None:
        """Render the open block, all of it, or, for a fenced code block, what is new."""
        text, complete = self._splitter.text, self._splitter.complete
        open_fence = self._splitter.open_fence
        # A code block can be long, and its finished lines never change: they go in once, and
        # each chunk adds the lines it completed and redraws only the last, partial one. It starts
        # with a line that is not blank: at the top of a document Qt drops a code block's first
        # blank line only when more follows, so blank lines alone would render differently.
        if (open_fence is not None and self._fence is None
                and text[open_fence[1]:complete].strip()):
            start, body, marker = open_fence
            codes = len(self._codes)
            self._insert(cursor, f"{text[start:complete]}{marker}\n")
            if len(self._codes) > codes:
                self._fence = _OpenFence(start, text[start:body], marker, complete, self._last_state,
                                         self.document().characterCount() - 1, codes, self._codes[-1])
            else:  # nothing Qt calls code yet: take it out and render it the plain way
                self._cut(cursor, self._done_pos)
        elif self._fence is not None:
            self._extend_fence(cursor, complete)
        fence = self._fence
        if fence is None:
            tail = text[self._splitter.done:]
            if tail.strip():
                self._insert(cursor, tail)
        elif partial := text[complete:]:
            code = self._insert(cursor, self._fence_source(fence, partial + "\n"), link=False,
                                state=fence.state)
            if code is not None:
                self._codes[fence.code] = _join_code(fence.code_text, code)

    def _extend_fence(self, cursor: QTextCursor, upto: int) -> None:
        fence = self._fence
        if upto > fence.committed:
            new = self._splitter.text[fence.committed:upto]
            code = self._insert(cursor, self._fence_source(fence, new), link=False, state=fence.state)
            if code is not None:
                fence.code_text = self._codes[fence.code] = _join_code(fence.code_text, code)
            fence.committed, fence.state = upto, self._last_state
            fence.pos = self.document().characterCount() - 1

    @staticmethod
    def _fence_source(fence: _OpenFence, lines: str) -> str:
        """Lines of an open fenced block as a block of their own, with the same opening line."""
        return f"{fence.opening}{lines}{fence.marker}\n"

    def _mark_done(self) -> None:
        document = self.document()
        self._done_pos = 0 if document.isEmpty() else document.characterCount() - 1
        self._done_codes = len(self._codes)

    def _cut(self, cursor: QTextCursor, pos: int) -> None:
        """Remove everything from pos (the end of a block, or 0) to the end of the document."""
        last = self.document().findBlock(pos)
        # Removing the break after an empty block drops that block and keeps the next one
        # (emptied) with its own format: put the empty block's format back.
        kept = (last.blockFormat(), last.charFormat()) if last.length() == 1 else None
        cursor.setPosition(pos)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if kept is not None:
            cursor.setBlockFormat(kept[0])
            cursor.setBlockCharFormat(kept[1])

    def _insert(self, cursor: QTextCursor, source: str, *, link: bool = True,
                state: str = "") -> str | None:
        """Render source on its own and append it to the document; returns its last code."""
        document = self.document()
        scratch = self._scratch
        scratch.setDefaultFont(document.defaultFont())
        whole = document.isEmpty()
        if whole:
            # Copying a whole document keeps its first block's format (a heading, a list item).
            # The newline keeps a reply that starts with "---" from being read as YAML front
            # matter, which Qt would hide up to the next "---" line.
            scratch.setMarkdown("\n" + source, GITHUB)
            first = scratch.begin()
        else:
            # Elsewhere a copied first block would take the format of the block it joins, so
            # the piece is rendered after a throwaway paragraph and copied from that paragraph's
            # end: the copy starts with a block break that brings the right format along.
            scratch.setMarkdown("x\n\n" + source, GITHUB)
            first = scratch.begin().next()
        if ("![" in source or _IMG_TAG.search(source)) and _unname_images(first):
            document.addResource(QTextDocument.ResourceType.ImageResource.value,
                                 QUrl(IMAGE_PLACEHOLDER), _placeholder_image())
        code = self._decorate(first, link, state)
        if whole:
            fragment = QTextDocumentFragment(scratch)
        else:
            selection = QTextCursor(scratch)
            selection.setPosition(1)
            selection.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            fragment = QTextDocumentFragment(selection)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertFragment(fragment)
        return code

    # -- code blocks ---------------------------------------------------------------------
    def _decorate(self, block: QTextBlock, link: bool, state: str) -> str | None:
        """Colour the code blocks from block on and, with link, put a Copy link above each.

        state: the highlighter's state before the first code line. Returns the text of the last
        code block (None if there is none); its final highlighter state is left in _last_state.
        """
        runs: list[list[QTextBlock]] = []
        language = None
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.hasProperty(CODE_LANGUAGE):
                lang = fmt.stringProperty(CODE_LANGUAGE)
                if language is None or lang != language:
                    runs.append([])
                runs[-1].append(block)
                language = lang
            else:
                language = None
            block = block.next()
        self._last_state = state
        if not runs:
            return None
        dark = QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128
        formats = {}
        for kind, colours in _COLOURS.items():
            formats[kind] = QTextCharFormat()
            formats[kind].setForeground(QColor(colours[dark]))
        background = QTextBlockFormat()
        background.setBackground(QColor(255, 255, 255, 18) if dark else QColor(0, 0, 0, 12))
        cursor = QTextCursor(runs[0][0].document())
        code = ""
        for run in runs:
            family = language_family(run[0].blockFormat().stringProperty(CODE_LANGUAGE))
            for line in run:
                start = line.position()
                cursor.setPosition(start)
                cursor.mergeBlockFormat(background)
                spans, state = highlight(line.text(), family, state)
                for offset, length, kind in spans:
                    cursor.setPosition(start + offset)
                    cursor.setPosition(start + offset + length, QTextCursor.MoveMode.KeepAnchor)
                    cursor.mergeCharFormat(formats[kind])
            self._last_state = state
            code = "\n".join(line.text() for line in run)
            if link:
                self._codes.append(code)
                self._add_copy_link(cursor, run[0], len(self._codes) - 1)
            state = ""
        return code

    @staticmethod
    def _add_copy_link(cursor: QTextCursor, code: QTextBlock, index: int) -> None:
        fmt, char_fmt, pos = code.blockFormat(), code.charFormat(), code.position()
        cursor.setPosition(pos)
        # A block break at the start of the code: the code moves on with its own format and
        # the empty block left in front of it becomes the link.
        cursor.insertBlock(fmt, char_fmt)
        link = QTextBlockFormat()
        link.setAlignment(Qt.AlignmentFlag.AlignRight)
        link.setTopMargin(4)
        link.setIndent(fmt.indent())
        link.setLeftMargin(fmt.leftMargin())
        if fmt.hasProperty(QTextFormat.Property.BlockQuoteLevel):
            link.setProperty(QTextFormat.Property.BlockQuoteLevel,
                             fmt.intProperty(QTextFormat.Property.BlockQuoteLevel))
        link.setProperty(COPY_LINK_PROPERTY, index)
        cursor.setPosition(pos)
        cursor.setBlockFormat(link)
        cursor.setBlockCharFormat(QTextCharFormat())
        anchor = QTextCharFormat()
        anchor.setAnchor(True)
        anchor.setAnchorHref(f"{COPY_SCHEME}:{index}")
        anchor.setForeground(QGuiApplication.palette().color(QPalette.ColorRole.Link))
        anchor.setProperty(QTextFormat.Property.FontSizeAdjustment, -1)
        cursor.insertText(QCoreApplication.translate("MarkdownView", "Copy"), anchor)

    # -- links ---------------------------------------------------------------------------
    def _open_link(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == COPY_SCHEME:
            self._copy_code(url.path())
        elif scheme in SAFE_SCHEMES:
            self.link_opened.emit(url)
            QDesktopServices.openUrl(url)

    def _copy_code(self, number: str) -> None:
        if number.isdigit() and int(number) < len(self._codes):
            QGuiApplication.clipboard().setText(self._codes[int(number)])
            self.code_copied.emit(int(number))

    # -- size ----------------------------------------------------------------------------
    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        # Setting the width lays out the whole document again, even when it is the same width;
        # the height changes with every streamed chunk, and that must not cost a full layout.
        width = self.viewport().width()
        if self.document().textWidth() != width:
            self.document().setTextWidth(width)
        self._fit_height()

    def _fit_height(self) -> None:
        height = int(self.document().size().height()) + 4
        if height != self.height():
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, int(self.document().size().height()) + 4)
