"""Streamed Markdown: rendered a piece at a time, it ends up as a one-shot render would be."""

import random
import re
import statistics
import time

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QTextCursor, QTextDocument, QTextFormat
from PySide6.QtWidgets import QApplication

from desktop.ui import markdown_view
from desktop.ui.chat_view import ChatView, MessageWidget
from desktop.ui.markdown_stream import BlockSplitter, highlight, language_family
from desktop.ui.markdown_view import CODE_BOTTOM_PROPERTY, COPY_LINK_PROPERTY, GITHUB, MarkdownView

P = QTextFormat.Property

PYTHON = '''def fib(n: int) -> list[int]:
    """First n numbers."""

    values = [0, 1]  # seed
    for i in range(2, n):
        values.append(values[i - 1] + values[i - 2])
    return values[:n]'''
BASH = "pip install edgechat\n\necho 'done'  # twice"
JS = "const add = (a, b) => a + b; /* sum\n   of two */\nconsole.log(`x ${add(1, 2)}`);"

REPLY = f"""# Streaming answer

A paragraph with **bold**, *italic*, `code` and a [link](https://example.org).
It goes on for a second line.

## A list

- first item
- second item with `code`
  - nested item
- third item

1. Install:

   ```bash
{chr(10).join("   " + line if line else "" for line in BASH.split(chr(10)))}
   ```

2. Run it

3. Done

5. starts at five
6. six

```python
{PYTHON}
```

```js
{JS}
```

Here is a table:

| name | value | note |
|------|------:|------|
| a    | 1     | **x** |
| b    | 22    | y    |

> A quote that
> spans lines.

> Another quote.

    indented code

    more indented code

Setext heading
--------------

- [ ] a task
- [x] done task

~~~
tilde fence
```not a close
~~~

Last paragraph.
"""


def structure(document: QTextDocument) -> list[tuple]:
    """Each block but the code headers: text, heading, list, code, table cell, quote and spans.

    A code block's last line is padded (the box around the code): its margin before that counts.
    """
    out = []
    block = document.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if not fmt.hasProperty(COPY_LINK_PROPERTY):
            table = QTextCursor(block).currentTable()
            cell = table.cellAt(block.position()) if table else None
            items = block.textList()
            code = fmt.hasProperty(P.BlockCodeLanguage)
            spans = []
            it = block.begin()
            while not code and not it.atEnd():
                char = it.fragment().charFormat()
                spans.append((it.fragment().text(), char.fontWeight(), char.fontItalic(),
                              char.anchorHref(), char.fontFixedPitch()))
                it += 1
            out.append((
                block.text(), fmt.headingLevel(), code, fmt.stringProperty(P.BlockCodeLanguage),
                (items.format().style(), items.format().indent(), items.itemNumber(block),
                 items.count()) if items else None,
                (cell.row(), cell.column()) if cell else None,
                fmt.intProperty(P.BlockQuoteLevel), fmt.indent(), fmt.topMargin(),
                fmt.doubleProperty(CODE_BOTTOM_PROPERTY) if fmt.hasProperty(CODE_BOTTOM_PROPERTY)
                else fmt.bottomMargin(), tuple(spans),
            ))
        block = block.next()
    return out


def one_shot(text: str, view: MarkdownView) -> QTextDocument:
    document = QTextDocument()
    document.setDefaultFont(view.document().defaultFont())
    document.setMarkdown(text, GITHUB)
    return document


def chunks(text: str, how: str, seed: int = 1) -> list[str]:
    if how == "tokens":  # a word and the whitespace after it, as the bench streams
        return re.findall(r"\s*\S+\s*", text)
    if how == "lines":
        return text.splitlines(keepends=True)
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 9)
        out.append(text[i:i + n])
        i += n
    return out


def headers(document: QTextDocument) -> list[tuple[str, int]]:
    """Each code block's header line: its text (the language) and the code block's number."""
    found = []
    block = document.begin()
    while block.isValid():
        if block.blockFormat().hasProperty(COPY_LINK_PROPERTY):
            found.append((block.text(), block.blockFormat().intProperty(COPY_LINK_PROPERTY)))
        block = block.next()
    return found


