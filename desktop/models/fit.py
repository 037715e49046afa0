"""Will a model fit this machine? Memory estimates and verdicts for the library.

A model needs its weights, its KV cache (which grows with the context length) and the runtime's
own working memory. ``estimate()`` adds these up for one variant at one context length;
``assess()`` holds the sum against a HardwareProfile and says "runs on GPU", "runs on CPU",
"tight" or "won't fit", with the numbers; ``recommend()`` picks the best variant of several.

These are estimates to steer a choice, not a promise: they lean towards "needs more" wherever a
number has to be guessed, and say when it was (``kv_estimated``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from desktop.engines.context import DEFAULT_N_CTX, kv_cache_bytes
from desktop.hardware import GpuInfo, HardwareProfile
from desktop.text import QT_TRANSLATE_NOOP, translate
from desktop.units import MIB, format_bytes

ENGINES = ("llama", "onnx")

# Bytes per KV-cache element when the caller does not know better.
# - llama.cpp: f16 (its default type_k / type_v), whatever the weights' quantization.
# - ONNX Runtime GenAI: the cache has the model's input/output dtype. The model builder gives
#   int4 and int8 models for the CPU an fp32 io dtype (onnxruntime_genai/models/quantization/
#   quant_config.py, default_io_dtype: cpu_quant -> "fp32"; builders/base.py types
#   past_key_values with io_dtype), so the CPU int4 folders this app runs carry an fp32 cache:
#   twice llama.cpp's for the same model. Measured on the SmolLM2-135M int4 CPU folder: 8192
#   tokens cost 339 MiB more than 512, as 4-byte elements predict. CUDA and DirectML int4 builds
#   use fp16: pass kv_bytes_per_elem=2 for them.
KV_BYTES_PER_ELEM = {"llama": 2, "onnx": 4}

# The runtime's own memory: compute buffers, the runtime's start-up, the tokenizer, and for ONNX
# the child process it runs in. A fixed part plus a share of the weights, because compute
# buffers grow with the model's width and vocabulary. Measured on SmolLM2-135M (94 MiB GGUF,
# 86 MiB ONNX folder), beyond weights + KV cache:
# - llama.cpp: about 24 MiB at 512 and at 8192 tokens (flash attention keeps the attention
#   scores out of the compute buffer). Larger models report compute buffers of a few hundred
#   MiB; 128 MiB + 10 % of the weights covers a 4-8 GB model's.
# - ONNX Runtime GenAI: loading costs about 1.9x the folder (ORT prepacks the int4 MatMul
#   weights), the tokenizer 21 MiB, a generator 25 MiB, the child interpreter some 30 MiB. One
#   small model cannot tell how much of the load cost grows with the weights, so a quarter of
#   them is assumed on top of 256 MiB.
OVERHEAD_BASE = {"llama": 128 * MIB, "onnx": 256 * MIB}
OVERHEAD_FRACTION = {"llama": 0.10, "onnx": 0.25}

# When the layer count, KV heads or head size are unknown, the cache is guessed from the
# parameter count P. A dense transformer holds about 12·L·d² parameters (4d² attention, 8d² MLP
# per layer), so L·d = √(P·L/12); without grouped-query attention every layer keeps K and V of
# width d, 2·L·d elements per token. That is the worst case (Phi-3-mini, SmolLM2-1.7B are built
# so), and L is taken as 40, deeper than the small models this app runs (16-36 layers), which
# makes the guess larger still. Phi-3-mini (3.8B, MHA): guessed 226 K elements per token, true
# 197 K. Grouped-query attention needs far less than guessed: 3.7x less for SmolLM2-135M, 5x for
# Llama-3.1-8B, 13x for Qwen2.5-0.5B (tests/test_fit.py checks 15 real shapes). So the guess is
# for a catalog entry that does not give the shape; a GGUF header and a genai_config.json do.
HEURISTIC_LAYERS = 40
# With neither the shape nor the parameter count, P comes from the weights at 4 bits per
# parameter: fewer bits than any quantization this app ships but Q2/Q3, so more parameters.
HEURISTIC_BYTES_PER_PARAM = 0.5

# A verdict needs room to spare, because the estimate is an estimate and other programs come
# and go. On CPU, the model may take at most 80 % of the RAM available now.
CPU_MARGIN = 0.8
# Without that margin it is "tight": it fits in what is available now, or, where the machine
# can swap, in 85 % of all RAM: other programs are pushed out to disk and the OS keeps the rest.
TIGHT_RAM_FRACTION = 0.85
# On a GPU, keep 15 % of the free VRAM, and at least 512 MiB, for what "free" did not count yet:
# the CUDA/Metal context (300-500 MiB), the display, fragmentation.
GPU_HEADROOM_FRACTION = 0.15
GPU_HEADROOM_MIN = 512 * MIB

VERDICTS = ("gpu", "cpu", "tight", "wont_fit")
LABELS = {
    "gpu": QT_TRANSLATE_NOOP("Core", "runs on GPU"),
    "cpu": QT_TRANSLATE_NOOP("Core", "runs on CPU"),
    "tight": QT_TRANSLATE_NOOP("Core", "tight"),
    "wont_fit": QT_TRANSLATE_NOOP("Core", "won't fit"),
}
_RANK = {"gpu": 3, "cpu": 2, "tight": 1, "wont_fit": 0}


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int  # bytes
    kv_cache: int
    overhead: int
    total: int
    kv_estimated: bool = False  # the KV cache was guessed from the parameter count, not the shape
    context: int = 0  # tokens the KV cache is sized for
    engine: str = "llama"


def heuristic_kv_elements_per_token(params: int) -> int:
    """A generous guess at K+V elements per token for a dense model of ``params`` parameters."""
    return 2 * math.ceil(math.sqrt(params * HEURISTIC_LAYERS / 12))


def estimate(
    weights_bytes: int,
    params: int | None = None,
    n_layers: int | None = None,
    n_kv_heads: int | None = None,
    head_dim: int | None = None,
    context: int = DEFAULT_N_CTX,
    engine: str = "llama",
    kv_bytes_per_elem: int | None = None,
) -> MemoryEstimate:
    """The memory a model needs at ``context`` tokens.

    ``weights_bytes`` is the GGUF file's size or the ONNX folder's. ``engine`` is "llama" or
    "onnx"; ``kv_bytes_per_elem`` overrides that engine's default (KV_BYTES_PER_ELEM).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if weights_bytes < 0 or context < 1:
        raise ValueError("weights_bytes must be >= 0 and context >= 1")
    per_elem = kv_bytes_per_elem or KV_BYTES_PER_ELEM[engine]
    shape = (n_layers, n_kv_heads, head_dim)
    if all(isinstance(n, int) and n > 0 for n in shape):
        kv = kv_cache_bytes(n_layers, n_kv_heads, head_dim, context, per_elem)
        guessed = False
    else:
        n_params = params if params and params > 0 else int(weights_bytes / HEURISTIC_BYTES_PER_PARAM)
        kv = heuristic_kv_elements_per_token(n_params) * context * per_elem
        guessed = True
    overhead = int(OVERHEAD_BASE[engine] + OVERHEAD_FRACTION[engine] * weights_bytes)
    return MemoryEstimate(
        weights=int(weights_bytes), kv_cache=kv, overhead=overhead, total=int(weights_bytes) + kv + overhead,
        kv_estimated=guessed, context=context, engine=engine,
    )


