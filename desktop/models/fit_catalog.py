"""Fit of catalog variants on this machine: the catalog's facts fed to the fit estimator."""

from __future__ import annotations

from desktop.engines.context import DEFAULT_N_CTX
from desktop.hardware import HardwareProfile
from desktop.models.catalog import CatalogModel, Variant
from desktop.models.fit import Fit, assess, estimate, recommend
from desktop.models.fit import Variant as FitVariant
from desktop.text import translate


def download_spec(model: CatalogModel, variant: Variant) -> dict:
    """plan_download's arguments for a catalog variant, with the catalog's sizes and hashes to
    cross-check the Hub's (the Hub's own metadata is what gets verified)."""
    prefix = f"{variant.subfolder}/" if variant.subfolder else ""
    expected = {prefix + f.path: (f.size, f.sha256) for f in variant.files or ()}
    if variant.format == "gguf":
        expected[variant.filename] = (variant.size_bytes, variant.sha256)
    provider = f", {variant.execution_provider}" if variant.execution_provider else ""
    return {
        "repo_id": variant.repo_id,
        "filename": variant.filename if variant.format == "gguf" else None,
        "subfolder": variant.subfolder if variant.format == "onnx" else None,
        "revision": variant.revision,
        "name": f"{model.display_name} ({variant.quant}{provider})",
        "catalog_id": model.id,
        "variant_id": variant.id,
        "execution_provider": variant.execution_provider,
        "expected": expected,
    }


def variant_estimate(model: CatalogModel, variant: Variant, context: int | None = None):
    context = context or min(model.context_length or DEFAULT_N_CTX, DEFAULT_N_CTX)
    return estimate(
        variant.download_size or 0, params=model.params, n_layers=model.n_layers,
        n_kv_heads=model.n_kv_heads, head_dim=model.head_dim, context=context,
        engine="llama" if variant.format == "gguf" else "onnx",
        # GPU-built ONNX folders keep an fp16 KV cache; only CPU builds use fp32 (fit.py)
        kv_bytes_per_elem=2 if variant.execution_provider in ("cuda", "dml") else None,
    )


def runnable(variant: Variant, profile: HardwareProfile) -> bool:
    """Whether an engine here can run it at all: a DirectML or CUDA folder needs its provider."""
    if variant.format == "gguf" or variant.execution_provider == "cpu":
        return True
    return variant.execution_provider in profile.onnx_providers


def assess_variant(model: CatalogModel, variant: Variant, profile: HardwareProfile) -> Fit:
    fit = assess(variant_estimate(model, variant), profile, provider=variant.execution_provider)
    if not runnable(variant, profile) and fit.fits:
        # Built for a provider this machine lacks: say so instead of promising a GPU.
        return Fit("wont_fit", fit.estimate, fit.available, ram_total=fit.ram_total,
                   note=translate("Core", "built for {provider}, which this machine cannot use").format(
                       provider=variant.execution_provider))
    return fit


def best_variant(model: CatalogModel, profile: HardwareProfile) -> Variant | None:
    by_id = {v.id: v for v in model.variants if runnable(v, profile)}
    pick = recommend(
        [FitVariant(v.id, variant_estimate(model, v), v.execution_provider) for v in by_id.values()],
        profile,
    )
    return by_id[pick.key] if pick else None


def verdict_text(variant: Variant, fit: Fit, profile: HardwareProfile) -> str:
    if not runnable(variant, profile):
        return {"dml": translate("Core", "needs DirectML"), "cuda": translate("Core", "needs CUDA")}.get(
            variant.execution_provider or "", translate("Core", "not usable here"))
    return fit.label


def variant_speed(variant: Variant, fit: Fit, profile: HardwareProfile, calibration=None):
    """The decode-speed estimate (speed.SpeedEstimate) of a catalog variant where its fit says
    it runs: on the GPU it was judged to fit, else on the CPU. None without a size."""
    from desktop.models.speed import calibrate, estimate

    if not runnable(variant, profile):
        return None
    gpu = fit.gpu if fit.verdict == "gpu" else None
    return estimate(variant.download_size, variant.format, profile, gpu=gpu,
                    calibration=calibration or calibrate(profile))
