"""Hardware detection: the real machine, and every probe's parser fed canned output.

The real-machine tests hold on any machine (GPU or not); the rest pin the parsers down with
text the tools really print.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time

import pytest

from desktop import hardware
from desktop.hardware import GpuInfo, HardwareProfile
from desktop.units import GIB, MIB, format_bytes


@pytest.fixture(autouse=True)
def _own_gpu_cache(monkeypatch):
    # A test that hides nvidia-smi must not leave "no GPU" cached for the tests after it.
    monkeypatch.setattr(hardware, "_gpu_cache", None)


def make_profile(**overrides) -> HardwareProfile:
    values = dict(
        os="Linux", os_version="6.8", machine="x86_64", cpu_name="Test CPU", physical_cores=4,
        logical_cores=8, cpu_features=["avx", "avx2", "fma"], cpu_features_source="test",
        ram_total=32 * GIB, ram_available=24 * GIB, gpus=[], llama_gpu_offload=False,
        llama_backends=[], onnx_providers=["cpu"], models_dir="/models", disk_free=100 * GIB,
    )
    values.update(overrides)
    return HardwareProfile(**values)


def nvidia(free_gib: float | None = 22.0, total_gib: float = 24.0) -> GpuInfo:
    return GpuInfo("NVIDIA GeForce RTX 4090", "nvidia", int(total_gib * GIB),
                   None if free_gib is None else int(free_gib * GIB), ["cuda", "vulkan"])


# --- this machine -------------------------------------------------------------------------------


def test_this_machine_has_sane_numbers(tmp_path):
    p = hardware.detect(tmp_path / "models")
    assert p.logical_cores >= 1
    assert 1 <= p.physical_cores <= p.logical_cores
    assert p.ram_total > 0
    assert 0 < p.ram_available <= p.ram_total
    assert p.cpu_name and p.cpu_name.strip() == p.cpu_name
    assert p.os == platform.system()
    assert p.machine == hardware.normalize_machine(platform.machine())
    assert p.cpu_features == [f for f in hardware.FEATURES if f in p.cpu_features], "known names, in order"
    if p.machine == "x86_64":
        # Every x86-64 CPU made since 2006 has SSE3; llama.cpp wheels assume AVX besides.
        assert "sse3" in p.cpu_features or "avx2" in p.cpu_features
    elif p.machine == "arm64":
        assert "neon" in p.cpu_features
    for gpu in p.gpus:
        assert gpu.name
        assert gpu.vram_total is None or gpu.vram_total > 0
        if gpu.vram_total is not None and gpu.vram_free is not None:
            assert 0 <= gpu.vram_free <= gpu.vram_total


def test_engines_report_what_their_builds_say(tmp_path):
    p = hardware.detect(tmp_path)
    assert p.onnx_providers[0] == "cpu"
    assert set(p.onnx_providers) <= {"cpu", "cuda", "dml"}
    og = pytest.importorskip("onnxruntime_genai")
    assert ("cuda" in p.onnx_providers) == bool(og.is_cuda_available())
    assert ("dml" in p.onnx_providers) == bool(og.is_dml_available())
    llama_cpp = pytest.importorskip("llama_cpp")
    assert p.llama_gpu_offload == bool(llama_cpp.llama_supports_gpu_offload())


def test_no_gpu_means_the_cpu_everywhere(tmp_path):
    p = hardware.detect(tmp_path)
    if p.gpus:
        pytest.skip("this machine has a GPU")
    assert p.usable_gpus("llama") == [] and p.usable_gpus("onnx") == []
    line = next(line for line in p.summary_lines() if line.startswith("GPU:"))
    assert line.startswith("GPU: none found (llama.cpp: ")
    assert f"ONNX: {', '.join(p.onnx_providers)})" in line


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/cpuinfo")
def test_linux_features_come_from_proc_cpuinfo(tmp_path):
    with open("/proc/cpuinfo") as f:
        name, features = hardware.parse_cpuinfo(f.read())
    p = hardware.detect(tmp_path)
    assert p.cpu_features == features
    assert p.cpu_features_source == "/proc/cpuinfo"
    if name:
        assert p.cpu_name == " ".join(name.split())


def test_profile_is_json_and_reads_as_lines(tmp_path):
    models = tmp_path / "not" / "yet" / "models"
    p = hardware.detect(models)
    data = json.loads(json.dumps(p.to_dict()))
    assert data["ram_total"] == p.ram_total
    assert data["models_dir"] == str(models)
    assert isinstance(data["gpus"], list)
    lines = p.summary_lines()
    assert [line.split(":")[0] for line in lines[:4]] == ["OS", "CPU", "RAM", "GPU"]
    assert lines[-1].split(":")[0] == "Disk"
    assert f"{p.physical_cores} cores / {p.logical_cores} threads" in lines[1]
    assert f"{p.ram_total / GIB:.1f} GB total" in lines[2]
    assert str(models) in lines[-1] and "free in" in lines[-1]


def test_detect_is_quick_once_warm(tmp_path):
    hardware.detect(tmp_path)
    start = time.perf_counter()
    for _ in range(3):
        hardware.detect(tmp_path)
    assert (time.perf_counter() - start) / 3 < 0.5


def test_default_models_dir_is_under_the_data_dir(data_dir):
    p = hardware.detect()
    assert p.models_dir == str(data_dir / "models")
    assert p.disk_free is not None and p.disk_free > 0


# --- disk -----------------------------------------------------------------------------------------


def test_disk_free_walks_up_to_a_folder_that_exists(tmp_path):
    missing = tmp_path / "a" / "b" / "c"
    free = hardware.disk_free(missing)
    assert not missing.exists()
    assert free is not None
    assert abs(free - shutil.disk_usage(tmp_path).free) < 256 * MIB


# --- nvidia-smi -----------------------------------------------------------------------------------

SMI_OUTPUT = """\
NVIDIA GeForce RTX 4090, 24564, 23012
NVIDIA A100-SXM4-80GB, 81920, [N/A]
Quadro RTX 4000, Max-Q, 8192, 7800
"""


def test_nvidia_smi_csv_is_parsed():
    gpus = hardware.parse_nvidia_smi(SMI_OUTPUT)
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA A100-SXM4-80GB",
                                      "Quadro RTX 4000, Max-Q"]
    assert gpus[0].vram_total == 24564 * MIB and gpus[0].vram_free == 23012 * MIB
    assert gpus[1].vram_total == 81920 * MIB and gpus[1].vram_free is None
    assert gpus[1].vram_usable == 81920 * MIB  # free unknown: the total is what can be judged
    assert all(g.vendor == "nvidia" and "cuda" in g.backends for g in gpus)


def test_nvidia_smi_error_text_is_no_gpu():
    text = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
            "Make sure that the latest NVIDIA driver is installed and running.\n")
    assert hardware.parse_nvidia_smi(text) == []
    assert hardware.parse_nvidia_smi("") == []


def test_missing_nvidia_smi_is_not_run():
    def runner(cmd, timeout):
        raise AssertionError("nvidia-smi is not there to run")

    assert hardware.nvidia_gpus(runner=runner, which=lambda name: None) == []


def test_runner_output_reaches_the_parser():
    calls = []

    def runner(cmd, timeout):
        calls.append((cmd, timeout))
        return 0, SMI_OUTPUT

    gpus = hardware.nvidia_gpus(runner=runner, which=lambda name: "/usr/bin/" + name)
    assert len(gpus) == 3
    (cmd, timeout), = calls
    assert cmd[0] == "nvidia-smi" and "--format=csv,noheader,nounits" in cmd
    assert "--query-gpu=name,memory.total,memory.free" in cmd
    assert 0 < timeout <= 5


@pytest.mark.parametrize("result", [None, (9, SMI_OUTPUT)], ids=["failed-to-run", "exit-status"])
def test_failing_nvidia_smi_is_no_gpu(result):
    assert hardware.nvidia_gpus(runner=lambda cmd, t: result, which=lambda n: "/x/" + n) == []


def test_detect_without_nvidia_smi_on_path(tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert hardware.nvidia_gpus() == []
    p = hardware.detect(tmp_path, refresh=True)
    assert all(g.vendor != "nvidia" for g in p.gpus)


def _fake_tool(folder, name, body):
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(0o755)
    return tool


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script stand-in for nvidia-smi")
def test_a_real_nvidia_smi_process_is_read(tmp_path, monkeypatch):
    canned = tmp_path / "smi.txt"
    canned.write_text(SMI_OUTPUT)
    _fake_tool(tmp_path / "bin", "nvidia-smi", f'cat "{canned}"\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    assert [g.vram_total for g in hardware.nvidia_gpus()] == [24564 * MIB, 81920 * MIB, 8192 * MIB]


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script stand-in for nvidia-smi")
def test_a_hanging_nvidia_smi_is_given_up_on(tmp_path, monkeypatch):
    _fake_tool(tmp_path / "bin", "nvidia-smi", "exec sleep 30\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    monkeypatch.setattr(hardware, "NVIDIA_SMI_TIMEOUT_S", 0.3)
    start = time.perf_counter()
    assert hardware.nvidia_gpus() == []
    assert time.perf_counter() - start < 5


# --- CPU parsers ----------------------------------------------------------------------------------

X86_CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 154
model name\t: 12th Gen Intel(R) Core(TM)  i7-1260P
flags\t\t: fpu vme sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx_vnni bmi2

processor\t: 1
model name\t: 12th Gen Intel(R) Core(TM)  i7-1260P
flags\t\t: fpu vme sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx_vnni bmi2
"""

