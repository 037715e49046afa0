"""How fast a model will write on this machine: an estimate of its decode speed in tokens/s.

Writing one token reads every weight of a dense model once, so on a CPU the time per token is
about the bytes read (the GGUF file, or an ONNX folder's weights) over the memory bandwidth,
plus a part that does not grow with the file: sampling over the vocabulary, the engine's own
bookkeeping, Python between tokens. Both parts are measured here, never taken from a table:

* per engine (llama.cpp and ONNX Runtime differ), from real replies: every reply in the chat
  records its model's size and speed (``record_measurement``); the bytes a model read per second
  are the engine's effective bandwidth here, and models of different sizes also separate the
  fixed part from the reads (``calibrate``);
* before any reply, from a short memory copy (``hardware.memory_bandwidth()``, kept with the
  hardware profile), scaled by what decoding achieves of it (``PROBE_TO_DECODE``).

An engine with no reply yet borrows the other engine's numbers, and the estimate says which it
used. On a GPU the bandwidth is the board's (a table of common boards, else a conservative
guess, said as such).
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass

from desktop import hardware
from desktop.engines.base import is_remote
from desktop.hardware import GpuInfo, HardwareProfile
from desktop.text import QT_TRANSLATE_NOOP, translate

ENGINES = ("llama", "onnx")
# Labels by decode speed: 15 tok/s reads faster than most people do; under 5 one waits on
# every sentence.
FAST_TPS = 15.0
USABLE_TPS = 5.0
LABELS = {
    "fast": QT_TRANSLATE_NOOP("Core", "Fast"),
    "usable": QT_TRANSLATE_NOOP("Core", "Usable"),
    "slow": QT_TRANSLATE_NOOP("Core", "Slow"),
    "wont_fit": QT_TRANSLATE_NOOP("Core", "Won't fit"),
    "unknown": QT_TRANSLATE_NOOP("Core", "Speed unknown"),
}

# Before any reply was measured here: decoding reads weights at about this share of what the
# probe copies (2-core Xeon: 23.5 GB/s copied, SmolLM2-135M decoded at 7.4 GB/s of weights; the
# dequantizing and the matrix products take their share of each byte's time).
PROBE_TO_DECODE = 0.3
# When no probe ran: a single DDR4 channel, the least a desktop or laptop has.
FALLBACK_BANDWIDTH = 10e9
# Two models whose sizes differ by this much separate the per-token fixed part from the reads.
MIN_SIZE_SPREAD = 1.8
# How many recent speeds of one model are kept; the best of them counts, since a reply on a
# busy machine (another program, a download) is slower than the model is.
KEEP_PER_MODEL = 8
# A reply shorter than this says more about its first tokens than the speed.
MIN_TOKENS = 16
RECORD_LOCK_TIMEOUT_S = 0.5

# GPU memory bandwidth in bytes/s by board name (vendor specifications). Decoding reaches about
# GPU_EFFICIENCY of it; the fixed part per token (kernel launches, sampling) is GPU_OVERHEAD_S.
GPU_BANDWIDTH = (
    (r"h200", 4.8e12), (r"h100.*(sxm|hbm3)", 3.35e12), (r"h100", 2.0e12), (r"a100", 1.6e12),
    (r"l40s?", 864e9), (r"a6000", 768e9), (r"rtx 6000 ada", 960e9),
    (r"5090", 1.79e12), (r"5080", 960e9), (r"5070 ti", 896e9), (r"5070", 672e9),
    (r"4090", 1.0e12), (r"4080", 717e9), (r"4070 ti", 504e9), (r"4070", 504e9), (r"4060 ti", 288e9),
    (r"4060", 272e9), (r"3090", 936e9), (r"3080", 760e9), (r"3070", 448e9), (r"3060 ti", 448e9),
    (r"3060", 360e9), (r"3050", 224e9), (r"2080", 448e9), (r"2070", 448e9), (r"2060", 336e9),
    (r"t4\b", 320e9), (r"7900 xtx", 960e9), (r"7900", 800e9), (r"6900|6800", 512e9),
    (r"m\d (ultra)", 800e9), (r"m\d (max)", 400e9), (r"m\d (pro)", 200e9), (r"apple|m\d", 100e9),
)
GPU_EFFICIENCY = 0.6
GPU_OVERHEAD_S = 0.006
# A board not in the table: a mid-range discrete card's bandwidth, or a low one for a GPU that
# shares system memory.
GPU_GUESS = {"discrete": 250e9, "unified": 60e9}


@dataclass(frozen=True)
class SpeedEstimate:
    tokens_per_s: float
    device: str  # "cpu" or "gpu"
    bandwidth: float  # bytes/s used for the weights
    overhead_s: float  # fixed seconds per token
    measured: bool  # True when the fixed part comes from replies of this engine here
    note: str = ""  # how it was made, for a tooltip

    @property
    def label(self) -> str:
        return speed_label(self.tokens_per_s, True)


def engine_of(backend: str | None) -> str | None:
    """"llama" or "onnx" for any name an engine, a format or ModelInfo.backend uses; None else."""
    name = (backend or "").lower()
    if name in ("llama", "llama.cpp", "gguf") or name.startswith("llama"):
        return "llama"
    if name.startswith("onnx"):
        return "onnx"
    return None


# -- recording ------------------------------------------------------------------------------------

def record_measurement(model_id: str, file_bytes: int | None, backend: str | None,
                       tokens_per_s: float | None) -> bool:
    """Keep a real reply's decode speed; later estimates on this machine start from it.

    Returns whether it was kept (not for a remote model, an unknown size or a zero speed). A
    tiny JSON write under a lock: cheap enough for the end of a reply.
    """
    engine = engine_of(backend)
    if (engine is None or not file_bytes or file_bytes <= 0 or not tokens_per_s
            or tokens_per_s <= 0 or is_remote(str(model_id))):
        return False

    def add(data: dict) -> None:
        models = data.setdefault("measurements", {}).setdefault(engine, {})
        entry = models.get(model_id) or {}
        speeds = [float(x) for x in entry.get("tokens_per_s", []) if isinstance(x, (int, float))]
        speeds = (speeds + [float(tokens_per_s)])[-KEEP_PER_MODEL:]
        models[model_id] = {"bytes": int(file_bytes), "tokens_per_s": speeds, "at": time.time()}

    try:
        # Called on the window's thread at the end of a reply: never wait long for the lock.
        hardware.update_calibration(add, timeout=RECORD_LOCK_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - a read-only or locked data folder loses one sample only
        return False
    return True


def measurements(engine: str, data: dict | None = None) -> list[tuple[int, float]]:
    """(bytes, best tokens/s) of each model measured with ``engine`` here."""
    data = hardware.read_calibration() if data is None else data
    points = []
    for entry in ((data.get("measurements") or {}).get(engine) or {}).values():
        try:
            size, best = int(entry["bytes"]), max(float(x) for x in entry["tokens_per_s"])
        except (KeyError, TypeError, ValueError):
            continue
        if size > 0 and best > 0:
            points.append((size, best))
    return points


@dataclass(frozen=True)
class Calibration:
    bandwidth: dict  # engine -> bytes of weights read per second while decoding on the CPU
    overhead_s: dict  # engine -> seconds per token that do not grow with the weights
    measured: frozenset  # the engines whose numbers come from replies here
    probed: bool  # whether the probe ran (False: FALLBACK_BANDWIDTH)


def fit_line(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """(bandwidth, overhead) of t = overhead + bytes / bandwidth through models of different
    sizes (least squares); None when their sizes are too alike to tell the two apart."""
    sizes = [size for size, _ in points]
    if len(points) < 2 or max(sizes) < MIN_SIZE_SPREAD * min(sizes):
        return None
    xs, ts = sizes, [1 / tps for _, tps in points]
    mx, mt = statistics.fmean(xs), statistics.fmean(ts)
    slope = sum((x - mx) * (t - mt) for x, t in zip(xs, ts, strict=True)) / sum((x - mx) ** 2 for x in xs)
    if slope <= 0:
        return None
    # Never more than most of the fastest model's time: the rest is reading its weights.
    overhead = min(max(0.0, mt - slope * mx), 0.8 * min(ts))
    return 1 / slope, overhead


def calibrate(profile: HardwareProfile | None = None, data: dict | None = None) -> Calibration:
    """Each engine's decode bandwidth and fixed part here, from the replies measured and the probe.

    One measured model gives the bandwidth as its bytes times its speed: the fixed part cannot be
    told from the reads with one size, and counting it as reads errs on the slow side for bigger
    models (on a 2-core Xeon a 490 MB Q4_K_M model ran at 2.9 tok/s where this predicts 2.6, and
    the 135M model's F16 build at 7.9 where it predicts 4.9). Models of clearly different sizes
    separate the two (fit_line).
    """
    data = hardware.read_calibration() if data is None else data
    probe = (profile.memory_bandwidth if profile is not None and profile.memory_bandwidth
             else None) or _stored_or_probe(data)
    bandwidth, overhead, measured = {}, {}, set()
    for engine in ENGINES:
        points = measurements(engine, data)
        if not points:
            continue
        line = fit_line(points)
        if line is None:
            bandwidth[engine] = statistics.median(size * tps for size, tps in points)
            overhead[engine] = 0.0
        else:
            bandwidth[engine], overhead[engine] = line
        measured.add(engine)
    for engine in ENGINES:
        if engine not in measured:
            donor = next((e for e in ENGINES if e in measured), None)
            bandwidth[engine] = (bandwidth[donor] if donor else
                                 (probe or FALLBACK_BANDWIDTH) * PROBE_TO_DECODE)
            overhead[engine] = overhead[donor] if donor else 0.0
    return Calibration(bandwidth, overhead, frozenset(measured), bool(probe))


def _stored_or_probe(data: dict) -> float | None:
    try:
        stored = float(data.get("bandwidth") or 0)
    except (TypeError, ValueError):
        stored = 0.0
    return stored or hardware.memory_bandwidth()


# -- estimating -----------------------------------------------------------------------------------

def gpu_bandwidth(gpu: GpuInfo) -> tuple[float, bool]:
    """(bytes/s, known): the board's memory bandwidth, or a conservative guess."""
    name = gpu.name.lower()
    for pattern, value in GPU_BANDWIDTH:
        if re.search(pattern, name):
            return value, True
    return GPU_GUESS["unified" if gpu.unified_memory else "discrete"], False


def estimate(file_bytes: int | None, backend: str | None, profile: HardwareProfile | None = None,
             gpu: GpuInfo | None = None, calibration: Calibration | None = None) -> SpeedEstimate | None:
    """Decode speed of a model of ``file_bytes`` on this machine's CPU, or on ``gpu``.

    None when it cannot be said (no size, a remote model).
    """
    engine = engine_of(backend)
    if engine is None or not file_bytes or file_bytes <= 0:
        return None
    cal = calibration or calibrate(profile)
    if gpu is not None:
        bandwidth, known = gpu_bandwidth(gpu)
        bandwidth *= GPU_EFFICIENCY
        tps = 1 / (GPU_OVERHEAD_S + file_bytes / bandwidth)
        note = (translate("Core", "on {gpu}: from its memory bandwidth").format(gpu=gpu.name) if known
                else translate("Core", "on {gpu}: its memory bandwidth is not known here, so a "
                               "conservative guess").format(gpu=gpu.name))
        return SpeedEstimate(tps, "gpu", bandwidth, GPU_OVERHEAD_S, False, note)
    overhead, bandwidth = cal.overhead_s[engine], cal.bandwidth[engine]
    tps = 1 / (overhead + file_bytes / bandwidth)
    measured = engine in cal.measured
    if measured:
        note = translate("Core", "from replies measured on this computer")
    elif cal.measured:
        note = translate("Core", "from replies measured on this computer with the other engine")
    else:
        note = translate("Core", "from this computer's memory speed; refined after the first reply")
    return SpeedEstimate(tps, "cpu", bandwidth, overhead, measured, note)


def estimate_tokens_per_s(file_bytes: int | None, backend: str | None,
                          profile: HardwareProfile | None = None, gpu: GpuInfo | None = None) -> float | None:
    found = estimate(file_bytes, backend, profile, gpu)
    return found.tokens_per_s if found else None


def speed_label(tokens_per_s: float | None, fits: bool = True) -> str:
    """"fast", "usable", "slow" or "wont_fit" ("unknown" when there is no speed to judge)."""
    if not fits:
        return "wont_fit"
    if tokens_per_s is None:
        return "unknown"
    if tokens_per_s >= FAST_TPS:
        return "fast"
    return "usable" if tokens_per_s >= USABLE_TPS else "slow"


def label_text(label: str) -> str:
    return translate("Core", LABELS.get(label, LABELS["unknown"]))


def format_speed(tokens_per_s: float | None) -> str:
    """"≈ 14 tok/s"; one decimal under 10 ("≈ 2.5 tok/s"), where a unit matters."""
    if tokens_per_s is None:
        return ""
    value = f"{tokens_per_s:.1f}" if tokens_per_s < 10 else f"{tokens_per_s:.0f}"
    return translate("Core", "≈ {value} tok/s").format(value=value)
