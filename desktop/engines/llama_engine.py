"""The llama.cpp engine (GGUF files) through llama-cpp-python.

Generation goes through ``Llama.generate`` rather than ``create_chat_completion``: we render the
model's template ourselves (sandboxed), so we know the prompt's token count before asking (an
overlong prompt is trimmed or refused, never a ``ValueError`` from inside the backend), we can
check the cancel event between tokens, and text is decoded incrementally per token instead of
re-decoding the whole reply at every step.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence

from desktop import config
from desktop.engines import chat_template, families, prompt_cache, reasoning, stops, template_preview
from desktop.engines.base import (
    Engine,
    EngineError,
    GenerationStats,
    Message,
    ModelInfo,
    ModelLoadError,
    SamplingParams,
    decode_rate,
)
from desktop.engines.context import DEFAULT_N_CTX, fit_for_reply, reply_budget
from desktop.engines.gguf import model_name, read_gguf, sampling_defaults
from desktop.text import translate
from desktop.units import format_parameters

log = logging.getLogger(__name__)
# KV-cache element types the user may choose (llama.cpp's names; GGML_TYPE_* in llama_cpp).
KV_TYPES = ("f16", "q8_0", "q4_0")


def default_threads() -> int:
    # llama.cpp decodes fastest with one thread per physical core; the usual desktop CPU has two
    # hardware threads per core, while small machines (2 vCPUs) have no spare core to give away.
    n = os.cpu_count() or 2
    return n if n <= 4 else n // 2


# The last few tokens of a restored prefix are read again rather than taken from the state: read
# alone, one token goes through other kernels than in a batch (matrix-vector, not matrix-matrix),
# and with near-tied logits the greedy reply could then differ from a full recomputation's.
HOLD_BACK = 8


def _gpu_offload_supported(llama_cpp) -> bool:
    try:
        return bool(llama_cpp.llama_supports_gpu_offload())
    except AttributeError:
        return False


class LlamaEngine(Engine):
    backend = "llama.cpp"

    def __init__(
        self,
        path: str | os.PathLike,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        device: str = "auto",
        kv_type: str = "f16",
        flash_attn: bool = False,
        cache_ram_mb: int | None = None,
    ):
        path = os.fspath(path)
        if kv_type not in KV_TYPES:
            raise ModelLoadError(translate(
                "Core", "Unknown KV-cache type {kv_type}: use one of {choices}.").format(
                kv_type=f"{kv_type!r}", choices=", ".join(KV_TYPES)))
        # Read the header first: it names what is wrong with a bad file, which llama.cpp won't.
        gguf = read_gguf(path)
        try:
            import llama_cpp
        except ImportError as exc:  # a broken install, or a frozen build missing its library
            raise ModelLoadError(translate("Core", "The llama.cpp engine is not available: {reason}").format(
                reason=exc)) from None
        self._llama_cpp = llama_cpp
        from desktop.engines.llama_backends import ensure_loaded

        self.cpu_variant = ensure_loaded(llama_cpp)

        trained = gguf.context_length or DEFAULT_N_CTX
        n_ctx = min(n_ctx or DEFAULT_N_CTX, trained)
        gpu = _gpu_offload_supported(llama_cpp)
        fallback = None
        if device in ("cuda", "gpu", "metal", "dml") and not gpu:
            fallback = translate("Core", "this llama.cpp build has no GPU support; using the CPU")
        elif device == "dml":
            fallback = translate("Core", "llama.cpp does not use DirectML; using its own GPU support")
        if n_gpu_layers is None:
            n_gpu_layers = -1 if gpu and device != "cpu" else 0
        self.n_threads = n_threads or default_threads()
        # llama.cpp refuses a quantized V cache without flash attention (the context fails to
        # be created): then only K is quantized, and the engine says so in extra["kv_type_v"].
        kv_v = kv_type if flash_attn else "f16"
        ggml_type = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0,
                     "q4_0": llama_cpp.GGML_TYPE_Q4_0}
        try:
            with _plain_cpu_buffers(llama_cpp):
                self._llm = llama_cpp.Llama(
                    model_path=path,
                    n_ctx=n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    n_gpu_layers=n_gpu_layers,
                    flash_attn=bool(flash_attn),
                    type_k=ggml_type[kv_type],
                    type_v=ggml_type[kv_v],
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(translate(
                "Core", "llama.cpp could not load {name}: {reason}. The file may be damaged or use an "
                "architecture this version does not support."
            ).format(name=os.path.basename(path), reason=exc)) from None

        llm = self._llm
        self._vocab = llm._model.vocab  # for the end-of-generation check (no public API)
        self._end_ids, self._end_texts = _end_of_turn(llama_cpp, llm)
        # A Stop must also end a long prompt's prefill, which runs inside one llama_decode and
        # never reaches our token loop. llama.cpp asks this callback between graph nodes; it is
        # set only while the prompt is read (a call into Python per node would slow decoding).
        self._cancel: threading.Event | None = None
        self._abort_callback = llama_cpp.ggml_abort_callback(self._should_abort)
        self._no_callback = llama_cpp.ggml_abort_callback()
        self._prompt = LlamaPrompt(llm, gguf.chat_template, os.path.basename(path))
        self._template = gguf.chat_template
        self._prompt_text = ""  # the latest reply's prompt: where its thinking starts
        device = "CPU"
        if gpu and n_gpu_layers != 0:
            device = "GPU (Metal)" if _is_macos() else "GPU (CUDA)"
        self._info = ModelInfo(
            path=path,
            name=model_name(gguf),
            backend=self.backend,
            device=device,
            architecture=gguf.architecture,
            parameters=gguf.parameters,
            quantization=gguf.quantization,
            context_length=gguf.context_length,
            n_ctx=llm.n_ctx(),
            chat_template=gguf.chat_template,
            file_size=gguf.file_size,
            fallback_reason=fallback,
            extra={
                "threads": self.n_threads,
                "kv_type": kv_type,
                "kv_type_v": kv_v,
                "flash_attn": bool(flash_attn),
                "n_gpu_layers": n_gpu_layers,
                "cpu_variant": self.cpu_variant,
                "parameters_label": format_parameters(gguf.parameters),
                "n_layers": gguf.n_layers,
                "n_kv_heads": gguf.n_kv_heads,
                "head_dim": gguf.head_dim,
                "sampling": sampling_defaults(gguf),
                "system_role": self._prompt.system_role,
                "template_note": self._prompt.template_note,
                "template_family": self._prompt.family,
                "template_preview": template_preview.sample_prompt(self._prompt),
                "thinking": reasoning.probe(self._prompt, gguf.chat_template),
            },
        )
        self._stats: GenerationStats | None = None
        self._live_owner: str | None = None  # whose prompt the context holds
        self._cache = self._open_cache(path, gguf.file_size, cache_ram_mb)
        self._info.extra["cache_ram_mb"] = self._cache.ram.budget_bytes // prompt_cache.MIB

    def _open_cache(self, path: str, file_size: int | None, cache_ram_mb: int | None):
        """The prompt cache of this model with these load settings (see prompt_cache.py)."""
        llm = self._llm
        cp = llm.context_params
        # What shapes the KV state's bytes; threads and batch sizes do not.
        settings = {
            "n_ctx": llm.n_ctx(),
            "type_k": int(cp.type_k), "type_v": int(cp.type_v),
            "flash_attn": int(getattr(cp, "flash_attn_type", getattr(cp, "flash_attn", 0))),
            "n_gpu_layers": int(llm.model_params.n_gpu_layers),
            "llama_cpp": getattr(self._llama_cpp, "__version__", "?"),
        }
        space = prompt_cache.cache_space(path, settings, self._template, "llama")
        if cache_ram_mb is None:
            cache_ram_mb = prompt_cache.default_ram_budget_mb(file_size, llm.n_ctx(), _available_ram())
        disk = None
        budget = prompt_cache.disk_budget_bytes()
        if budget > 0:
            try:
                disk = prompt_cache.DiskTier(prompt_cache.prompt_cache_dir(), space, budget)
            except (OSError, ValueError) as exc:  # an unwritable cache folder, a bad key: RAM only
                log.warning("prompt cache: no disk tier: %s", exc)
        return prompt_cache.PromptCache(space, max(int(cache_ram_mb), 0) * prompt_cache.MIB, disk)

    def _resume(self, tokens: list[int]) -> None:
        """Bring back the cached state sharing the most leading tokens with ``tokens``, when it
        shares more than the state already in the context (another chat, a restart, an edit)."""
        cache, llm = self._cache, self._llm
        live = prompt_cache.common_prefix(llm.input_ids[: llm.n_tokens], tokens)
        source, shared = cache.lookup(tokens)
        gain = shared - live
        if source is None or gain < prompt_cache.MIN_REUSE_TOKENS:
            return
        if isinstance(source, os.PathLike):
            n_held = cache.disk.n_tokens(source)
            # A file read costs its whole size: not for a short shared head (a system prompt).
            if n_held is None or gain * 8 < n_held:
                return
        found = cache.fetch(source)
        if found is None:
            return
        held, payload = found
        shared = prompt_cache.common_prefix(held, tokens)  # a file is found by whole blocks only
        lc = self._llama_cpp
        buffer = (ctypes.c_uint8 * len(payload)).from_buffer(payload)
        if not lc.llama_state_seq_set_data(llm._ctx.ctx, buffer, len(payload), 0):
            log.warning("prompt cache: llama.cpp refused a cached state of %d tokens; recomputing", len(held))
            llm._ctx.kv_cache_clear()
            llm.n_tokens = 0
            return
        llm.input_ids[: len(held)] = held
        keep = max(min(shared, len(held)) - HOLD_BACK, live, 0)
        llm.n_tokens = keep
        llm._requires_eval = True  # the state holds no logits: the last prompt token is read again

    def _remember(self, owner: str | None) -> None:
        """Keep the context's state after a reply: in RAM at once, for the disk when its chat is
        left or the app is idle (see prompt_cache.py)."""
        cache, llm = self._cache, self._llm
        n = llm.n_tokens
        if n < prompt_cache.MIN_REUSE_TOKENS:
            return
        lc, ctx = self._llama_cpp, llm._ctx.ctx
        llm._ctx.kv_cache_seq_rm(-1, n, -1)  # an aborted prefill may have left cells past n
        size = lc.llama_state_seq_get_size(ctx, 0)
        payload = bytearray(size)
        written = lc.llama_state_seq_get_data(ctx, (ctypes.c_uint8 * size).from_buffer(payload), size, 0)
        if not written:
            return
        del payload[written:]
        cache.store(llm.input_ids[:n].copy(), payload, owner)

    def flush_cache(self, timeout: float | None = None) -> bool:
        """Write the states waiting for the disk and wait for them (tests, benchmarks, closing)."""
        return self._cache.flush(timeout)

    def persist_cache(self) -> None:
        """Write the states waiting for the disk now, in the background (the user left a chat)."""
        self._cache.persist()

    def forget_owner(self, owner: str) -> bool:
        """Delete a chat's states: in RAM, waiting, on disk (every model's), and the context
        itself when it holds that chat. True: the saved files were looked after here too."""
        self._cache.forget_owner(owner)
        if owner == self._live_owner:
            self._clear_context()
        return self._cache.disk is not None

    def clear_cache(self) -> bool:
        """Drop every state, the context's too. True: the saved files went as well."""
        self._cache.clear()
        self._clear_context()
        return self._cache.disk is not None

    def _clear_context(self) -> None:
        llm = self._llm
        llm._ctx.kv_cache_clear()
        llm.n_tokens = 0
        llm.input_ids[:] = 0
        self._live_owner = None

    def _should_abort(self, _data) -> bool:
        cancel = self._cancel
        return cancel is not None and cancel.is_set()

    def _watch_prefill(self, cancel: threading.Event | None) -> None:
        self._cancel = cancel
        callback = self._abort_callback if cancel is not None else self._no_callback
        self._llama_cpp.llama_set_abort_callback(self._llm._ctx.ctx, callback, None)

    def render_prompt(self, messages: Sequence[Message]) -> str:
        return self._prompt.render(messages)

    def tokenize_prompt(self, prompt: str) -> list[int]:
        return self._prompt.tokenize(prompt)

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prepare(self, messages: Sequence[Message], params: SamplingParams):
        """The prompt tokens for ``messages``, trimmed to leave room for a reply."""
        # Set before fitting: the "Think" switch changes the prompt, so what fits too.
        self._prompt.extra = reasoning.template_extra(self._template, params.thinking)
        if params.raw_prompt:  # /v1/completions: the text as the client wrote it, no template
            self._prompt_text = messages[-1]["content"] if messages else ""
            return self.tokenize_prompt(self._prompt_text), []
        fitted, dropped = fit_for_reply(messages, self._prompt.measure, self._info.n_ctx,
                                        params.max_tokens, params.context_policy)
        self._prompt_text = self.render_prompt(fitted)
        tokens = self.tokenize_prompt(self._prompt_text)
        return tokens, dropped

    def stream(
        self,
        messages: Sequence[Message],
        params: SamplingParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        started = time.perf_counter()
        tokens, dropped = self.prepare(messages, params)
        budget = reply_budget(len(tokens), self._info.n_ctx, params.max_tokens)
        stats = self._stats = GenerationStats(prompt_tokens=len(tokens), dropped_messages=len(dropped),
                                              dropped_indices=dropped)
        llm = self._llm
        self._live_owner = params.cache_owner
        self._resume(tokens)
        stats.prompt_tokens_evaluated = len(tokens) - _common_prefix(llm.input_ids[: llm.n_tokens], tokens)
        is_eog = self._llama_cpp.llama_vocab_is_eog
        vocab = self._vocab
        end_ids = self._end_ids
        guard = stops.EndMarkerGuard(stops.text_markers(self._end_texts) + tuple(params.stop or ()))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        thinking = reasoning.stream_for(self._template, self._prompt_text)
        if params.seed is not None:
            llm.set_seed(params.seed)
        first = last = None
        count = 0
        stats.finish_reason = "length"
        greedy = params.temperature <= 0
        generator = llm.generate(
            tokens,
            temp=0.0 if greedy else params.temperature,
            top_k=1 if greedy else params.top_k,
            top_p=params.top_p,
            min_p=params.min_p,
            repeat_penalty=params.repeat_penalty,
            # JSON output for the API server: sampling only ever picks tokens the grammar allows
            grammar=self._llama_cpp.LlamaGrammar.from_string(params.grammar, verbose=False)
            if params.grammar else None,
        )
        self._cache.busy(True)  # no state is written to disk while a reply is computed
        self._watch_prefill(cancel)
        try:
            for token in generator:
                if first is None:
                    self._watch_prefill(None)  # the prompt is read: only the token loop is left
                if cancel is not None and cancel.is_set():
                    stats.finish_reason = "cancelled"
                    break
                if is_eog(vocab, token) or token in end_ids:
                    stats.finish_reason = "stop"
                    break
                last = time.perf_counter()
                if first is None:
                    first = last
                    stats.ttft_s = first - started
                count += 1
                piece = guard.feed(decoder.decode(llm.detokenize([token])))
                yield from thinking.feed(piece)
                if guard.ended:  # the model wrote its end marker as plain text
                    stats.finish_reason = "stop"
                    break
                if count >= budget:
                    break
                if cancel is not None and cancel.is_set():
                    stats.finish_reason = "cancelled"
                    break
            yield from thinking.feed(guard.feed(decoder.decode(b"", final=True)) + guard.finish())
            yield from thinking.finish()
        except RuntimeError as exc:
            # llama_decode returns 2 when the callback aborted it; what it had read is dropped
            # by the next request (llama-cpp-python trims the cache to the tokens it counted).
            if cancel is None or not cancel.is_set():
                raise EngineError(translate("Core", "llama.cpp failed while generating: {reason}").format(
                    reason=exc)) from None
            stats.finish_reason = "cancelled"
        finally:
            self._watch_prefill(None)
            generator.close()
            stats.completion_tokens = count
            stats.total_s = time.perf_counter() - started
            stats.tokens_per_s = decode_rate(count, first, last)
            thinking.fill(stats)
            # After the reply's last token, never between tokens: a copy of the KV rows (a
            # ctypes call, so the GIL is free), then the disk write on the cache's own thread.
            try:
                self._remember(params.cache_owner)
            except Exception:  # noqa: BLE001 - a state not kept only costs a recomputation later
                log.warning("prompt cache: could not keep the state", exc_info=True)
            self._cache.busy(False)

    def close(self) -> None:
        cache = getattr(self, "_cache", None)
        if cache is not None:
            cache.flush(CLOSE_FLUSH_S)
        llm = getattr(self, "_llm", None)
        if llm is not None:
            self._llm = None
            llm.close()


class LlamaPrompt:
    """A GGUF's chat template and tokenizer: how messages become prompt tokens.

    Shared by the engine and the context meter's counter (which loads only the vocabulary), so
    what the meter counts is what the engine will feed.
    """

    def __init__(self, llm, template: str | None, source_name: str | None = None):
        self._llm = llm
        self._source_name = source_name  # the model file, named when its template fails
        self._bos = self._token_text(llm.token_bos())
        self._eos = self._token_text(llm.token_eos())
        # No template, or one that does not parse: the family's own format, as llama.cpp would.
        self._template, self.family, self.template_note = families.choose_template(
            template, getattr(llm, "metadata", {}).get("general.architecture"), self._special_markers())
        self._add_bos = bool(llm._model.add_bos_token()) if llm.token_bos() >= 0 else False
        self.extra: dict | None = None  # more template variables (enable_thinking)

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _special_markers(self) -> list[str]:
        """The family markers this vocabulary has as single special tokens."""
        if not hasattr(self._llm, "tokenize"):
            return []
        return [m for m in families.MARKERS
                if len(self._llm.tokenize(m.encode("utf-8"), add_bos=False, special=True)) == 1]

    @property
    def system_role(self) -> bool:
        """Whether the template takes a system message (else it travels in the first user turn)."""
        return chat_template.supports_system_role(self._template, self._bos, self._eos)

    def render(self, messages: Sequence[Message]) -> str:
        messages = chat_template.prepare_messages(self._template, messages, self._bos, self._eos)
        return chat_template.render(self._template, messages, bos_token=self._bos, eos_token=self._eos,
                                    source_name=self._source_name, extra=self.extra)

    def tokenize(self, prompt: str) -> list[int]:
        tokens = self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        bos = self._llm.token_bos()
        if self._add_bos and (not tokens or tokens[0] != bos):
            tokens.insert(0, bos)
        return tokens

    def measure(self, messages: Sequence[Message]) -> int:
        return len(self.tokenize(self.render(messages)))


def _end_of_turn(llama_cpp, llm) -> tuple[frozenset[int], tuple[str, ...]]:
    """The vocabulary's end-of-turn tokens (ids and texts), whether or not the file lists them
    as end of generation. Only special tokens count: an ordinary token that merely reads
    ``</s>`` is part of a reply's text."""
    special = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
    vocab = llm._model.vocab
    ids, texts = set(), []
    for text in stops.end_markers():
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) == 1 and llama_cpp.llama_vocab_get_attr(vocab, tokens[0]) & special:
            ids.add(tokens[0])
            texts.append(text)
    return frozenset(ids), tuple(texts)