@dataclass(frozen=True)
class Fit:
    verdict: str  # one of VERDICTS
    estimate: MemoryEstimate
    available: int  # bytes in the memory judged: usable VRAM for "gpu", available RAM otherwise
    gpu: GpuInfo | None = None  # the GPU it runs on, for "gpu"
    ram_total: int = 0
    note: str = ""  # why not better, when it is not "gpu"/"cpu" or a GPU was passed over

    @property
    def label(self) -> str:
        return translate("Core", LABELS[self.verdict])

    @property
    def fits(self) -> bool:
        return self.verdict != "wont_fit"

    def explain(self) -> str:
        e = self.estimate
        # One unit for the sum and its parts, so they read as adding up.
        unit = format_bytes(e.total).split()[-1]
        context = translate("Core", "{size} context at {tokens} tokens").format(
            size=format_bytes(e.kv_cache, unit), tokens=f"{e.context:,}")
        if e.kv_estimated:
            context += translate("Core", " (estimated)")
        needs = translate(
            "Core", "Needs about {total} ({weights} weights + {context} + {runtime} runtime)").format(
            total=format_bytes(e.total), weights=format_bytes(e.weights, unit), context=context,
            runtime=format_bytes(e.overhead, unit))
        if self.gpu is not None:
            if self.gpu.unified_memory:
                have = translate("Core", "{size} free for the GPU on {gpu}")
            elif self.gpu.vram_free is None:
                have = translate("Core", "{size} VRAM on {gpu}")
            else:
                have = translate("Core", "{size} free on {gpu}")
            have = have.format(size=format_bytes(self.available), gpu=self.gpu.name)
        else:
            have = translate("Core", "{size} available").format(size=format_bytes(self.available))
            if self.verdict == "wont_fit" and self.ram_total:
                have += translate("Core", " of {size} RAM").format(size=format_bytes(self.ram_total))
        text = translate("Core", "{needs}; {have}").format(needs=needs, have=have)
        if self.note:
            text = translate("Core", "{text} — {note}").format(text=text, note=self.note)
        return text


