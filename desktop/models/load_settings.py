"""How each model is loaded: its context length, threads, GPU offload, KV cache and prompt cache.

Settings are kept per model id (a GGUF path, an ONNX folder) in ``<data dir>/load_settings.json``
and applied at every load of that model. Several writers share the file (this window, a second
instance), so every save is a read-modify-write under a file lock, as the library's registry.

``defaults_for`` says what this machine should use for a model when nothing is saved, with a line
per setting saying why: the context is the largest that fits here with room to spare (the fit
estimate in models/fit.py against this machine's memory), not the model's maximum, since a
context the machine cannot hold makes the load fail or swap.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from desktop.engines.base import ModelLoadError, is_remote
from desktop.engines.context import DEFAULT_N_CTX
from desktop.storage.jsondoc import JsonDocument
from desktop.text import translate
from desktop.units import MIB, format_bytes

log = logging.getLogger(__name__)

FILENAME = "load_settings.json"
KV_TYPES = ("f16", "q8_0", "q4_0")
# llama.cpp's KV cache bytes per element for each type (ggml's block sizes: 34 bytes per 32 for
# q8_0, 18 per 32 for q4_0).
KV_BYTES = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
LLAMA_DEVICES = ("auto", "cpu", "gpu")
ONNX_DEVICES = ("auto", "cpu", "cuda", "dml")
# Contexts offered by default: powers of two from here up to what the model was trained for.
MIN_N_CTX = 512
# The default context stops here even when more would fit: a longer one costs memory on every
# load and slows nothing users notice until a chat grows that long, when they can raise it.
MAX_DEFAULT_N_CTX = 32768
# "Room to spare": the KV cache may take at most this share of the memory the model runs in.
KV_SHARE = 0.25


@dataclass(frozen=True)
class LoadSettings:
    n_ctx: int | None = None  # None: the engine's default (DEFAULT_N_CTX, capped by training)
    n_threads: int | None = None
    n_gpu_layers: int | None = None  # llama.cpp: None = all when a GPU is usable, 0 = CPU only
    device: str = "auto"
    kv_type: str = "f16"  # f16 | q8_0 | q4_0 (llama.cpp)
    flash_attn: bool = False
    cache_ram_mb: int | None = None  # the prompt cache's RAM budget (desktop.engines.prompt_cache)

    def engine_options(self, backend: str | None = "llama") -> dict:
        """Keyword arguments for open_engine / EngineHost.load: only what differs from the
        engine's defaults, and only what that engine takes."""
        if backend == "remote":
            return {}
        options: dict = {}
        if self.n_ctx:
            options["n_ctx"] = int(self.n_ctx)
        if self.n_threads:
            options["n_threads"] = int(self.n_threads)
        if self.device and self.device != "auto":
            options["device"] = self.device
        if backend != "onnx":
            if self.n_gpu_layers is not None:
                options["n_gpu_layers"] = int(self.n_gpu_layers)
            if self.kv_type != "f16":
                options["kv_type"] = self.kv_type
            if self.flash_attn:
                options["flash_attn"] = True
        if self.cache_ram_mb is not None:
            options["cache_ram_mb"] = int(self.cache_ram_mb)
        accepted = _accepted_options(backend or "llama")
        return {k: v for k, v in options.items() if accepted is None or k in accepted}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw) -> LoadSettings:
        """Settings from the file, each value checked: a bad one becomes the default."""
        if not isinstance(raw, dict):
            return cls()
        values = {}

        def positive(key):
            v = raw.get(key)
            return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None

        values["n_ctx"] = positive("n_ctx")
        values["n_threads"] = positive("n_threads")
        layers = raw.get("n_gpu_layers")
        values["n_gpu_layers"] = (layers if isinstance(layers, int) and not isinstance(layers, bool)
                                  and layers >= -1 else None)
        device = raw.get("device")
        values["device"] = device if device in set(LLAMA_DEVICES) | set(ONNX_DEVICES) else "auto"
        values["kv_type"] = raw.get("kv_type") if raw.get("kv_type") in KV_TYPES else "f16"
        values["flash_attn"] = raw.get("flash_attn") is True
        values["cache_ram_mb"] = positive("cache_ram_mb")
        return cls(**values)


