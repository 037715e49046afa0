"""The engine interface every backend implements, and the values that cross it.

An engine is created, used and closed on one thread (the generation worker's); none of the
backends is thread-safe. Everything it hands out is a plain Python value.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields

from desktop.errors import UserError

Message = dict  # {"role": "system" | "user" | "assistant", "content": str}

# A reply's text travels in batches, one per this interval at most, at every hop that wakes a
# thread or a process (the ONNX child's pipe, the worker's signals to the window, the API's
# events): a wake-up per token takes CPU from the runtime's own threads on a small machine
# (bench/streaming.py), and 25 updates a second still read as a smooth stream.
STREAM_BATCH_S = 0.04


# A model on an OpenAI-compatible server is named remote://<server_id>/<model> wherever a local
# model is named by its path (the picker, load settings, the remembered model, the engines).
REMOTE_SCHEME = "remote://"


def is_remote(model_id) -> bool:
    return isinstance(model_id, str) and model_id.startswith(REMOTE_SCHEME)


class Thought(str):
    """A piece of a reasoning model's thinking, as an engine's stream yields it; the answer
    comes as plain ``str``. A subclass, so code that only wants text can ignore the difference."""

    __slots__ = ()


class CancelToken(threading.Event):
    """A stop request: an Event that can also tell others the moment it is set.

    An engine whose work happens elsewhere (a child process) forwards the request through a
    callback instead of polling for it, so waiting costs no wake-ups.
    """

    def __init__(self):
        super().__init__()
        self._callbacks: list = []
        self._lock = threading.Lock()

    def on_set(self, callback) -> None:
        with self._lock:
            self._callbacks.append(callback)
            already = self.is_set()
        if already:
            callback()

    def remove_callback(self, callback) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def set(self) -> None:
        super().set()
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()


class EngineError(UserError):
    """An error whose message is meant for the user, as it is."""


class ModelLoadError(EngineError):
    pass


class ContextOverflowError(EngineError):
    pass


class ContextFullError(ContextOverflowError):
    """The history does not fit and the conversation's policy is to stop and ask the user."""


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    backend: str
    device: str
    architecture: str | None = None
    parameters: int | None = None
    quantization: str | None = None
    context_length: int | None = None  # what the model was trained for
    n_ctx: int | None = None  # what this session allocated
    chat_template: str | None = None
    file_size: int | None = None
    fallback_reason: str | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    seed: int | None = None
    # What to leave out when the history outgrows the context: see engines/context.py.
    context_policy: str = "rolling"
    # The chat's "Think" switch, passed as enable_thinking to a template that reads it.
    thinking: bool = True
    # Per request, set by the API server (desktop/server), never by a chat's settings:
    # texts that end the reply (not included in it); a GBNF grammar the llama.cpp engine samples
    # under (JSON output); and raw_prompt, which takes the last message's content as the whole
    # prompt, without the chat template (/v1/completions).
    stop: list[str] | None = None
    grammar: str | None = None
    raw_prompt: bool = False
    REQUEST_FIELDS = ("stop", "grammar", "raw_prompt")
    # Per request, set by the window's chat session: the conversation the prompt states this
    # reply leaves behind belong to, so that deleting the chat deletes them (prompt_cache.py).
    # None (the API server, the command line): states no chat owns.
    cache_owner: str | None = None
    # What a caller sets per request, never taken from a chat's settings or an imported file.
    CALLER_FIELDS = (*REQUEST_FIELDS, "cache_owner")

    # The fields a user sets per conversation (and a model may recommend), in the order shown.
    SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "seed")

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


# What each sampling setting may be (type, lowest, highest), everywhere: the chat settings panel's
# ranges, what an imported chat may carry, and what a reply takes from a chat, a model's
# recommendation or an override (anything else is ignored for the next source's value).
SAMPLING_RANGES: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 2.0),
    "top_p": (float, 0.0, 1.0),
    "top_k": (int, 0, 1000),
    "min_p": (float, 0.0, 1.0),
    "repeat_penalty": (float, 0.5, 2.0),
    "max_tokens": (int, 1, 131072),
    "seed": (int, -1, 2**31 - 1),
}


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    # How many prompt tokens the engine actually had to read: the rest was kept from the
    # previous turn (llama.cpp's prefix cache, the ONNX generator kept between turns).
    prompt_tokens_evaluated: int | None = None
    completion_tokens: int = 0
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    total_s: float = 0.0
    finish_reason: str = "stop"  # "stop" | "length" | "cancelled"
    dropped_messages: int = 0  # history left out to fit the context
    dropped_indices: list[int] = field(default_factory=list)  # which of the messages sent
    # Which model wrote the reply, kept with it: the user may switch models later.
    model: str | None = None
    backend: str | None = None
    device: str | None = None
    # A reasoning model's thinking: from its first piece to the end of the block, and its tokens.
    thinking_s: float | None = None
    thinking_tokens: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GenerationStats:
        """Stats read back from storage or a child process: unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def decode_rate(completion_tokens: int, first_token_at: float | None, last_token_at: float | None):
    """Tokens after the first, over the time from the first token to the last."""
    if completion_tokens < 2 or first_token_at is None or last_token_at is None:
        return None
    span = last_token_at - first_token_at
    return (completion_tokens - 1) / span if span > 0 else None


class Engine(ABC):
    """What every engine offers. Each sets ``_info`` when it opens its model and ``_stats``
    when a reply ends."""

    backend: str = ""
    _info: ModelInfo
    _stats: GenerationStats | None = None

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def last_stats(self) -> GenerationStats | None:
        return self._stats

    @abstractmethod
    def count_tokens(self, text: str) -> int: ...

    @abstractmethod
    def stream(
        self,
        messages: Sequence[Message],
        params: SamplingParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text as it is generated; ``last_stats`` holds the timing after."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