ARM_CPUINFO = """\
processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm asimddp
CPU implementer\t: 0x41
CPU part\t: 0xd0b

Hardware\t: BCM2835
Model\t\t: Raspberry Pi 5 Model B Rev 1.0
"""


def test_x86_cpuinfo():
    name, features = hardware.parse_cpuinfo(X86_CPUINFO)
    assert name == "12th Gen Intel(R) Core(TM)  i7-1260P"
    assert features == ["sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni"]


def test_arm_cpuinfo():
    name, features = hardware.parse_cpuinfo(ARM_CPUINFO)
    assert name == "Raspberry Pi 5 Model B Rev 1.0"
    assert features == ["neon", "dotprod", "fp16"]


def test_macos_sysctl_intel_and_apple_silicon():
    intel = hardware.parse_sysctl(
        "machdep.cpu.brand_string: Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz\n"
        "machdep.cpu.features: FPU VME SSE SSE2 SSE3 SSSE3 FMA SSE4.1 SSE4.2 AVX1.0 F16C\n"
        "machdep.cpu.leaf7_features: RDWRFSGS TSC_THREAD_OFFSET SGX BMI1 AVX2 SMEP BMI2\n"
    )
    assert intel["machdep.cpu.brand_string"].startswith("Intel(R) Core(TM) i9")
    assert hardware.features_from_sysctl(intel) == ["sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2",
                                                    "fma", "f16c"]
    apple = hardware.parse_sysctl(
        "machdep.cpu.brand_string: Apple M2 Pro\nhw.optional.neon: 1\nhw.optional.AdvSIMD: 1\n"
        "hw.optional.arm.FEAT_DotProd: 1\nhw.optional.arm.FEAT_I8MM: 0\nhw.optional.arm.FEAT_FP16: 1\n"
        "iogpu.wired_limit_mb: 0\n"
    )
    assert hardware.features_from_sysctl(apple) == ["neon", "dotprod", "fp16"]


