"""Markdown that arrives a chunk at a time: where its finished blocks end, and code colours.

Qt-free. `BlockSplitter` reads a reply as it grows and says which top-level blocks are finished,
so the view renders each of them once and re-renders only the open block at the end. A split
point must be one a whole-text parse would also have: rendering two pieces on their own must
give what rendering them together gives. Keeping blocks together is always safe (it only costs
re-rendering them a little longer), so where the rules below are unsure, the block stays open.

`highlight` colours one line of code: keywords, strings, comments and numbers of the common
languages, with a small state for comments and strings that span lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_LIST_ITEM = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?:([ \t]+)|$)")
# Part of a line that may still become a list marker once more of it arrives.
_LIST_PREFIX = re.compile(r"[-+*]|\d{1,9}[.)]?")
# HTML blocks (CommonMark types 1-5): a blank line does not end them, their end marker does.
_HTML_UNTIL = [
    (re.compile(r"<(?:script|pre|style|textarea)(?:[\s>]|$)", re.I),
     re.compile(r"</(?:script|pre|style|textarea)>", re.I)),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
]
# HTML blocks of types 6 (these tags may interrupt a paragraph) and 7 (any lone tag): they end
# at a blank line, and inside them a fence or a heading is just HTML text.
_HTML_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|"
    "h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|"
    "option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul"
)
_HTML_BLOCK = re.compile(rf"</?(?:{_HTML_BLOCK_TAGS})(?:[\s>]|/>|$)", re.I)
_HTML_LONE_TAG = re.compile(
    r"(?:<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*"
    r"\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)\s*$"
)


@dataclass(frozen=True)
class Block:
    """Source offsets [start, end) of a finished top-level block; fence: a fenced code block."""

    start: int
    end: int
    fence: bool = False


@dataclass
class _Open:
    start: int
    kind: str = "text"  # "text", "fence", "html" (ends at a blank line), "html_until"
    end: int = 0  # end of its last line that is not blank
    blank: bool = False  # blank lines follow its last line
    has_list: bool = False  # a top-level list item is among its lines
    list_offset: int = 0  # where that item's content starts: less indented lines leave the list
    fence: str = ""  # the opening fence (its character repeated)
    body: int = 0  # where a fenced block's code starts (after its opening line)
    until: re.Pattern | None = None


def _indent(line: str) -> tuple[int, str]:
    """Columns of leading whitespace (tabs to stops of 4) and the rest of the line."""
    width = 0
    for i, ch in enumerate(line):
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            return width, line[i:]
    return width, ""


def _fence_open(rest: str) -> str:
    match = _FENCE.match(rest)
    if not match or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return ""
    return match.group(1)


def _html_start(rest: str, *, in_paragraph: bool) -> tuple[str, re.Pattern | None]:
    for start, until in _HTML_UNTIL:
        if start.match(rest):
            return "html_until", until
    if _HTML_BLOCK.match(rest) or (not in_paragraph and _HTML_LONE_TAG.match(rest)):
        return "html", None
    return "", None


class BlockSplitter:
    """Feed it a growing Markdown text; it returns the top-level blocks each chunk finished.

    `text` is everything fed so far. Everything after `done` is the tail: the block still open
    (and any blank lines before it), which is the only part that a later chunk can change.
    """

    def __init__(self) -> None:
        self.text = ""
        self.done = 0
        self._line_start = 0  # the first line not yet read to its end
        self._open: _Open | None = None
        # A block that has ended but is not given out until the next block's first line shows
        # it is not raw HTML: Qt's importer puts an HTML block into the block before it.
        self._ended: Block | None = None
        self._found: list[Block] = []

    @property
    def open_fence(self) -> tuple[int, int, str] | None:
        """(start, code start, fence) of a top-level fenced code block still open at the end."""
        block = self._open
        if block is None or block.kind != "fence":
            return None
        return block.start, block.body, block.fence

    @property
    def complete(self) -> int:
        """Where the last line that has its newline ends."""
        return self._line_start

    def feed(self, chunk: str) -> list[Block]:
        self.text += chunk
        text = self.text
        self._found = []
        while (newline := text.find("\n", self._line_start)) >= 0:
            self._line(self._line_start, newline + 1)
            self._line_start = newline + 1
        # After a blank line the start of the next line can already tell that a new block began;
        # saying so now keeps the tail short while a long paragraph streams in.
        partial = text[self._line_start:].rstrip("\r")
        if (partial and self._open is not None and self._open.blank
                and self._continues(partial, partial=True) is False):
            self._close()
        if partial and self._ended is not None:
            indent, rest = _indent(partial)
            if indent > 3 or (rest and not rest.startswith("<")):
                self._give_out()
        return self._found

    def _close(self, end: int | None = None) -> None:
        block = self._open
        self._open = None
        if block is not None:
            self._give_out()
            end = block.end if end is None else end
            self._ended = Block(block.start, end, block.kind == "fence")

    def _give_out(self) -> None:
        if self._ended is not None:
            self._found.append(self._ended)
            self.done = self._ended.end
            self._ended = None

    def _line(self, start: int, end: int) -> None:
        line = self.text[start:end].rstrip("\r\n")
        block = self._open
        if block is not None and block.kind == "fence":
            indent, rest = _indent(line)
            char, size = block.fence[0], len(block.fence)
            if indent <= 3 and rest.startswith(char * size) and not rest.strip().strip(char):
                self._close(end)
                # Out at once: the view has been adding this block's lines as they came, and
                # holding it back would make it render all of them again.
                self._give_out()
            return
        if block is not None and block.kind == "html_until":
            if block.until.search(line):
                self._close(end)
            return
        if not line.strip():
            if block is not None:
                block.blank = True
            return
        if block is not None and block.blank:
            if self._continues(line, partial=False):
                block.blank = False
            else:
                self._close()
                block = None
        if block is None:
            self._start(start, end, line)
            return
        if block.kind != "html":
            indent, rest = _indent(line)
            top_level = indent <= 3 and not (block.has_list and indent >= block.list_offset)
            if top_level and (_fence_open(rest) or _HEADING.match(rest)
                              or _html_start(rest, in_paragraph=True)[0]):
                # These end whatever block came before them, even without a blank line.
                self._close()
                self._start(start, end, line)
                return
            self._note_list_item(block, indent, rest)
        block.end = end

    def _start(self, start: int, end: int, line: str) -> None:
        block = _Open(start, end=end)
        indent, rest = _indent(line)
        kind, until = _html_start(rest, in_paragraph=False) if indent <= 3 else ("", None)
        if kind and self._ended is not None:
            # Rendered on its own, the HTML would land in the block before it elsewhere.
            block.start = self._ended.start
            self._ended = None
        self._give_out()
        self._open = block
        if kind:
            block.kind, block.until = kind, until
            if kind == "html_until" and until.search(line, line.index("<") + 2):
                self._close(end)
        elif indent <= 3 and (fence := _fence_open(rest)):
            block.kind, block.fence, block.body = "fence", fence, end
        elif indent <= 3 and _HEADING.match(rest):
            self._close(end)  # an ATX heading is one line: it ends with its line
        else:
            self._note_list_item(block, indent, rest)

    @staticmethod
    def _note_list_item(block: _Open, indent: int, rest: str) -> None:
        if indent > 3 or (block.has_list and indent >= block.list_offset):
            return
        match = _LIST_ITEM.match(rest)
        if match:
            gap = len(match.group(1) or "")
            marker = match.end() - gap
            block.has_list = True
            block.list_offset = indent + marker + (gap if 1 <= gap <= 4 else 1)

    def _continues(self, line: str, *, partial: bool) -> bool | None:
        """Does this first line after blank lines still belong to the open block?

        None: it is too early to tell from the part of the line that has arrived.
        """
        block = self._open
        indent, rest = _indent(line)
        if indent >= 4:
            return True  # indented code, or a paragraph inside a list item
        if block.has_list:
            if indent >= 1:
                return True
            if (_LIST_ITEM.match(rest) and not partial) or re.match(r"(?:[-+*]|\d{1,9}[.)])[ \t]", rest):
                return True
            if partial and _LIST_PREFIX.fullmatch(rest):
                return None
            return False
        if partial and not rest:
            return None  # only spaces so far: four of them would make indented code
        return False


# -- syntax colours ------------------------------------------------------------------------

_C_LIKE = (
    "auto break case catch char class const continue default delete do double else enum export "
    "extends extern false final finally float for func function go goto if impl implements import in "
    "instanceof int interface let long match mod mut namespace new nil null override package private "
    "protected pub public return self short signed sizeof static struct super switch template this "
    "throw throws trait true try type typedef typeof union unsigned use using var void volatile while "
    "async await yield fn loop where as elif def"
)
_KEYWORDS = {
    "python": (
        "False None True and as assert async await break class continue def del elif else except "
        "finally for from global if import in is lambda nonlocal not or pass raise return try while "
        "with yield match case self print len range"
    ),
    "c": _C_LIKE,
    "shell": (
        "if then else elif fi for while until do done case esac function in select return local "
        "export readonly declare set unset source echo exit cd test true false"
    ),
    "sql": (
        "select from where insert into values update set delete create table drop alter add index "
        "primary key foreign references join left right inner outer on group by order having limit "
        "offset as and or not null is in like between distinct union all case when then else end "
        "count sum avg min max exists default integer text varchar int"
    ),
    "json": "true false null",
    "yaml": "true false null yes no",
}
_LANGUAGES = {
    "python": "python", "py": "python", "python3": "python", "ipython": "python",
    "c": "c", "h": "c", "cpp": "c", "c++": "c", "cc": "c", "hpp": "c", "cs": "c", "csharp": "c",
    "java": "c", "kotlin": "c", "kt": "c", "swift": "c", "go": "c", "golang": "c", "rust": "c",
    "rs": "c", "js": "c", "javascript": "c", "jsx": "c", "ts": "c", "typescript": "c", "tsx": "c",
    "php": "c", "scala": "c", "dart": "c",
    "bash": "shell", "sh": "shell", "shell": "shell", "zsh": "shell", "console": "shell",
    "powershell": "shell", "ps1": "shell", "dockerfile": "shell", "makefile": "shell",
    "sql": "sql", "json": "json", "yaml": "yaml", "yml": "yaml", "toml": "yaml", "ini": "yaml",
}
_NUMBER = r"\b(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)\b"
_STRING = r"\"(?:\\.|[^\"\\])*\"?|'(?:\\.|[^'\\])*'?"


def _pattern(family: str) -> re.Pattern:
    words = "|".join(sorted(set(_KEYWORDS[family].split()), key=len, reverse=True))
    comment = {"python": r"#.*", "shell": r"#.*", "yaml": r"#.*", "sql": r"--.*", "json": r"(?!)",
               "c": r"//.*|/\*"}[family]
    string = {"python": r"[rRbBuUfF]{0,2}(?:\"\"\"|''')|[rRbBuUfF]{0,2}(?:" + _STRING + ")",
              "c": _STRING + r"|`(?:\\.|[^`\\])*`?"}.get(family, _STRING)
    flags = re.I if family == "sql" else 0
    return re.compile(
        rf"(?P<comment>{comment})|(?P<string>{string})|(?P<number>{_NUMBER})|(?P<keyword>\b(?:{words})\b)",
        flags,
    )


_PATTERNS: dict[str, re.Pattern] = {}
# What closes a construct that a line left open (the state carried to the next line).
_CLOSERS = {"/*": "*/", '"""': '"""', "'''": "'''"}


def language_family(lang: str) -> str:
    return _LANGUAGES.get(lang.strip().lower(), "")


def highlight(line: str, family: str, state: str = "") -> tuple[list[tuple[int, int, str]], str]:
    """Spans (start, length, kind) of one code line, and the state to pass to the next line.

    kind is one of "keyword", "string", "comment", "number". state names a comment or a string
    that is still open at the end of the line ("/*", '\"\"\"' or "'''"); "" when none is.
    """
    if not family:
        return [], ""
    pattern = _PATTERNS.get(family) or _PATTERNS.setdefault(family, _pattern(family))
    spans: list[tuple[int, int, str]] = []
    pos = 0
    if state:
        close = line.find(_CLOSERS[state])
        kind = "comment" if state == "/*" else "string"
        if close < 0:
            return [(0, len(line), kind)] if line else [], state
        pos = close + len(_CLOSERS[state])
        spans.append((0, pos, kind))
    while (match := pattern.search(line, pos)) is not None:
        kind = match.lastgroup
        start, end = match.span()
        opener = match.group().lstrip("rRbBuUfF")
        if opener in _CLOSERS:
            close = line.find(_CLOSERS[opener], end)
            if close < 0:
                spans.append((start, len(line) - start, "comment" if opener == "/*" else "string"))
                return spans, opener
            end = close + len(_CLOSERS[opener])
            kind = "comment" if opener == "/*" else "string"
        if end == start:
            pos = end + 1
            continue
        spans.append((start, end - start, kind))
        pos = end
    return spans, ""
