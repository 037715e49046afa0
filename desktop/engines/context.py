"""Fitting a conversation into the model's context window.

Each conversation chooses what happens when its history no longer fits (``POLICIES``):

- ``rolling``: keep the system prompt and the newest messages; the oldest turns go first.
- ``keep_first``: keep the system prompt and the first turn (where a user usually says what the
  chat is about) as well as the newest messages; the middle goes.
- ``stop``: leave nothing out; refuse with ``ContextFullError`` so the app can ask the user.

When messages are left out, the kept window starts at a *checkpoint* (every third of the prompt
budget, counted from the chat's start) rather than at the latest message that would fit: the
prompt then stays the same from one turn to the next, so the engines' prompt caches reuse it, and
an overflowing chat pays one recomputation per third of its context, not one per turn.
Shifting the KV cache instead (llama.cpp's context shift) would reuse every turn, but gives a
state that full recomputation never would (the kept tokens were read with the dropped ones in
view), so replies would depend on the chat's history of cache hits.

A single message that cannot fit even alone is refused with a clear error rather than cut
mid-sentence. Nothing here raises anything but a ``ContextOverflowError`` (whose message is for
the user), so an overflow never surfaces as a backend exception or a hang.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from desktop.engines.base import ContextFullError, ContextOverflowError
from desktop.text import translate

POLICIES = ("rolling", "keep_first", "stop")
# The context both engines allocate unless asked for more (capped by what the model was trained
# for); the fit estimate assumes the same.
DEFAULT_N_CTX = 4096


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_dim: int, n_ctx: int, bytes_per_value: int) -> int:
    """The KV cache of ``n_ctx`` tokens: K and V, for every layer, KV head and position."""
    return 2 * n_layers * n_kv_heads * head_dim * n_ctx * bytes_per_value


def context_setting() -> str:
    """Where the context length is set in the window, as error messages name it (the window
    offers to open it under any message that contains this)."""
    return translate("Core", "Model ▸ Load settings… ▸ Context length")


def _first_turn(rest: list[dict]) -> int:
    """How many of the leading messages form the first turn (a user message and its replies)."""
    if not rest or rest[0].get("role") != "user":
        return 0
    n = 1
    while n < len(rest) and rest[n].get("role") == "assistant":
        n += 1
    return n


def fit_messages(
    messages: Sequence[dict], measure: Callable[[Sequence[dict]], int], limit: int,
    policy: str = "rolling",
) -> tuple[list[dict], list[int]]:
    """Return the messages that fit in ``limit`` tokens and the indices of those left out."""
    messages = list(messages)
    needed = measure(messages)
    if needed <= limit:
        return messages, []
    if policy == "stop":
        raise ContextFullError(translate(
            "Core", "This chat no longer fits the model's context ({needed} tokens; {limit} are free "
            "for the prompt). Choose what to leave out, or start a new chat."
        ).format(needed=f"{needed:,}", limit=f"{limit:,}"))
    system = [m for m in messages[:1] if m.get("role") == "system"]
    rest = messages[len(system):]
    head = _first_turn(rest[:-1]) if policy == "keep_first" else 0
    kept = _fit_window(system, rest, head, measure, limit)
    if kept is None and head:
        kept = _fit_window(system, rest, 0, measure, limit)  # the first turn alone is too long
    if kept is None:
        raise ContextOverflowError(translate(
            "Core", "The message is too long for this model's context window. Shorten it, or raise "
            "the context length ({setting})."
        ).format(setting=context_setting()))
    offset = len(system)
    kept_set = set(range(offset)) | {offset + i for i in kept}
    dropped = [i for i in range(len(messages)) if i not in kept_set]
    return [messages[i] for i in sorted(kept_set)], dropped


def _fit_window(system, rest, head: int, measure, limit: int) -> list[int] | None:
    """Indices into ``rest``: the first ``head`` messages, then as many of the newest as fit."""
    # Binary search on where the kept tail starts: measuring renders the template and tokenizes,
    # so a long history is not re-measured once per dropped message.
    lo, hi = head + 1, len(rest) - 1  # always keep the newest message
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        start = mid
        # Keep the turn structure: a window should not start with an assistant reply.
        while start < len(rest) - 1 and rest[start].get("role") == "assistant":
            start += 1
        indices = list(range(head)) + list(range(start, len(rest)))
        if measure(system + [rest[i] for i in indices]) <= limit:
            best, hi = indices, mid - 1
        else:
            lo = mid + 1
    if best is None:
        return None
    start = best[head]
    snapped = _checkpoint(rest, start, limit)
    if snapped > start:
        indices = list(range(head)) + list(range(snapped, len(rest)))
        if measure(system + [rest[i] for i in indices]) <= limit:
            return indices
    return best


def _weight(message: dict) -> int:
    # A stand-in for its tokens that never changes as the chat grows (UTF-8 bytes / 4: near
    # the token count for English, a quarter under it for Chinese): measuring every message
    # with the tokenizer would cost a render per message at every turn.
    content = message.get("content")
    return len(str(content or "").encode("utf-8")) // 4 + 4


def _checkpoint(rest: list[dict], start: int, limit: int) -> int:
    """The first checkpoint at or after ``start``: the first user message at or past each
    multiple of a third of ``limit`` in the chat's running weight (see the module's docstring).
    ``start`` itself when there is none before the newest message."""
    step = max(limit // 3, 1)
    position = 0
    k = 1
    for i, message in enumerate(rest[:-1]):  # the newest message always stays
        if position >= k * step and message.get("role") == "user":
            if i >= start:
                return i
            k = position // step + 1
        position += _weight(message)
    return start


def prompt_limit(n_ctx: int, max_tokens: int) -> int:
    """Tokens the prompt may use: the rest is kept for the reply (at most half the context)."""
    return n_ctx - min(max_tokens, n_ctx // 2)


def fit_for_reply(messages: Sequence[dict], measure: Callable[[Sequence[dict]], int], n_ctx: int,
                  max_tokens: int, policy: str = "rolling") -> tuple[list[dict], list[int]]:
    """The messages that leave room for a reply of up to max_tokens."""
    return fit_messages(messages, measure, prompt_limit(n_ctx, max_tokens), policy)


def reply_budget(prompt_tokens: int, n_ctx: int, max_tokens: int) -> int:
    """How many tokens the reply may have; a prompt that fills the context is refused."""
    budget = min(max_tokens, n_ctx - prompt_tokens)
    if budget <= 0:
        raise ContextOverflowError(translate(
            "Core", "The message is too long for this model's context ({used} tokens of {size}). "
            "Shorten it, start a new chat, or raise the context length ({setting})."
        ).format(used=f"{prompt_tokens:,}", size=f"{n_ctx:,}", setting=context_setting()))
    return budget
