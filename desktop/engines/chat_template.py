"""Render a model's own chat template, sandboxed and within limits.

A chat template ships inside the model file and is untrusted input: it is rendered in Jinja's
immutable sandbox (CVE-2024-34359 was a template injection through exactly this path). The
sandbox blocks escapes but not exhaustion: ``{{ 'a' * 200000000 }}`` built 200 MB, a power tower
or two nested loops ran for ever, a recursive macro ended in a bare RecursionError, on the
generation thread and on the token counter's at each typing pause. So every render also runs
under limits, each of which stops it with a TemplateError naming the model:

- time: a deadline, checked wherever the template calls, reads an attribute or item, applies an
  operator or a filter, emits output, and at each step of every ``for`` loop (a loop whose body
  does nothing else is still a step);
- size: no string built by ``*``, ``+``, ``~``, ``%``, a width (``center``, ``ljust``...),
  ``replace``, ``format`` or ``join``, and no output, may exceed a few million characters (more
  for a conversation that is itself that long); lists built by ``*`` and ``+`` are bounded too;
  the size is checked *before* the work is done, so the memory is never spent; the new text made
  by repeating (``*``, widths, ``replace``...) is bounded in total too, so that a loop cannot keep
  making results each just under the limit; so is the text emitted, inside macros as well;
- numbers: no integer may have more than a few thousand digits, checked before the work that
  would make it: literals as they are lexed (then nothing large is left for Jinja to fold at
  compile time, where no limit runs), ``*`` and ``**`` from their operands' sizes, text read by
  ``int`` from its length, ``round`` from its precision; every arithmetic operator refuses
  operands beyond it, and every result is checked, so ``//`` and ``%`` (quadratic in C, past
  any deadline) only ever see small numbers;
- depth: nested calls (recursive macros) stop at a fixed depth.

What they do not cover: a single C-level operation on values that passed the checks still runs
to its end (comparing or sorting two huge shared structures, say), and plain copies of a large
value (``upper``, slices, ``~``) kept in a list in a loop are bounded only by the deadline.
Real templates (the ~70 families in llama.cpp's models/templates) render far inside all of this:
tests/test_template_limits.py checks them when their copy is present.
"""

from __future__ import annotations

import contextvars
import math
import re
import string
import time
import types
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache, update_wrapper

from desktop.engines.base import EngineError

# Used when a model carries no template at all (old or hand-made GGUFs): ChatML is what most
# small instruct models were tuned on.
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

TIME_LIMIT_S = 2.0  # a real template renders in milliseconds
# Characters in any one string and in the prompt: a prompt is bounded by the context window, and
# the largest windows hold a few million characters. A longer conversation raises it.
MIN_TEXT_LIMIT = 4 << 20
INPUT_FACTOR = 4
EMIT_FACTOR = 4  # text emitted at all depths (macro bodies, set blocks) per character of output
# New text made by repeating (*, widths, replace, format, join's separator) per character of output,
# in all: each result is bounded on its own, and this bounds a loop that keeps making them.
GROW_FACTOR = 4
MAX_ITEMS = 1 << 18  # items in a list built by * or +
MAX_INT_DIGITS = 2_400  # Python refuses to print an int of more than 4,300 digits anyway
MAX_RANGE = 100_000  # Jinja's own sandbox limit, kept: Hugging Face renders with the same
MAX_CALL_DEPTH = 100  # recursive macros that render a JSON schema go a dozen levels deep
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.33)


class TemplateError(EngineError):
    pass


