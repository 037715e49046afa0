"""Reading a chat export (a file anyone may have edited) into values the app can always use.

Everything an export carries ends up somewhere that trusts its types: message meta is rendered
(stats are formatted as numbers), settings become sampling parameters for every reply, and
``left_out`` names messages to mark. So an import is checked here, in full, before anything is
written: the file's size before it is read, its nesting depth before it is parsed (the parser
recurses), then every value against what the app itself writes. Meta and settings are reduced
to the keys the app knows; a known key with the wrong type or an absurd value refuses the whole
import with a StoreError that names the message and the field, never another exception.

The same cleaning, lenient (dropping what is wrong instead of refusing), guards what the store
reads back: a database written by an older EdgeChat may already hold such values.

Qt-free, and usable from any thread: the import worker calls it with a progress callback and a
cancel token.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.engines.base import SAMPLING_RANGES, SamplingParams
from desktop.engines.context import POLICIES
from desktop.storage.errors import ImportCancelled, StoreError
from desktop.text import translate

EXPORT_FORMAT = "edgechat-conversation"
ROLES = ("system", "user", "assistant")
STATUSES = ("complete", "streaming", "stopped", "error", "interrupted")

# Limits far above any chat the app writes, low enough that an import stays a few seconds of
# background work: a 50 MB file would take minutes and most of a gigabyte of memory.
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64  # an export is 5 levels deep; the JSON parser recurses once per level
MAX_MESSAGES = 50_000
MAX_CONTENT_CHARS = 2_000_000
MAX_TITLE_CHARS = 1_000
TITLE_KEPT = 200  # what the conversation list has room for
MAX_SYSTEM_PROMPT_CHARS = 200_000
MAX_ERROR_CHARS = 10_000
MAX_NAME_CHARS = 1_000  # model, backend, device, preset, finish reason
MAX_COUNT = 10**12
MAX_SECONDS = 10.0**9

assert set(SAMPLING_RANGES) == set(SamplingParams.SAMPLING_FIELDS)

Progress = Callable[[float], None]


class _Bad(Exception):
    """A value that is not what the app writes: where it is and what is wrong."""

    def __init__(self, where: str, problem: str):
        super().__init__(where, problem)
        self.where, self.problem = where, problem


# -- checks for one value ---------------------------------------------------------------------
def _text(value, where: str, limit: int) -> str:
    if not isinstance(value, str):
        raise _Bad(where, translate("Core", "must be text"))
    if len(value) > limit:
        raise _Bad(where, translate("Core", "is longer than {limit} characters").format(
            limit=f"{limit:,}"))
    try:
        value.encode("utf-8")  # JSON allows lone surrogates; SQLite cannot store them
    except UnicodeEncodeError:
        raise _Bad(where, translate("Core", "contains characters that cannot be stored")) from None
    return value


def _number(value, where: str, low: float, high: float, whole: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(where, translate("Core", "must be a number"))
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(where, translate("Core", "must be a finite number"))
    if whole and isinstance(value, float):
        if not value.is_integer():
            raise _Bad(where, translate("Core", "must be a whole number"))
        value = int(value)
    if not low <= value <= high:
        raise _Bad(where, translate("Core", "must be between {low} and {high}").format(
            low=low, high=high))
    return float(value) if not whole else value


def _optional(check):
    def optional(value, where):
        return None if value is None else check(value, where)
    return optional


def _count(value, where):
    return _number(value, where, 0, MAX_COUNT, whole=True)


def _seconds(value, where):
    return _number(value, where, 0.0, MAX_SECONDS)


def _name(value, where):
    return _text(value, where, MAX_NAME_CHARS)


def _counts(value, where):
    if not isinstance(value, list) or len(value) > MAX_MESSAGES:
        raise _Bad(where, translate("Core", "must be a list of whole numbers"))
    return [_count(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _flag(value, where):
    if not isinstance(value, bool):
        raise _Bad(where, translate("Core", "must be true or false"))
    return value


def _policy(value, where):
    if value not in POLICIES:
        raise _Bad(where, translate("Core", "must be one of: {values}").format(
            values=", ".join(POLICIES)))
    return value


def _object(value, where) -> dict:
    if not isinstance(value, dict):
        raise _Bad(where, translate("Core", "must be a JSON object"))
    return value


# What GenerationStats holds, plus the model that wrote the reply (the generation worker adds it).
_STATS = {
    "prompt_tokens": _count,
    "prompt_tokens_evaluated": _optional(_count),
    "completion_tokens": _count,
    "ttft_s": _optional(_seconds),
    "tokens_per_s": _optional(_seconds),
    "total_s": _seconds,
    "finish_reason": _name,
    "dropped_messages": _count,
    "dropped_indices": _counts,
    "model": _name,
    "backend": _name,
    "device": _name,
    "thinking_s": _optional(_seconds),
    "thinking_tokens": _count,
}


def _fields(data: dict, checks: dict, where: str, strict: bool) -> dict:
    """``data`` with its known keys checked. Strict (an import): a bad value refuses, unknown
    keys go. Lenient (reading the database): a bad value goes, unknown keys stay, since nothing
    reads them and a newer EdgeChat may have written them."""
    out = {} if strict else {k: v for k, v in data.items() if k not in checks}
    for key, check in checks.items():
        if key not in data:
            continue
        try:
            out[key] = check(data[key], f"{where}.{key}" if where else key)
        except _Bad:
            if strict:
                raise
    return out


def _meta(meta, strict: bool) -> dict:
    """A message's meta as the controller writes it: stats, context_policy, left_out, error.

    ``left_out`` is returned as it is in the data (the ids of the database that wrote it); the
    caller maps it."""
    if meta is None:
        return {}
    meta = _object(meta, "meta")
    checks = {
        "stats": lambda v, w: _fields(_object(v, w), _STATS, w, strict),
        "context_policy": _policy,
        "left_out": _counts,
        "error": lambda v, w: _text(v, w, MAX_ERROR_CHARS),
        # A reasoning model's thinking, kept apart from the answer, and how long it took.
        "thinking": lambda v, w: _text(v, w, MAX_CONTENT_CHARS),
        "thinking_s": _seconds,
    }
    return _fields(meta, checks, "meta", strict)


def _sampling(value, where, strict: bool) -> dict:
    checks = {}
    for key, (kind, low, high) in SAMPLING_RANGES.items():
        def check(v, w, kind=kind, low=low, high=high, key=key):
            if key == "seed" and v is None:
                return None  # a random seed
            return _number(v, w, low, high, whole=kind is int)
        checks[key] = check
    return _fields(_object(value, where), checks, where, strict)


def _settings(settings, strict: bool, where: str = "") -> dict:
    """A chat's settings as the settings panel writes them: system prompt, preset, sampling
    overrides and context policy."""
    if settings is None:
        return {}
    settings = _object(settings, where or "settings")
    checks = {
        "system_prompt": lambda v, w: _text(v, w, MAX_SYSTEM_PROMPT_CHARS),
        "preset": _name,
        "sampling": lambda v, w: _sampling(v, w, strict),
        "context_policy": _policy,
        "thinking": _flag,  # the "Think" switch
    }
    return _fields(settings, checks, where, strict)


# -- tolerant reading (the store's readers) ---------------------------------------------------
def read_meta(raw: str | None) -> dict:
    """A message's stored meta, reduced to what renders safely; never raises."""
    return _read(raw, _meta)


