"""A small GGUF header reader: what a model is, and whether the file is whole.

llama.cpp's own failure for a bad file is a bare "Failed to load model"; reading the header
first lets us say *what* is wrong (not a GGUF, truncated, unsupported version) before handing
the file over, and gives the model's facts (architecture, parameter count, quantization,
context length, chat template, layer and KV-head counts for memory estimates) without loading it.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from desktop.engines.base import ModelLoadError
from desktop.text import translate

MAGIC = b"GGUF"

# ggml_type -> (elements per block, bytes per block); from ggml's type traits.
_QK = 256
TYPE_SIZES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40),
    10: ("Q2_K", _QK, 84), 11: ("Q3_K", _QK, 110), 12: ("Q4_K", _QK, 144),
    13: ("Q5_K", _QK, 176), 14: ("Q6_K", _QK, 210), 15: ("Q8_K", _QK, 292),
    16: ("IQ2_XXS", _QK, 66), 17: ("IQ2_XS", _QK, 74), 18: ("IQ3_XXS", _QK, 98),
    19: ("IQ1_S", _QK, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", _QK, 110),
    22: ("IQ2_S", _QK, 82), 23: ("IQ4_XS", _QK, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", _QK, 56),
    30: ("BF16", 1, 2), 34: ("TQ1_0", _QK, 54), 35: ("TQ2_0", _QK, 66), 39: ("MXFP4", 32, 17),
}

FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE",
}

# GGUF value types -> struct format (None: variable length)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# Arrays longer than this (token lists, merges) are skipped, not kept: only their length is.
_KEEP_ARRAY = 64


class GGUFError(ModelLoadError):
    pass


@dataclass
class GGUFInfo:
    path: str
    file_size: int
    version: int
    metadata: dict = field(default_factory=dict)
    array_lengths: dict = field(default_factory=dict)
    tensor_count: int = 0
    parameters: int = 0
    expected_size: int | None = None  # None when a tensor type is unknown to us

    def get(self, key, default=None):
        return self.metadata.get(key, default)

    def arch_key(self, suffix: str, default=None):
        return self.metadata.get(f"{self.architecture}.{suffix}", default)

    @property
    def architecture(self) -> str | None:
        return self.metadata.get("general.architecture")

    @property
    def name(self) -> str | None:
        return self.metadata.get("general.name")

    @property
    def quantization(self) -> str | None:
        ftype = self.metadata.get("general.file_type")
        return FILE_TYPES.get(ftype) if ftype is not None else None

    @property
    def context_length(self) -> int | None:
        return self.arch_key("context_length")

    @property
    def chat_template(self) -> str | None:
        return self.metadata.get("tokenizer.chat_template")

    @property
    def n_layers(self) -> int | None:
        return self.arch_key("block_count")

    @property
    def n_kv_heads(self) -> int | None:
        return self.arch_key("attention.head_count_kv", self.arch_key("attention.head_count"))

    @property
    def head_dim(self) -> int | None:
        key_len = self.arch_key("attention.key_length")
        if key_len:
            return key_len
        emb, heads = self.arch_key("embedding_length"), self.arch_key("attention.head_count")
        return emb // heads if emb and heads else None


class _Reader:
    def __init__(self, f, path: str, size: int):
        self.f, self.path, self.size = f, path, size

    def ends_early(self) -> GGUFError:
        return GGUFError(translate(
            "Core", "{name} is truncated or damaged: the file ends inside its header ({size} bytes). "
            "Download it again.").format(name=os.path.basename(self.path), size=f"{self.size:,}"))

    def need(self, n: int) -> None:
        """Fail before reading or skipping ``n`` bytes the file does not have."""
        if self.f.tell() + n > self.size:
            raise self.ends_early()

    def read(self, n: int) -> bytes:
        self.need(n)
        return self.f.read(n)

    def skip(self, n: int) -> None:
        self.need(n)
        self.f.seek(n, os.SEEK_CUR)

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.read(self.unpack("<Q")).decode("utf-8", errors="replace")

    def value(self, vtype: int, key: str, info: GGUFInfo):
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type, count = self.unpack("<I"), self.unpack("<Q")
            self.need(count)  # every item takes at least a byte
            info.array_lengths[key] = count
            if item_type in _SCALARS and count > _KEEP_ARRAY:
                self.skip(struct.calcsize(_SCALARS[item_type]) * count)
                return None
            if item_type == _STRING and count > _KEEP_ARRAY:
                for _ in range(count):
                    self.skip(self.unpack("<Q"))
                return None
            return [self.value(item_type, key, info) for _ in range(count)]
        raise GGUFError(translate("Core", "{name} is corrupt: unknown value type {type} for {key}.").format(
            name=os.path.basename(self.path), type=vtype, key=key))


def read_gguf(path: str | os.PathLike) -> GGUFInfo:
    """Read a GGUF file's header and check that the tensor data it describes is all there.

    Raises GGUFError with a message fit for the user when the file is not a GGUF model or is
    damaged.
    """
    path = str(path)
    name = os.path.basename(path)
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")  # noqa: SIM115 - closed below, the reader needs the handle
    except FileNotFoundError:
        raise GGUFError(translate("Core", "Model file not found: {path}").format(path=path)) from None
    except IsADirectoryError:
        raise GGUFError(translate("Core", "{path} is a folder, not a GGUF model file.").format(
            path=path)) from None
    except OSError as exc:
        raise GGUFError(translate("Core", "Cannot read {name}: {reason}").format(
            name=name, reason=exc.strerror or exc)) from None
    with f:
        if size < 24:
            raise GGUFError(translate("Core", "{name} is not a GGUF model file (only {size} bytes).").format(
                name=name, size=size))
        r = _Reader(f, path, size)
        if r.read(4) != MAGIC:
            raise GGUFError(translate(
                "Core", "{name} is not a GGUF model file. EdgeChat's llama.cpp engine opens .gguf files; "
                "ONNX models are opened by their folder.").format(name=name))
        version = r.unpack("<I")
        if version not in (2, 3):
            raise GGUFError(translate(
                "Core", "{name} uses GGUF version {version}, which this version of EdgeChat cannot read."
            ).format(name=name, version=version))
        n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
        if n_tensors > size or n_kv > size:
            raise r.ends_early()
        info = GGUFInfo(path=path, file_size=size, version=version, tensor_count=n_tensors)
        for _ in range(n_kv):
            key = r.string()
            vtype = r.unpack("<I")
            info.metadata[key] = r.value(vtype, key, info)

        data_end, known = 0, True
        for _ in range(n_tensors):
            r.string()
            n_dims = r.unpack("<I")
            if n_dims > 8:
                raise GGUFError(translate(
                    "Core", "{name} is corrupt: a tensor has {count} dimensions.").format(
                    name=name, count=n_dims))
            elements = 1
            for _ in range(n_dims):
                elements *= r.unpack("<Q")
            ttype, offset = r.unpack("<I"), r.unpack("<Q")
            info.parameters += elements
            if ttype in TYPE_SIZES:
                _, block, nbytes = TYPE_SIZES[ttype]
                data_end = max(data_end, offset + elements // block * nbytes)
            else:
                known = False
        alignment = info.metadata.get("general.alignment", 32) or 32
        data_start = -(-f.tell() // alignment) * alignment
        if known:
            info.expected_size = data_start + data_end
            if size < info.expected_size:
                raise GGUFError(translate(
                    "Core", "{name} is truncated: it has {size} bytes but its tensors need {needed}. "
                    "The download was probably interrupted; download it again."
                ).format(name=name, size=f"{size:,}", needed=f"{info.expected_size:,}"))
    return info


def describe_parameters(n: int | None) -> str:
    if not n:
        return "?"
    if n >= 1e9:
        return f"{n / 1e9:.1f}B"
    return f"{n / 1e6:.0f}M"


def model_name(info: GGUFInfo) -> str:
    """The file's name without the quantization suffix: what the user picked, and unambiguous.

    ``general.name`` is often a training-run label ("Smollm2 135M 8k Lc100K Mix1 Ep2").
    """
    stem = Path(info.path).stem
    quant = info.quantization
    for sep in (".", "-", "_"):
        if quant and stem.lower().endswith(f"{sep}{quant.lower()}"):
            return stem[: -len(quant) - 1]
    return stem


# Sampling settings a model's author recommends, as llama.cpp's converter writes them.
_GGUF_SAMPLING = {
    "general.sampling.temp": "temperature",
    "general.sampling.top_p": "top_p",
    "general.sampling.top_k": "top_k",
    "general.sampling.min_p": "min_p",
    "general.sampling.penalty_repeat": "repeat_penalty",
}


def sampling_defaults(info: GGUFInfo) -> dict:
    """The model's recommended sampling settings, as SamplingParams field names ({} if none)."""
    out = {}
    for key, name in _GGUF_SAMPLING.items():
        value = info.metadata.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            out[name] = int(value) if name == "top_k" else round(float(value), 4)
    return out
