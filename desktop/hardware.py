"""This machine's hardware, and what each engine can use of it.

``detect()`` answers the library's questions: how much memory is there for a model, is there a GPU
an engine can put it on, how much room is left for downloads. It must be cheap enough to run each
time the library opens (well under half a second), so what cannot change while the app runs
(CPU, the engines' builds, the GPU list) is probed once per process; RAM, disk and free VRAM are
read again, the last no more often than every ``GPU_CACHE_TTL_S`` because ``nvidia-smi`` is slow.

Every probe tolerates a missing tool, a missing engine and an odd platform: detection never
raises, never hangs (each command has a timeout), and says "unknown" rather than guess.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from desktop.privacy import import_genai
from desktop.text import translate
from desktop.units import GIB, MIB, format_bytes

# A cold nvidia-smi (no persistence daemon) takes up to a second or so on a multi-GPU box; a
# driver in a bad state can hang it for much longer. Two seconds keeps a broken driver from
# stalling the library view while leaving a healthy one time to answer.
NVIDIA_SMI_TIMEOUT_S = 2.0
SYSCTL_TIMEOUT_S = 1.0
# Free VRAM moves when other programs draw on the GPU, but not from one click to the next.
GPU_CACHE_TTL_S = 30.0

# The CPU features llama.cpp's kernels choose between, in the order they are shown. The many
# other flags a CPU reports make no difference to how fast a model runs.
FEATURES = (
    "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c",
    "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_int8",
    "neon", "dotprod", "i8mm", "sve", "fp16",
)
# The summary line would be unreadable with all of them: these are the ones that decide speed.
SUMMARY_FEATURES = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni",
                    "neon", "dotprod", "i8mm", "sve")

# Names the kernels (Linux) and sysctl (macOS) use for the features above.
_FLAG_ALIASES = {
    "pni": "sse3",          # Linux calls SSE3 "pni" (Prescott New Instructions)
    "asimd": "neon",        # arm64 Linux: Advanced SIMD is NEON
    "asimddp": "dotprod",
    "asimdhp": "fp16",
    "avx1.0": "avx",        # Intel macOS, machdep.cpu.features
    "sse4.1": "sse4_1",
    "sse4.2": "sse4_2",
    "avx512vnni": "avx512_vnni",
    "avx512bf16": "avx512_bf16",
    "avxvnni": "avx_vnni",
}

# llama.cpp's names for its GPU backends, as llama_print_system_info() prints them.
_LLAMA_BACKENDS = {"cuda": "cuda", "metal": "metal", "vulkan": "vulkan", "rocm": "rocm", "hip": "rocm",
                   "sycl": "sycl", "opencl": "opencl"}
# llama.cpp says AVX512 for the foundation set, and ARM_FMA / MATMUL_INT8 on arm64.
_LLAMA_FLAGS = {"avx512": "avx512f", "arm_fma": "fma", "matmul_int8": "i8mm", "fp16_va": "fp16"}
# The ONNX engine drives only these (desktop.engines.onnx_engine.DEVICES).
_ONNX_GPU_PROVIDERS = ("cuda", "dml")

Runner = Callable[[list[str], float], "tuple[int, str] | None"]


@dataclass
class GpuInfo:
    name: str
    vendor: str  # "nvidia", "amd", "intel", "apple" or "other"
    vram_total: int | None  # bytes; None when the driver does not say
    vram_free: int | None  # bytes; None when unknown (then only the total can be judged)
    # The APIs this GPU can be driven through ("cuda", "metal", "vulkan", "rocm", "dml", ...);
    # whether an engine here was built for one of them is HardwareProfile.usable_gpus().
    backends: list[str] = field(default_factory=list)
    unified_memory: bool = False  # Apple Silicon: "VRAM" is the RAM, shared with everything else

    @property
    def vram_usable(self) -> int | None:
        return self.vram_free if self.vram_free is not None else self.vram_total


@dataclass
class HardwareProfile:
    os: str  # platform.system(): "Linux", "Darwin", "Windows"
    os_version: str
    machine: str  # "x86_64" or "arm64" (aliases folded)
    cpu_name: str
    physical_cores: int
    logical_cores: int
    cpu_features: list[str]
    cpu_features_source: str  # where the features came from, since on Windows it is partly a guess
    ram_total: int
    ram_available: int
    gpus: list[GpuInfo]
    llama_gpu_offload: bool
    llama_backends: list[str]  # GPU backends this llama.cpp build names; may be empty even with offload
    onnx_providers: list[str]  # "cpu" always, then "cuda"/"dml" when this onnxruntime-genai has them
    models_dir: str | None = None
    disk_free: int | None = None  # bytes free on the disk that holds (or will hold) models_dir
    swap_total: int = 0  # swap (Linux), page file (Windows); macOS grows its swap on demand
    # Bytes/s one core copies through RAM (read + write), probed once (see memory_bandwidth());
    # None when the profile was made without it. The decode-speed estimate starts from it.
    memory_bandwidth: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def usable_gpus(self, engine: str, provider: str | None = None) -> list[GpuInfo]:
        """The GPUs ``engine`` ("llama" or "onnx") can run a model on here.

        For ONNX a model folder is built for one provider ("cuda", "dml"); pass it as
        ``provider``. A folder built for the CPU runs on the CPU, so it gets no GPU.
        """
        if engine == "llama":
            if not self.llama_gpu_offload:
                return []
            if not self.llama_backends:
                # An offload build that does not name its backend (Metal builds do not) is the
                # one this platform's installer provides, so it drives this platform's GPU; only
                # DirectML is certain not to be it (llama.cpp has no DirectML backend).
                return [g for g in self.gpus if set(g.backends) - {"dml"}]
            return [g for g in self.gpus if set(g.backends) & set(self.llama_backends)]
        if engine == "onnx":
            wanted = [provider] if provider else list(_ONNX_GPU_PROVIDERS)
            wanted = [p for p in wanted if p in self.onnx_providers and p != "cpu"]
            return [g for g in self.gpus if set(g.backends) & set(wanted)]
        raise ValueError(f"unknown engine {engine!r}: use 'llama' or 'onnx'")

    def summary_lines(self) -> list[str]:
        lines = [translate("Core", "OS: {os} {version} ({machine})").format(
            os=_os_label(self.os), version=self.os_version, machine=self.machine)]
        shown = [f.upper() for f in SUMMARY_FEATURES if f in self.cpu_features]
        cores = translate("Core", "{cores} cores / {threads} threads").format(
            cores=self.physical_cores, threads=self.logical_cores)
        lines.append(translate("Core", "CPU: {name} — {cores} — {features}").format(
            name=self.cpu_name, cores=cores,
            features=", ".join(shown) or translate("Core", "no SIMD features found")))
        lines.append(translate("Core", "RAM: {total} total, {available} available").format(
            total=format_bytes(self.ram_total), available=format_bytes(self.ram_available)))
        llama = translate("Core", "GPU offload") + (f" ({', '.join(self.llama_backends)})"
                                            if self.llama_backends else "")
        engines = translate("Core", "llama.cpp: {llama}; ONNX: {onnx}").format(
            llama=llama if self.llama_gpu_offload else translate("Core", "CPU build"),
            onnx=", ".join(self.onnx_providers))
        if not self.gpus:
            lines.append(translate("Core", "GPU: none found ({engines})").format(engines=engines))
        for gpu in self.gpus:
            if gpu.vram_total is None:
                memory = translate("Core", "memory unknown")
            elif gpu.unified_memory:
                memory = translate("Core", "shares RAM, up to {size} for the GPU").format(
                    size=format_bytes(gpu.vram_total))
            else:
                memory = translate("Core", "{size} VRAM").format(size=format_bytes(gpu.vram_total))
                if gpu.vram_free is not None:
                    memory += translate("Core", ", {size} free").format(size=format_bytes(gpu.vram_free))
            users = [name for name, engine in (("llama.cpp", "llama"), ("ONNX", "onnx"))
                     if gpu in self.usable_gpus(engine)]
            if users:
                used = translate("Core", "used by {engines}").format(
                    engines=translate("Core", " and ").join(users))
            else:
                used = translate("Core", "no engine here can use it")
            lines.append(translate("Core", "GPU: {name} — {memory} — {used}").format(
                name=gpu.name, memory=memory, used=used))
        if self.gpus:
            lines.append(translate("Core", "Engines: {engines}").format(engines=engines))
        if self.disk_free is None:
            if self.models_dir:
                lines.append(translate("Core", "Disk: free space unknown in {folder}").format(
                    folder=_home_short(self.models_dir)))
            else:
                lines.append(translate("Core", "Disk: free space unknown"))
        else:
            lines.append(translate("Core", "Disk: {free} free in {folder}").format(
                free=format_bytes(self.disk_free), folder=_home_short(self.models_dir)))
        return lines


def _os_label(system: str) -> str:
    return {"Darwin": "macOS"}.get(system, system)


def _home_short(path: str | None) -> str:
    if not path:
        return "?"
    home = str(Path.home())
    return "~" + path[len(home):] if path == home or path.startswith(home + os.sep) else path


def normalize_machine(machine: str) -> str:
    m = machine.lower()
    return {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64", "armv8": "arm64"}.get(m, m)


# --- running tools ------------------------------------------------------------------------------


def _run(cmd: list[str], timeout: float) -> tuple[int, str] | None:
    """(exit status, stdout) of a short command; None when it is missing, hangs or fails to start."""
    kwargs = {}
    if sys.platform == "win32":
        # A GUI app that runs a console program flashes a console window without this.
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False, **kwargs)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.returncode, done.stdout or ""


# --- CPU --------------------------------------------------------------------------------------


def _normalize_features(names) -> list[str]:
    found = {_FLAG_ALIASES.get(n.lower(), n.lower()) for n in names}
    return [f for f in FEATURES if f in found]


def parse_cpuinfo(text: str) -> tuple[str | None, list[str]]:
    """(model name, features) from the text of /proc/cpuinfo, x86 or ARM."""
    names: dict[str, str] = {}
    flags: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            continue
        if key in ("model name", "model", "hardware") and key not in names and not value.isdigit():
            names[key] = value
        elif key in ("flags", "features") and not flags:
            flags = value.split()
    # arm64 Linux has no "model name": boards name the machine in "Model" ("Raspberry Pi 5
    # Model B"), or the SoC in "Hardware". On x86 "model" is a number, skipped above.
    name = names.get("model name") or names.get("model") or names.get("hardware")
    return name, _normalize_features(flags)


def parse_sysctl(text: str) -> dict[str, str]:
    """``name: value`` lines from ``sysctl NAME...`` (macOS) as a dict."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    return values


