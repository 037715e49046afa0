"""Fitting a conversation into the model's context window.

The foundation policy is a rolling window: the system prompt and the newest messages are kept,
the oldest turns are dropped until the prompt fits. A single message that cannot fit even alone
is refused with a clear error rather than cut mid-sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from desktop.engines.base import ContextOverflowError


def fit_messages(
    messages: Sequence[dict], measure: Callable[[Sequence[dict]], int], limit: int
) -> tuple[list[dict], int]:
    """Return the messages that fit in ``limit`` tokens and how many were left out."""
    messages = list(messages)
    if measure(messages) <= limit:
        return messages, 0
    system = [m for m in messages[:1] if m.get("role") == "system"]
    rest = messages[len(system):]
    # Binary search on how many of the oldest messages to drop: measuring renders the template
    # and tokenizes, so a long history is not re-measured once per dropped message.
    lo, hi = 1, len(rest) - 1  # always keep the newest message
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = system + rest[mid:]
        # Keep the turn structure: a window should not start with an assistant reply.
        while len(candidate) > len(system) + 1 and candidate[len(system)].get("role") == "assistant":
            candidate.pop(len(system))
        if measure(candidate) <= limit:
            best, hi = candidate, mid - 1
        else:
            lo = mid + 1
    if best is None:
        raise ContextOverflowError(
            "The message is too long for this model's context window. Shorten it, or raise the "
            "context length in the model's settings."
        )
    return best, len(messages) - len(best)


def fit_for_reply(messages: Sequence[dict], measure: Callable[[Sequence[dict]], int], n_ctx: int,
                  max_tokens: int) -> tuple[list[dict], int]:
    """The messages that leave room for a reply of up to max_tokens (at most half the context)."""
    return fit_messages(messages, measure, n_ctx - min(max_tokens, n_ctx // 2))


def reply_budget(prompt_tokens: int, n_ctx: int, max_tokens: int) -> int:
    """How many tokens the reply may have; a prompt that fills the context is refused."""
    budget = min(max_tokens, n_ctx - prompt_tokens)
    if budget <= 0:
        raise ContextOverflowError(
            f"The message is too long for this model's context ({prompt_tokens:,} tokens of "
            f"{n_ctx:,}). Shorten it or start a new chat."
        )
    return budget
