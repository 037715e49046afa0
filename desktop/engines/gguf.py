"""A small GGUF header reader: what a model is, and whether the file is whole.

llama.cpp's own failure for a bad file is a bare "Failed to load model"; reading the header
first lets us say *what* is wrong (not a GGUF, truncated, unsupported version) before handing
the file over, and gives the model's facts (architecture, parameter count, quantization,
context length, chat template, layer and KV-head counts for memory estimates) without loading it.
"""

from __future__ import annotations

import math
import os
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
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

# The header is untrusted input: every count and length it claims is checked against these
# caps (and against what is left of the file) before anything is read, allocated or looped over,
# so a crafted file costs bounded time and memory. Each cap is far above what real models use.
_MAX_TENSORS = 1 << 20  # the largest models have a few thousand
_MAX_KV = 1 << 16  # real files have a few dozen keys
_MAX_KEY = 65_535  # the GGUF spec's own limit for a key
_MAX_NAME = 65_535  # a tensor name; llama.cpp allows only 64 bytes
_MAX_ARRAY = 1 << 26  # the largest vocabularies are a few hundred thousand tokens
_MAX_DEPTH = 4  # llama.cpp reads no nested arrays at all; gguf-py can write them
# Strings longer than this are skipped like long arrays: no chat template comes near it, and
# some converters embed a whole tokenizer.json we have no use for.
_KEEP_STRING = 1 << 20
_MAX_KEPT = 16 << 20  # bytes of strings kept in all: bounds memory whatever the file claims
# Smallest encoding of one array item of each type, to check a claimed count against the file.
_MIN_ITEM = {**{t: struct.calcsize(f) for t, f in _SCALARS.items()}, _STRING: 8, _ARRAY: 12}


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
        return _most(self.arch_key("attention.head_count_kv", self.arch_key("attention.head_count")))

    @property
    def head_dim(self) -> int | None:
        key_len = self.arch_key("attention.key_length")
        if key_len:
            return key_len
        emb, heads = self.arch_key("embedding_length"), _most(self.arch_key("attention.head_count"))
        return emb // heads if emb and heads else None


def _most(count: int | list[int] | None) -> int | None:
    """A head count, which may be given per layer: the largest, for a memory estimate that errs high."""
    if isinstance(count, list):
        return max(count, default=None)
    return count


class _Reader:
    def __init__(self, f, path: str, size: int):
        self.f, self.path, self.size = f, path, size
        self.name = os.path.basename(path)
        self.kept = 0

    def ends_early(self) -> GGUFError:
        return GGUFError(translate(
            "Core", "{name} is truncated or damaged: the file ends inside its header ({size} bytes). "
            "Download it again.").format(name=self.name, size=f"{self.size:,}"))

    def too_large(self, field: str, count: int) -> GGUFError:
        return GGUFError(translate(
            "Core", "{name} is corrupt: {field} is implausibly large ({count}).").format(
            name=self.name, field=field, count=f"{count:,}"))

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

    def length(self, cap: int, field: str) -> int:
        """A string's byte length, checked against the file and ``cap`` before it is used."""
        n = self.unpack("<Q")
        self.need(n)
        if n > cap:
            raise self.too_large(field, n)
        return n

    def key(self) -> str:
        raw = self.read(self.length(_MAX_KEY, "a metadata key"))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            # A key is an identifier (the spec says ASCII): a garbled one means a damaged header,
            # and replacing its bytes could make it collide with a real key.
            raise GGUFError(translate(
                "Core", "{name} is corrupt: a metadata key is not valid UTF-8 text.").format(
                name=self.name)) from None

    def string(self, key: str) -> str | None:
        n = self.length(self.size, key)
        if n > _KEEP_STRING:
            self.skip(n)
            return None
        self.kept += n
        if self.kept > _MAX_KEPT:
            raise self.too_large("the metadata", self.kept)
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, key: str, info: GGUFInfo, depth: int = 0):
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string(key)
        if vtype == _ARRAY:
            if depth >= _MAX_DEPTH:
                raise self.too_deep(key)
            item_type, count = self.unpack("<I"), self.unpack("<Q")
            if item_type not in _MIN_ITEM:
                raise self.unknown_type(item_type, key)
            self.need(count * _MIN_ITEM[item_type])  # before any loop: the count may be 2**64 - 1
            if count > _MAX_ARRAY:
                raise self.too_large(key, count)
            if depth == 0:
                info.array_lengths[key] = count
            if count > _KEEP_ARRAY:
                self.skip_items(item_type, count, key, depth + 1)
                return None
            return [self.value(item_type, key, info, depth + 1) for _ in range(count)]
        raise self.unknown_type(vtype, key)

    def skip_items(self, item_type: int, count: int, key: str, depth: int) -> None:
        if item_type in _SCALARS:
            self.skip(_MIN_ITEM[item_type] * count)
        elif item_type == _STRING:
            for _ in range(count):
                self.skip(self.length(self.size, key))
        else:
            if depth >= _MAX_DEPTH:
                raise self.too_deep(key)
            for _ in range(count):
                sub_type, sub_count = self.unpack("<I"), self.unpack("<Q")
                if sub_type not in _MIN_ITEM:
                    raise self.unknown_type(sub_type, key)
                self.need(sub_count * _MIN_ITEM[sub_type])
                if sub_count > _MAX_ARRAY:
                    raise self.too_large(key, sub_count)
                self.skip_items(sub_type, sub_count, key, depth + 1)

    def too_deep(self, key: str) -> GGUFError:
        return GGUFError(translate(
            "Core", "{name} is corrupt: the arrays of {key} are nested more than {depth} deep.").format(
            name=self.name, key=key, depth=_MAX_DEPTH))

    def unknown_type(self, vtype: int, key: str) -> GGUFError:
        return GGUFError(translate("Core", "{name} is corrupt: unknown value type {type} for {key}.").format(
            name=self.name, type=vtype, key=key))