class _Limits:
    """The budget of one render; one per thread, through a context variable."""

    def __init__(self, source_name: str | None, time_limit: float, text_limit: int):
        self.who = f"The chat template of {source_name}" if source_name else "The model's chat template"
        self.time_limit = time_limit
        self.deadline = time.monotonic() + time_limit
        self.text_limit = text_limit
        self.emit_limit = EMIT_FACTOR * text_limit
        self.emitted = 0
        self.grow_limit = GROW_FACTOR * text_limit
        self.grown = 0
        self.depth = 0

    def stop(self, why: str) -> TemplateError:
        return TemplateError(f"{self.who} was stopped: {why}.")

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise self.stop(f"it ran for more than {self.time_limit:g} seconds")

    def text(self, size: int) -> None:
        if size > self.text_limit:
            raise self.stop(f"it tried to build a text of more than {self.text_limit:,} characters")

    def grow(self, size: int, added: int) -> None:
        """A result of ``size`` characters, ``added`` of them new (not copied from the inputs)."""
        self.text(size)
        self.grown += max(added, 0)
        if self.grown > self.grow_limit:
            raise self.stop(f"it repeated text beyond {self.grow_limit:,} characters in all")

    def items(self, count: int) -> None:
        if count > MAX_ITEMS:
            raise self.stop(f"it tried to build a list of more than {MAX_ITEMS:,} items")

    def bits(self, bits: int) -> None:
        if bits > _MAX_INT_BITS:
            raise self.stop(f"it tried to compute a number of more than {MAX_INT_DIGITS:,} digits")

    def value(self, value) -> None:
        """Check what ``str(value)`` would cost before anything turns it into text."""
        self.text(len(value) if isinstance(value, str) else _text_size(value, self.text_limit, self))

    def result(self, value):
        if isinstance(value, str | bytes):
            self.text(len(value))
        elif isinstance(value, list | tuple):
            self.items(len(value))
        elif isinstance(value, int):
            self.bits(value.bit_length())
        return value


_current: contextvars.ContextVar[_Limits | None] = contextvars.ContextVar("chat_template_limits",
                                                                          default=None)


def _tick() -> _Limits | None:
    limits = _current.get()
    if limits is not None:
        limits.tick()
    return limits


def _stop(why: str) -> TemplateError:
    limits = _current.get()
    return limits.stop(why) if limits else TemplateError(f"The model's chat template was stopped: {why}.")


def _text_size(value, budget: int, limits: _Limits | None = None) -> int:
    """About len(str(value)), from above. Each list, dict or namespace is measured once however
    often it is held (a list that holds itself twice, sixty times over, has 2**60 leaves and takes
    60 steps), and the walk ends as soon as the total passes ``budget``."""
    size = _leaf_size(value)
    if size is not None:
        return size
    known: dict[int, int | None] = {id(value): None}  # None: being measured (a cycle prints short)
    frames = [[value, iter(_children(value)), _shell_size(value)]]
    steps = 0
    while True:
        frame = frames[-1]
        child = next(frame[1], frame)
        if child is frame:  # all its children measured
            frames.pop()
            known[id(frame[0])] = frame[2]
            if not frames:
                return frame[2]
            size = frame[2]
            frame = frames[-1]
        else:
            size = _leaf_size(child)
            if size is None:
                if id(child) not in known:
                    known[id(child)] = None
                    frames.append([child, iter(_children(child)), _shell_size(child)])
                    continue
                size = known[id(child)] or 5
        frame[2] += size
        if frame[2] > budget:
            return frame[2]
        steps += 1
        if limits is not None and not steps % 1024:
            limits.tick()


def _leaf_size(value) -> int | None:
    """The printed size of a value that holds no others; None for a container."""
    from jinja2.runtime import Namespace

    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, bytes):
        return 4 * len(value) + 3
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, dict | list | tuple | set | frozenset | Namespace):
        return None
    return 64


def _children(value):
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, list | tuple | set | frozenset):
        return value
    return [object.__getattribute__(value, "_Namespace__attrs")]


def _shell_size(value) -> int:
    if isinstance(value, dict):
        return 2 + 4 * len(value)
    if isinstance(value, list | tuple | set | frozenset):
        return 2 + 2 * len(value)
    return 13