_SYSCTL_KEYS = (
    "machdep.cpu.brand_string", "machdep.cpu.features", "machdep.cpu.leaf7_features",
    "hw.optional.neon", "hw.optional.AdvSIMD", "hw.optional.arm.FEAT_DotProd",
    "hw.optional.arm.FEAT_I8MM", "hw.optional.arm.FEAT_FP16", "iogpu.wired_limit_mb",
)


def features_from_sysctl(values: dict[str, str]) -> list[str]:
    # Intel Macs list AVX2 and AVX-512 among the leaf-7 features, not the first list.
    names = (values.get("machdep.cpu.features", "").split()
             + values.get("machdep.cpu.leaf7_features", "").split())
    arm = {"hw.optional.neon": "neon", "hw.optional.AdvSIMD": "neon",
           "hw.optional.arm.FEAT_DotProd": "dotprod", "hw.optional.arm.FEAT_I8MM": "i8mm",
           "hw.optional.arm.FEAT_FP16": "fp16"}
    names += [feature for key, feature in arm.items() if values.get(key) == "1"]
    return _normalize_features(names)


@functools.lru_cache(maxsize=1)
def _macos_sysctl() -> dict[str, str]:
    # Unknown names (an ARM key on Intel, say) make sysctl exit non-zero but print the rest.
    result = _run(["sysctl", *_SYSCTL_KEYS], SYSCTL_TIMEOUT_S)
    return parse_sysctl(result[1]) if result else {}


