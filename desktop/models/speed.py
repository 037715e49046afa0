"""How fast a model will write on this machine: an estimate of its decode speed in tokens/s.

Writing one token reads every weight of a dense model once, so on a CPU the time per token is
about the bytes read (the GGUF file, or an ONNX folder's weights) over the memory bandwidth,
plus a part that does not grow with the file: sampling over the vocabulary, the engine's own
bookkeeping, Python between tokens. Both parts are measured here, never taken from a table:

* before any reply, from a short memory copy probed in a quiet moment (``settle_probe``: the
  upper quartile of several runs, kept for this machine), scaled by what decoding achieves of it
  (``PROBE_TO_DECODE``);
* per engine (llama.cpp and ONNX Runtime differ), from real replies (``record_reply``): a reply
  counts when it is long enough, ran at the default thread count on the CPU and other programs
  left the CPU mostly to it. The bytes a model read per second are the engine's effective
  bandwidth here, and models of different sizes also separate the fixed part from the reads.

The figures in use move only on a large, lasting difference: the replies' robust figure (the
median of each model's recent speeds) must differ from them by more than
``SETTLE_RATIO`` in ``SETTLE_CONFIRM`` accepted replies in a row. So what the library and the
welcome recommend is a stable function of this machine, not of the last reply.

An engine with no settled figures of its own borrows the other engine's, and the estimate says
which it used. On a GPU the bandwidth is the board's (a table of common boards, else a
conservative guess, said as such).
"""

from __future__ import annotations

import math
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
# How many recent accepted speeds of one model are kept. Their median counts: a reply on a busy
# moment is slower than the model is, and one lucky reply is not the rule either.
KEEP_PER_MODEL = 12
# A reply shorter than this says more about its first tokens than the speed.
MIN_TOKENS = 16
RECORD_LOCK_TIMEOUT_S = 0.5
# Other programs using more than this share of all the cores while a reply was written: it
# measured them as much as the model, so it is not kept.
BUSY_SHARE = 0.25
# The figures in use move only when the replies' figure differs from them by more than this
# factor, in this many accepted replies in a row and the same way: a large, lasting difference.
SETTLE_RATIO = 1.3
SETTLE_CONFIRM = 3
# The memory probe: the upper quartile of this many runs, made once in a moment when other
# programs use less than QUIET_SHARE of the CPU (measured over QUIET_SAMPLE_S).
PROBE_RUNS = 7
QUIET_SHARE = 0.25
QUIET_SAMPLE_S = 0.3

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


# -- the stored calibration ------------------------------------------------------------------------

# One JSON document per machine, kept by hardware (hardware.read_calibration/update_calibration,
# through desktop.storage.jsondoc): the hardware's own probe figure, the replies kept, the settled
# memory probe and the figures in use ("settled").

def _read() -> dict:
    return hardware.read_calibration()


def _update(change, timeout: float = 5.0) -> dict:
    """Apply ``change`` under the document's lock; the contents as written."""
    return hardware.update_calibration(change, timeout=timeout)


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number > 0 and math.isfinite(number) else 0.0


# -- what a reply says about this machine ---------------------------------------------------------

def default_threads() -> int:
    """The thread count a load uses unless the user chose another: one per physical core (as
    load_settings recommends). Replies at any other count do not describe this machine's default."""
    import os

    import psutil

    return max(1, int(psutil.cpu_count(logical=False) or psutil.cpu_count() or os.cpu_count() or 1))


@dataclass(frozen=True)
class CpuMark:
    """A moment's CPU accounting, to tell later how much other programs used since."""

    wall: float  # time.monotonic()
    busy: float  # CPU seconds all cores spent busy since boot
    own: float  # CPU seconds this process and its children used


def _busy_seconds(times) -> float:
    total = sum(times)
    # Linux counts guest time inside user time as well; iowait is idle, waiting on a disk.
    total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    return total - times.idle - getattr(times, "iowait", 0.0)


def cpu_mark() -> CpuMark | None:
    """Now, for ``others_share``; None when the system does not say."""
    try:
        import psutil

        me = psutil.Process()
        own = sum(me.cpu_times()[:2])
        for child in me.children(recursive=True):  # the ONNX engine decodes in a child process
            try:
                own += sum(child.cpu_times()[:2])
            except psutil.Error:
                continue
        return CpuMark(time.monotonic(), _busy_seconds(psutil.cpu_times()), own)
    except Exception:  # noqa: BLE001 - no accounting (a sandbox): the reply's load is unknown
        return None