def _common_prefix(cached, tokens) -> int:
    n = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        n += 1
    # llama.cpp re-reads the last token when the whole prompt is cached, to get fresh logits
    return min(n, len(tokens) - 1)


# Closing waits this long for states still being written; a cut write is discarded next time.
CLOSE_FLUSH_S = 2.0


def _available_ram() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - no estimate: the budget's floor applies
        return None


_params_lock = threading.Lock()


@contextlib.contextmanager
def _plain_cpu_buffers(llama_cpp):
    """Load without llama.cpp's "extra" CPU buffer types on a CPU with AMX.

    Its AMX matrix kernel crashes the process (SIGSEGV in ggml_backend_amx_mul_mat) on the
    first multi-token decode of a Q4_1 model: seen with llama-cpp-python 0.3.36 on a Xeon with
    AMX_INT8, where the plain AVX-512 kernels run the same model correctly. Llama() takes no
    option for it, so the default parameters it starts from are patched for the one call.
    EDGECHAT_LLAMA_AMX=1 keeps AMX (to check a fixed llama.cpp).
    """
    low = getattr(llama_cpp, "llama_cpp", None)
    original = getattr(low, "llama_model_default_params", None)
    if original is None or config.llama_amx() or not _has_amx(llama_cpp):
        yield
        return

    def without_extra_buffers():
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    with _params_lock:
        low.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            low.llama_model_default_params = original


def _has_amx(llama_cpp) -> bool:
    try:
        info = llama_cpp.llama_print_system_info()
    except Exception:  # noqa: BLE001 - an old build without it has no AMX kernels either
        return False
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    return "AMX_INT8 = 1" in text


def _is_macos() -> bool:
    import sys

    return sys.platform == "darwin"