FIELDS = tuple(f.name for f in fields(LoadSettings))


def _accepted_options(backend: str) -> set[str] | None:
    """The keyword arguments the engine for ``backend`` takes (new ones are picked up as they come)."""
    try:
        if backend == "onnx":
            from desktop.engines.onnx_engine import OnnxEngine as engine
        else:
            from desktop.engines.llama_engine import LlamaEngine as engine
        params = inspect.signature(engine.__init__).parameters
    except (ImportError, TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return set(params)


# -- storage ---------------------------------------------------------------------------------
def settings_path() -> Path:
    from desktop.paths import data_dir

    return data_dir() / FILENAME


def _parse(raw) -> dict | None:
    if not isinstance(raw, dict):
        return None
    raw.setdefault("models", {})
    return raw if isinstance(raw["models"], dict) else None


def _document() -> JsonDocument:
    from desktop.models.library import LibraryError

    # A damaged file loses only the load settings (moved aside, with a notice): every model
    # loads with this machine's defaults.
    return JsonDocument(settings_path(), what=translate("Core", "The load settings"),
                        default=lambda: {"models": {}}, parse=_parse, error=LibraryError)


def _read() -> dict:
    return _document().read()["models"]


def _key(model_id: str | os.PathLike) -> str:
    model_id = os.fspath(model_id)
    if is_remote(model_id):
        return model_id
    # One model, one entry, whichever way its path was written.
    return str(Path(model_id).expanduser().resolve())


def get(model_id: str | os.PathLike) -> LoadSettings | None:
    """The settings saved for a model, or None when none were."""
    raw = _read().get(_key(model_id))
    return LoadSettings.from_dict(raw) if raw is not None else None


def save(model_id: str | os.PathLike, settings: LoadSettings) -> None:
    key = _key(model_id)

    def change(data: dict) -> None:
        data["models"][key] = settings.to_dict()

    _document().update(change)


def forget(model_id: str | os.PathLike) -> None:
    """Back to the defaults for this model."""
    key = _key(model_id)
    _document().update(lambda data: data["models"].pop(key, None))


def options_for(model_id: str | os.PathLike, backend: str | None = None) -> dict:
    """The engine options saved for a model ({} when none): what every load of it applies."""
    if backend is None:
        backend = _backend(os.fspath(model_id))
    saved = get(model_id)
    return saved.engine_options(backend) if saved is not None else {}


def recommended_options(model_id: str | os.PathLike, backend: str | None = None) -> dict:
    """The engine options this machine's fit recommends for a model ({} when it cannot tell):
    what a load uses for every setting the user did not save. Reads the model's header and the
    hardware profile, so it belongs on a worker thread, not the GUI's."""
    try:
        if backend is None:
            backend = _backend(os.fspath(model_id))
        if backend == "remote":
            return {}
        settings, _reasons = defaults_for(model_id)
        return settings.engine_options(backend)
    except ModelLoadError as exc:  # a bad file: the load that follows tells the user, in plain words
        log.info("no recommended load settings for %s: %s", model_id, exc)
        return {}
    except Exception:  # noqa: BLE001 - a recommendation is a nicety: the engine's defaults still load
        log.warning("no recommended load settings for %s", model_id, exc_info=True)
        return {}


def load_options(model_id: str | os.PathLike, backend: str | None = None,
                 overrides: dict | None = None) -> dict:
    """The engine options one load of a model uses, the same for the window, ``edgechat ask``
    and ``edgechat serve``: this machine's recommendation, then what the user saved for the
    model, then ``overrides`` (a caller's own, such as command-line flags; None values are
    ignored). Reads the model's header: off the GUI thread."""
    if backend is None:
        backend = _backend(os.fspath(model_id))
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return {**recommended_options(model_id, backend), **options_for(model_id, backend), **given}


# -- what a model is and what this machine can give it ---------------------------------------
@dataclass(frozen=True)
class ModelShape:
    backend: str  # "llama" | "onnx" | "remote"
    size: int = 0  # bytes of weights
    trained_ctx: int | None = None  # what the model was trained for (GGUF header, genai_config)
    n_layers: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None
    parameters: int | None = None
    provider: str | None = None  # ONNX: what the folder is built for


def _backend(model_id: str) -> str:
    if is_remote(model_id):
        return "remote"
    from desktop.engines import detect_backend

    try:
        return detect_backend(model_id)
    except Exception:  # noqa: BLE001 - a missing path is a GGUF that is not there
        return "llama"


def shape_of(model_id: str | os.PathLike) -> ModelShape:
    """What the model's own header or config says (cheap: no weights are read)."""
    model_id = os.fspath(model_id)
    backend = _backend(model_id)
    if backend == "remote":
        return ModelShape("remote")
    if backend == "onnx":
        from desktop.engines.onnx_engine import folder_variant, model_dir
        from desktop.paths import disk_size

        folder = model_dir(model_id)
        try:
            config = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))
            model = config["model"]
            decoder = model.get("decoder", {})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return ModelShape("onnx")
        try:
            provider = folder_variant(config)
        except Exception:  # noqa: BLE001 - an odd config only loses the provider hint
            provider = None
        return ModelShape("onnx", disk_size(folder), _int(model.get("context_length")),
                          _int(decoder.get("num_hidden_layers")), _int(decoder.get("num_key_value_heads")),
                          _int(decoder.get("head_size")), None, provider)
    from desktop.engines.gguf import read_gguf

    gguf = read_gguf(model_id)
    return ModelShape("llama", gguf.file_size, _int(gguf.context_length), _int(gguf.n_layers),
                      _int(gguf.n_kv_heads), _int(gguf.head_dim), gguf.parameters or None)


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _contexts(trained: int | None) -> list[int]:
    top = trained or DEFAULT_N_CTX
    sizes, n = [], MIN_N_CTX
    while n <= top:
        sizes.append(n)
        n *= 2
    if not sizes or sizes[-1] != top and top >= MIN_N_CTX:
        sizes.append(top)  # a model trained for 2,000 tokens may use all of them
    return sizes