def others_share(since: CpuMark | None, now: CpuMark | None = None) -> float | None:
    """The share of all the cores (0..1) other programs used between two marks; None if unknown."""
    import psutil

    now = now or cpu_mark()
    if since is None or now is None or now.wall <= since.wall:
        return None
    capacity = (now.wall - since.wall) * (psutil.cpu_count() or 1)
    others = (now.busy - since.busy) - (now.own - since.own)
    return min(1.0, max(0.0, others / capacity))


_reply_mark: CpuMark | None = None


def reply_started() -> None:
    """Call when a reply starts (the window's thread): ``record_reply`` then knows how busy the
    other programs kept the CPU while it was written."""
    global _reply_mark
    _reply_mark = cpu_mark()


def record_reply(info, stats) -> bool:
    """Keep a finished reply's decode speed when it describes this machine at its defaults.

    ``info`` is the engine's ModelInfo and ``stats`` the reply's GenerationStats. Left out: short
    replies, replies on a GPU, at a thread count the user chose, and replies written while other
    programs kept the CPU busy (measured from ``reply_started``). Returns whether it was kept.
    """
    global _reply_mark
    mark, _reply_mark = _reply_mark, None
    device = (getattr(info, "device", "") or "").strip().lower()
    if device and not device.startswith("cpu"):
        return False  # the CPU calibration learns nothing from a GPU's speed
    return record_measurement(
        info.path, info.file_size, info.backend, stats.tokens_per_s,
        tokens=stats.completion_tokens, threads=(getattr(info, "extra", None) or {}).get("threads"),
        busy=others_share(mark) if mark is not None else None)


