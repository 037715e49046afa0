"""Counting a conversation's prompt tokens with only the model's tokenizer loaded.

The context meter counts while the user types, and the engine may be busy generating at that
moment (llama.cpp on the worker thread, ONNX in its child process), so the meter gets its own
tokenizer: llama.cpp loads just the GGUF's vocabulary (about 0.1 s and a few MB for a small
model), ONNX Runtime GenAI opens just the folder's tokenizer. The template and tokenizer code is
the engines' own (``LlamaPrompt``, ``OnnxPrompt``), so the count is what the engine will feed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from desktop.engines.base import Message, ModelLoadError
from desktop.engines.template_preview import sample_prompt
from desktop.privacy import import_genai


class PromptCounter:
    def __init__(self, prompt, close=None):
        self._prompt = prompt
        self._close = close

    def set_thinking(self, thinking: bool) -> None:
        """Render as the engine will for a chat with this "Think" switch."""
        from desktop.engines.reasoning import template_extra

        self._prompt.extra = template_extra(getattr(self._prompt, "_template", None), thinking)

    def preview(self) -> str:
        return sample_prompt(self._prompt)

    def measure(self, messages: Sequence[Message]) -> int:
        """Tokens of the prompt these messages render to (with the reply's opening)."""
        return self._prompt.measure(messages)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


def open_counter(path: str | os.PathLike, backend: str | None = None) -> PromptCounter:
    """The counter for a local model (a remote one's is desktop.models.open_model's)."""
    from desktop.engines import detect_backend

    path = os.fspath(path)
    backend = backend or detect_backend(path)
    if backend == "remote":
        raise ModelLoadError("A remote model's counter comes from desktop.models.open_model.")
    if backend == "onnx":
        return _onnx_counter(path)
    return _llama_counter(path)


def _llama_counter(path: str) -> PromptCounter:
    from desktop.engines.gguf import read_gguf
    from desktop.engines.llama_engine import LlamaPrompt

    gguf = read_gguf(path)
    try:
        import llama_cpp

        from desktop.engines.llama_backends import ensure_loaded

        ensure_loaded(llama_cpp)
        llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    except (ImportError, ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"Could not read the tokenizer of {os.path.basename(path)}: {exc}") from None
    return PromptCounter(LlamaPrompt(llm, gguf.chat_template, os.path.basename(path)), llm.close)


def _onnx_counter(path: str) -> PromptCounter:
    from desktop.engines.onnx_engine import OnnxPrompt, _read_template, model_dir, special_texts

    folder = model_dir(path)
    try:
        og = import_genai()  # telemetry off before the runtime starts (desktop/privacy.py)
        tokenizer = og.Tokenizer(str(folder))
    except (ImportError, RuntimeError, TypeError) as exc:
        raise ModelLoadError(f"Could not read the tokenizer of {folder.name}: {exc}") from None
    template, bos, eos = _read_template(folder)
    try:
        architecture = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))["model"]["type"]
    except (OSError, ValueError, KeyError, TypeError):
        architecture = None
    # The same template choice as the engine's, so the meter counts what the engine reads.
    return PromptCounter(OnnxPrompt(tokenizer, template, bos, eos, folder.name, architecture,
                                    special_texts(folder)))