# Headers read lately, by file identity: loading a model reads its header several times (the
# check before the loaded model is given up, the recommended settings, the engine), and walking
# a large vocabulary in Python costs ~0.4 s each time. A changed file has a new identity.
_HEADERS: OrderedDict = OrderedDict()
_HEADERS_LOCK = threading.Lock()
_HEADERS_KEPT = 8
_CACHED_FROM = 16 * 1024 * 1024


def read_gguf(path: str | os.PathLike) -> GGUFInfo:
    """Read a GGUF file's header and check that the tensor data it describes is all there.

    Raises GGUFError with a message fit for the user when the file is not a GGUF model or is
    damaged.
    """
    path = str(path)
    try:
        st = os.stat(path)
        # Only model-sized files: a small file is quick to read, and one rewritten in place within
        # a clock tick (tests, a tool writing headers) could keep its size and time.
        key = ((os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino)
               if st.st_size >= _CACHED_FROM else None)
    except OSError:
        key = None
    if key is not None:
        with _HEADERS_LOCK:
            cached = _HEADERS.get(key)
            if cached is not None:
                _HEADERS.move_to_end(key)
        if cached is not None:
            # A copy: callers may keep or change what they are given.
            return replace(cached, path=path, metadata=dict(cached.metadata),
                           array_lengths=dict(cached.array_lengths))
    info = _read_gguf(path)
    if key is not None:
        with _HEADERS_LOCK:
            _HEADERS[key] = replace(info, metadata=dict(info.metadata),
                                    array_lengths=dict(info.array_lengths))
            while len(_HEADERS) > _HEADERS_KEPT:
                _HEADERS.popitem(last=False)
    return info


def _read_gguf(path: str) -> GGUFInfo:
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
        try:
            info = _read_header(_Reader(f, path, size))
        except OSError as exc:
            raise GGUFError(translate("Core", "Cannot read {name}: {reason}").format(
                name=name, reason=exc.strerror or exc)) from None
        except (struct.error, ValueError, OverflowError, RecursionError) as exc:
            # The checks above should leave nothing to land here; this is the net that keeps a
            # crafted file from surfacing as a bare traceback if one of them has a hole.
            raise GGUFError(translate(
                "Core", "{name} is corrupt: its header cannot be read ({reason}).").format(
                name=name, reason=f"{type(exc).__name__}: {exc}")) from None
    return info


