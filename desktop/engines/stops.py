"""Where a reply ends: the end-of-turn tokens of every chat family, and the text guard that keeps
an end marker out of the reply when a model spells it as plain text.

A file's own end-of-generation set is not enough: many GGUF and ONNX conversions name only the
base model's EOS (Llama 3's ``<|end_of_text|>``, Qwen's ``<|endoftext|>``, Phi-3's
``<|endoftext|>``), while the chat-tuned model ends its turn with another token (``<|eot_id|>``,
``<|im_end|>``, ``<|end|>``). Without it the reply runs on into an invented next turn.
"""

from __future__ import annotations

from collections.abc import Iterable

# Formats the families module has no fallback template for, but whose files we still open.
_EXTRA_END_MARKERS = (
    "<|eom_id|>",  # Llama 3.1: the end of a tool-calling message; a chat turn ends there too
    "<turn|>",  # Gemma 4
    "<|return|>",  # gpt-oss
    "<|endoftext|>",
    "<|end_of_text|>",
)

# Too common in ordinary text (HTML strike-through) to be read as a marker when spelled out.
_NOT_IN_TEXT = frozenset({"</s>"})


def end_markers() -> tuple[str, ...]:
    """Every token text that ends an assistant's turn in some family."""
    try:
        from desktop.engines import families

        known = [t for texts in families.END_OF_TURN.values() for t in texts]
    except (ImportError, AttributeError):  # a build without the families table still stops
        known = ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>"]
    return tuple(dict.fromkeys([*known, *_EXTRA_END_MARKERS]))


def text_markers(markers: Iterable[str]) -> tuple[str, ...]:
    """The markers worth catching when a model writes them as plain text."""
    return tuple(m for m in markers if m and m not in _NOT_IN_TEXT)


class EndMarkerGuard:
    """Passes reply text through, holding back only a tail that could still grow into an end
    marker (``<|im_`` may become ``<|im_end|>``), so a marker spelled as several ordinary tokens
    never reaches the reader. Text that cannot start a marker passes at once: the first token
    is delayed only when it begins like one.
    """

    def __init__(self, markers: Iterable[str]):
        self._markers = tuple(m for m in markers if m)
        self._held = ""
        self.ended = False  # a whole marker was seen: the turn is over

    def feed(self, piece: str) -> str:
        if self.ended:
            return ""
        text = self._held + piece
        self._held = ""
        hits = [i for i in (text.find(m) for m in self._markers) if i >= 0]
        if hits:
            self.ended = True
            return text[: min(hits)]
        keep = 0
        for marker in self._markers:
            for n in range(min(len(marker) - 1, len(text)), keep, -1):
                if text.endswith(marker[:n]):
                    keep = n
                    break
        if keep:
            self._held = text[-keep:]
            return text[:-keep]
        return text

    def finish(self) -> str:
        """What is still held when the reply ends: dropped when it is a marker cut short (the
        length limit fell inside it), given back when it is a lone character such as ``<``."""
        held, self._held = self._held, ""
        return held if len(held) < 2 else ""