def _format_size(limits: _Limits, fmt: str, values: list, percent: bool) -> int:
    """An upper bound on the length of ``fmt % values`` or ``fmt.format(*values)``."""
    widths, dynamic = [0], False
    if percent:
        for spec in re.finditer(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?", fmt):
            for number in spec.groups():
                if number == "*":
                    dynamic = True
                elif number:
                    widths.append(int(number))
        fields = fmt.count("%")
    else:
        fields = 0
        for _, field, spec, _ in string.Formatter().parse(fmt):
            if field is not None:
                fields += 1
                dynamic = dynamic or "{" in (spec or "")
                widths.extend(int(n) for n in "".join(c if c.isdigit() else " " for c in spec or "").split())
    if dynamic:  # a width given as an argument: any number argument may be it
        widths.extend(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    largest = max((_text_size(v, limits.text_limit, limits) for v in values), default=0)
    return len(fmt) + fields * (largest + max(widths))


def _arg(args: tuple, kwargs: dict, index: int, name: str, default=None):
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _replace_size(text, old, new, count) -> int | None:
    if not (isinstance(text, str | bytes) and isinstance(old, type(text)) and isinstance(new, type(text))):
        return None
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))


def _check_method(limits: _Limits, method, args: tuple, kwargs: dict) -> tuple:
    """Size checks for the string methods whose result can dwarf their inputs; returns the
    arguments to call with (a generator given to join is listed first, to be measured)."""
    owner, name = method.__self__, method.__name__
    if name in ("ljust", "rjust", "center", "zfill"):
        width = _arg(args, kwargs, 0, "width")
        if isinstance(width, int):
            limits.grow(max(len(owner), width), width - len(owner))
    elif name == "expandtabs":
        tabsize = _arg(args, kwargs, 0, "tabsize", 8)
        if isinstance(tabsize, int):
            added = owner.count("\t" if isinstance(owner, str) else b"\t") * tabsize
            limits.grow(len(owner) + added, added)
    elif name == "replace":
        size = _replace_size(owner, _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new"),
                             _arg(args, kwargs, 2, "count", -1))
        if size is not None:
            limits.grow(size, size - len(owner))
    elif name == "join" and args:
        items = list(_Guarded(args[0], limits)) if not isinstance(args[0], list | tuple) else args[0]
        limits.items(len(items))
        separators = len(owner) * max(len(items) - 1, 0)
        limits.grow(sum(len(x) if isinstance(x, str | bytes) else 0 for x in items) + separators,
                    separators)
        return (items, *args[1:])
    elif name == "translate":
        raise limits.stop("str.translate is not allowed in a chat template")
    return args


class _Guarded:
    """An iterable whose every step checks the deadline: what bounds a loop that calls nothing."""

    __slots__ = ("_iterable", "_limits")

    def __init__(self, iterable, limits: _Limits):
        self._iterable, self._limits = iterable, limits

    def __len__(self):
        return len(self._iterable)  # a TypeError here tells Jinja's loop to count by iterating

    def __iter__(self):
        tick = self._limits.tick
        for item in self._iterable:
            tick()
            yield item


def _range(*args):
    numbers = range(*args)
    try:
        too_long = len(numbers) > MAX_RANGE
    except OverflowError:
        too_long = True
    if too_long:
        raise _stop(f"it asked for a range of more than {MAX_RANGE:,} numbers")
    return numbers


def _raise(message):
    limits = _current.get()
    who = limits.who if limits else "The model's chat template"
    raise TemplateError(f"{who} refused the conversation: {message}")


# Filters that turn their first argument into text: a list or dict given to them is measured first.
_TEXT_FILTERS = frozenset({
    "capitalize", "center", "e", "escape", "forceescape", "format", "indent", "lower", "pprint",
    "replace", "safe", "string", "striptags", "title", "tojson", "trim", "truncate", "upper",
    "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
})


