"""/v1/embeddings for a GGUF model served headless: a second llama.cpp context on the chat
model's own weights (no second copy of the model in memory), made for embeddings with mean
pooling, as llama.cpp's server does with ``--embeddings``. Created on first use, on the engine's
thread, and used only there (llama.cpp contexts are not thread-safe)."""

from __future__ import annotations

import math

N_CTX = 512  # tokens per input: an embedding input is a passage, not a chat


class EmbeddingsUnavailable(Exception):
    pass


class InputTooLong(ValueError):
    pass


class LlamaEmbedder:
    def __init__(self, engine, n_ctx: int = N_CTX):
        llm = getattr(engine, "_llm", None)
        if llm is None:
            raise EmbeddingsUnavailable(
                "Embeddings are only available for GGUF models (llama.cpp) served with edgechat serve.")
        import llama_cpp
        from llama_cpp import _internals

        self._llama_cpp, self._llm, self.n_ctx = llama_cpp, llm, n_ctx
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = n_ctx
        params.n_seq_max = 1
        params.n_threads = params.n_threads_batch = getattr(engine, "n_threads", 0) or 1
        params.embeddings = True
        params.pooling_type = llama_cpp.LLAMA_POOLING_TYPE_MEAN
        try:
            self._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        except Exception as exc:  # noqa: BLE001 - a model llama.cpp cannot embed with
            raise EmbeddingsUnavailable(f"This model cannot make embeddings: {exc}") from None
        self._batch = _internals.LlamaBatch(n_tokens=n_ctx, embd=0, n_seq_max=1, verbose=False)
        self._n_embd = llm.n_embd()

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Unit-length vectors, and the number of tokens read."""
        vectors, total = [], 0
        for i, text in enumerate(texts):
            tokens = self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
            if len(tokens) > self.n_ctx:
                raise InputTooLong(f"input[{i}] has {len(tokens):,} tokens; at most {self.n_ctx:,} "
                                   "can be embedded at once.")
            if not tokens:
                raise InputTooLong(f"input[{i}] is empty.")
            total += len(tokens)
            self._ctx.kv_cache_clear()
            self._batch.reset()
            self._batch.add_sequence(tokens, 0, True)
            self._ctx.decode(self._batch)
            ptr = self._llama_cpp.llama_get_embeddings_seq(self._ctx.ctx, 0)
            vector = [float(x) for x in ptr[: self._n_embd]]
            norm = math.sqrt(sum(x * x for x in vector)) or 1.0
            vectors.append([x / norm for x in vector])
        return vectors, total

    def close(self) -> None:
        ctx, self._ctx = getattr(self, "_ctx", None), None
        if ctx is not None:
            ctx.close()
