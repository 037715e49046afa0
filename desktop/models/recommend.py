""""Recommended for this computer": the one catalog model to suggest to someone who asks which.

The most capable model (the most parameters) that fits this machine with room to spare (the fit
says "runs on GPU" or "runs on CPU", not "tight") and writes at a usable speed here (the speed
estimate, from this machine's measurements, at least ``speed.USABLE_TPS``). Of its variants the
one that best meets both: the fastest of those that qualify when the model has several.

Left out, whatever their size: models that always think before answering (on a machine where
speed is the question, a long thinking block makes every reply wait) and gated repositories (a
first download should not need an account).

Qt-free. ``recommend()`` with no arguments detects the hardware and reads the catalog (about a
quarter of a second the first time in a process: the memory probe): call it off the UI thread,
or pass the profile and catalog a caller already has.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.hardware import HardwareProfile
from desktop.models import speed


@dataclass(frozen=True)
class Recommendation:
    repo_id: str
    name: str  # the model's display name
    filename: str | None  # GGUF file in the repo; None for an ONNX folder (see subfolder)
    quantization: str
    file_bytes: int
    tokens_per_s: float
    label: str  # speed.speed_label(): "fast" or "usable"
    model_id: str = ""  # the catalog's ids, to show it in the library or download it
    variant_id: str = ""
    format: str = "gguf"
    subfolder: str | None = None
    params: int = 0
    device: str = "cpu"

    @property
    def speed_text(self) -> str:
        return speed.format_speed(self.tokens_per_s)


def candidates(profile: HardwareProfile, catalog, calibration=None,
               min_tokens_per_s: float = speed.USABLE_TPS) -> list[Recommendation]:
    """Every variant that qualifies, best first (most parameters, then faster)."""
    from desktop.models.fit_catalog import assess_variant, variant_speed

    cal = calibration or speed.calibrate(profile)
    found = []
    for model in catalog.models:
        if model.reasoning == "always" or model.gated:
            continue
        for variant in model.variants:
            fit = assess_variant(model, variant, profile)
            if fit.verdict not in ("gpu", "cpu"):  # "tight" leaves no room: not a recommendation
                continue
            est = variant_speed(variant, fit, profile, cal)
            if est is None or est.tokens_per_s < min_tokens_per_s:
                continue
            found.append(Recommendation(
                repo_id=variant.repo_id, name=model.display_name, filename=variant.filename,
                quantization=variant.quant, file_bytes=variant.download_size or 0,
                tokens_per_s=est.tokens_per_s, label=speed.speed_label(est.tokens_per_s, True),
                model_id=model.id, variant_id=variant.id, format=variant.format,
                subfolder=variant.subfolder, params=model.params, device=est.device))
    found.sort(key=lambda r: (-r.params, -r.tokens_per_s))
    return found


def recommend(profile: HardwareProfile | None = None, catalog=None, calibration=None,
              min_tokens_per_s: float = speed.USABLE_TPS) -> Recommendation | None:
    """The catalog model to recommend for this computer, or None when none qualifies (or the
    catalog cannot be read)."""
    if profile is None:
        from desktop import hardware

        profile = hardware.detect()
    if catalog is None:
        from desktop.models.catalog import CatalogError, load_catalog

        try:
            catalog = load_catalog()
        except CatalogError:
            return None
    found = candidates(profile, catalog, calibration, min_tokens_per_s)
    return found[0] if found else None