def _check_filter(limits: _Limits, name: str, value, args: tuple, kwargs: dict):
    """Size checks before a filter runs; returns the value to filter (a generator given to
    join or sum is listed first, to be measured)."""
    if name in _TEXT_FILTERS and not isinstance(value, str):
        limits.value(value)
    if name == "center":
        width = _arg(args, kwargs, 0, "width", 80)
        if isinstance(value, str) and isinstance(width, int):
            limits.grow(max(len(value), width), width - len(value))
    elif name == "indent":
        width = _arg(args, kwargs, 0, "width", 4)
        per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        if isinstance(value, str):
            added = (value.count("\n") + 1) * per_line
            limits.grow(len(value) + added, added)
    elif name == "wordwrap":
        wrapstring = _arg(args, kwargs, 2, "wrapstring") or "\n"
        if isinstance(value, str) and isinstance(wrapstring, str):
            added = (len(value) + 1) * len(wrapstring)
            limits.grow(len(value) + added, added)
    elif name == "replace":
        size = _replace_size(value, _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new"),
                             _arg(args, kwargs, 2, "count"))
        if size is not None:
            limits.grow(size, size - len(value))
    elif name == "format" and isinstance(value, str):
        size = _format_size(limits, value, list(kwargs.values()) or list(args), percent=True)
        limits.grow(size, size - len(value))
    elif name == "join":
        items = value if isinstance(value, list | tuple) else list(_Guarded(value, limits))
        limits.items(len(items))
        separator = _arg(args, kwargs, 0, "d", "")
        separators = len(separator if isinstance(separator, str) else "") * len(items)
        limits.grow(_text_size(items, limits.text_limit, limits) + separators, separators)
        return items
    elif name == "int" and isinstance(value, str | bytes):
        base = _arg(args, kwargs, 1, "base", 10)
        per_digit = math.log2(base) if isinstance(base, int) and 2 <= base <= 36 else 4
        number = _NUMBER_BYTES if isinstance(value, bytes) else _NUMBER
        if len(value) * per_digit > _MAX_INT_BITS and number.fullmatch(value):
            raise limits.stop(f"it tried to compute a number of more than {MAX_INT_DIGITS:,} digits")
    elif name == "round":
        precision = _arg(args, kwargs, 0, "precision", 0)
        if isinstance(precision, int) and abs(precision) > MAX_INT_DIGITS:
            # round(5, -10**8) computes 10**(10**8) first.
            raise limits.stop(f"it asked to round to more than {MAX_INT_DIGITS:,} digits")
    elif name in ("batch", "slice"):
        count = _arg(args, kwargs, 0, "linecount" if name == "batch" else "slices")
        if isinstance(count, int) and count > MAX_RANGE:
            raise limits.stop(f"it asked for {count:,} parts of a list")
    elif name == "lipsum" and (
            (_arg(args, kwargs, 0, "n", 5) or 0) > 100 or (_arg(args, kwargs, 3, "max", 100) or 0) > 1000):
        raise limits.stop("it asked for too much placeholder text")
    return value


# What int() could read as a number, in any base: a longer text that is not one fails at once.
_NUMBER = re.compile(r"\s*[+-]?[0-9a-z_]+\s*", re.IGNORECASE)
_NUMBER_BYTES = re.compile(rb"\s*[+-]?[0-9a-z_]+\s*", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9a-f_]+", re.IGNORECASE)


def _refuse_digit_runs(source: str, name, filename) -> None:
    """No run of more than MAX_INT_DIGITS characters that could be a number's digits (hex
    included), anywhere: real templates have none longer than a dozen."""
    from jinja2 import TemplateSyntaxError

    if len(source) <= MAX_INT_DIGITS:
        return
    for run in _DIGITS.finditer(source):  # one pass: a bounded pattern would rescan each run
        if run.end() - run.start() > MAX_INT_DIGITS:
            raise TemplateSyntaxError(f"it has more than {MAX_INT_DIGITS:,} digits in a row",
                                      source.count("\n", 0, run.start()) + 1, name, filename)


def _bounded_literals(stream, name, filename):
    """The lexer's tokens, refusing an integer literal of more than MAX_INT_DIGITS digits' worth
    of bits before anything converts it."""
    from jinja2 import TemplateSyntaxError

    for lineno, token, value in stream:
        if token == "integer" and _literal_bits(value) > _MAX_INT_BITS:
            raise TemplateSyntaxError(f"it writes a number of more than {MAX_INT_DIGITS:,} digits",
                                      lineno, name, filename)
        yield lineno, token, value


def _literal_bits(text: str) -> int:
    digits = text.replace("_", "").lower()
    per_digit = {"0x": 4, "0o": 3, "0b": 1}.get(digits[:2])
    if per_digit is not None:
        return (len(digits) - 2) * per_digit
    return math.ceil(len(digits) * math.log2(10))


