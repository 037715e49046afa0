"""The speed estimate against real decoding here, and what the catalog recommends for this machine.

1. Before any reply: the estimate from the memory probe alone, for the default model's GGUF and
   its ONNX copy (the ``onnx_model`` fixture's folder, built by scripts/make_onnx_fixture.py).
2. Calibrated on another build of the same model (its Q8_0, requantized here): the estimate for
   the shipped Q4_1 GGUF and, borrowed across engines, the ONNX folder, beside their measured
   decode speeds.
3. With the default model's own speeds recorded (as the app records each reply): the
   recommendation and the estimates for the catalog's models.

Every engine runs in this one thread (llama.cpp slows down after a run on another thread), with
its default thread count unless --threads (on a busy 2-core machine two llama.cpp threads wait
on each other and a run is ten times slower: pass --threads 1 there). Speeds are the best of
--runs greedy generations of 64 tokens. Calibration goes to a temporary data folder: the
user's is not touched. Prints ONE JSON line.

    python bench/catalog_estimates.py [--threads N] [--runs 2] [--top N]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MESSAGES = [{"role": "user", "content": "Write a long story about a dragon who learns to read."}]


def decode_speed(engine, runs: int) -> float:
    from desktop.engines.base import SamplingParams

    params = SamplingParams(temperature=0, max_tokens=64)
    best = 0.0
    for _ in range(runs):
        "".join(engine.stream(MESSAGES, params))
        best = max(best, engine.last_stats.tokens_per_s or 0.0)
    return best


def requantize(src: Path, out: Path) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    params.allow_requantize = True
    if llama_cpp.llama_model_quantize(str(src).encode(), str(out).encode(), ctypes.byref(params)) != 0:
        raise SystemExit(f"could not requantize {src}")
    return out


def onnx_folder(gguf: Path) -> Path:
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_onnx_fixture.py"
    out = subprocess.run([sys.executable, str(script), str(gguf)], capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"could not build the ONNX folder:\n{out.stderr[-2000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="compute threads (default: the app's)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--top", type=int, default=0, help="catalog variants to list (0: all)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgechat-estimates-"))
    os.environ["EDGECHAT_DATA_DIR"] = str(work / "data")

    from desktop import hardware
    from desktop.engines.llama_engine import LlamaEngine
    from desktop.engines.onnx_engine import OnnxEngine
    from desktop.models import recommend, speed
    from desktop.models.catalog import load_catalog
    from desktop.models.default_model import default_model_path

    gguf = default_model_path()
    folder = onnx_folder(gguf)
    q8 = requantize(gguf, work / "default-q8_0.gguf")
    sizes = {"gguf": gguf.stat().st_size, "gguf_q8_0": q8.stat().st_size,
             "onnx": sum(f.stat().st_size for f in folder.iterdir() if f.is_file())}
    profile = hardware.detect()
    probe_only = {"gguf": speed.estimate_tokens_per_s(sizes["gguf"], "llama", profile),
                  "onnx": speed.estimate_tokens_per_s(sizes["onnx"], "onnx", profile)}

    options = {"n_threads": args.threads} if args.threads else {}
    with LlamaEngine(q8, n_ctx=1024, **options) as engine:
        measured_q8 = decode_speed(engine, args.runs)
    speed.record_measurement(str(q8), sizes["gguf_q8_0"], "llama", measured_q8)
    calibrated = {"gguf": speed.estimate_tokens_per_s(sizes["gguf"], "llama", profile),
                  "onnx": speed.estimate_tokens_per_s(sizes["onnx"], "onnx", profile)}
    with LlamaEngine(gguf, n_ctx=1024, **options) as engine:
        measured_gguf = decode_speed(engine, args.runs)
        threads = engine.info.extra.get("threads")
    with OnnxEngine(str(folder), n_ctx=1024, **options) as engine:
        measured_onnx = decode_speed(engine, args.runs)

    # As the app does after each reply: the default model's own speed, in both engines.
    speed.record_measurement(str(gguf), sizes["gguf"], "llama", measured_gguf)
    speed.record_measurement(str(folder), sizes["onnx"], "onnx", measured_onnx)
    catalog = load_catalog()
    cal = speed.calibrate(profile)
    pick = recommend.recommend(profile, catalog, cal)

    from desktop.models.fit_catalog import assess_variant, variant_speed

    rows = []
    for model in catalog.models:
        for variant in model.variants:
            fit = assess_variant(model, variant, profile)
            est = variant_speed(variant, fit, profile, cal)
            tps = est.tokens_per_s if est else None
            rows.append({"model": model.display_name, "params": model.params, "variant": variant.id,
                         "quant": variant.quant, "format": variant.format,
                         "provider": variant.execution_provider, "bytes": variant.download_size,
                         "fit": fit.verdict, "tok_s": round(tps, 2) if tps else None,
                         "label": speed.speed_label(tps, fit.fits and est is not None)})
    rows.sort(key=lambda r: (-r["params"], -(r["tok_s"] or 0)))

    def pct(estimate: float | None, measured: float) -> float | None:
        return round(estimate / measured, 2) if estimate and measured else None

    print(json.dumps({
        "machine": {"cpu": profile.cpu_name, "cores": profile.physical_cores, "threads": threads,
                    "ram_gib": round(profile.ram_total / 2**30, 1), "gpus": [g.name for g in profile.gpus],
                    "probe_gb_s": round((profile.memory_bandwidth or 0) / 1e9, 2)},
        "default_model": {
            "gguf": {"bytes": sizes["gguf"], "measured_tok_s": round(measured_gguf, 2),
                     "estimate_probe_only": round(probe_only["gguf"], 2),
                     "estimate_from_q8_0": round(calibrated["gguf"], 2),
                     "ratio_estimate_to_measured": pct(calibrated["gguf"], measured_gguf)},
            "onnx": {"bytes": sizes["onnx"], "measured_tok_s": round(measured_onnx, 2),
                     "estimate_probe_only": round(probe_only["onnx"], 2),
                     "estimate_from_llama_calibration": round(calibrated["onnx"], 2),
                     "ratio_estimate_to_measured": pct(calibrated["onnx"], measured_onnx)},
            "calibration_q8_0": {"bytes": sizes["gguf_q8_0"], "measured_tok_s": round(measured_q8, 2)},
        },
        "recommendation": None if pick is None else {
            "name": pick.name, "variant": pick.variant_id, "quant": pick.quantization,
            "format": pick.format, "bytes": pick.file_bytes, "tok_s": round(pick.tokens_per_s, 2),
            "label": pick.label},
        "candidates": rows[: args.top] if args.top else rows,
        "usable_or_better": [r["variant"] for r in rows if r["label"] in ("fast", "usable")],
    }))


if __name__ == "__main__":
    main()
