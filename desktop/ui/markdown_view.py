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

import bisect
import re
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QRectF, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QToolButton

from desktop.ui.icons import set_icon
from desktop.ui.markdown_stream import Block, BlockSplitter, highlight, language_family

SAFE_SCHEMES = {"http", "https", "mailto"}
_IMG_TAG = re.compile(r"<img", re.IGNORECASE)
# What every image in a reply shows (see _unname_images): a resource of the document itself.
IMAGE_PLACEHOLDER = "edgechat-image:placeholder"
COPY_SCHEME = "copy"
GITHUB = QTextDocument.MarkdownFeature.MarkdownDialectGitHub
CODE_LANGUAGE = QTextFormat.Property.BlockCodeLanguage
# Marks a code block's header line, with its language and copy button (its value: the code
# block's number).
COPY_LINK_PROPERTY = QTextFormat.Property.UserProperty.value + 1
# On a code block's last line, which gets the box's bottom padding: the bottom margin it had.
CODE_BOTTOM_PROPERTY = QTextFormat.Property.UserProperty.value + 2
CODE_PAD = 12  # a code box's padding, left and right of the code
CODE_PAD_BOTTOM = 8  # below the last line, inside the box
CODE_GAP = 6  # below the box
# The header line (language on the left, copy button on the right) has this much room above
# its text and below it, the code this much more.
HEADER_PAD = 9
CODE_PAD_TOP = 6
COPIED_MS = 1500  # how long a copy button says "Copied"

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


def _colors_key(palette: QPalette) -> tuple:
    roles = QPalette.ColorRole
    return tuple(palette.color(role).rgba() for role in (roles.Base, roles.Text, roles.PlaceholderText))


def _pad_bottom(cursor: QTextCursor, block: QTextBlock) -> None:
    """Room under a code block's last line, inside its box and below it."""
    fmt = block.blockFormat()
    if fmt.hasProperty(CODE_BOTTOM_PROPERTY):
        return
    pad = QTextBlockFormat()
    pad.setProperty(CODE_BOTTOM_PROPERTY, fmt.bottomMargin())
    pad.setBottomMargin(fmt.bottomMargin() + CODE_PAD_BOTTOM + CODE_GAP)
    cursor.setPosition(block.position())
    cursor.mergeBlockFormat(pad)


def _placeholder_image() -> QImage:
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    image.fill(QColor(128, 128, 128, 90))
    return image


def _join_code(before: str, more: str) -> str:
    return f"{before}\n{more}" if before else more


def code_box_colors(palette: QPalette) -> tuple[QColor, QColor]:
    """A code box's background and its header's, a shade off the text's background."""
    base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
    dark = base.lightness() < 128

    def towards(amount: float) -> QColor:
        return QColor(round(base.red() + (text.red() - base.red()) * amount),
                      round(base.green() + (text.green() - base.green()) * amount),
                      round(base.blue() + (text.blue() - base.blue()) * amount))

    return (towards(0.07), towards(0.12)) if dark else (towards(0.04), towards(0.08))


class CopiedFeedback:
    """Turns a copy button's icon into a check, says "Copied" in its tooltip (and on the button,
    when it has text), and puts it back after COPIED_MS. No popup: it is right where the user
    looks, and a popup window would take the keyboard focus on some desktops."""

    def __init__(self, button: QToolButton):
        self.button = button
        self.tip = button.toolTip()
        self.label = button.text()
        self.timer = QTimer(button, singleShot=True, interval=COPIED_MS)
        self.timer.timeout.connect(self.reset)

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def show(self) -> None:
        button = self.button
        text = QCoreApplication.translate("MessageWidget", "Copied")
        set_icon(button, "mdi6.check", "accent")
        button.setToolTip(text)
        if self.label:
            button.setText(text)
            self._fit()
        self.timer.start()

    def reset(self) -> None:
        button = self.button
        set_icon(button, button.property("iconName"), "muted")
        button.setToolTip(self.tip)
        if self.label:
            button.setText(self.label)
            self._fit()

    def _fit(self) -> None:
        # A button placed by hand (a code box's header) keeps the size of its first word:
        # "Copied" in the room of "Copy" read "✓ C…d". It takes its new text's size, growing
        # to the left so its right edge stays where it was.
        button = self.button
        if button.parentWidget() is None or button.parentWidget().layout() is not None \
                and button.parentWidget().layout().indexOf(button) >= 0:
            return
        right = button.geometry().right()
        button.adjustSize()
        button.move(right - button.width() + 1, button.y())