def _guard_filter(name: str, func):
    """``func`` with the deadline and size checks around it. Marked pass_context, which also keeps
    Jinja from running it at compile time on constant arguments, outside any limit."""
    from jinja2.utils import _PassArg, pass_context

    passes = _PassArg.from_obj(func)

    def guarded(context, value, *args, **kwargs):
        limits = _tick()
        if limits is not None:
            if name == "sum" and isinstance(_arg(args, kwargs, 1, "start"), list | tuple):
                return _sum_sequences(limits, context, value, *args, **kwargs)
            value = _check_filter(limits, name, value, args, kwargs)
        if passes is _PassArg.context:
            result = func(context, value, *args, **kwargs)
        elif passes is _PassArg.eval_context:
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif passes is _PassArg.environment:
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        return result if limits is None else limits.result(result)

    guarded = update_wrapper(guarded, func)
    guarded.__dict__.pop("jinja_pass_arg", None)
    return pass_context(guarded)


def _sum_sequences(limits: _Limits, context, iterable, attribute=None, start=()):
    """``sum(start=[])`` in linear time: Python's sum copies the growing total at each step, in
    C, where the deadline cannot stop it."""
    from jinja2.filters import make_attrgetter

    items = list(_Guarded(iterable, limits))
    if attribute is not None:
        getter = make_attrgetter(context.environment, attribute)
        items = [getter(item) for item in items]
    if not all(type(item) is type(start) for item in items):
        return sum(items, start)  # a TypeError, as Jinja would raise it
    limits.items(len(start) + sum(len(item) for item in items))
    total = list(start)
    for item in items:
        limits.tick()
        total.extend(item)
    return total if isinstance(start, list) else tuple(total)


def _guard_global(name: str, func):
    def guarded(*args, **kwargs):
        limits = _tick()
        if limits is not None:
            _check_filter(limits, name, None, args, kwargs)
        result = func(*args, **kwargs)
        return result if limits is None else limits.result(result)

    return update_wrapper(guarded, func)