def test_llama_system_info():
    cpu_only = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
                "AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 0 | LLAMAFILE = 1 | ")
    backends, features = hardware.parse_llama_system_info(cpu_only)
    assert backends == []
    assert features == ["sse3", "ssse3", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni"]
    cuda = "CUDA : ARCHS = 500,610,700,750,800 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | " + cpu_only
    assert hardware.parse_llama_system_info(cuda)[0] == ["cuda"]
    arm = "Metal : EMBED_LIBRARY = 1 | CPU : NEON = 1 | ARM_FMA = 1 | FP16_VA = 1 | DOTPROD = 1 | SME = 0 |"
    backends, features = hardware.parse_llama_system_info(arm)
    assert backends == ["metal"] and features == ["fma", "neon", "dotprod", "fp16"]


# --- other GPUs ----------------------------------------------------------------------------------


def test_apple_gpu_gets_macos_share_of_unified_memory():
    small = hardware.apple_gpu("Apple M2", 16 * GIB, 10 * GIB)
    assert small.name == "Apple M2 GPU" and small.unified_memory and small.backends == ["metal"]
    assert small.vram_total == int(16 * GIB * 2 / 3)
    assert small.vram_free == 10 * GIB  # no more than the RAM that is free
    big = hardware.apple_gpu("Apple M3 Max", 64 * GIB, 60 * GIB)
    assert big.vram_total == 48 * GIB and big.vram_free == 48 * GIB
    raised = hardware.apple_gpu("Apple M3 Max", 64 * GIB, 60 * GIB, wired_limit_mb=57344)
    assert raised.vram_total == 56 * GIB


def test_amd_gpu_from_sysfs(tmp_path):
    def card(name, vendor, total=None, used=None):
        dev = tmp_path / name / "device"
        dev.mkdir(parents=True)
        (dev / "vendor").write_text(vendor + "\n")
        (dev / "device").write_text("0x744c\n")
        if total is not None:
            (dev / "mem_info_vram_total").write_text(f"{total}\n")
            (dev / "mem_info_vram_used").write_text(f"{used}\n")

    card("card0", "0x8086")  # an Intel iGPU: not listed
    card("card1", "0x1002", 24 * GIB, 2 * GIB)
    (tmp_path / "card1-DP-1").mkdir()  # a connector, not a card
    gpus = hardware.amd_gpus_linux(tmp_path)
    assert len(gpus) == 1
    assert gpus[0].vendor == "amd" and gpus[0].vram_total == 24 * GIB and gpus[0].vram_free == 22 * GIB
    assert hardware.amd_gpus_linux(tmp_path / "missing") == []


class FakeWinreg:
    """Just enough of winreg for the display-adapter class key."""

    HKEY_LOCAL_MACHINE = "HKLM"

    def __init__(self, adapters):
        self.adapters = adapters

    class Key:
        def __init__(self, values):
            self.values = values

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def OpenKey(self, parent, sub):  # noqa: N802 - winreg's names
        if parent == self.HKEY_LOCAL_MACHINE:
            return self.Key(None)
        if sub not in self.adapters:
            raise OSError(sub)
        return self.Key(self.adapters[sub])

    def EnumKey(self, key, i):  # noqa: N802
        names = [*self.adapters, "Properties"]
        if i >= len(names):
            raise OSError("no more")
        return names[i]

    def QueryValueEx(self, key, name):  # noqa: N802
        if name not in key.values:
            raise OSError(name)
        return key.values[name], 0


def test_windows_adapters_from_the_registry():
    reg = FakeWinreg({
        "0000": {"DriverDesc": "AMD Radeon RX 7800 XT", "ProviderName": "Advanced Micro Devices, Inc.",
                 "HardwareInformation.qwMemorySize": (16 * GIB).to_bytes(8, "little")},
        "0001": {"DriverDesc": "Microsoft Basic Render Driver", "ProviderName": "Microsoft"},
        "0002": {"DriverDesc": "Intel(R) UHD Graphics 770", "ProviderName": "Intel Corporation"},
    })
    gpus = hardware.windows_adapters(reg)
    assert [(g.name, g.vendor, g.vram_total) for g in gpus] == [
        ("AMD Radeon RX 7800 XT", "amd", 16 * GIB), ("Intel(R) UHD Graphics 770", "intel", None)]
    assert all("dml" in g.backends for g in gpus)


# --- which engine uses which GPU ----------------------------------------------------------------


def test_llama_uses_a_gpu_only_with_an_offload_build_for_it():
    gpu = nvidia()
    assert make_profile(gpus=[gpu]).usable_gpus("llama") == []
    cuda_build = make_profile(gpus=[gpu], llama_gpu_offload=True, llama_backends=["cuda"])
    assert cuda_build.usable_gpus("llama") == [gpu]
    metal_build = make_profile(gpus=[gpu], llama_gpu_offload=True, llama_backends=["metal"])
    assert metal_build.usable_gpus("llama") == []
    # A build that names no backend drives the platform's GPU, but never through DirectML.
    dml_only = GpuInfo("Some Adapter", "other", 4 * GIB, None, ["dml"])
    profile = make_profile(gpus=[gpu, dml_only], llama_gpu_offload=True)
    assert profile.usable_gpus("llama") == [gpu]


def test_onnx_uses_a_gpu_through_a_provider_it_has():
    gpu = nvidia()
    assert make_profile(gpus=[gpu]).usable_gpus("onnx") == []
    with_cuda = make_profile(gpus=[gpu], onnx_providers=["cpu", "cuda"])
    assert with_cuda.usable_gpus("onnx") == [gpu]
    assert with_cuda.usable_gpus("onnx", provider="cuda") == [gpu]
    assert with_cuda.usable_gpus("onnx", provider="cpu") == []
    assert with_cuda.usable_gpus("onnx", provider="dml") == []
    with pytest.raises(ValueError):
        with_cuda.usable_gpus("torch")


def test_summary_names_the_gpu_and_who_uses_it():
    p = make_profile(gpus=[nvidia(22.0)], llama_gpu_offload=True, llama_backends=["cuda"],
                     models_dir=os.path.join(os.path.expanduser("~"), "m"), disk_free=int(80.1 * GIB))
    lines = p.summary_lines()
    assert "GPU: NVIDIA GeForce RTX 4090 — 24.0 GB VRAM, 22.0 GB free — used by llama.cpp" in lines
    assert "Engines: llama.cpp: GPU offload (cuda); ONNX: cpu" in lines
    assert lines[-1] == f"Disk: 80.1 GB free in ~{os.sep}m"
    assert "CPU: Test CPU — 4 cores / 8 threads — AVX, AVX2, FMA" in lines


def test_format_gb():
    assert format_bytes(int(23.4 * GIB)) == "23.4 GB"
    assert format_bytes(300 * MIB) == "300 MB"


def test_the_profile_carries_this_machines_memory_bandwidth(tmp_path):
    """Probed once per process (the speed estimate starts from it) and kept with the calibration,
    which belongs to this machine only."""
    p = hardware.detect(tmp_path)
    assert p.memory_bandwidth and 1e8 < p.memory_bandwidth < 1e13
    assert p.to_dict()["memory_bandwidth"] == p.memory_bandwidth
    hardware.update_calibration(lambda data: data.update(note="kept"))
    assert hardware.read_calibration()["note"] == "kept"
    assert hardware.read_calibration()["machine"] == hardware.machine_key()
    hardware.calibration_path().write_text("{not json", encoding="utf-8")
    assert hardware.read_calibration() == {}  # damaged: started again, never an error