def icon_button(icon_name: str, tip: str, text: str = "", parent=None) -> QToolButton:
    """A small flat button with an icon of the set (drawn again on a theme switch) and a tip."""
    button = QToolButton(parent)
    button.setAutoRaise(True)
    set_icon(button, icon_name, "muted")
    button.setProperty("iconName", icon_name)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    if text:
        button.setText(text)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    return button


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
        # Transparent (its message's background shows through): the conversation's style sheet
        # says so for all of them; a sheet per view would be parsed once per message.
        self.viewport().setAutoFillBackground(False)
        self.setDocument(_NothingLoaded(self))
        document = self.document()
        document.setDocumentMargin(2)
        # Every re-rendered tail would otherwise pile up in the undo stack of a read-only view.
        document.setUndoRedoEnabled(False)
        document.contentsChanged.connect(self._fit_height)
        # A new font (the conversation's style sheet) lays the text out again without an edit.
        document.documentLayout().documentSizeChanged.connect(self._fit_height)
        self.anchorClicked.connect(self._open_link)
        self._scratch = _NothingLoaded(self)
        self._last_state = ""
        self._copy_buttons: list[QToolButton] = []
        self._colors_key: tuple | None = None  # the palette the code colours were chosen for
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
        self._headers: dict[int, int] = {}  # code block number -> block number of its header
        self._box_ends: dict[int, int] = {}  # header block number -> its code's last block number
        self._end_hints: dict[int, int] = {}  # the same, as last found (see _box_end)

    def _render(self, finished: list[Block]) -> None:
        document = self.document()
        text = self._splitter.text
        fence = self._fence
        keep = fence.pos if fence else self._done_pos
        if keep == 0:
            document.clear()  # nothing is kept: all there is, is the old open block
        cursor = QTextCursor(document)
        # Code blocks before the open one stay where they are: their buttons stay put too.
        moved = fence.code if fence else self._done_codes
        # One edit block: the layout and the height fit run once for the whole chunk.
        cursor.beginEditBlock()
        if keep:
            self._cut(cursor, keep)
        del self._codes[fence.code + 1 if fence else self._done_codes:]
        self._forget_headers()
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
        self._forget_headers()  # the last box may have grown
        cursor.endEditBlock()
        if self._headers or self._copy_buttons:
            self._place_copy_buttons(moved)

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
        start = cursor.position()
        last = document.lastBlock()
        cursor.insertFragment(fragment)
        if code is not None:
            self._note_code(document.findBlock(start), last if not link else None)
        return code

    # -- code blocks ---------------------------------------------------------------------
    def _decorate(self, block: QTextBlock, link: bool, state: str) -> str | None:
        """Colour the code blocks from block on, pad them into boxes and, with link, put a
        header line above each (its language; the view puts a copy button on it).

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
        # The application's palette: the view's own has a transparent background (see __init__).
        palette = QGuiApplication.palette()
        dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
        self._colors_key = _colors_key(palette)
        formats = {}
        for kind, colours in _COLOURS.items():
            formats[kind] = QTextCharFormat()
            formats[kind].setForeground(QColor(colours[dark]))
        cursor = QTextCursor(runs[0][0].document())
        code = ""
        for run in runs:
            family = language_family(run[0].blockFormat().stringProperty(CODE_LANGUAGE))
            for line in run:
                start = line.position()
                cursor.setPosition(start)
                fmt = line.blockFormat()
                pad = QTextBlockFormat()
                pad.setLeftMargin(fmt.leftMargin() + CODE_PAD)
                pad.setRightMargin(fmt.rightMargin() + CODE_PAD)
                # A line wider than the column wraps inside its box rather than being cut off
                # at the window's edge (the view never scrolls sideways); a copy keeps it whole.
                pad.setNonBreakableLines(False)
                cursor.mergeBlockFormat(pad)
                spans, state = highlight(line.text(), family, state)
                for offset, length, kind in spans:
                    cursor.setPosition(start + offset)
                    cursor.setPosition(start + offset + length, QTextCursor.MoveMode.KeepAnchor)
                    cursor.mergeCharFormat(formats[kind])
            _pad_bottom(cursor, run[-1])
            self._last_state = state
            code = "\n".join(line.text() for line in run)
            if link:
                self._codes.append(code)
                self._add_header(cursor, run[0], len(self._codes) - 1, palette)
            state = ""
        return code

    def _add_header(self, cursor: QTextCursor, code: QTextBlock, index: int, palette: QPalette) -> None:
        fmt, char_fmt, pos = code.blockFormat(), code.charFormat(), code.position()
        cursor.setPosition(pos)
        # A block break at the start of the code: the code moves on with its own format and
        # the empty block left in front of it becomes the header.
        cursor.insertBlock(fmt, char_fmt)
        header = QTextBlockFormat()
        header.setTopMargin(CODE_GAP)
        header.setIndent(fmt.indent())
        header.setLeftMargin(fmt.leftMargin())  # the code's, padded already
        header.setRightMargin(fmt.rightMargin())
        # A minimum line height adds its room above the text; the bottom margin, below it.
        line = QFontMetricsF(self.document().defaultFont()).height()
        header.setLineHeight(line + HEADER_PAD, QTextBlockFormat.LineHeightTypes.MinimumHeight.value)
        header.setBottomMargin(HEADER_PAD + CODE_PAD_TOP)
        if fmt.hasProperty(QTextFormat.Property.BlockQuoteLevel):
            header.setProperty(QTextFormat.Property.BlockQuoteLevel,
                               fmt.intProperty(QTextFormat.Property.BlockQuoteLevel))
        header.setProperty(COPY_LINK_PROPERTY, index)
        cursor.setPosition(pos)
        cursor.setBlockFormat(header)
        cursor.setBlockCharFormat(QTextCharFormat())
        language = fmt.stringProperty(CODE_LANGUAGE).strip()
        if language:
            label = QTextCharFormat()
            label.setForeground(palette.color(QPalette.ColorRole.PlaceholderText))
            label.setProperty(QTextFormat.Property.FontSizeAdjustment, -1)
            cursor.insertText(language, label)

    def _note_code(self, first: QTextBlock, before: QTextBlock | None) -> None:
        """Code was inserted from block first on: note its headers; before: the block that was
        last until then, when the new lines continue its code (it is no longer the last)."""
        if before is not None and before.isValid() and before.blockFormat().hasProperty(CODE_BOTTOM_PROPERTY):
            fmt = before.blockFormat()
            fmt.setBottomMargin(fmt.doubleProperty(CODE_BOTTOM_PROPERTY))
            fmt.clearProperty(CODE_BOTTOM_PROPERTY)
            QTextCursor(before).setBlockFormat(fmt)
        block = first
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.hasProperty(COPY_LINK_PROPERTY):
                self._headers[fmt.intProperty(COPY_LINK_PROPERTY)] = block.blockNumber()
            block = block.next()

    def _forget_headers(self) -> None:
        """Forget the headers of code blocks no longer in the document (see _render)."""
        for index in [i for i in self._headers if i >= len(self._codes)]:
            self._end_hints.pop(self._headers.pop(index), None)
        if self._headers:
            # The last box is the one that can still grow, or lose lines.
            self._box_ends.pop(self._headers[max(self._headers)], None)
        else:
            self._box_ends.clear()

    # -- code boxes ----------------------------------------------------------------------
    def _boxes(self, clip: QRectF | None = None, first: int = 0, boxes: bool = True):
        """(index, box, header) for the code boxes from the first-th on, box and header their
        rectangles in viewport coordinates, top to bottom; with clip, those that reach into it.
        Without boxes, box is None (the headers are enough to place the copy buttons)."""
        document = self.document()
        layout = document.documentLayout()
        indent_width = document.indentWidth()
        indices = [i for i in sorted(self._headers) if i >= first]
        if clip is not None and len(indices) > 4:
            # Boxes are in document order: skip to the last one that starts above the clip.
            def top(i: int) -> float:
                return layout.blockBoundingRect(document.findBlockByNumber(self._headers[i])).top()

            indices = indices[max(bisect.bisect_right(indices, clip.top(), key=top) - 1, 0):]
        for index in indices:
            number = self._headers[index]
            header = document.findBlockByNumber(number)
            if not header.isValid():
                continue
            rect = layout.blockBoundingRect(header)
            if clip is not None and rect.top() > clip.bottom():
                break
            lines = header.layout()
            if lines.lineCount():
                strip = lines.lineAt(0).y() + lines.lineAt(0).height() + HEADER_PAD
            else:
                strip = rect.height() + HEADER_PAD
            fmt = header.blockFormat()
            left = rect.left() + fmt.leftMargin() - CODE_PAD + fmt.indent() * indent_width
            right = rect.left() + fmt.leftMargin() + fmt.indent() * indent_width + rect.width() + CODE_PAD
            strip_rect = QRectF(left, rect.top(), right - left, strip)
            if not boxes:
                yield index, None, strip_rect
                continue
            last = self._box_end(header)
            bottom = layout.blockBoundingRect(last).bottom() + CODE_PAD_BOTTOM
            if clip is not None and bottom < clip.top():
                continue
            yield index, QRectF(left, rect.top(), right - left, bottom - rect.top()), strip_rect

    def _box_end(self, header: QTextBlock) -> QTextBlock:
        """The last line of the code under header."""
        document = self.document()
        number = header.blockNumber()
        end = self._box_ends.get(number)
        if end is not None:
            return document.findBlockByNumber(end)
        # A code block still streaming only grows at its end: look on from where it ended last
        # time (a line back if the last one, unfinished, was taken out), not from its top.
        hint = min(self._end_hints.get(number, number), document.blockCount() - 1)
        last = document.findBlockByNumber(hint)
        while last.blockNumber() > number and not last.blockFormat().hasProperty(CODE_LANGUAGE):
            last = last.previous()
        if last.blockNumber() <= number:
            last = header
        block = last.next()
        while block.isValid() and block.blockFormat().hasProperty(CODE_LANGUAGE):
            last, block = block, block.next()
        self._box_ends[number] = self._end_hints[number] = last.blockNumber()
        return last

    def paintEvent(self, event):  # noqa: N802
        if self._headers:
            painter = QPainter(self.viewport())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            body, head = code_box_colors(QGuiApplication.palette())
            for _index, box, header in self._boxes(QRectF(event.rect())):
                path = QPainterPath()
                path.addRoundedRect(box, 8, 8)
                painter.fillPath(path, body)
                painter.save()
                painter.setClipRect(header)
                painter.fillPath(path, head)
                painter.restore()
            painter.end()
        super().paintEvent(event)

    def _place_copy_buttons(self, first: int = 0) -> None:
        """A copy button on the right of each code box's header, from the first-th box on (those
        before it have not moved)."""
        buttons = self._copy_buttons
        shown = first
        if self._headers:
            for index, _box, header in self._boxes(first=first, boxes=False):
                while len(buttons) <= index:
                    buttons.append(self._make_copy_button(len(buttons)))
                button = buttons[index]
                button.move(int(header.right() - button.width() - 6),
                            int(header.top() + (header.height() - button.height()) / 2))
                button.show()
                shown = max(shown, index + 1)
        for button in buttons[shown:]:
            button.hide()

    def _make_copy_button(self, index: int) -> QToolButton:
        button = icon_button("mdi6.content-copy", self.tr("Copy the code"), self.tr("Copy"),
                             self.viewport())
        button.setObjectName("code_copy")
        # A click copies and leaves the keyboard focus where it was (the message being typed).
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.adjustSize()
        button.copied = CopiedFeedback(button)
        button.clicked.connect(lambda: self._copy_from_button(index))
        return button

    def _copy_from_button(self, index: int) -> None:
        if self._copy_code(str(index)):
            self._copy_buttons[index].copied.show()

    def copy_button(self, index: int) -> QToolButton | None:
        """The copy button of the index-th code block, once it is placed."""
        return self._copy_buttons[index] if index < len(self._copy_buttons) else None

    # -- links ---------------------------------------------------------------------------
    def _open_link(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == COPY_SCHEME:
            self._copy_code(url.path())
        elif scheme in SAFE_SCHEMES:
            self.link_opened.emit(url)
            QDesktopServices.openUrl(url)

    def _copy_code(self, number: str) -> bool:
        if number.isdigit() and int(number) < len(self._codes):
            QGuiApplication.clipboard().setText(self._codes[int(number)])
            self.code_copied.emit(int(number))
            return True
        return False

    # -- theme ---------------------------------------------------------------------------
    def follow_palette(self) -> None:
        """After a theme switch: the code's colours are in the document, so a reply with code
        renders again in the new ones. (Called by the view: an override of changeEvent here
        would run for every change event of every message.)"""
        if self._codes and self._colors_key != _colors_key(QGuiApplication.palette()):
            text = self._splitter.text
            self._start_over()
            self.document().clear()
            self.append_markdown(text)
            self.viewport().update()

    # -- size ----------------------------------------------------------------------------
    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        # Setting the width lays out the whole document again, even when it is the same width;
        # the height changes with every streamed chunk, and that must not cost a full layout.
        width = self.viewport().width()
        if self.document().textWidth() != width:
            self.document().setTextWidth(width)
        self._fit_height()
        # Only a new width moves the code boxes: the height changes with every streamed chunk.
        if (self._headers or self._copy_buttons) and event.size().width() != event.oldSize().width():
            self._place_copy_buttons()

    def _fit_height(self) -> None:
        height = int(self.document().size().height()) + 4
        if height != self.height():
            self.setFixedHeight(height)

    def natural_width(self, limit: int) -> int:
        """How wide the text wants to be, up to limit: short text needs less (a user's bubble)."""
        document = self.document()
        width = document.textWidth()
        document.setTextWidth(limit)
        natural = int(document.idealWidth()) + 2
        document.setTextWidth(width)
        return min(natural, limit)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, int(self.document().size().height()) + 4)