@lru_cache(maxsize=8)
def _compile(source: str):
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.lexer import Lexer
    from jinja2.runtime import markup_join, str_join
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import pass_context
    from jinja2.visitor import NodeTransformer

    class BoundedLexer(Lexer):
        """Refuses a number literal too big to compute with before Python converts it: a hex
        literal of a million digits converts in a blink, and the compiler then folds
        arithmetic on it for minutes. Jinja's own number patterns keep state for each digit
        (close to a gigabyte for three million), so long runs of digits are refused before they
        are lexed at all."""

        def tokeniter(self, source, name, filename=None, state=None):
            _refuse_digit_runs(source, name, filename)
            return super().tokeniter(source, name, filename, state)

        def wrap(self, stream, name=None, filename=None):
            return super().wrap(_bounded_literals(stream, name, filename), name, filename)

    class Guard(NodeTransformer):
        """Rewrites the parsed template so that the limits see what Jinja does without a hook:
        loops, ``~`` and literal text (which would otherwise be emitted without a check)."""

        def visit_For(self, node):  # noqa: N802 - NodeTransformer's naming
            node = self.generic_visit(node)
            node.iter = nodes.Filter(node.iter, "_guard_loop", [], [], None, None).set_lineno(node.lineno)
            return node

        def visit_Concat(self, node):  # noqa: N802
            node = self.generic_visit(node)
            parts = nodes.List(node.nodes).set_lineno(node.lineno)
            return nodes.Filter(parts, "_guard_concat", [], [], None, None).set_lineno(node.lineno)

        def visit_TemplateData(self, node):  # noqa: N802
            # A constant is emitted through finalize (below), where template data is not; marked
            # safe, it is still not escaped inside an {% autoescape %} block.
            text = nodes.Const(node.data).set_lineno(node.lineno)
            return nodes.MarkSafeIfAutoescape(text).set_lineno(node.lineno)

    class Sandbox(ImmutableSandboxedEnvironment):
        # Intercepted, these are also no longer folded at compile time, outside any limit, where
        # '9 ** 9 ** 9' hung; all of them, since '//' and '%' of two huge numbers take minutes.
        intercepted_binops = frozenset({"*", "**", "+", "-", "/", "//", "%"})

        @property
        def lexer(self):
            lexer = self.__dict__.get("_bounded_lexer")
            if lexer is None:
                lexer = self.__dict__["_bounded_lexer"] = BoundedLexer(self)
            return lexer

        def _parse(self, source, name, filename):
            tree = Guard().visit(super()._parse(source, name, filename))
            tree.set_environment(self)
            return tree

        def getattr(self, obj, attribute):
            _tick()
            return super().getattr(obj, attribute)

        def getitem(self, obj, argument):
            _tick()
            return super().getitem(obj, argument)

        def call_binop(self, context, operator, left, right):
            limits = _tick()
            if limits is not None:
                _check_binop(limits, operator, left, right)
            result = super().call_binop(context, operator, left, right)
            return result if limits is None else limits.result(result)

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
            limits = _tick()
            if limits is None:
                return super().call(__context, __obj, *args, **kwargs)
            if isinstance(__obj, types.BuiltinMethodType):
                owner = getattr(__obj, "__self__", None)
                if isinstance(owner, str | bytes):
                    args = _check_method(limits, __obj, args, kwargs)
                elif isinstance(owner, int) and __obj.__name__ == "to_bytes":
                    length = _arg(args, kwargs, 0, "length", 1)
                    if isinstance(length, int):
                        limits.text(length)
            limits.depth += 1
            try:
                if limits.depth > MAX_CALL_DEPTH:
                    raise limits.stop(f"its calls nest more than {MAX_CALL_DEPTH} deep (recursion)")
                return limits.result(super().call(__context, __obj, *args, **kwargs))
            finally:
                limits.depth -= 1

        def wrap_str_format(self, value):
            format_ = super().wrap_str_format(value)
            if format_ is None:
                return None
            fmt, is_map = value.__self__, value.__name__ == "format_map"

            def checked(*args, **kwargs):
                limits = _tick()
                if limits is not None:
                    values = [*args, *kwargs.values()]
                    if is_map and args and isinstance(args[0], dict):
                        values = list(args[0].values())
                    size = _format_size(limits, fmt, values, percent=False)
                    limits.grow(size, size - len(fmt))
                return format_(*args, **kwargs)

            return update_wrapper(checked, format_)

    @pass_context
    def finalize(context, value):
        limits = _tick()
        if limits is not None:
            size = len(value) if isinstance(value, str) else _text_size(value, limits.text_limit, limits)
            limits.text(size)
            limits.emitted += size
            if limits.emitted > limits.emit_limit:
                raise limits.stop(f"its output grew beyond {limits.emit_limit:,} characters")
        return value

    @pass_context
    def guard_loop(context, iterable):
        limits = _current.get()
        return iterable if limits is None else _Guarded(iterable, limits)

    @pass_context
    def guard_concat(context, parts):
        limits = _tick()
        if limits is not None:
            limits.text(sum(len(p) if isinstance(p, str) else _text_size(p, limits.text_limit, limits)
                            for p in parts))
        eval_ctx = context.eval_ctx
        return (markup_join if eval_ctx.volatile or eval_ctx.autoescape else str_join)(parts)

    class Generation(Extension):
        """``{% generation %}...{% endgeneration %}``: Hugging Face marks the assistant's text with
        it for training masks; rendering, it is its body, unchanged. Templates that use it (LFM2.5,
        Laguna) are invalid Jinja without it."""

        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller):
            return caller()

    env = Sandbox(trim_blocks=True, lstrip_blocks=True, finalize=finalize,
                  extensions=[Generation, "jinja2.ext.loopcontrols"])
    # Hugging Face's tojson: not HTML-escaped, with json.dumps' own options. Templates were written
    # (and their output checked) against it, so Jinja's own tojson would change the prompt.
    env.filters["tojson"] = _tojson
    env.filters = {name: _guard_filter(name, f) for name, f in env.filters.items()}
    env.filters["_guard_loop"] = guard_loop
    env.filters["_guard_concat"] = guard_concat
    env.globals["range"] = _range
    env.globals["lipsum"] = _guard_global("lipsum", env.globals["lipsum"])
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = _namespace_class()
    return env.from_string(source)


