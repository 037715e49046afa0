"""The ONNX Runtime GenAI engine (model folders holding ``genai_config.json``).

- Device: CPU always; CUDA and DirectML when this onnxruntime-genai build has them. The best
  device for the folder's variant is picked, and every fallback is explained (``fallback_reason``).
- Context: ``max_length`` (prompt + reply, and the size of the KV cache allocated up front) is set
  from what the conversation needs, never left at the model's maximum: that runs DirectML out of
  memory (onnxruntime-genai #550).
- Multi-turn: the generator in use is kept between turns. When the new prompt only extends what
  it already holds, only the new text is encoded and appended; otherwise it is rewound to the
  longest common token prefix, and rebuilt only when nothing is shared.
- Prompt cache: generators of other conversations are parked in an LRU bounded by
  ``cache_ram_mb`` (each counted at its KV cache's size: layers x KV heads x head size x 2 x
  bytes x max_length), and the one sharing the longest token prefix resumes. There is no disk
  tier: onnxruntime-genai cannot export or import a generator's state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from desktop.engines import chat_template, families, prompt_cache, reasoning, stops, template_preview
from desktop.engines.base import (
    Engine,
    GenerationStats,
    Message,
    ModelInfo,
    ModelLoadError,
    SamplingParams,
    decode_rate,
)
from desktop.engines.context import DEFAULT_N_CTX, fit_for_reply, kv_cache_bytes, reply_budget
from desktop.privacy import import_genai
from desktop.text import translate

CONFIG = "genai_config.json"
MAX_LENGTH_STEP = 512  # the KV cache grows in these steps, not straight to the model's maximum
DEVICE_NAMES = {"cpu": "CPU", "cuda": "CUDA", "dml": "DirectML"}
DEVICES = ("auto", "cpu", "cuda", "dml")


class OnnxModelError(ModelLoadError):
    pass


def model_dir(path: str | os.PathLike) -> Path:
    """The folder holding genai_config.json, given it or the config file itself."""
    p = Path(path)
    return p.parent if p.name == CONFIG and p.is_file() else p


def is_onnx_model(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_dir() or p.name == CONFIG


# -- validation --------------------------------------------------------------------------------

# onnx's external-data entries: key "location"/"offset"/"length" -> value, as protobuf strings.
_LOCATION = re.compile(rb"\x0a\x08location\x12([\x01-\x7f])")
_OFFSET = re.compile(rb"\x0a\x06offset\x12([\x01-\x14])")
_LENGTH = re.compile(rb"\x0a\x06length\x12([\x01-\x14])")


def _external_data_needs(onnx_file: Path) -> dict[str, int]:
    """External data files an .onnx file refers to, and how many bytes each must hold.

    Read from the raw protobuf: onnx is not a dependency of the app, and we only need the
    ``location``/``offset``/``length`` entries the exporter writes next to each other.
    """
    data = onnx_file.read_bytes()
    needs: dict[str, int] = {}
    for match in _LOCATION.finditer(data):
        start = match.end()
        name = data[start : start + match.group(1)[0]].decode("utf-8", "replace")
        window = data[start : start + 160]
        end = 0
        off, length = _OFFSET.search(window), _LENGTH.search(window)
        try:
            if off and length:
                o = int(window[off.end() : off.end() + off.group(1)[0]])
                n = int(window[length.end() : length.end() + length.group(1)[0]])
                end = o + n
        except ValueError:
            end = 0
        needs[name] = max(needs.get(name, 0), end)
    return needs


def _filenames(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "filename" and isinstance(value, str):
                found.append(value)
            else:
                found += _filenames(value)
    elif isinstance(node, list):
        for item in node:
            found += _filenames(item)
    return found


def _safe_child(folder: Path, name: str, what: str) -> Path:
    if os.path.isabs(name) or ".." in Path(name).parts:
        raise OnnxModelError(translate(
            "Core", "{folder}/{config_file} names {what} outside the folder: {name}").format(
            folder=folder.name, config_file=CONFIG, what=what, name=name))
    return folder / name


def validate_folder(path: str | os.PathLike) -> dict:
    """Check an ONNX GenAI folder and return its parsed config; name the missing or bad file."""
    folder = model_dir(path)
    if not folder.exists():
        raise OnnxModelError(translate("Core", "Model folder not found: {folder}").format(folder=folder))
    if not folder.is_dir():
        raise OnnxModelError(translate("Core", "{folder} is not an ONNX model folder.").format(folder=folder))
    config_path = folder / CONFIG
    if not config_path.is_file():
        raise OnnxModelError(translate(
            "Core", "{folder} is not an ONNX GenAI model folder: {config_file} is missing. Open the "
            "folder that holds {config_file} (for multi-variant repositories, a subfolder such as "
            "cpu-int4-…).").format(folder=folder.name, config_file=CONFIG))
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        decoder = config["model"]["decoder"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OnnxModelError(translate(
            "Core", "{folder}/{config_file} is damaged: {reason}").format(
            folder=folder.name, config_file=CONFIG, reason=exc)) from None
    except (KeyError, TypeError):
        raise OnnxModelError(translate(
            "Core", "{folder}/{config_file} has no model.decoder section.").format(
            folder=folder.name, config_file=CONFIG)) from None
    if not isinstance(decoder, dict) or not decoder.get("filename"):
        raise OnnxModelError(translate(
            "Core", "{folder}/{config_file} does not name the decoder's .onnx file.").format(
            folder=folder.name, config_file=CONFIG))
    for name in _filenames(config.get("model", {})):
        onnx_file = _safe_child(folder, name, translate("Core", "a model file"))
        if not onnx_file.is_file():
            raise OnnxModelError(translate(
                "Core", "{folder} is incomplete: {name} is missing.").format(
                folder=folder.name, name=name))
        if onnx_file.suffix != ".onnx":
            continue
        with open(onnx_file, "rb") as f:
            head = f.read(64)
        if len(head) < 16 or head[:16] == b"\x00" * 16:
            raise OnnxModelError(translate(
                "Core", "{folder}/{name} is empty or damaged.").format(
                folder=folder.name, name=name))
        for data_name, needed in _external_data_needs(onnx_file).items():
            data_file = _safe_child(folder, data_name, translate("Core", "weights"))
            if not data_file.is_file():
                raise OnnxModelError(translate(
                    "Core", "{folder} is incomplete: {data} (the weights of {name}) is missing.").format(
                    folder=folder.name, data=data_name, name=name))
            size = data_file.stat().st_size
            if size < needed:
                raise OnnxModelError(translate(
                    "Core", "{folder}/{data} is truncated: it has {size} bytes but {name} needs "
                    "{needed}. Download it again.").format(
                    folder=folder.name, data=data_name, size=f"{size:,}", name=name, needed=f"{needed:,}"))
    if not (folder / "tokenizer.json").is_file() and not (folder / "tokenizer.model").is_file():
        raise OnnxModelError(translate(
            "Core", "{folder} has no tokenizer: tokenizer.json is missing.").format(
            folder=folder.name))
    return config


def folder_variant(config: dict) -> str:
    """The execution provider a folder was built for: 'cuda', 'dml' or 'cpu'."""
    options = config.get("model", {}).get("decoder", {}).get("session_options", {})
    for entry in options.get("provider_options", []) or []:
        for name in entry:
            if name.lower() in ("cuda", "dml"):
                return name.lower()
    return "cpu"


def choose_device(requested: str, variant: str, available: dict[str, bool]):
    """Pick the device to try first; returns (device, reason it is not what was asked, or None)."""
    requested = (requested or "auto").lower()
    if requested not in DEVICES:
        raise OnnxModelError(translate(
            "Core", "Unknown device {requested}: use one of {choices}.").format(
            requested=f"{requested!r}", choices=', '.join(DEVICES)))
    if requested == "auto":
        if variant != "cpu":
            if available.get(variant):
                return variant, None
            return "cpu", translate(
                "Core", "this model folder is built for {device}, which this build of "
                "onnxruntime-genai cannot use here; running it on the CPU").format(
                device=DEVICE_NAMES[variant])
        return "cpu", None
    if requested != "cpu" and not available.get(requested):
        hint = {
            "cuda": translate("Core", "install onnxruntime-genai-cuda and an NVIDIA driver"),
            "dml": translate("Core", "DirectML needs Windows and the onnxruntime-genai-directml build"),
        }[requested]
        return "cpu", translate("Core", "{device} is not available ({hint}); using the CPU").format(
            device=DEVICE_NAMES[requested], hint=hint)
    return requested, None


def available_devices(og) -> dict[str, bool]:
    def probe(name):
        try:
            return bool(getattr(og, name)())
        except Exception:
            return False

    return {"cpu": True, "cuda": probe("is_cuda_available"), "dml": probe("is_dml_available")}


def _read_template(folder: Path) -> tuple[str | None, str, str]:
    """The folder's chat template (chat_template.jinja, else tokenizer_config.json) and the
    BOS/EOS strings a template may refer to."""
    template = None
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        template = jinja.read_text(encoding="utf-8")
    data = {}
    tok_config = folder / "tokenizer_config.json"
    if tok_config.is_file():
        try:
            data = json.loads(tok_config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            data = {}
    if template is None and isinstance(data.get("chat_template"), str):
        template = data["chat_template"]
    return template, _token_text(data.get("bos_token")), _token_text(data.get("eos_token"))


def _token_text(value) -> str:
    if isinstance(value, dict):
        return value.get("content", "") or ""
    return value if isinstance(value, str) else ""


class OnnxEngine(Engine):
    backend = "onnxruntime-genai"

    def __init__(
        self, path: str | os.PathLike, device: str = "auto", n_ctx: int | None = None,
        n_threads: int | None = None, cache_ram_mb: int | None = None,
    ):
        folder = model_dir(path)
        config = validate_folder(folder)
        try:
            og = import_genai()  # telemetry off before the runtime starts (desktop/privacy.py)
        except ImportError as exc:
            raise ModelLoadError(translate(
                "Core", "The ONNX Runtime GenAI engine is not available: {reason}").format(
                reason=exc)) from None
        self._og = og
        self._n_threads = n_threads
        variant = folder_variant(config)
        chosen, reason = choose_device(device, variant, available_devices(og))
        try:
            self._model = self._load(folder, chosen)
        except RuntimeError as exc:
            if chosen == "cpu":
                raise _load_error(folder, exc) from None
            reason = translate("Core", "{device} could not load the model ({reason}); using the CPU").format(
                device=DEVICE_NAMES[chosen], reason=_first_line(exc))
            chosen = "cpu"
            try:
                self._model = self._load(folder, "cpu")
            except RuntimeError as exc2:
                raise _load_error(folder, exc2) from None
        try:
            self._tokenizer = og.Tokenizer(self._model)
        except RuntimeError as exc:
            raise OnnxModelError(translate(
                "Core", "The tokenizer of {folder} (tokenizer.json) failed to load: {reason}").format(
                folder=folder.name, reason=_first_line(exc))) from None
        model_cfg = config["model"]
        template, self._bos, self._eos = _read_template(folder)
        self._prompt = OnnxPrompt(self._tokenizer, template, self._bos, self._eos, folder.name,
                                  model_cfg.get("type"), special_texts(folder))
        self._template = self._prompt.template
        decoder = model_cfg["decoder"]
        trained = model_cfg.get("context_length") or DEFAULT_N_CTX
        self._n_ctx = min(n_ctx or DEFAULT_N_CTX, trained)
        weights = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        quantization = "int4" if _uses_int4(folder / decoder["filename"]) else None
        self._info = ModelInfo(
            path=str(folder),
            name=folder.name,
            backend=self.backend,
            device=DEVICE_NAMES[chosen],
            architecture=model_cfg.get("type"),
            parameters=None,
            quantization=quantization,
            context_length=model_cfg.get("context_length"),
            n_ctx=self._n_ctx,
            chat_template=self._template,
            file_size=weights,
            fallback_reason=reason,
            extra={
                "variant": variant,
                "threads": n_threads,
                "n_layers": decoder.get("num_hidden_layers"),
                "n_kv_heads": decoder.get("num_key_value_heads"),
                "head_dim": decoder.get("head_size"),
                "sampling": sampling_defaults(config, folder),
                "system_role": self._prompt.system_role,
                "template_note": self._prompt.template_note,
                "template_preview": template_preview.sample_prompt(self._prompt),
                "thinking": reasoning.probe(self._prompt, self._template),
            },
        )
        self._eos_ids = set(int(t) for t in self._tokenizer.eos_token_ids)
        # genai_config's eos_token_id is often the base model's EOS alone: the chat turn's end
        # token is added here, and checked in our loop (the search options take no stop list).
        self._end_texts = _end_of_turn(folder)
        self._eos_ids |= set(self._end_texts)
        # The generator kept between turns, with what it holds.
        self._gen = None
        self._gen_key = None
        self._gen_max_length = 0
        self._gen_text = ""
        self._gen_owner: str | None = None  # the chat whose prompt it holds
        # Generators of other conversations, waiting to continue (see the module's docstring).
        kv_bytes = 4 if chosen == "cpu" else 2  # the CPU builds keep float32 KV, GPU ones float16
        self._kv_bytes_per_token = kv_cache_bytes(int(decoder.get("num_hidden_layers") or 0),
                                                  int(decoder.get("num_key_value_heads") or 0),
                                                  int(decoder.get("head_size") or 0), 1, kv_bytes)
        if cache_ram_mb is None:
            cache_ram_mb = prompt_cache.default_ram_budget_mb(weights, self._n_ctx, _available_ram())
        self._parked = prompt_cache.PrefixLRU(max(int(cache_ram_mb), 0) * prompt_cache.MIB)
        self._info.extra["cache_ram_mb"] = int(cache_ram_mb)
        self._stats: GenerationStats | None = None

    def _load(self, folder: Path, device: str):
        og = self._og
        cfg = og.Config(str(folder))
        cfg.clear_providers()
        if device != "cpu":
            cfg.append_provider(device)
        if self._n_threads:
            cfg.overlay(json.dumps({"model": {"decoder": {"session_options": {
                "intra_op_num_threads": self._n_threads}}}}))
        return og.Model(cfg)

    @property
    def max_length(self) -> int:
        """What the current generator has room for (prompt + reply): its KV cache's size."""
        return self._gen_max_length if self._gen is not None else 0

    def render_prompt(self, messages: Sequence[Message]) -> str:
        return self._prompt.render(messages)

    def encode(self, text: str) -> list[int]:
        return self._prompt.encode(text)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text))

    def _new_generator(self, params: SamplingParams, max_length: int):
        og = self._og
        gp = og.GeneratorParams(self._model)
        options = {"max_length": max_length, "do_sample": not params.greedy}
        if not params.greedy:
            options.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k)
        if params.repeat_penalty and params.repeat_penalty != 1.0:
            options["repetition_penalty"] = params.repeat_penalty
        if params.seed is not None:
            options["random_seed"] = params.seed
        gp.set_search_options(**options)
        return og.Generator(self._model, gp)

    def _sampling_key(self, params: SamplingParams):
        return (params.temperature, params.top_p, params.top_k, params.repeat_penalty, params.seed)

    def _feed(self, prompt_text: str, prompt_len: int, params: SamplingParams) -> int:
        """Bring the generator to hold ``prompt_text``; returns how many tokens it had to read."""
        needed = min(self._n_ctx, prompt_len + params.max_tokens)
        gen = self._gen
        key = self._sampling_key(params)

        def usable(gen_key, gen_max_length) -> bool:
            # A seeded reply must be reproducible from a fresh state.
            return gen_key == key and gen_max_length >= needed and params.seed is None

        reusable = gen is not None and usable(self._gen_key, self._gen_max_length)
        if reusable and prompt_text.startswith(self._gen_text) and len(prompt_text) > len(self._gen_text):
            new = self.encode(prompt_text[len(self._gen_text):])
            gen.append_tokens(new)
            return len(new)
        tokens = self.encode(prompt_text)
        held_now = self._held_tokens() if reusable else []
        common = prompt_cache.common_prefix(held_now, tokens)
        if reusable and len(held_now) - common > common and self._parkable():
            # Another conversation (it shares less than it would lose): keep it for later and
            # start afresh rather than rewind over it.
            reusable, common = False, 0
        # Another conversation's generator may hold more of this prompt: swap it in.
        best, best_n = None, 0
        for entry in self._parked.entries():
            held = entry.value
            if usable(held.key, held.max_length):
                n = prompt_cache.common_prefix(entry.tokens, tokens)
                if n > best_n:
                    best, best_n = entry, n
        if best is not None and best_n >= common + prompt_cache.MIN_REUSE_TOKENS:
            self._parked.take(best)
            self._park(tokens)
            held = best.value
            self._gen, self._gen_key, self._gen_max_length, self._gen_text, self._gen_owner = (
                held.gen, held.key, held.max_length, held.text, held.owner)
            gen, reusable, common = held.gen, True, best_n
        if reusable:
            # Re-read at least two tokens: a lone last token goes through the single-row kernel,
            # whose rounding differs from the prefill's, and greedy output then drifts from what
            # a fresh generator gives (measured: 1 token differs, 2 or more are identical).
            common = min(common, len(tokens) - 2)
            if common > 0:
                gen.rewind_to(common)
                gen.append_tokens(tokens[common:])
                return len(tokens) - common
        # Room for this reply and some of the next turns, in steps: never the model's maximum.
        step = MAX_LENGTH_STEP
        max_length = min(self._n_ctx, -(-needed // step) * step)
        self._park(tokens)  # park or free the old KV cache before allocating the new one
        self._gen = self._new_generator(params, max_length)
        self._gen_key, self._gen_max_length = self._sampling_key(params), max_length
        self._gen.append_tokens(tokens)
        return len(tokens)

    def _held_tokens(self) -> list[int]:
        return [int(t) for t in self._gen.get_sequence(0)] if self._gen is not None else []

    def _park(self, tokens: list[int]) -> None:
        """Put the current generator aside for its conversation to continue later, unless the
        prompt about to replace it continues that conversation (then it is freed)."""
        gen = self._gen
        self._gen = None
        if gen is None:
            return
        held = [int(t) for t in gen.get_sequence(0)]
        superseded = prompt_cache.common_prefix(held, tokens) >= 0.9 * len(held)
        if len(held) < prompt_cache.MIN_REUSE_TOKENS or superseded:
            return
        size = self._kv_bytes_per_token * self._gen_max_length
        parked = _Parked(gen, self._gen_key, self._gen_max_length, self._gen_text, self._gen_owner)
        self._parked.put(held, parked, size, {"owner": self._gen_owner})

    def _parkable(self) -> bool:
        return self._kv_bytes_per_token * self._gen_max_length <= self._parked.budget_bytes

    @property
    def parked(self) -> int:
        """How many generators of other conversations are kept."""
        return len(self._parked)

    def forget_owner(self, owner: str) -> bool:
        """Drop a chat's generators: parked, and the one in use when it holds that chat.
        False: saved files are not this engine's (it has no disk tier)."""
        self._parked.drop(lambda e: e.meta.get("owner") == owner)
        if self._gen is not None and self._gen_owner == owner:
            self._drop_generator()
        return False

    def clear_cache(self) -> bool:
        self._parked.clear()
        self._drop_generator()
        return False

    def persist_cache(self) -> None:
        """Nothing to write: a generator's state cannot be saved."""

    def _drop_generator(self) -> None:
        self._gen, self._gen_key, self._gen_max_length, self._gen_text = None, None, 0, ""
        self._gen_owner = None

    def stream(
        self,
        messages: Sequence[Message],
        params: SamplingParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        started = time.perf_counter()
        # Set before fitting: the "Think" switch changes the prompt, so what fits too.
        self._prompt.extra = reasoning.template_extra(self._template, params.thinking)
        fitted, dropped = fit_for_reply(
            messages, self._prompt.measure, self._n_ctx,
            params.max_tokens, params.context_policy,
        )
        prompt_text = self.render_prompt(fitted)
        prompt_len = len(self.encode(prompt_text))
        budget = reply_budget(prompt_len, self._n_ctx, params.max_tokens)
        stats = self._stats = GenerationStats(prompt_tokens=prompt_len, dropped_messages=len(dropped),
                                              dropped_indices=dropped)
        try:
            stats.prompt_tokens_evaluated = self._feed(prompt_text, prompt_len, params)
            self._gen_owner = params.cache_owner
        except RuntimeError as exc:
            self._gen = None
            raise ModelLoadError(translate(
                "Core", "ONNX Runtime failed on the prompt: {reason}").format(
                reason=_first_line(exc))) from None
        gen = self._gen
        decoder = self._tokenizer.create_stream()
        thinking = reasoning.stream_for(self._template, prompt_text)
        guard = stops.EndMarkerGuard(stops.text_markers(self._end_texts.values()))
        reply: list[str] = []
        first = last = None
        count = 0
        stats.finish_reason = "length"
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    stats.finish_reason = "cancelled"
                    break
                if gen.is_done():
                    stats.finish_reason = "stop"
                    break
                gen.generate_next_token()
                token = int(gen.get_next_tokens()[0])
                if token in self._eos_ids:
                    stats.finish_reason = "stop"
                    # A token outside genai_config's EOS set stays in the generator: then the
                    # text the next turn extends must hold it too.
                    held = gen.get_sequence(0)
                    if len(held) and int(held[-1]) == token:
                        reply.append(self._end_texts.get(token, ""))
                    break
                last = time.perf_counter()
                if first is None:
                    first = last
                    stats.ttft_s = first - started
                count += 1
                piece = decoder.decode(token)
                if piece:
                    reply.append(piece)  # as generated, tags and all: what the generator holds
                    yield from thinking.feed(guard.feed(piece))
                if guard.ended:  # the model wrote its end marker as plain text
                    stats.finish_reason = "stop"
                    break
                if count >= budget:
                    break
            yield from thinking.feed(guard.finish())
            yield from thinking.finish()
        finally:
            stats.completion_tokens = count
            stats.total_s = time.perf_counter() - started
            stats.tokens_per_s = decode_rate(count, first, last)
            thinking.fill(stats)
            # What the generator now holds, as text, for the next turn to extend.
            self._gen_text = prompt_text + "".join(reply)

    def close(self) -> None:
        self._gen = None
        self._parked.clear()
        self._tokenizer = None
        self._model = None


@dataclasses.dataclass
class _Parked:
    gen: object
    key: tuple
    max_length: int
    text: str
    owner: str | None = None


def _available_ram() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - no estimate: the budget's floor applies
        return None


def special_texts(folder: Path) -> list[str]:
    """The texts of the special tokens tokenizer.json declares (to recognise the model's family)."""
    try:
        data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        added = data.get("added_tokens") or []
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return []
    return [t["content"] for t in added
            if isinstance(t, dict) and t.get("special") and isinstance(t.get("content"), str)]


def _end_of_turn(folder: Path) -> dict[int, str]:
    """The folder's end-of-turn tokens, id -> text: the special tokens tokenizer.json declares
    whose text ends a turn in some family (an ordinary token that merely reads ``</s>`` does not)."""
    try:
        data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        added = data.get("added_tokens") or []
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return {}
    markers = set(stops.end_markers())
    return {int(t["id"]): t["content"] for t in added
            if isinstance(t, dict) and t.get("special") and t.get("content") in markers
            and isinstance(t.get("id"), int)}


def _uses_int4(onnx_file: Path) -> bool:
    try:
        with open(onnx_file, "rb") as f:
            return b"MatMulNBits" in f.read()
    except OSError:
        return False


def _load_error(folder: Path, exc: Exception) -> OnnxModelError:
    text = _first_line(exc)
    damaged = re.search(r"Load model from .*?([^/\\]+\.onnx) failed:\s*Protobuf parsing failed", text)
    if damaged:
        return OnnxModelError(
            translate("Core", "{folder}/{name} is damaged: it is not a valid ONNX file. "
                      "Download it again.").format(folder=folder.name, name=damaged.group(1))
        )
    return OnnxModelError(translate("Core", "ONNX Runtime could not load {folder}: {reason}").format(
        folder=folder.name, reason=text))


def sampling_defaults(config: dict, folder: Path) -> dict:
    """The model's recommended sampling settings, as SamplingParams field names ({} if none).

    From the folder's generation_config.json (the model author's) when it asks for sampling, else
    from genai_config.json's search section when that asks for sampling. The builder writes that
    section with do_sample false and stock values when the author gave none: those are not a
    recommendation, and greedy decoding makes small models repeat themselves.
    """
    sources = []
    with contextlib.suppress(OSError, ValueError):
        sources.append(json.loads((folder / "generation_config.json").read_text(encoding="utf-8")))
    sources.append(config.get("search") or {})
    names = {"temperature": "temperature", "top_p": "top_p", "top_k": "top_k",
             "repetition_penalty": "repeat_penalty", "min_p": "min_p"}
    for source in sources:
        if isinstance(source, dict) and source.get("do_sample"):
            return {ours: (int(v) if ours == "top_k" else round(float(v), 4))
                    for theirs, ours in names.items()
                    if isinstance(v := source.get(theirs), (int, float)) and not isinstance(v, bool)}
    return {}


class OnnxPrompt:
    """A model folder's chat template and tokenizer: how messages become prompt tokens.

    Shared by the engine and the context meter's counter (which opens only the tokenizer).
    """

    def __init__(self, tokenizer, template: str | None, bos: str, eos: str, source_name: str | None = None,
                 architecture: str | None = None, special_texts: Sequence[str] = ()):
        self._tokenizer, self._bos, self._eos = tokenizer, bos, eos
        self._source_name = source_name  # the model folder, named when its template fails
        # No template, or one that does not parse: the family's own format, as for a GGUF (a
        # Gemma folder answered through ChatML would leak <|im_end|> into its replies).
        self._template, self.family, self.template_note = families.choose_template(
            template, architecture, special_texts)
        self.extra: dict | None = None  # more template variables (enable_thinking)

    def render(self, messages: Sequence[Message]) -> str:
        messages = chat_template.prepare_messages(self._template, messages, self._bos, self._eos)
        return chat_template.render(self._template, messages, bos_token=self._bos, eos_token=self._eos,
                                    source_name=self._source_name, extra=self.extra)

    @property
    def template(self) -> str:
        """The template rendered with: the folder's own, or its family's fallback."""
        return self._template

    @property
    def system_role(self) -> bool:
        """Whether the template takes a system message (else it travels in the first user turn)."""
        return chat_template.supports_system_role(self._template, self._bos, self._eos)

    def encode(self, text: str) -> list[int]:
        return [int(t) for t in self._tokenizer.encode(text)]

    def measure(self, messages: Sequence[Message]) -> int:
        return len(self._tokenizer.encode(self.render(messages)))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
