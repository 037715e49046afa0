"""Memory estimates and fit verdicts: the formula against real model shapes and real memory use,
and the verdicts against constructed machines at and around each margin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from desktop.engines.context import kv_cache_bytes
from desktop.hardware import GpuInfo, HardwareProfile, apple_gpu
from desktop.models import fit
from desktop.models.fit import MemoryEstimate, Variant
from desktop.paths import disk_size
from desktop.units import GIB, MIB

SMOLLM2_135M = dict(n_layers=30, n_kv_heads=3, head_dim=64)


def make_profile(ram_available: float, ram_total: float | None = None, gpus=(), swap_gib: float = 0,
                 llama_backends=("cuda",), onnx_providers=("cpu",), os="Linux") -> HardwareProfile:
    """A machine with these many GiB of RAM; llama.cpp offloads when there is a GPU."""
    return HardwareProfile(
        os=os, os_version="1", machine="x86_64", cpu_name="Test CPU", physical_cores=4, logical_cores=8,
        cpu_features=["avx2"], cpu_features_source="test",
        ram_total=int((ram_total or max(ram_available * 1.25, 1)) * GIB),
        ram_available=int(ram_available * GIB), gpus=list(gpus), llama_gpu_offload=bool(gpus),
        llama_backends=list(llama_backends), onnx_providers=list(onnx_providers),
        swap_total=int(swap_gib * GIB),
    )


def rtx(free_gib: float | None, total_gib: float = 24.0, name="NVIDIA GeForce RTX 4090") -> GpuInfo:
    return GpuInfo(name, "nvidia", int(total_gib * GIB), None if free_gib is None else int(free_gib * GIB),
                   ["cuda", "vulkan"])


def needing(total_gib: float, engine="llama", context=4096) -> MemoryEstimate:
    """An estimate that needs exactly this much."""
    total = int(total_gib * GIB)
    return MemoryEstimate(weights=total // 2, kv_cache=total // 4, overhead=total - total // 2 - total // 4,
                          total=total, context=context, engine=engine)


# --- the estimate -------------------------------------------------------------------------------


def test_kv_cache_of_smollm2_135m_at_8k():
    assert kv_cache_bytes(30, 3, 64, 8192, 2) == 2 * 30 * 3 * 64 * 8192 * 2 == 188_743_680
    e = fit.estimate(100 * MIB, context=8192, engine="llama", **SMOLLM2_135M)
    assert e.kv_cache == 188_743_680 and not e.kv_estimated
    assert e.context == 8192 and e.engine == "llama"
    assert e.total == e.weights + e.kv_cache + e.overhead


def test_onnx_cpu_models_keep_an_fp32_cache():
    llama = fit.estimate(100 * MIB, context=8192, engine="llama", **SMOLLM2_135M)
    onnx = fit.estimate(100 * MIB, context=8192, engine="onnx", **SMOLLM2_135M)
    assert onnx.kv_cache == 2 * llama.kv_cache == 377_487_360
    cuda_folder = fit.estimate(100 * MIB, context=8192, engine="onnx", kv_bytes_per_elem=2, **SMOLLM2_135M)
    assert cuda_folder.kv_cache == llama.kv_cache


def test_the_builder_still_gives_cpu_int4_an_fp32_io_dtype():
    # The fp32 default above is read off the builder; if a new onnxruntime-genai changes it, so must we.
    try:
        from onnxruntime_genai.models.quantization.quant_config import default_io_dtype
    except ImportError:
        pytest.skip("this onnxruntime-genai has no model builder to ask")
    assert default_io_dtype("int4", "cpu", {}) == "fp32"
    assert default_io_dtype("int4", "cuda", {}) == "fp16"


def test_kv_cache_grows_with_context():
    short = fit.estimate(GIB, context=2048, **SMOLLM2_135M)
    long = fit.estimate(GIB, context=8192, **SMOLLM2_135M)
    assert long.kv_cache == 4 * short.kv_cache
    assert long.weights == short.weights and long.overhead == short.overhead


def test_overhead_is_a_constant_plus_a_share_of_the_weights():
    for engine in fit.ENGINES:
        e = fit.estimate(4 * GIB, context=4096, engine=engine, **SMOLLM2_135M)
        assert e.overhead == int(fit.OVERHEAD_BASE[engine] + fit.OVERHEAD_FRACTION[engine] * 4 * GIB)


# Real shapes (config.json): params, layers, KV heads, head size.
REAL_MODELS = {
    "SmolLM2-135M": (134_515_008, 30, 3, 64),
    "SmolLM2-360M": (361_821_120, 32, 5, 64),
    "SmolLM2-1.7B": (1_711_376_384, 24, 32, 64),
    "Qwen2.5-0.5B": (494_032_768, 24, 2, 64),
    "Qwen2.5-1.5B": (1_543_714_304, 28, 2, 128),
    "Qwen2.5-3B": (3_085_938_688, 36, 2, 128),
    "Qwen2.5-7B": (7_615_616_512, 28, 4, 128),
    "Llama-3.2-1B": (1_235_814_400, 16, 8, 64),
    "Llama-3.2-3B": (3_212_749_824, 28, 8, 128),
    "Llama-3.1-8B": (8_030_261_248, 32, 8, 128),
    "TinyLlama-1.1B": (1_100_048_384, 22, 4, 64),
    "Phi-2": (2_779_683_840, 32, 32, 80),
    "Phi-3-mini": (3_821_079_552, 32, 32, 96),
    "Gemma-2-2B": (2_614_341_888, 26, 4, 256),
    "Mistral-7B": (7_241_732_096, 32, 8, 128),
}


@pytest.mark.parametrize("name", REAL_MODELS)
def test_the_guess_from_parameters_never_undershoots_a_real_model(name):
    params, layers, kv_heads, head_dim = REAL_MODELS[name]
    real = fit.estimate(GIB, context=8192, n_layers=layers, n_kv_heads=kv_heads, head_dim=head_dim)
    guessed = fit.estimate(GIB, params=params, context=8192)
    assert guessed.kv_estimated and not real.kv_estimated
    assert guessed.kv_cache >= real.kv_cache
    # Generous, not absurd: within 15x of the truth for every model above (Qwen2.5's two KV heads
    # make it 13x; MHA models such as Phi-3-mini come within 1.2x).
    assert guessed.kv_cache <= 15 * real.kv_cache


def test_partial_shape_and_no_params_fall_back_to_the_guess():
    partial = fit.estimate(GIB, n_layers=30, context=4096)
    assert partial.kv_estimated
    # Without a parameter count, 4 bits per parameter: a 1 GiB file is taken as 2.1 B parameters.
    assert partial.kv_cache == fit.estimate(GIB, params=2 * GIB, context=4096).kv_cache


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        fit.estimate(GIB, engine="torch")
    with pytest.raises(ValueError):
        fit.estimate(GIB, context=0)
    with pytest.raises(ValueError):
        fit.assess(needing(1), make_profile(8), device="npu")


def test_the_size_of_a_model_file_and_a_model_folder(tmp_path):
    (tmp_path / "m.gguf").write_bytes(b"x" * 1000)
    folder = tmp_path / "onnx"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"x" * 300)
    (folder / "model.onnx.data").write_bytes(b"x" * 700)
    assert disk_size(tmp_path / "m.gguf") == 1000
    assert disk_size(folder) == 1000
    assert disk_size(tmp_path / "gone") == 0


# --- against real memory use --------------------------------------------------------------------

_MEASURE = """
import json, sys, psutil
kind, path, ctx = sys.argv[1], sys.argv[2], int(sys.argv[3])
proc = psutil.Process()
if kind == "llama":
    import llama_cpp
    before = proc.memory_info().rss
    from desktop.engines.llama_engine import _plain_cpu_buffers  # loaded as the app loads it
    with _plain_cpu_buffers(llama_cpp):
        llm = llama_cpp.Llama(model_path=path, n_ctx=ctx, n_threads=2, verbose=False)
    llm.create_completion("Hello, my name is", max_tokens=8)