class _TemplateDict:
    """``dict(...)`` as Hugging Face offers it: a call, not the type (whose attributes reach further)."""

    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)

    def fromkeys(self, *args, **kwargs):
        return dict.fromkeys(*args, **kwargs)


@lru_cache(maxsize=1)
def _namespace_class():
    from jinja2.exceptions import SecurityError
    from jinja2.utils import Namespace

    class TemplateNamespace(Namespace):
        """Jinja's namespace refusing underscore names, as Hugging Face's does: a template that
        stores one fails there, so it fails here too."""

        def __init__(*args, **kwargs):  # noqa: N805 - Jinja's signature, so namespace(self=...) works
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                TemplateNamespace._check(name)
            Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            TemplateNamespace._check(name)
            Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name):
            if isinstance(name, str) and name.startswith("_"):
                raise SecurityError(f"a namespace may not hold the underscore name {name!r}")

    return TemplateNamespace


MAX_JSON_INDENT = 64  # characters per level; Python's own recursion limit bounds the levels


def _tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    import json

    limits = _current.get()
    if indent is None or limits is None:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)
    width = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    if width > MAX_JSON_INDENT:
        raise limits.stop(f"it asked for a JSON indent of more than {MAX_JSON_INDENT} characters")
    # Indented, the text grows with depth times width: built piece by piece and checked as it grows.
    encoder = json.JSONEncoder(ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                               sort_keys=sort_keys)
    parts, size = [], 0
    for part in encoder.iterencode(value):
        size += len(part)
        limits.grow(size, len(part))
        parts.append(part)
    return "".join(parts)


def _check_binop(limits: _Limits, operator: str, left, right) -> None:
    def is_int(x):
        return isinstance(x, int) and not isinstance(x, bool)

    if is_int(left) and is_int(right) and operator not in ("*", "**"):
        # Every number a template makes is bounded (literals, results): this catches one that
        # came in some other way before '//' or '%' spends minutes on it.
        limits.bits(max(left.bit_length(), right.bit_length()))
    if operator == "*":
        if is_int(left) and not is_int(right):
            left, right = right, left
        if isinstance(left, str | bytes) and is_int(right):
            limits.grow(len(left) * right, len(left) * (right - 1))
        elif isinstance(left, list | tuple) and is_int(right):
            limits.items(len(left) * right)
            limits.grow(0, len(left) * (right - 1))
        elif is_int(left) and is_int(right):
            limits.bits(left.bit_length() + right.bit_length())
    elif operator == "**":
        if is_int(left) and is_int(right) and right > 0 and abs(left) > 1:
            limits.bits((abs(left).bit_length() - 1) * right)
    elif operator == "+":
        if isinstance(left, str | bytes) and isinstance(right, str | bytes):
            limits.text(len(left) + len(right))
        elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
            limits.items(len(left) + len(right))
    elif operator == "%" and isinstance(left, str):
        values = list(right) if isinstance(right, tuple) else (
            list(right.values()) if isinstance(right, dict) else [right])
        size = _format_size(limits, left, values, percent=True)
        limits.grow(size, size - len(left))