def record_measurement(model_id: str, file_bytes: int | None, backend: str | None,
                       tokens_per_s: float | None, *, tokens: int | None = None,
                       threads: int | None = None, busy: float | None = None) -> bool:
    """Keep one reply's decode speed, and move the figures in use if the kept replies now
    differ from them for good (``SETTLE_RATIO`` over ``SETTLE_CONFIRM`` replies in a row).

    ``tokens``, ``threads`` and ``busy`` (others' share of the CPU) are checked when given: a
    reply of fewer than MIN_TOKENS tokens, at other than ``default_threads()`` or with others
    above BUSY_SHARE is not kept. Nothing is kept for a remote model, an unknown size or a zero
    speed. Returns whether it was kept. A tiny JSON write under a lock: cheap enough for the end
    of a reply.
    """
    engine = engine_of(backend)
    if (engine is None or not file_bytes or file_bytes <= 0 or not tokens_per_s
            or tokens_per_s <= 0 or is_remote(str(model_id))):
        return False
    if tokens is not None and tokens < MIN_TOKENS:
        return False
    if threads and int(threads) != default_threads():
        return False
    if busy is not None and busy > BUSY_SHARE:
        return False

    def add(data: dict) -> None:
        settled = _settled(data)  # before the new speed: an older file's replies count as settled
        models = data.setdefault("measurements", {}).setdefault(engine, {})
        entry = models.get(model_id) or {}
        speeds = [float(x) for x in entry.get("tokens_per_s", []) if _number(x)]
        speeds = (speeds + [float(tokens_per_s)])[-KEEP_PER_MODEL:]
        models[model_id] = {"bytes": int(file_bytes), "tokens_per_s": speeds, "at": time.time()}
        _settle(data, settled, engine)

    try:
        # Called on the window's thread at the end of a reply: never wait long for the lock.
        _update(add, timeout=RECORD_LOCK_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - a read-only or locked data folder loses one sample only
        return False
    return True


def _robust(speeds: list[float]) -> float:
    """The median: a reply on a busy moment the checks missed, or one unusually lucky one, does
    not move it; only most of the recent replies do."""
    return statistics.median(speeds)


def measurements(engine: str, data: dict | None = None) -> list[tuple[int, float]]:
    """(bytes, robust tokens/s) of each model measured with ``engine`` here."""
    data = _read() if data is None else data
    points = []
    for entry in ((data.get("measurements") or {}).get(engine) or {}).values():
        try:
            size = int(entry["bytes"])
            speeds = [float(x) for x in entry["tokens_per_s"] if _number(x)]
        except (KeyError, TypeError, ValueError):
            continue
        if size > 0 and speeds:
            points.append((size, _robust(speeds)))
    return points


@dataclass(frozen=True)
class Calibration:
    bandwidth: dict  # engine -> bytes of weights read per second while decoding on the CPU
    overhead_s: dict  # engine -> seconds per token that do not grow with the weights
    measured: frozenset  # the engines whose numbers come from replies here
    probed: bool  # whether the probe ran (False: FALLBACK_BANDWIDTH)
    confirmed: frozenset = frozenset()  # engines whose replies agree with the numbers in use

    def tokens_per_s(self, engine: str, file_bytes: int) -> float:
        return 1 / (self.overhead_s[engine] + file_bytes / self.bandwidth[engine])


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


def from_replies(engine: str, data: dict) -> tuple[float, float] | None:
    """(bandwidth, overhead) the replies kept for ``engine`` give, or None without any.

    One measured model gives the bandwidth as its bytes times its speed: the fixed part cannot be
    told from the reads with one size, and counting it as reads errs on the slow side for bigger
    models (on a 2-core Xeon a 490 MB Q4_K_M model ran at 2.9 tok/s where this predicts 2.6, and
    the 135M model's F16 build at 7.9 where it predicts 4.9). Models of clearly different sizes
    separate the two (fit_line).
    """
    points = measurements(engine, data)
    if not points:
        return None
    return fit_line(points) or (statistics.median(size * tps for size, tps in points), 0.0)


def _settled(data: dict) -> dict:
    """The figures in use, made on first need. A file from before there were settled figures
    starts from what its replies give, so an update does not throw its measurements away."""
    settled = data.get("settled")
    if not isinstance(settled, dict):
        engines = {}
        for engine in ENGINES:
            found = from_replies(engine, data)
            if found:
                engines[engine] = {"bandwidth": found[0], "overhead_s": found[1], "at": time.time()}
        settled = data["settled"] = {"engines": engines}
    return settled


def _side(candidate: tuple[float, float], current: tuple[float, float], sizes: list[int]) -> int:
    """+1 when ``candidate`` predicts faster decoding than ``current`` by more than SETTLE_RATIO
    over the sizes measured (geometric mean), -1 when slower by as much, 0 otherwise."""
    logs = [math.log((1 / (current[1] + size / current[0])) / (1 / (candidate[1] + size / candidate[0])))
            for size in sizes]
    mean = -statistics.fmean(logs)
    if abs(mean) <= math.log(SETTLE_RATIO):
        return 0
    return 1 if mean > 0 else -1


def _settle(data: dict, settled: dict, engine: str) -> None:
    candidate = from_replies(engine, data)
    cal = calibrate(data=data, probe=False)
    if candidate is None or not (cal.probed or cal.measured):
        return  # nothing to compare with yet: the replies are kept for when there is
    current = (cal.bandwidth[engine], cal.overhead_s[engine])
    side = _side(candidate, current, [size for size, _ in measurements(engine, data)])
    pending = settled.setdefault("pending", {})
    confirmed = set(settled.get("confirmed") or ())
    if side == 0:
        pending.pop(engine, None)
        confirmed.add(engine)
    else:
        streak = [p for p in pending.get(engine) or () if isinstance(p, dict) and p.get("side") == side]
        streak.append({"bandwidth": candidate[0], "overhead_s": candidate[1], "side": side})
        if len(streak) >= SETTLE_CONFIRM:
            settled.setdefault("engines", {})[engine] = {
                "bandwidth": candidate[0], "overhead_s": candidate[1], "at": time.time()}
            pending.pop(engine, None)
            confirmed.add(engine)
        else:
            pending[engine] = streak[-SETTLE_CONFIRM:]
            confirmed.discard(engine)
    settled["confirmed"] = sorted(confirmed)


# -- the memory probe --------------------------------------------------------------------------------

def machine_is_quiet(sample_s: float = QUIET_SAMPLE_S) -> bool:
    """Whether other programs leave the CPU mostly idle now (blocks ``sample_s``)."""
    try:
        import psutil

        return psutil.cpu_percent(interval=sample_s) < 100 * QUIET_SHARE
    except Exception:  # noqa: BLE001 - the system does not say: no reason to wait for it
        return True


def settle_probe(probe=None, quiet: bool | None = None) -> float | None:
    """This machine's memory-copy bandwidth as the estimates use it, measured once.

    The first call probes ``PROBE_RUNS`` times and keeps the upper quartile. A figure taken while the
    machine was busy is provisional: a later call in a quiet moment probes again and replaces it
    only if the two differ by more than SETTLE_RATIO. Once made in a quiet moment it stays (a
    calibration belongs to one machine: hardware.machine_key). ``probe`` and ``quiet`` are for
    tests. Blocks for a moment (the probes, the quiet check): not on the window's thread.
    """
    stored = ((_read().get("settled") or {}).get("probe")) or {}
    figure = _number(stored.get("bandwidth"))
    if figure and stored.get("quiet"):
        return figure
    if quiet is None:
        quiet = machine_is_quiet()
    if figure and not quiet:
        return figure  # keep the provisional figure until a quiet moment
    probe = probe or hardware.probe_memory_bandwidth
    try:
        runs = [value for value in (probe() for _ in range(PROBE_RUNS)) if _number(value)]
    except (MemoryError, OSError, ValueError):
        runs = []
    if not runs:
        return figure or None
    # Another program only ever slows a copy down: the upper quartile of the runs.
    measured = statistics.quantiles(runs, n=4, method="inclusive")[2] if len(runs) > 1 else runs[0]

    def keep(data: dict) -> None:
        settled = _settled(data)
        before = settled.get("probe") or {}
        old = _number(before.get("bandwidth"))
        if old and before.get("quiet"):
            return  # another process settled it meanwhile
        close = old and 1 / SETTLE_RATIO <= measured / old <= SETTLE_RATIO
        settled["probe"] = {"bandwidth": old if close else measured, "quiet": bool(quiet),
                            "runs": runs, "at": time.time()}

    try:
        return _number(_update(keep)["settled"]["probe"]["bandwidth"]) or measured
    except Exception:  # noqa: BLE001 - a read-only data folder: the probe still counts for this process
        return figure or measured


def calibrate(profile: HardwareProfile | None = None, data: dict | None = None,
              probe: bool = True) -> Calibration:
    """Each engine's decode bandwidth and fixed part here: the settled figures.

    The memory figure is the settled probe (``settle_probe``), else the profile's, else the one
    stored by hardware (``probe`` False: never probe now, the fallback instead). An engine with
    settled figures from replies uses them, one without borrows the other's, else the probe's.
    """
    data = _read() if data is None else data
    stored = data.get("settled")
    settled = stored if isinstance(stored, dict) else _settled(dict(data))
    memory = (_number((settled.get("probe") or {}).get("bandwidth"))
              or (profile.memory_bandwidth if profile is not None and profile.memory_bandwidth else None)
              or _stored_or_probe(data, probe))
    bandwidth, overhead, measured = {}, {}, set()
    for engine, figures in (settled.get("engines") or {}).items():
        if engine in ENGINES and isinstance(figures, dict) and _number(figures.get("bandwidth")):
            bandwidth[engine] = _number(figures["bandwidth"])
            overhead[engine] = max(0.0, float(figures.get("overhead_s") or 0.0))
            measured.add(engine)
    for engine in ENGINES:
        if engine not in measured:
            donor = next((e for e in ENGINES if e in measured), None)
            bandwidth[engine] = (bandwidth[donor] if donor else
                                 (memory or FALLBACK_BANDWIDTH) * PROBE_TO_DECODE)
            overhead[engine] = overhead[donor] if donor else 0.0
    confirmed = frozenset(e for e in settled.get("confirmed") or () if e in ENGINES)
    return Calibration(bandwidth, overhead, frozenset(measured), bool(memory), confirmed)


def _stored_or_probe(data: dict, probe: bool = True) -> float | None:
    stored = _number(data.get("bandwidth"))
    return stored or (hardware.memory_bandwidth() if probe else None)


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
    elif cal.measured and engine in cal.confirmed:
        note = translate("Core", "from replies measured on this computer with the other engine, which "
                         "this engine's replies agree with")
    elif cal.measured:
        note = translate("Core", "from replies measured on this computer with the other engine")
    elif engine in cal.confirmed:
        note = translate("Core", "from this computer's memory speed, which the replies measured here "
                         "agree with")
    else:
        note = translate("Core", "from this computer's memory speed, until replies measured here "
                         "show otherwise")
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