def read_settings(raw: str | None) -> dict:
    """A conversation's or preset's stored settings, reduced to what is safe; never raises."""
    return _read(raw, _settings)


def read_sampling(raw: str | None) -> dict:
    return _read(raw, lambda value, strict: _sampling(value, "sampling", strict))


def _read(raw, clean) -> dict:
    if not raw:
        return {}
    try:
        return clean(json.loads(raw, parse_constant=_no_constant), False)
    except (ValueError, RecursionError, _Bad):
        return {}


# -- a whole export ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportedMessage:
    role: str
    content: str
    status: str
    meta: dict  # without left_out: that is mapped when the messages have their new ids
    export_id: int | None = None
    left_out: tuple[int, ...] = ()


@dataclass(frozen=True)
class ValidExport:
    title: str
    settings: dict
    messages: tuple[ImportedMessage, ...] = field(default_factory=tuple)


def check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise ImportCancelled(translate("Core", "The import was cancelled."))


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0))


def validate_export(data, progress: Progress | None = None, cancel=None) -> ValidExport:
    """Check a parsed export in full. Raises StoreError naming the first problem."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise StoreError(translate("Core", "This file is not an EdgeChat conversation export."))
    if data.get("version") != 1:
        raise StoreError(translate(
            "Core", "This export is version {version}; this EdgeChat reads 1.").format(
            version=f"{data.get('version')!r}"[:40]))
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise StoreError(translate("Core", "The export has no message list."))
    if len(messages) > MAX_MESSAGES:
        raise StoreError(translate(
            "Core", "The export has {count} messages; EdgeChat imports at most {limit} per chat."
        ).format(count=f"{len(messages):,}", limit=f"{MAX_MESSAGES:,}"))
    title = data.get("title")
    if title is None:
        title = ""
    try:
        title = _text(title, "title", MAX_TITLE_CHARS)
    except _Bad as bad:
        raise StoreError(translate("Core", "The export's title {problem}.").format(
            problem=bad.problem)) from None
    title = " ".join(title.split())[:TITLE_KEPT] or translate("Core", "Imported chat")
    try:
        settings = _settings(data.get("settings"), strict=True)
    except _Bad as bad:
        raise StoreError(translate("Core", "The export's settings: {field} {problem}.").format(
            field=bad.where, problem=bad.problem)) from None

    clean: list[ImportedMessage] = []
    seen_ids: set[int] = set()
    for i, m in enumerate(messages):
        if i % 256 == 0:
            check_cancel(cancel)
            _report(progress, i / max(len(messages), 1))
        try:
            clean.append(_message(m, seen_ids))
        except _Bad as bad:
            raise StoreError(translate(
                "Core", "Message {number} of the export: {field} {problem}.").format(
                number=i + 1, field=bad.where, problem=bad.problem)) from None
    _report(progress, 1.0)
    return ValidExport(title, settings, tuple(clean))


def _message(m, seen_ids: set[int]) -> ImportedMessage:
    if not isinstance(m, dict):
        raise _Bad(translate("Core", "the message"), translate("Core", "must be a JSON object"))
    if m.get("role") not in ROLES:
        raise _Bad("role", translate("Core", "must be one of: {values}").format(
            values=", ".join(ROLES)))
    if "content" not in m:
        raise _Bad("content", translate("Core", "is missing"))
    content = _text(m["content"], "content", MAX_CONTENT_CHARS)
    status = m.get("status", "complete")
    if status is None:
        status = "complete"
    if status not in STATUSES:
        raise _Bad("status", translate("Core", "must be one of: {values}").format(
            values=", ".join(STATUSES)))
    if status == "streaming":  # it was cut off where it was exported
        status = "interrupted"
    export_id = m.get("id")
    if export_id is not None:
        export_id = _count(export_id, "id")
        if export_id in seen_ids:
            raise _Bad("id", translate("Core", "is the id of an earlier message too"))
        seen_ids.add(export_id)
    meta = _meta(m.get("meta"), strict=True)
    left_out = tuple(meta.pop("left_out", ()))
    return ImportedMessage(m["role"], content, status, meta, export_id, left_out)


# -- the file ---------------------------------------------------------------------------------
# A JSON string (skipped whole, brackets inside it do not count) or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_CHUNK = 1 << 20


def _no_constant(name: str):
    raise ValueError(translate("Core", "{value} is not a number JSON allows").format(value=name))


def check_depth(text: str, limit: int = MAX_DEPTH, cancel=None,
                progress: Progress | None = None) -> None:
    """Refuse text nested deeper than ``limit`` before the (recursive) parser sees it.

    A scan in Python, one step per string or bracket: it lets other threads run, which a single
    json.loads of the whole file would not, and it can be cancelled."""
    depth, length = 0, max(len(text), 1)
    for n, match in enumerate(_TOKENS.finditer(text)):
        at = match.start()
        char = text[at]
        if char == "[" or char == "{":
            depth += 1
            if depth > limit:
                raise StoreError(translate(
                    "Core", "This file is nested more than {limit} levels deep; it is not an "
                            "EdgeChat conversation export.").format(limit=limit))
        elif char != '"':
            depth -= 1
        if n % 4096 == 0:
            check_cancel(cancel)
            _report(progress, at / length)


def parse_export(text: str, name: str = "", cancel=None,
                 progress: Progress | None = None):
    """The JSON value of an export's text, depth-bounded; StoreError for anything else."""
    check_depth(text, cancel=cancel, progress=progress)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # the depth check should have caught it first
        raise StoreError(translate(
            "Core", "This file is nested more than {limit} levels deep; it is not an EdgeChat "
                    "conversation export.").format(limit=MAX_DEPTH)) from None
    except ValueError as exc:  # JSONDecodeError, an integer too long to convert, NaN
        raise StoreError(translate("Core", "Could not read {path}: {reason}").format(
            path=name, reason=exc)) from None