@pytest.mark.parametrize("how", ["chars", "tokens", "lines"])
def test_a_streamed_reply_ends_as_a_one_shot_render(qtbot, how):
    view = MarkdownView()
    qtbot.addWidget(view)
    for chunk in chunks(REPLY, how):
        view.append_markdown(chunk)
    assert view.markdown() == REPLY

    expected = structure(one_shot(REPLY, view))
    got = structure(view.document())
    assert [b[0] for b in got] == [b[0] for b in expected]  # the same plain text, block by block
    assert got == expected
    assert sum(1 for b in got if b[1]) == 3  # headings
    assert sum(1 for b in got if b[4]) == 11  # list items
    assert sum(1 for b in got if b[5]) == 9  # table cells
    assert {b[3] for b in got if b[2]} == {"bash", "python", "js", ""}  # code blocks

    again = MarkdownView()
    qtbot.addWidget(again)
    again.set_markdown(REPLY)
    assert structure(again.document()) == got
    assert again.document().toPlainText() == view.document().toPlainText()
    assert again.code_blocks() == view.code_blocks()


def test_every_code_block_has_a_header_with_its_language_and_a_copy_button(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    for chunk in chunks(REPLY, "chars"):
        view.append_markdown(chunk)
    codes = [BASH, PYTHON, JS, "indented code\n\nmore indented code", "tilde fence\n```not a close"]
    assert view.code_blocks() == codes
    assert headers(view.document()) == [("bash", 0), ("python", 1), ("js", 2), ("", 3), ("", 4)]
    qtbot.waitUntil(lambda: view.copy_button(4) is not None and view.copy_button(4).isVisible())

    # The copy button sits on the right of its block's header line, inside the view.
    block = view.document().begin()
    while block.blockFormat().intProperty(COPY_LINK_PROPERTY) != 2 or not block.text():
        block = block.next()
    header = view.document().documentLayout().blockBoundingRect(block)
    button = view.copy_button(2)
    assert button.geometry().top() <= header.center().y() <= button.geometry().bottom() + 8
    assert button.geometry().right() <= view.viewport().width()
    assert button.geometry().left() > view.viewport().width() / 2

    # Clicked the way a user does: the code is copied, the button says so, no focus is taken.
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(view.code_copied, timeout=2000) as copied:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert copied.args == [2]
    assert QGuiApplication.clipboard().text() == JS
    assert button.copied.active and button.text() == "Copied"
    assert button.focusPolicy() == Qt.FocusPolicy.NoFocus
    qtbot.waitUntil(lambda: not button.copied.active and button.text() == "Copy", timeout=3000)

    view.anchorClicked.emit(QUrl("copy:0"))
    assert QGuiApplication.clipboard().text() == BASH


def test_a_code_block_still_streaming_copies_what_has_arrived(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    for chunk in chunks("Intro\n\n```python\n" + PYTHON + "\nprint(fib(", "chars"):
        view.append_markdown(chunk)
    assert headers(view.document()) == [("python", 0)]
    view.anchorClicked.emit(QUrl("copy:0"))
    assert QGuiApplication.clipboard().text() == PYTHON + "\nprint(fib("
    view.append_markdown("10))\n```\n")
    view.anchorClicked.emit(QUrl("copy:0"))
    assert QGuiApplication.clipboard().text() == PYTHON + "\nprint(fib(10))"
    assert structure(view.document()) == structure(one_shot(view.markdown(), view))


def test_nothing_is_loaded_and_only_web_links_open(qtbot, tmp_path, monkeypatch):
    image = tmp_path / "secret.png"
    QImage(8, 8, QImage.Format.Format_RGB32).save(str(image))
    opened = []

    class Desktop:
        @staticmethod
        def openUrl(url):  # noqa: N802 - the Qt name
            opened.append(url.toString())
            return True

    monkeypatch.setattr(markdown_view, "QDesktopServices", Desktop)
    view = MarkdownView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    text = (f"See ![a picture]({image.as_uri()}) here.\n\n| pic |\n|---|\n| ![x]({image}) |\n\n"
            "[web](https://example.org) [file](file:///etc/passwd) [js](javascript:alert(1))\n\n"
            f"<img src=\"{image}\">\n\nInline <img src=\"{image.as_uri()}\">\n")
    for chunk in chunks(text, "chars"):
        view.append_markdown(chunk)
    view.grab()  # lay out and paint: where Qt would load an image
    document = view.document()
    for url in (QUrl(image.as_uri()), QUrl(str(image)), QUrl.fromLocalFile(str(image))):
        assert view.loadResource(QTextDocument.ResourceType.ImageResource.value, url) is None
        assert document.resource(QTextDocument.ResourceType.ImageResource.value, url) is None
    assert document.toPlainText().count("\ufffc") == 2  # Markdown images stay, as placeholders

    links = []
    view.link_opened.connect(links.append)
    for bad in ("file:///etc/passwd", "javascript:alert(1)", "copy:99", "copy:x", "data:text/html,hi"):
        view.anchorClicked.emit(QUrl(bad))
    assert opened == [] and links == []
    view.anchorClicked.emit(QUrl("https://example.org"))
    assert opened == ["https://example.org"] and links == [QUrl("https://example.org")]


def test_message_widget_streams_into_the_same_render(qtbot):
    streamed = MessageWidget("assistant", "", "streaming")
    qtbot.addWidget(streamed)
    for chunk in chunks(REPLY, "tokens"):
        streamed.append_text(chunk)
    whole = MessageWidget("assistant", REPLY)
    qtbot.addWidget(whole)
    assert streamed.text == whole.text == streamed.body.markdown() == REPLY
    assert structure(streamed.body.document()) == structure(whole.body.document())
    streamed.set_text("Short now")
    assert streamed.body.document().toPlainText() == "Short now"
    assert streamed.body.code_blocks() == []


SECTION = """## Part {n}

Some prose that explains the next step in a few sentences, with **bold** words, `inline code`
and a [link](https://example.org/{n}). It keeps going for a while so that the paragraph is long.

- a point about it
- another point, a little longer than the first one
- the last point

```python
def step_{n}(values):
    total = 0  # running sum
    for value in values:
        total += value * {n}
    return total
```

| key | value |
|-----|-------|
| n   | {n}   |

"""
LONG_CODE = "Here is the file:\n\n```python\n" + "\n".join(
    f"def f{i}(x):\n    return x * {i}  # line {i}" for i in range(2000)) + "\n```\n"


def chunk_times(qtbot, text: str, tokens_per_chunk: int = 80) -> list[tuple[int, float]]:
    """Stream text into a shown conversation view: (tokens so far, seconds) for each chunk."""
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    widget = view.add_message("assistant", "", "streaming")
    tokens = chunks(text, "tokens")
    times = []
    for i in range(0, len(tokens), tokens_per_chunk):
        chunk = "".join(tokens[i:i + tokens_per_chunk])
        start = time.perf_counter()
        widget.append_text(chunk)
        times.append((i, time.perf_counter() - start))
        QApplication.processEvents()  # paint, as the event loop would between chunks
    assert widget.text == text
    return times


@pytest.mark.parametrize("text", ["".join(SECTION.format(n=n) for n in range(200)), LONG_CODE],
                         ids=["mixed", "one long code block"])
def test_the_cost_of_a_chunk_does_not_grow_with_the_reply(qtbot, text):
    times = chunk_times(qtbot, text)
    assert times[-1][0] > 15_000
    early = statistics.median(t for _, t in times[2:22])
    late = statistics.median(t for i, t in times if i >= 15_000)
    # Re-rendering the whole reply for each chunk costs ten times more here after 15k tokens.
    assert late < 3 * early + 0.003, (early, late)


def test_the_splitter_keeps_what_belongs_together():
    splitter = BlockSplitter()
    text = ("# Title\npara\nstill para\n\n- a\n\n- b\n\n  more b\n\n```py\nx\n\ny\n```\n"
            "after\n\n    code\n\n    code\n\n> q\n\nend")
    found = []
    for chunk in chunks(text, "chars", seed=3):
        found += [text[b.start:b.end] for b in splitter.feed(chunk)]
    # An indented line after a blank one may be indented code or a paragraph of a list item:
    # it stays with the block before it (rendering the two together is always right).
    assert found == ["# Title\n", "para\nstill para\n", "- a\n\n- b\n\n  more b\n",
                     "```py\nx\n\ny\n```\n", "after\n\n    code\n\n    code\n", "> q\n"]
    assert text[splitter.done:] == "\nend"


def test_highlighting_knows_keywords_strings_comments_and_numbers():
    spans, state = highlight('def f(x): return "a#b" + 1  # note', language_family("Python"))
    line = 'def f(x): return "a#b" + 1  # note'
    kinds = {line[s:s + n]: kind for s, n, kind in spans}
    assert kinds == {"def": "keyword", "return": "keyword", '"a#b"': "string", "1": "number",
                     "# note": "comment"}
    assert state == ""
    spans, state = highlight("x = 1 /* open", "c")
    assert state == "/*" and spans[-1][2] == "comment"
    spans, state = highlight("still */ y", "c", state)
    assert spans[0] == (0, len("still */"), "comment") and state == ""
    assert highlight("anything", language_family("klingon")) == ([], "")