# IsProcessorFeaturePresent's PF_* numbers (winnt.h). The AVX ones exist only since Windows 10
# 22H2-era SDKs: an older Windows answers "no" for them, so llama.cpp's own view fills in below.
_WINDOWS_PF = {10: "sse2", 13: "sse3", 36: "ssse3", 37: "sse4_1", 38: "sse4_2", 39: "avx", 40: "avx2",
               41: "avx512f", 19: "neon", 43: "dotprod"}


def _windows_cpu() -> tuple[str | None, list[str]]:
    name = None
    try:
        import winreg

        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"HARDWARE\DESCRIPTION\System\CentralProcessor\0")
        with key:
            name = str(winreg.QueryValueEx(key, "ProcessorNameString")[0]).strip()
    except (ImportError, OSError):
        pass
    features: list[str] = []
    try:
        import ctypes

        present = ctypes.windll.kernel32.IsProcessorFeaturePresent  # type: ignore[attr-defined]
        features = [feature for pf, feature in _WINDOWS_PF.items() if present(pf)]
    except (ImportError, AttributeError, OSError):
        pass
    return name, _normalize_features(features)


def parse_llama_system_info(text: str) -> tuple[list[str], list[str]]:
    """(GPU backends, CPU features) from llama_print_system_info().

    It reads ``CPU : SSE3 = 1 | AVX2 = 1 | ... | CUDA : ARCHS = 890 | ...``: each backend's name,
    then its ``KEY = VALUE`` pairs. The CPU features are what the loaded CPU kernels were built
    for, which is the machine's own on a build that picks its kernels at run time.
    """
    backends: list[str] = []
    features: list[str] = []
    for part in text.split("|"):
        part = part.strip()
        m = re.match(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$", part)
        if m:
            backend = _LLAMA_BACKENDS.get(m.group(1).lower())
            if backend and backend not in backends:
                backends.append(backend)
            part = m.group(2)
        key, sep, value = part.partition("=")
        if sep and value.strip() == "1":
            flag = key.strip().lower()
            features.append(_LLAMA_FLAGS.get(flag, flag))
    return backends, _normalize_features(features)


@dataclass(frozen=True)
class _CpuInfo:
    name: str
    physical: int
    logical: int
    features: tuple[str, ...]
    source: str


@functools.lru_cache(maxsize=1)
def _cpu() -> _CpuInfo:
    import psutil

    system = platform.system()
    name, features, source = None, [], "none"
    if system == "Linux":
        try:
            name, features = parse_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
            source = "/proc/cpuinfo"
        except OSError:
            pass
    elif system == "Darwin":
        values = _macos_sysctl()
        name, features = values.get("machdep.cpu.brand_string"), features_from_sysctl(values)
        source = "sysctl"
    elif system == "Windows":
        name, features = _windows_cpu()
        source = "IsProcessorFeaturePresent"
    if system not in ("Linux", "Darwin") or not features:
        # Windows cannot report FMA or F16C at all; elsewhere this is the last resort.
        built = _llama_info()[2]
        if built:
            features = _normalize_features([*features, *built])
            source = f"{source} + llama.cpp build" if source != "none" else "llama.cpp build"
    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or logical
    name = name or platform.processor() or normalize_machine(platform.machine()) or "unknown CPU"
    return _CpuInfo(" ".join(name.split()), physical, logical, tuple(features), source)


# --- engines ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _llama_info() -> tuple[bool, list[str], list[str]]:
    """(GPU offload, GPU backends, CPU features) of the installed llama.cpp; all empty without it."""
    try:
        import llama_cpp
    except Exception:  # ImportError, or the shared library failing to load (OSError)
        return False, [], []
    try:
        offload = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:
        offload = False
    try:
        info = llama_cpp.llama_print_system_info()
        text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
        backends, features = parse_llama_system_info(text)
    except Exception:
        backends, features = [], []
    return offload, backends, features


@functools.lru_cache(maxsize=1)
def _onnx_providers() -> tuple[str, ...]:
    try:
        og = import_genai()  # telemetry off before the runtime starts (desktop/privacy.py)
    except Exception:
        return ("cpu",)
    providers = ["cpu"]
    for name in _ONNX_GPU_PROVIDERS:
        try:
            if getattr(og, f"is_{name}_available")():
                providers.append(name)
        except Exception:
            pass
    return tuple(providers)


# --- GPUs -------------------------------------------------------------------------------------


def parse_nvidia_smi(text: str) -> list[GpuInfo]:
    """GPUs from ``nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits``.

    Memory is in MiB; "[N/A]" (MIG slices, some datacenter boards) reads as unknown.
    """
    gpus = []
    for line in text.splitlines():
        # The name may itself hold a comma, so the two numbers are taken from the right.
        parts = line.rsplit(",", 2)
        if len(parts) != 3 or not parts[0].strip():
            continue
        total, free = (_mib(p) for p in parts[1:])
        if total is None and free is None:
            continue  # not a data line: an error message that happens to hold commas
        gpus.append(GpuInfo(name=parts[0].strip(), vendor="nvidia", vram_total=total, vram_free=free,
                            backends=["cuda", "vulkan"] + (["dml"] if sys.platform == "win32" else [])))
    return gpus


def _mib(text: str) -> int | None:
    try:
        return int(float(text.strip())) * MIB
    except ValueError:
        return None


def nvidia_gpus(runner: Runner | None = None,
                which: Callable[[str], str | None] = shutil.which) -> list[GpuInfo]:
    if which("nvidia-smi") is None:
        return []
    result = (runner or _run)(
        ["nvidia-smi", "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
        NVIDIA_SMI_TIMEOUT_S,
    )
    if not result or result[0] != 0:
        return []
    return parse_nvidia_smi(result[1])


def amd_gpus_linux(drm: Path = Path("/sys/class/drm")) -> list[GpuInfo]:
    """AMD GPUs the amdgpu driver exposes (it alone reports VRAM in sysfs); no tool to run."""
    gpus = []
    try:
        cards = sorted(p for p in drm.glob("card*") if re.fullmatch(r"card\d+", p.name))
    except OSError:
        return []
    for card in cards:
        dev = card / "device"
        try:
            if (dev / "vendor").read_text().strip().lower() != "0x1002":
                continue
            total = int((dev / "mem_info_vram_total").read_text())
            used = int((dev / "mem_info_vram_used").read_text())
            device_id = (dev / "device").read_text().strip()
        except (OSError, ValueError):
            continue
        # sysfs carries no marketing name; the PCI id is what lspci would look up.
        gpus.append(GpuInfo(name=f"AMD GPU ({device_id})", vendor="amd", vram_total=total,
                            vram_free=max(total - used, 0), backends=["rocm", "vulkan"]))
    return gpus


_DISPLAY_CLASS = r"SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}"
# Adapters every Windows lists that are no GPU to run a model on.
_NOT_A_GPU = ("microsoft basic", "microsoft remote", "remote display", "citrix", "vmware svga",
              "parsec virtual", "virtual display")


def windows_adapters(winreg=None) -> list[GpuInfo]:
    """Display adapters from the registry: instant, unlike wmic (gone from new Windows) or PowerShell
    (a second to start). HardwareInformation.qwMemorySize is the dedicated VRAM, as a 64-bit value,
    where WMI's AdapterRAM stops at 4 GB."""
    if winreg is None:
        try:
            import winreg
        except ImportError:
            return []
    gpus = []
    try:
        root = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, _DISPLAY_CLASS)
    except OSError:
        return []
    with root:
        for i in range(64):
            try:
                sub = winreg.EnumKey(root, i)
            except OSError:
                break
            if not sub.isdigit():
                continue  # "Properties" and the like
            try:
                key = winreg.OpenKey(root, sub)
            except OSError:
                continue
            with key:
                name = _reg_value(winreg, key, "DriverDesc")
                if not name or any(s in name.lower() for s in _NOT_A_GPU):
                    continue
                memory = _reg_value(winreg, key, "HardwareInformation.qwMemorySize")
                if isinstance(memory, bytes):
                    memory = int.from_bytes(memory[:8], "little")
                total = memory if isinstance(memory, int) and memory > 0 else None
                provider = str(_reg_value(winreg, key, "ProviderName") or "")
            vendor = _vendor(f"{name} {provider}")
            backends = {"nvidia": ["cuda", "vulkan", "dml"], "amd": ["vulkan", "dml"],
                        "intel": ["vulkan", "dml"]}.get(vendor, ["dml"])
            gpus.append(GpuInfo(name=str(name), vendor=vendor, vram_total=total, vram_free=None,
                                backends=backends))
    return gpus


def _reg_value(winreg, key, name):
    try:
        return winreg.QueryValueEx(key, name)[0]
    except OSError:
        return None


def _vendor(text: str) -> str:
    t = text.lower()
    for needle, vendor in (("nvidia", "nvidia"), ("advanced micro devices", "amd"), ("amd", "amd"),
                           ("radeon", "amd"), ("intel", "intel"), ("apple", "apple")):
        if needle in t:
            return vendor
    return "other"


def apple_gpu(cpu_name: str, ram_total: int, ram_available: int, wired_limit_mb: int = 0) -> GpuInfo:
    """The Apple Silicon GPU: it uses the RAM, up to the share macOS lets the GPU wire.

    macOS's default is about two thirds of RAM up to 36 GB and three quarters above (what Metal
    reports as recommendedMaxWorkingSetSize, and llama.cpp prints at load); ``sysctl
    iogpu.wired_limit_mb`` overrides it when set. What is free for the GPU can be no more than what
    is free in RAM.
    """
    if wired_limit_mb > 0:
        limit = wired_limit_mb * MIB
    else:
        limit = int(ram_total * (2 / 3 if ram_total <= 36 * GIB else 3 / 4))
    name = cpu_name if "apple" in cpu_name.lower() else "Apple Silicon"
    return GpuInfo(name=f"{name} GPU", vendor="apple", vram_total=limit, vram_free=min(limit, ram_available),
                   backends=["metal"], unified_memory=True)


_gpu_cache: tuple[float, list[GpuInfo]] | None = None
_gpu_lock = threading.Lock()


def _discrete_gpus(refresh: bool = False) -> list[GpuInfo]:
    global _gpu_cache
    with _gpu_lock:
        now = time.monotonic()
        if not refresh and _gpu_cache and now - _gpu_cache[0] < GPU_CACHE_TTL_S:
            return [GpuInfo(**asdict(g)) for g in _gpu_cache[1]]
        system = platform.system()
        gpus = nvidia_gpus()
        if system == "Linux":
            gpus += amd_gpus_linux()
        elif system == "Windows":
            # nvidia-smi gave the NVIDIA cards with free VRAM; the registry adds the others.
            have_nvidia = bool(gpus)
            gpus += [g for g in windows_adapters() if not (have_nvidia and g.vendor == "nvidia")]
        _gpu_cache = (now, gpus)
        return [GpuInfo(**asdict(g)) for g in gpus]


# --- disk ---------------------------------------------------------------------------------------


def disk_free(path: str | os.PathLike) -> int | None:
    """Free bytes on the disk that holds ``path``, or will once it is created."""
    p = Path(path).expanduser().absolute()
    for candidate in (p, *p.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def _default_models_dir() -> Path:
    from desktop.paths import data_dir

    return data_dir() / "models"


# --- all of it --------------------------------------------------------------------------------


def detect(models_dir: str | os.PathLike | None = None, refresh: bool = False) -> HardwareProfile:
    """This machine's profile. ``models_dir`` defaults to the app's data folder's ``models``.

    ``refresh`` probes the GPUs again now instead of within GPU_CACHE_TTL_S.
    """
    import psutil

    cpu = _cpu()
    memory = psutil.virtual_memory()
    offload, llama_backends, _ = _llama_info()
    system = platform.system()
    machine = normalize_machine(platform.machine())
    gpus = _discrete_gpus(refresh)
    if system == "Darwin" and machine == "arm64":
        wired = _macos_sysctl().get("iogpu.wired_limit_mb", "0")
        limit_mb = int(wired) if wired.isdigit() else 0
        gpus.insert(0, apple_gpu(cpu.name, memory.total, memory.available, limit_mb))
    if models_dir is None:
        try:
            models_dir = _default_models_dir()
        except OSError:
            models_dir = None
    folder = str(Path(models_dir).expanduser()) if models_dir is not None else None
    return HardwareProfile(
        os=system or sys.platform,
        os_version=platform.release(),
        machine=machine,
        cpu_name=cpu.name,
        physical_cores=cpu.physical,
        logical_cores=cpu.logical,
        cpu_features=list(cpu.features),
        cpu_features_source=cpu.source,
        ram_total=int(memory.total),
        ram_available=int(memory.available),
        gpus=gpus,
        llama_gpu_offload=offload,
        llama_backends=list(llama_backends),
        onnx_providers=list(_onnx_providers()),
        models_dir=folder,
        disk_free=disk_free(folder) if folder else None,
        swap_total=_swap_total(),
        memory_bandwidth=memory_bandwidth(),
    )


def _swap_total() -> int:
    import psutil

    try:
        return int(psutil.swap_memory().total)
    except (OSError, RuntimeError):  # no /proc/swaps in some containers
        return 0


# --- memory bandwidth and the speed calibration -------------------------------------------------

# Decoding a token on the CPU reads every weight once: its speed is bounded by how fast memory
# is read. A copy of PROBE_BYTES (large enough to leave the CPU caches, small enough to take
# well under half a second even on a busy machine) measures it; the best of a few copies, since
# another program may be using the memory at the same moment.
PROBE_BYTES = 32 * MIB
PROBE_REPEATS = 5
CALIBRATION_FILE = "speed_calibration.json"
_probe_lock = threading.Lock()
_probed: float | None = None


def probe_memory_bandwidth(size: int = PROBE_BYTES, repeats: int = PROBE_REPEATS) -> float:
    """Bytes per second copied (read + written) by one core, best of ``repeats`` copies."""
    import ctypes

    src = (ctypes.c_char * size)()
    dst = (ctypes.c_char * size)()
    # Touch both once: the first write to fresh pages costs page faults, not bandwidth.
    ctypes.memset(src, 1, size)
    ctypes.memset(dst, 0, size)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        ctypes.memmove(dst, src, size)
        elapsed = time.perf_counter() - start
        if elapsed > 0:
            best = max(best, 2 * size / elapsed)
    return best


def machine_key() -> str:
    """What a calibration belongs to: the same file copied to another computer is not used."""
    import psutil

    cpu = _cpu()
    ram_gib = round(psutil.virtual_memory().total / GIB)
    return f"{platform.system()}|{normalize_machine(platform.machine())}|{cpu.name}|{cpu.logical}|{ram_gib}"


def calibration_path() -> Path:
    from desktop.paths import data_dir

    return data_dir() / CALIBRATION_FILE


def _calibration_document(timeout: float = 5.0):
    from desktop.storage.jsondoc import JsonDocument

    return JsonDocument(calibration_path(), what=translate("Core", "The speed calibration"),
                        lock_timeout=timeout)


def read_calibration() -> dict:
    """The stored speed calibration of this machine ({} when none, another machine's, or damaged:
    then moved aside with a notice, and measured again)."""
    data = _calibration_document().read()
    return data if data.get("machine") == machine_key() else {}


def update_calibration(change: Callable[[dict], None], timeout: float = 5.0) -> dict:
    """Apply ``change`` to the stored calibration under a file lock (the window's threads and a
    second EdgeChat may record at once) and write it back atomically. A UserError when the lock
    stays taken for ``timeout`` seconds or the file is a newer version's."""

    document = _calibration_document(timeout)

    def apply(data: dict) -> dict:
        if data.get("machine") != machine_key():  # another machine's figures say nothing of this one
            data.clear()
            data.update(version=document.version, machine=machine_key())
        change(data)
        return data

    return document.update(apply)


def memory_bandwidth(refresh: bool = False) -> float | None:
    """This machine's copy bandwidth in bytes/s, probed once per process (about 0.2 s). The best
    probe seen is kept with the calibration: a probe on a busy machine reads low, never high.
    None if it cannot be probed."""
    global _probed
    with _probe_lock:
        if _probed is not None and not refresh:
            return _probed
        try:
            stored = float(read_calibration().get("bandwidth") or 0)
        except (TypeError, ValueError):
            stored = 0.0
        try:
            measured = probe_memory_bandwidth()
        except (MemoryError, OSError, ValueError):
            return stored or None
        best = max(measured, stored, _probed or 0.0)

        def keep(data: dict) -> None:
            data["bandwidth"] = max(best, float(data.get("bandwidth") or 0))
            data["bandwidth_probed_at"] = time.time()

        try:
            best = update_calibration(keep)["bandwidth"]
        except Exception:  # noqa: BLE001 - a read-only data folder must not stop detection
            best = best  # the probe still counts for this process
        _probed = best or None
        return _probed
