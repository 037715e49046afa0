"""Turn the default SmolLM2 GGUF into an ONNX Runtime GenAI int4 folder (a test/dev fixture).

transformers dequantizes the GGUF into a Hugging Face folder, and the onnxruntime-genai model
builder converts that to int4 for the CPU. The result is cached outside the repo, keyed by the
GGUF's sha256, so a machine builds it once. The last line printed is the folder's path.

Needs the conversion tools of the [convert] extra (torch, transformers, accelerate, gguf, onnx);
none of them is a dependency of the app.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_root() -> Path:
    override = os.environ.get("EDGECHAT_FIXTURE_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgechat-fixtures"


def build_hf_folder(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                  dtype=torch.float32)
    # A model loaded from GGUF refuses save_pretrained ("quantized with gguf"): rebuild it from
    # its config without the quantization marker and move the dequantized weights over.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    fresh.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from desktop.models.default_model import default_model_path

    gguf = Path(sys.argv[1]) if len(sys.argv) > 1 else default_model_path()
    key = sha256(gguf)[:16]
    target = cache_root() / f"{gguf.stem}-onnx-int4-cpu-{key}"
    if (target / "genai_config.json").is_file():
        print(target)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as work:
        work = Path(work)
        hf_dir, out_dir = work / "hf", work / "onnx"
        print(f"Dequantizing {gguf.name} into a Hugging Face folder…", file=sys.stderr)
        build_hf_folder(gguf, hf_dir)
        print("Converting to ONNX GenAI int4 (cpu)…", file=sys.stderr)
        log_path = target.parent / f"{target.name}.build.log"
        with open(log_path, "w") as log:
            builder = subprocess.run(
                [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir),
                 "-o", str(out_dir), "-p", "int4", "-e", "cpu", "-c", str(work / "cache")],
                stdout=log, stderr=subprocess.STDOUT,
            )
        if builder.returncode != 0:
            raise SystemExit(f"the ONNX builder failed ({builder.returncode}); see {log_path}")
        if not (out_dir / "genai_config.json").is_file():
            raise SystemExit("the builder finished without writing genai_config.json")
        # Renamed into place only when whole: a killed build never leaves a half folder
        # that a later run would take as done.
        os.replace(out_dir, target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