def defaults_for(model_id: str | os.PathLike, profile=None, shape: ModelShape | None = None
                 ) -> tuple[LoadSettings, dict[str, str]]:
    """The settings this machine should use for a model, and why, one line per field."""
    from desktop.models import fit

    shape = shape or shape_of(model_id)
    reasons: dict[str, str] = {}
    if shape.backend == "remote":
        line = translate("Core", "Set by the server this model runs on.")
        return LoadSettings(), dict.fromkeys(FIELDS, line)
    if profile is None:
        from desktop.hardware import detect

        profile = detect()
    engine = shape.backend

    def estimate(context: int, kv_type: str = "f16"):
        per_elem = KV_BYTES[kv_type] if engine == "llama" else fit.KV_BYTES_PER_ELEM["onnx"]
        base = fit.estimate(shape.size, shape.parameters, shape.n_layers, shape.n_kv_heads,
                            shape.head_dim, context=context, engine=engine, kv_bytes_per_elem=1)
        kv = int(base.kv_cache * per_elem)
        return replace(base, kv_cache=kv, total=base.weights + kv + base.overhead)

    # GPU offload: all layers when the whole model fits on a GPU llama.cpp can drive.
    probe = fit.assess(estimate(min(shape.trained_ctx or DEFAULT_N_CTX, DEFAULT_N_CTX)), profile,
                       provider=shape.provider)
    on_gpu = probe.verdict == "gpu"
    room = probe.available if on_gpu else int(fit.CPU_MARGIN * profile.ram_available)
    where = (translate("Core", "{size} free on {gpu}").format(size=format_bytes(probe.available),
                                                             gpu=probe.gpu.name)
             if on_gpu else translate("Core", "{size} of RAM available").format(
                 size=format_bytes(profile.ram_available)))

    # Context: the largest that fits with room to spare.
    trained = shape.trained_ctx
    chosen = None
    for context in _contexts(trained):
        e = estimate(context)
        if context > MAX_DEFAULT_N_CTX or e.total > room or e.kv_cache > KV_SHARE * room:
            break
        chosen = (context, e)
    if chosen is None:
        context = min(MIN_N_CTX, trained or MIN_N_CTX)
        n_ctx = context
        reasons["n_ctx"] = translate(
            "Core", "{tokens} tokens: even this needs about {need}, more than the {have} can spare."
        ).format(tokens=f"{context:,}", need=format_bytes(estimate(context).total), have=where)
    else:
        n_ctx, e = chosen
        trained_text = (translate("Core", "trained for {tokens}").format(tokens=f"{trained:,}")
                        if trained else translate("Core", "training length unknown"))
        if trained and n_ctx >= trained:
            why = translate("Core", "all the model was trained for")
        elif n_ctx >= MAX_DEFAULT_N_CTX:
            why = translate("Core", "plenty for long chats; more costs memory at every load")
        else:
            why = translate("Core", "the largest that leaves room for other programs")
        reasons["n_ctx"] = translate(
            "Core", "{tokens} tokens ({trained}): {why}. Needs about {need} of {have}."
        ).format(tokens=f"{n_ctx:,}", trained=trained_text, why=why, need=format_bytes(e.total),
                 have=where)

    threads = max(1, int(profile.physical_cores or os.cpu_count() or 1))
    reasons["n_threads"] = translate(
        "Core", "{threads}: one per physical core ({cores} cores, {logical} threads); more only "
        "make the cores wait on each other.").format(
        threads=threads, cores=profile.physical_cores, logical=profile.logical_cores)

    if engine == "llama":
        if on_gpu:
            layers = -1
            reasons["n_gpu_layers"] = translate(
                "Core", "All layers: the whole model fits on {gpu}.").format(gpu=probe.gpu.name)
        elif profile.usable_gpus("llama"):
            layers = 0
            reasons["n_gpu_layers"] = translate(
                "Core", "None: the model does not fit on the GPU with room to spare; lower it to a "
                "part of the layers to try.")
        else:
            layers = 0
            reasons["n_gpu_layers"] = translate(
                "Core", "None: this llama.cpp build cannot use a GPU here, so the model runs on the CPU.")
        reasons["device"] = translate("Core", "Auto: llama.cpp uses the GPU offload above.")
    else:
        layers = None
        reasons["n_gpu_layers"] = translate("Core", "Not used by ONNX Runtime: choose the device instead.")
        reasons["device"] = (translate("Core", "Auto: {gpu} can run this folder.").format(gpu=probe.gpu.name)
                             if on_gpu else translate(
                                 "Core", "Auto: this folder runs on the CPU here (no usable GPU for it)."))

    if engine == "llama":
        f16_kv = estimate(n_ctx).kv_cache
        reasons["kv_type"] = translate(
            "Core", "f16: full precision, {size} at this context. q8_0 halves it with hardly any "
            "loss, q4_0 quarters it with some; both need flash attention for the V cache.").format(
            size=format_bytes(f16_kv))
        flash = on_gpu
        reasons["flash_attn"] = (
            translate("Core", "On: faster on the GPU and keeps the attention scores out of memory.")
            if flash else translate(
                "Core", "Off: on the CPU it gains little; turn it on to quantize the V cache."))
    else:
        flash = False
        reasons["kv_type"] = translate(
            "Core", "Set by the ONNX folder (its KV cache has the model's own type).")
        reasons["flash_attn"] = translate("Core", "Chosen by ONNX Runtime.")

    cache_mb = None
    from desktop.engines.prompt_cache import default_ram_budget_mb

    cache_mb = int(default_ram_budget_mb(shape.size, n_ctx, profile.ram_available))
    reasons["cache_ram_mb"] = translate(
        "Core", "{size}: room for the prompts of recent chats, so going back to one does "
        "not read it all again, while leaving memory for the model.").format(
        size=format_bytes(cache_mb * MIB))
    settings = LoadSettings(n_ctx=n_ctx, n_threads=threads, n_gpu_layers=layers, device="auto",
                            kv_type="f16", flash_attn=flash, cache_ram_mb=cache_mb)
    return settings, reasons


def effective(model_id: str | os.PathLike, profile=None) -> tuple[LoadSettings, dict[str, str], bool]:
    """What the dialog shows: the saved settings (True) or the defaults (False), with the reasons."""
    defaults, reasons = defaults_for(model_id, profile)
    saved = get(model_id)
    return (saved, reasons, True) if saved is not None else (defaults, reasons, False)