def read_text(path: str | Path, cancel=None, progress: Progress | None = None) -> str:
    """An export file's text: its size is checked before a byte is read."""
    path = Path(path)
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise StoreError(translate(
                "Core", "{name} is {size} MB; EdgeChat imports chats of up to {limit} MB.").format(
                name=path.name, size=f"{size / 1e6:,.1f}", limit=MAX_FILE_BYTES // (1024 * 1024)))
        chunks, read = [], 0
        with open(path, "rb") as f:
            while True:
                check_cancel(cancel)
                chunk = f.read(_CHUNK)
                if not chunk:
                    break
                read += len(chunk)
                if read > MAX_FILE_BYTES:  # it grew since the check
                    raise StoreError(translate(
                        "Core", "{name} is {size} MB; EdgeChat imports chats of up to {limit} MB."
                    ).format(name=path.name, size=f"{read / 1e6:,.1f}+",
                             limit=MAX_FILE_BYTES // (1024 * 1024)))
                chunks.append(chunk)
                _report(progress, read / max(size, 1))
    except OSError as exc:
        raise StoreError(translate("Core", "Could not read {path}: {reason}").format(
            path=path, reason=exc.strerror or exc)) from None
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StoreError(translate("Core", "Could not read {path}: {reason}").format(
            path=path, reason=translate("Core", "it is not UTF-8 text (byte {offset})").format(
                offset=exc.start))) from None


def read_export(path: str | Path, cancel=None, progress: Progress | None = None) -> ValidExport:
    """Read, parse and check an export file. Progress runs from 0 to 1 over the three steps."""
    def step(start: float, span: float) -> Progress | None:
        if progress is None:
            return None
        return lambda fraction: progress(start + span * fraction)

    text = read_text(path, cancel, step(0.0, 0.15))
    data = parse_export(text, str(path), cancel, step(0.15, 0.25))
    del text
    check_cancel(cancel)
    return validate_export(data, step(0.4, 0.2), cancel)
