"""Reasoning models: telling a model's thinking from its answer while the text streams.

Qwen 3, the DeepSeek-R1 distills, Phi-4-mini-reasoning and SmolLM3 write ``<think>…</think>``
before the answer. The engines run what they decode through a ``ThinkingSplitter`` and yield the
thinking as ``Thought`` pieces and the answer as plain ``str``, so everything above them (the
worker, the session, the view, storage) can keep the two apart.

Two things about templates decide how the splitter starts:
- a template may end the generation prompt *inside* a thinking block (the R1 distills write
  ``<think>\\n`` there), so the model's first words are thinking and no opening tag ever comes;
- a template may read ``enable_thinking`` (Qwen 3, SmolLM3): then the chat can turn thinking
  off, and the app shows a switch for it.
Both are found from the template's source and the prompt it renders, never from a model's name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from desktop.engines.base import GenerationStats, Thought

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

# A template that reads the variable, in any of the spellings the collection uses
# ("enable_thinking is defined", "not enable_thinking", "enable_thinking | default(true)"...).
_SWITCH = re.compile(r"\benable_thinking\b")


def template_has_switch(template: str | None) -> bool:
    """Whether the template reads ``enable_thinking`` (so a chat can turn thinking off)."""
    return bool(template) and bool(_SWITCH.search(template))


def template_thinks(template: str | None) -> bool:
    """Whether the template knows about thinking at all: only then is the output split, so a
    model that never thinks cannot have a literal "<think>" in its answer taken for thinking."""
    return bool(template) and (CLOSE_TAG in template or OPEN_TAG in template
                               or template_has_switch(template))


def starts_inside(prompt: str, open_tag: str = OPEN_TAG, close_tag: str = CLOSE_TAG) -> bool:
    """Whether the rendered prompt leaves the model inside a thinking block: it ends with an
    opening tag (and whitespace), as the R1 distills' generation prompt does. Qwen 3 with
    thinking off ends with an empty, closed block instead: that is not inside."""
    tail = prompt.rstrip()
    return tail.endswith(open_tag)


def model_thinking(template: str | None, sample_prompt: str | None = None) -> dict:
    """What ModelInfo.extra["thinking"] says: whether to offer the switch, and whether the
    generation prompt opens the thinking block itself."""
    return {"switch": template_has_switch(template),
            "starts_inside": bool(sample_prompt) and starts_inside(sample_prompt)}


def template_extra(template: str | None, thinking: bool | None) -> dict | None:
    """The extra template variables for a reply: ``enable_thinking`` for a template that reads
    it (always passed then: an R1 distill template treats it missing as off)."""
    if thinking is None or not template_has_switch(template):
        return None
    return {"enable_thinking": bool(thinking)}


class ThinkingSplitter:
    """Splits streamed text into thinking and answer, whatever the chunk boundaries.

    ``feed`` returns the pieces it can decide now; ``finish`` the rest. A tag split across
    chunks is held back until it is complete (or proven not to be a tag). Only one thinking
    block is recognised, and only before the answer has begun: a model quoting "<think>" in its
    answer stays in the answer. The whitespace between the block and the answer goes.
    """

    def __init__(self, inside: bool = False, open_tag: str = OPEN_TAG, close_tag: str = CLOSE_TAG):
        self.open_tag, self.close_tag = open_tag, close_tag
        # "before": nothing decided yet; "thinking"; "after": thinking ended, answer whitespace
        # still dropped; "answer": plain text from here on.
        self.state = "thinking" if inside else "before"
        self.thought = inside  # whether any thinking happened (or was started by the prompt)
        self._held = ""

    @property
    def inside(self) -> bool:
        return self.state == "thinking"

    def feed(self, text: str) -> list[str]:
        out: list[str] = []
        self._held += text
        while self._held:
            held = self._held
            if self.state == "before":
                stripped = held.lstrip()
                if stripped.startswith(self.open_tag):
                    self._held = stripped[len(self.open_tag):]
                    self.state, self.thought = "thinking", True
                    continue
                if self.open_tag.startswith(stripped):
                    return out  # whitespace, or the tag's beginning: wait for more
                self.state = "answer"
                continue
            if self.state == "thinking":
                at = held.find(self.close_tag)
                if at >= 0:
                    if at:
                        out.append(Thought(held[:at]))
                    self._held = held[at + len(self.close_tag):]
                    self.state = "after"
                    continue
                keep = _partial_suffix(held, self.close_tag)
                if len(held) > keep:
                    out.append(Thought(held[: len(held) - keep]))
                self._held = held[len(held) - keep:]
                return out
            if self.state == "after":
                stripped = held.lstrip()
                if not stripped:
                    self._held = ""
                    return out
                self._held = stripped
                self.state = "answer"
                continue
            out.append(held)
            self._held = ""
        return out

    def finish(self) -> list[str]:
        """What is held at the end: an unfinished tag is text after all."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self.state == "thinking":
            return [Thought(held)]
        if self.state == "after":
            held = held.lstrip()
        elif self.state == "before" and not held.strip():
            return [held]
        return [held] if held else []


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that is a beginning of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


class ThinkingStream:
    """A splitter with the numbers GenerationStats keeps: how long the thinking took (from
    its first piece to the end of the block) and how many tokens it spent. Fed one token's
    text at a time by the engines."""

    def __init__(self, splitter: ThinkingSplitter | None, clock=time.perf_counter):
        self.splitter = splitter
        self._clock = clock
        self.started: float | None = None
        self.ended: float | None = None
        self.tokens = 0

    def feed(self, text: str) -> Iterator[str]:
        splitter = self.splitter
        if splitter is None:
            if text:
                yield text
            return
        was_inside = splitter.inside
        pieces = splitter.feed(text)
        if was_inside or splitter.inside:
            self.tokens += 1
        for piece in pieces:
            if isinstance(piece, Thought):
                if self.started is None:
                    self.started = self._clock()
            elif self.started is not None and self.ended is None:
                self.ended = self._clock()
            yield piece
        if was_inside and not splitter.inside and self.ended is None:
            self.ended = self._clock()

    def finish(self) -> Iterator[str]:
        if self.splitter is not None:
            for piece in self.splitter.finish():
                if isinstance(piece, Thought) and self.started is None:
                    self.started = self._clock()
                yield piece

    def fill(self, stats: GenerationStats) -> None:
        """Record the thinking's time and tokens in ``stats`` (nothing for a reply without)."""
        if self.started is None:
            return
        end = self.ended if self.ended is not None else self._clock()
        stats.thinking_s = max(end - self.started, 0.0)
        stats.thinking_tokens = self.tokens


def stream_for(template: str | None, prompt: str, clock=time.perf_counter) -> ThinkingStream:
    """The splitter for one reply: off for a template that knows nothing of thinking, and
    started inside the block when the prompt opened it."""
    inside = starts_inside(prompt)
    if not inside and not template_thinks(template):
        return ThinkingStream(None, clock)
    return ThinkingStream(ThinkingSplitter(inside=inside), clock)


def probe(prompt, template: str | None) -> dict:
    """ModelInfo.extra["thinking"] for a loaded model: ``prompt`` is its LlamaPrompt or
    OnnxPrompt, rendered once with thinking on to see where the generation prompt leaves the
    model. A template that fails here fails later with its own message; this only says no."""
    saved = getattr(prompt, "extra", None)
    prompt.extra = template_extra(template, True)
    try:
        sample = prompt.render([{"role": "user", "content": "Hi"}])
    except Exception:  # noqa: BLE001 - the template is untrusted; the reply will report it
        sample = None
    finally:
        prompt.extra = saved
    return model_thinking(template, sample)