else:
    import onnxruntime_genai as og
    before = proc.memory_info().rss
    model = og.Model(path)
    tok = og.Tokenizer(model)
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=ctx)
    gen = og.Generator(model, params)
    gen.append_tokens(tok.encode("Hello, my name is"))
    for _ in range(8):
        gen.generate_next_token()
print(json.dumps(proc.memory_info().rss - before))
"""


def _measured(kind, path, ctx) -> int:
    out = subprocess.run([sys.executable, "-c", _MEASURE, kind, str(path), str(ctx)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("engine", ["llama", "onnx"])
def test_estimate_covers_what_the_real_model_uses(engine, request):
    from desktop.engines.gguf import read_gguf

    gguf_path = request.getfixturevalue("model_path")
    info = read_gguf(gguf_path)
    shape = dict(n_layers=info.n_layers, n_kv_heads=info.n_kv_heads, head_dim=info.head_dim)
    assert shape == SMOLLM2_135M  # the numbers the formula test above relies on
    path = gguf_path if engine == "llama" else request.getfixturevalue("onnx_model")
    used = {ctx: _measured(engine, path, ctx) for ctx in (512, 8192)}
    estimates = {ctx: fit.estimate(disk_size(path), context=ctx, engine=engine, **shape)
                 for ctx in (512, 8192)}
    for ctx in used:
        assert used[ctx] <= estimates[ctx].total, f"{engine} at {ctx} tokens used more than estimated"
    # The cache's growth is the formula's, element size included (f16 llama.cpp, fp32 ONNX on CPU).
    grown = used[8192] - used[512]
    predicted = estimates[8192].kv_cache - estimates[512].kv_cache
    assert 0.8 * predicted <= grown <= 1.25 * predicted


# --- verdicts -----------------------------------------------------------------------------------


def test_a_big_gpu_runs_it():
    gpu = rtx(22.0)
    f = fit.assess(needing(6), make_profile(16, gpus=[gpu]))
    assert f.verdict == "gpu" and f.label == "runs on GPU"
    assert f.gpu == gpu and f.available == gpu.vram_free


def test_asking_for_the_cpu_skips_the_gpu():
    f = fit.assess(needing(6), make_profile(16, gpus=[rtx(22.0)]), device="cpu")
    assert f.verdict == "cpu" and f.gpu is None


def test_a_gpu_the_engine_cannot_use_does_not_count():
    profile = make_profile(16, gpus=[rtx(22.0)])
    profile.llama_gpu_offload = False  # a CPU build of llama.cpp
    assert fit.assess(needing(6), profile).verdict == "cpu"
    # ONNX: only a CUDA folder, with a CUDA build of onnxruntime-genai, goes on the GPU.
    cuda_build = make_profile(16, gpus=[rtx(22.0)], onnx_providers=("cpu", "cuda"))
    onnx = needing(6, engine="onnx")
    assert fit.assess(onnx, cuda_build, provider="cuda").verdict == "gpu"
    assert fit.assess(onnx, cuda_build, provider="cpu").verdict == "cpu"
    assert fit.assess(onnx, make_profile(16, gpus=[rtx(22.0)]), provider="cuda").verdict == "cpu"


def test_gpu_headroom():
    # 4 GiB free keeps max(15 %, 512 MiB) = 0.6 GiB: 3.4 GiB is the most that goes on it.
    profile = make_profile(16, gpus=[rtx(4.0, total_gib=8.0)])
    assert fit.assess(needing(3.39), profile).verdict == "gpu"
    f = fit.assess(needing(3.5), profile)
    assert f.verdict == "cpu"
    assert "too big for the 4.0 GB on NVIDIA GeForce RTX 4090" in f.explain()
    # Small cards keep at least 512 MiB.
    small = make_profile(16, gpus=[rtx(2.0, total_gib=2.0)])
    assert fit.assess(needing(1.49), small).verdict == "gpu"
    assert fit.assess(needing(1.51), small).verdict == "cpu"


def test_gpu_without_a_free_figure_is_judged_by_its_total():
    assert fit.assess(needing(6), make_profile(16, gpus=[rtx(None, total_gib=12.0)])).verdict == "gpu"
    assert fit.assess(needing(11), make_profile(16, gpus=[rtx(None, total_gib=12.0)])).verdict == "cpu"


def test_the_roomier_of_two_gpus_is_used():
    small, big = rtx(3.0, 4.0, name="small"), rtx(20.0, 24.0, name="big")
    f = fit.assess(needing(8), make_profile(16, gpus=[small, big]))
    assert f.verdict == "gpu" and f.gpu.name == "big"


def test_apple_silicon_runs_it_in_unified_memory():
    gpu = apple_gpu("Apple M2", 16 * GIB, 12 * GIB)  # up to 10.7 GB for the GPU
    profile = make_profile(12, ram_total=16, gpus=[gpu], llama_backends=(), os="Darwin")
    f = fit.assess(needing(5), profile)
    assert f.verdict == "gpu" and "free for the GPU on Apple M2 GPU" in f.explain()
    assert fit.assess(needing(10.5), profile).verdict != "gpu"


def test_lots_of_ram_no_gpu_runs_on_cpu():
    f = fit.assess(needing(4), make_profile(32))
    assert f.verdict == "cpu" and f.label == "runs on CPU" and f.fits


def test_cpu_margin_boundary():
    profile = make_profile(10)
    at_margin = int(fit.CPU_MARGIN * profile.ram_available)
    e = needing(1)
    just_fits = MemoryEstimate(e.weights, e.kv_cache, at_margin - e.weights - e.kv_cache, at_margin)
    over = MemoryEstimate(e.weights, e.kv_cache, just_fits.overhead + 1, at_margin + 1)
    assert fit.assess(just_fits, profile).verdict == "cpu"
    assert fit.assess(over, profile).verdict == "tight"


def test_borderline_is_tight():
    f = fit.assess(needing(9), make_profile(10, ram_total=12))  # fits, without the 20 % margin
    assert f.verdict == "tight" and f.label == "tight" and f.fits
    assert "tight" in f.explain()


def test_swap_makes_it_tight_only_where_there_is_swap():
    # 6 GiB needed, 4 GiB available, 8 GiB RAM: other programs must be pushed out to disk.
    with_swap = make_profile(4, ram_total=8, swap_gib=8)
    assert fit.assess(needing(6), with_swap).verdict == "tight"
    assert "swapped out" in fit.assess(needing(6), with_swap).explain()
    assert fit.assess(needing(7), with_swap).verdict == "wont_fit"  # over 85 % of all RAM
    assert fit.assess(needing(6), make_profile(4, ram_total=8)).verdict == "wont_fit"
    assert fit.assess(needing(6), make_profile(4, ram_total=8, os="Darwin")).verdict == "tight"


def test_tiny_ram_wont_fit():
    f = fit.assess(needing(4), make_profile(1, ram_total=2, swap_gib=2))
    assert f.verdict == "wont_fit" and f.label == "won't fit" and not f.fits
    assert "1.0 GB available of 2.0 GB RAM" in f.explain()


# --- explain ------------------------------------------------------------------------------------


def test_explain_shows_the_numbers():
    e = MemoryEstimate(weights=int(2.0 * GIB), kv_cache=int(0.6 * GIB), overhead=int(0.3 * GIB),
                       total=int(2.9 * GIB), context=8192)
    f = fit.assess(e, make_profile(21.0))
    assert f.explain() == ("Needs about 2.9 GB (2.0 GB weights + 0.6 GB context at 8,192 tokens + "
                           "0.3 GB runtime); 21.0 GB available")


def test_explain_on_a_gpu_and_with_a_guessed_cache():
    e = fit.estimate(int(1.5 * GIB), params=3_000_000_000, context=4096)
    f = fit.assess(e, make_profile(16, gpus=[rtx(22.5)]))
    text = f.explain()
    assert f.verdict == "gpu"
    assert text.startswith(f"Needs about {e.total / GIB:.1f} GB (1.5 GB weights + ")
    assert "at 4,096 tokens (estimated)" in text
    assert text.endswith("; 22.5 GB free on NVIDIA GeForce RTX 4090")


def test_explain_for_a_big_model_with_a_small_cache_uses_one_unit():
    e = fit.estimate(4 * GIB, context=2048, **SMOLLM2_135M)
    assert "4.0 GB weights + <0.1 GB context at 2,048 tokens + 0.5 GB runtime" in fit.assess(
        e, make_profile(21.0)).explain()


def test_explain_for_a_small_model_uses_megabytes():
    e = fit.estimate(94 * MIB, context=8192, **SMOLLM2_135M)
    text = fit.assess(e, make_profile(21.0)).explain()
    assert "94 MB weights + 180 MB context at 8,192 tokens + " in text


# --- recommend ----------------------------------------------------------------------------------


def quants(**totals_gib) -> list[Variant]:
    return [Variant(key, needing(gib)) for key, gib in totals_gib.items()]


def test_recommend_takes_the_biggest_quant_that_fits_with_margin():
    variants = quants(Q2_K=2.0, Q4_K_M=3.5, Q8_0=6.0, F16=11.0)
    assert fit.recommend(variants, make_profile(32)).key == "F16"
    # 8 GiB available: F16 won't fit, Q8_0 only tight (6 > 6.4? no: 6 <= 6.4 fits with margin).
    assert fit.recommend(variants, make_profile(8, ram_total=10)).key == "Q8_0"
    # 7 GiB available: Q8_0 is tight (6 > 5.6), so the margin wins over size.
    pick = fit.recommend(variants, make_profile(7, ram_total=8))
    assert pick.key == "Q4_K_M" and pick.fit.verdict == "cpu"


def test_recommend_prefers_the_gpu_over_a_bigger_quant_on_cpu():
    variants = quants(Q4_K_M=3.5, Q8_0=6.0)
    pick = fit.recommend(variants, make_profile(32, gpus=[rtx(5.0, total_gib=6.0)]))
    assert pick.key == "Q4_K_M" and pick.fit.verdict == "gpu"


def test_recommend_takes_tight_only_when_nothing_fits_with_margin():
    variants = quants(Q4_K_M=3.5, Q8_0=6.0)
    pick = fit.recommend(variants, make_profile(4, ram_total=5))
    assert pick.key == "Q4_K_M" and pick.fit.verdict == "tight"


def test_recommend_never_picks_what_wont_fit():
    assert fit.recommend(quants(Q8_0=6.0, F16=11.0), make_profile(2, ram_total=4)) is None
    assert fit.recommend([], make_profile(32)) is None
    picks = [fit.recommend(quants(a=1.0, b=9.0, c=20.0), make_profile(ram)) for ram in (1, 2, 8, 12, 40)]
    for pick in picks:
        assert pick is None or pick.fit.verdict != "wont_fit"


def test_recommend_honours_quality_providers_and_tuples():
    profile = make_profile(32, gpus=[rtx(20.0)], onnx_providers=("cpu", "cuda"))
    onnx_cpu = Variant("cpu-int4", needing(2.0, engine="onnx"), provider="cpu")
    onnx_cuda = Variant("cuda-int4", needing(2.0, engine="onnx"), provider="cuda")
    assert fit.recommend([onnx_cpu, onnx_cuda], profile).key == "cuda-int4"
    # An explicit quality outranks size; plain tuples read as (key, estimate, provider, quality).
    pick = fit.recommend([("big", needing(4.0), None, 1.0), ("small", needing(2.0), None, 2.0)],
                         make_profile(32))
    assert pick.key == "small" and isinstance(pick.variant, Variant)


def test_catalog_variants_get_a_speed_where_they_run():
    from desktop.models.catalog import load_catalog
    from desktop.models.fit_catalog import assess_variant, variant_speed

    catalog = load_catalog()
    cpu_only = make_profile(16)
    cpu_only.memory_bandwidth = 20e9
    model, gguf = catalog.variant("gguf-phi-3-mini-4k-instruct-q4")
    _, dml = catalog.variant("onnx-phi-3-mini-4k-instruct-dml-int4-awq-b128")
    est = variant_speed(gguf, assess_variant(model, gguf, cpu_only), cpu_only)
    assert est.device == "cpu" and est.tokens_per_s > 0
    assert variant_speed(dml, assess_variant(model, dml, cpu_only), cpu_only) is None  # no DirectML here
    gpu = GpuInfo("NVIDIA GeForce RTX 4090", "nvidia", 24 * GIB, 22 * GIB, ["cuda"])
    with_gpu = make_profile(16, gpus=[gpu])
    with_gpu.memory_bandwidth = 20e9
    on_gpu = variant_speed(gguf, assess_variant(model, gguf, with_gpu), with_gpu)
    assert on_gpu.device == "gpu" and on_gpu.tokens_per_s > 5 * est.tokens_per_s