def _gpu_room(gpu: GpuInfo) -> int:
    usable = gpu.vram_usable or 0
    return int(usable - max(GPU_HEADROOM_FRACTION * usable, GPU_HEADROOM_MIN))


def assess(estimate: MemoryEstimate, profile: HardwareProfile, device: str = "gpu",
           provider: str | None = None) -> Fit:
    """Where the estimated model can run here.

    ``device="gpu"`` tries a GPU the engine can use first and falls back to the CPU verdicts;
    ``device="cpu"`` judges the RAM only. ``provider`` is the one an ONNX folder is built for
    ("cpu", "cuda", "dml"): a CPU folder gets no GPU.
    """
    if device not in ("gpu", "cpu"):
        raise ValueError(f"unknown device {device!r}: use 'gpu' or 'cpu'")
    total = estimate.total
    passed_over = ""
    if device == "gpu":
        gpus = sorted(profile.usable_gpus(estimate.engine, provider), key=_gpu_room, reverse=True)
        for gpu in gpus:
            if gpu.vram_usable and total <= _gpu_room(gpu):
                return Fit("gpu", estimate, gpu.vram_usable, gpu=gpu, ram_total=profile.ram_total)
        if gpus and gpus[0].vram_usable:
            passed_over = translate("Core", "too big for the {size} on {gpu}").format(
                size=format_bytes(gpus[0].vram_usable), gpu=gpus[0].name)
    available = profile.ram_available
    if total <= CPU_MARGIN * available:
        return Fit("cpu", estimate, available, ram_total=profile.ram_total, note=passed_over)
    can_swap = profile.swap_total > 0 or profile.os == "Darwin"
    if total <= available:
        note = translate("Core", "tight: little room left for other programs")
    elif can_swap and total <= TIGHT_RAM_FRACTION * profile.ram_total:
        note = translate("Core", "tight: other programs would be swapped out to make room")
    else:
        return Fit("wont_fit", estimate, available, ram_total=profile.ram_total,
                   note=translate("Core", "won't fit: needs more memory than this machine can give"))
    if passed_over:
        note = translate("Core", "{note}; {more}").format(note=note, more=passed_over)
    return Fit("tight", estimate, available, ram_total=profile.ram_total, note=note)


@dataclass(frozen=True)
class Variant:
    """One downloadable form of a model, as recommend() needs to know it."""

    key: str
    estimate: MemoryEstimate
    provider: str | None = None  # ONNX: what the folder is built for ("cpu", "cuda", "dml")
    quality: float | None = None  # higher is better; by default the weights' size (bigger quant)


@dataclass(frozen=True)
class Pick:
    variant: Variant
    fit: Fit

    @property
    def key(self) -> str:
        return self.variant.key


def recommend(variants: Iterable[Variant | tuple], profile: HardwareProfile,
              device: str = "gpu") -> Pick | None:
    """The best variant for this machine, or None when none fits.

    Best is: runs on GPU over runs on CPU over tight; then the higher quality (by default the
    bigger file: the less-quantized form of the same model); then the smaller need. Never one
    that won't fit. Plain tuples are read as Variant(key, estimate, provider, quality).
    """
    best: tuple[tuple, Pick] | None = None
    for v in variants:
        variant = v if isinstance(v, Variant) else Variant(*v)
        fit = assess(variant.estimate, profile, device=device, provider=variant.provider)
        if not fit.fits:
            continue
        quality = variant.quality if variant.quality is not None else variant.estimate.weights
        rank = (_RANK[fit.verdict], quality, -variant.estimate.total)
        if best is None or rank > best[0]:
            best = (rank, Pick(variant, fit))
    return best[1] if best else None
