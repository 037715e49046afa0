""""Recommended for this computer": the one catalog model to suggest to someone who asks which.

The most capable model (the most parameters) that fits this machine with room to spare (the fit
says "runs on GPU" or "runs on CPU", not "tight") and writes at a usable speed here (the speed
estimate, from this machine's settled calibration, at least ``speed.USABLE_TPS``). Of its
variants the one that best meets both: the fastest of those that qualify when the model has
several.

Left out, whatever their size: models that always think before answering (on a machine where
speed is the question, a long thinking block makes every reply wait) and gated repositories (a
first download should not need an account).

The pick is a function of the machine, not of the moment: the fit is judged on a steady share of
the RAM and the GPUs' whole memory (``steady``), not on what other programs leave free right now,
and the speed on the settled calibration (speed.py moves it only on a large, lasting difference).
``recommend()`` is the one place the pick and its figures are made: the welcome's card, the
library and ``edgechat models recommend`` all show what it returns, worded by the properties
below.

Qt-free. ``recommend()`` with no arguments detects the hardware, settles the memory probe and
reads the catalog (about a second the first time on a machine): call it off the UI thread, or
pass the profile and catalog a caller already has.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from desktop.hardware import HardwareProfile
from desktop.models import speed
from desktop.text import translate
from desktop.units import format_bytes

# The share of the RAM a recommendation may count on: what a desktop typically leaves free with
# a browser and an office program open. Judged on this instead of what is free this minute, the
# pick does not change because a build or a video call started.
STEADY_RAM_SHARE = 0.6


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
    # speed.SpeedEstimate behind tokens_per_s; its note says how it was made, which may grow
    # ("the replies agree") while the pick and its figures, what equality compares, stay.
    estimate: object = field(default=None, compare=False)
    execution_provider: str | None = None

    @property
    def speed_text(self) -> str:
        """"≈ 9.3 tok/s": the one wording of its speed, wherever it is shown."""
        return speed.format_speed(self.tokens_per_s)

    @property
    def size_text(self) -> str:
        return format_bytes(self.file_bytes or None)

    @property
    def label_text(self) -> str:
        return speed.label_text(self.label)

    @property
    def format_text(self) -> str:
        """"GGUF", or "ONNX cpu" for a folder built for one provider."""
        return " ".join(filter(None, (self.format.upper(), self.execution_provider)))

    @property
    def summary(self) -> str:
        """Its name and every figure, as the library and the CLI say it:
        "SmolLM2 1.7B Instruct (Q4_K_M, GGUF, 1.1 GB) ≈ 9.3 tok/s · Usable"."""
        return translate("Core", "{name} ({quant}, {format}, {size}) {speed} · {label}").format(
            name=self.name, quant=self.quantization, format=self.format_text, size=self.size_text,
            speed=self.speed_text, label=self.label_text)


def steady(profile: HardwareProfile) -> HardwareProfile:
    """``profile`` as a recommendation judges it: STEADY_RAM_SHARE of the RAM free and each GPU's
    whole memory (less the fit's own headroom), whatever is in use this minute."""
    gpus = []
    for gpu in profile.gpus:
        total = gpu.vram_total
        if gpu.unified_memory and total:
            total = min(total, int(STEADY_RAM_SHARE * profile.ram_total))  # it is the same RAM
        gpus.append(dataclasses.replace(gpu, vram_free=total))
    return dataclasses.replace(profile, ram_available=int(STEADY_RAM_SHARE * profile.ram_total), gpus=gpus)


def candidates(profile: HardwareProfile, catalog, calibration=None,
               min_tokens_per_s: float = speed.USABLE_TPS) -> list[Recommendation]:
    """Every variant that qualifies, best first (most parameters, then faster)."""
    from desktop.models.fit_catalog import assess_variant, variant_speed

    cal = calibration or speed.calibrate(profile)
    judged = steady(profile)
    found = []
    for model in catalog.models:
        if model.reasoning == "always" or model.gated:
            continue
        for variant in model.variants:
            fit = assess_variant(model, variant, judged)
            if fit.verdict not in ("gpu", "cpu"):  # "tight" leaves no room: not a recommendation
                continue
            est = variant_speed(variant, fit, judged, cal)
            if est is None or est.tokens_per_s < min_tokens_per_s:
                continue
            found.append(Recommendation(
                repo_id=variant.repo_id, name=model.display_name, filename=variant.filename,
                quantization=variant.quant, file_bytes=variant.download_size or 0,
                tokens_per_s=est.tokens_per_s, label=speed.speed_label(est.tokens_per_s, True),
                model_id=model.id, variant_id=variant.id, format=variant.format,
                subfolder=variant.subfolder, params=model.params, device=est.device, estimate=est,
                execution_provider=variant.execution_provider))
    # Ties broken by the ids, so the same catalog always gives the same pick.
    found.sort(key=lambda r: (-r.params, -r.tokens_per_s, r.model_id, r.variant_id))
    return found


def recommend(profile: HardwareProfile | None = None, catalog=None, calibration=None,
              min_tokens_per_s: float = speed.USABLE_TPS) -> Recommendation | None:
    """The catalog model to recommend for this computer, or None when none qualifies (or the
    catalog cannot be read). With no profile it is this machine's: detected, and its memory
    probe settled (speed.settle_probe) before anything is estimated."""
    if profile is None:
        from desktop import hardware

        profile = hardware.detect()
        if calibration is None:
            speed.settle_probe()
    if catalog is None:
        from desktop.models.catalog import CatalogError, load_catalog

        try:
            catalog = load_catalog()
        except CatalogError:
            return None
    found = candidates(profile, catalog, calibration, min_tokens_per_s)
    return found[0] if found else None