def render(
    template: str | None,
    messages: Sequence[dict],
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
    *,
    source_name: str | None = None,
    time_limit: float | None = None,
    extra: dict | None = None,
) -> str:
    """The prompt ``template`` (ChatML when None) makes of ``messages``: the text Hugging Face's
    apply_chat_template makes of them (tests/test_template_parity.py holds us to it). ``extra``
    adds template variables (``enable_thinking``, ``tools``...). ``source_name``, the model
    file or folder the template came from, names it in errors; ``time_limit`` defaults to
    TIME_LIMIT_S. Raises TemplateError, and nothing else, for any failure of the template."""
    from jinja2 import TemplateSyntaxError
    from jinja2.exceptions import SecurityError
    from jinja2.exceptions import TemplateError as JinjaTemplateError

    messages = _alias_reasoning([dict(m) for m in messages])
    # Hugging Face always defines tools and documents (None when not given): templates test
    # "tools is not none" as often as "tools is defined", and the two must agree with theirs.
    variables = {"tools": None, "documents": None, **(extra or {})}
    variables.update(messages=messages, bos_token=bos_token, eos_token=eos_token,
                     add_generation_prompt=add_generation_prompt)
    given = _text_size([messages, variables], 1 << 40) + len(bos_token) + len(eos_token)
    limits = _Limits(source_name, TIME_LIMIT_S if time_limit is None else time_limit,
                     max(MIN_TEXT_LIMIT, INPUT_FACTOR * given))
    who = limits.who
    token = _current.set(limits)
    try:
        try:
            compiled = _compile(template or CHATML)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"{who} is invalid: {exc}") from None
        limits.deadline = time.monotonic() + limits.time_limit  # compiling is cached, not counted
        parts, size = [], 0
        for part in compiled.generate(**variables):
            size += len(part)
            if size > limits.text_limit:
                raise limits.stop(f"its output grew beyond {limits.text_limit:,} characters")
            limits.tick()
            parts.append(part)
        return "".join(parts)
    except TemplateError:
        raise
    except SecurityError as exc:
        raise TemplateError(f"{who} tried an unsafe operation: {exc}") from None
    except JinjaTemplateError as exc:
        raise TemplateError(f"{who} failed: {exc}") from None
    except RecursionError:
        raise limits.stop("its calls nest too deeply (recursion)") from None
    except Exception as exc:  # the template is untrusted input: whatever it trips over is its failure
        raise TemplateError(f"{who} failed: {type(exc).__name__}: {exc}") from None
    finally:
        _current.reset(token)


_REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


def _alias_reasoning(messages: list[dict]) -> list[dict]:
    """A message's reasoning under all the names templates read it by, as Hugging Face does:
    Qwen's templates read reasoning_content, gpt-oss's read thinking."""
    aliased = []
    for message in messages:
        reasoning = next((message[k] for k in _REASONING_FIELDS if message.get(k) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        aliased.append(message)
    return aliased


_SYSTEM_PROBE = "edgechat-system-probe-7f3a"


@lru_cache(maxsize=32)
def supports_system_role(template: str | None, bos_token: str = "", eos_token: str = "") -> bool:
    """Whether ``template`` puts a system message into the prompt. Some refuse it (Gemma 2 raises
    "System role not supported"), some drop it without a word; for those the system prompt has
    to travel inside the first user message instead."""
    messages = [{"role": "system", "content": _SYSTEM_PROBE}, {"role": "user", "content": "Hi"}]
    try:
        return _SYSTEM_PROBE in render(template, messages, bos_token, eos_token)
    except TemplateError:
        return False


def fold_system(messages: Sequence[dict]) -> list[dict]:
    """``messages`` with the system messages moved into the first user message: the system text, a
    blank line, then the user's, as llama.cpp's server and Ollama do for such models."""
    system = "\n\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "system")
    rest = [dict(m) for m in messages if m.get("role") != "system"]
    if not system:
        return rest
    for message in rest:
        if message.get("role") == "user":
            message["content"] = f"{system}\n\n{message.get('content') or ''}"
            return rest
    return [{"role": "user", "content": system}, *rest]


def prepare_messages(template: str | None, messages: Sequence[dict], bos_token: str = "",
                     eos_token: str = "") -> list[dict]:
    """The messages to render with ``template``: as given, unless there is a system message the
    template would refuse or drop, which is then folded into the first user message. Used before
    every render (engine, token counter, context meter), so all of them count what is sent."""
    messages = list(messages)
    if not any(m.get("role") == "system" for m in messages):
        return messages
    if supports_system_role(template, bos_token, eos_token):
        return messages
    return fold_system(messages)


@lru_cache(maxsize=32)
def check(template: str) -> str | None:
    """Why ``template`` is not a template at all (Jinja cannot parse it), or None. A template that
    parses but fails on some conversation is the model's own, and its refusal is reported then."""
    from jinja2 import TemplateSyntaxError

    try:
        _compile(template)
    except TemplateSyntaxError as exc:
        return str(exc).splitlines()[0][:200]
    except Exception as exc:  # noqa: BLE001 - untrusted input: whatever fails, it is not usable
        return f"{type(exc).__name__}: {exc}"[:200]
    return None