def _read_header(r: _Reader) -> GGUFInfo:
    name = r.name
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
    # Each key/value takes at least 13 bytes, each tensor description 24: a count the rest of the
    # file cannot hold is a truncated or damaged file, whatever its size.
    r.need(n_kv * 13 + n_tensors * 24)
    if n_tensors > _MAX_TENSORS:
        raise r.too_large("tensor_count", n_tensors)
    if n_kv > _MAX_KV:
        raise r.too_large("metadata_kv_count", n_kv)
    info = GGUFInfo(path=r.path, file_size=r.size, version=version, tensor_count=n_tensors)
    for _ in range(n_kv):
        key = r.key()
        vtype = r.unpack("<I")
        info.metadata[key] = r.value(vtype, key, info)
    _check_standard_keys(info, name)

    data_end, known = 0, True
    for _ in range(n_tensors):
        r.skip(r.length(_MAX_NAME, "a tensor name"))
        n_dims = r.unpack("<I")
        if n_dims > 8:
            raise GGUFError(translate(
                "Core", "{name} is corrupt: a tensor has {count} dimensions.").format(
                name=name, count=n_dims))
        elements = 1
        for _ in range(n_dims):
            elements *= r.unpack("<Q")
        if elements >= 1 << 63:  # llama.cpp counts elements in an int64
            raise r.too_large("a tensor's shape", elements)
        ttype, offset = r.unpack("<I"), r.unpack("<Q")
        info.parameters += elements
        if ttype in TYPE_SIZES:
            _, block, nbytes = TYPE_SIZES[ttype]
            data_end = max(data_end, offset + elements // block * nbytes)
        else:
            known = False
    alignment = info.metadata.get("general.alignment", 32)
    data_start = -(-r.f.tell() // alignment) * alignment
    if known:
        info.expected_size = data_start + data_end
        if r.size < info.expected_size:
            raise GGUFError(translate(
                "Core", "{name} is truncated: it has {size} bytes but its tensors need {needed}. "
                "The download was probably interrupted; download it again."
            ).format(name=name, size=f"{r.size:,}", needed=f"{info.expected_size:,}"))
    return info


def _check_standard_keys(info: GGUFInfo, name: str) -> None:
    """Fail on a wrongly typed key that the reader or GGUFInfo's properties use, so a crafted
    value is reported here, naming the key, and not as a TypeError wherever it is first used."""
    meta = info.metadata

    def shown(value) -> str:
        text = repr(value)
        return text if len(text) <= 40 else text[:39] + "…"

    def is_int(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    for key in ("general.architecture", "general.name", "tokenizer.chat_template"):
        if key in meta and not isinstance(meta[key], str | None):
            raise GGUFError(translate(
                "Core", "{name} is corrupt: {key} should be text, but it is {value}.").format(
                name=name, key=key, value=shown(meta[key])))
    counts = ["general.file_type"]
    if info.architecture:
        counts += [f"{info.architecture}.{suffix}" for suffix in (
            "context_length", "block_count", "embedding_length", "attention.key_length",
            "attention.head_count", "attention.head_count_kv")]
    for key in counts:
        value = meta.get(key)
        # Head counts may be per-layer arrays (OpenELM); long ones are skipped, hence None.
        per_layer = key.endswith(("head_count", "head_count_kv")) and isinstance(value, list)
        values = value if per_layer else [value]
        if value is not None and not all(is_int(v) and v >= 0 for v in values):
            raise GGUFError(translate(
                "Core", "{name} is corrupt: {key} should be a count (a whole number, 0 or more), but it is "
                "{value}."
            ).format(name=name, key=key, value=shown(value)))
    alignment = meta.get("general.alignment", 32)
    if not is_int(alignment) or alignment <= 0 or alignment & (alignment - 1) or alignment > 1 << 31:
        raise GGUFError(translate(
            "Core", "{name} is corrupt: {key} should be a power of two, but it is {value}.").format(
            name=name, key="general.alignment", value=shown(alignment)))


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
        # A float from the file may be inf or NaN, which int() refuses and no sampler wants.
        if (isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
                and math.isfinite(value)):
            out[name] = int(value) if name == "top_k" else round(float(value), 4)
    return out
