"""Property-based tests: whatever bytes a .gguf holds, read_gguf answers with a GGUFInfo whose
facts have the types the app relies on, or with its own GGUFError, and quickly and in little
memory: never a TypeError, a RecursionError or a hang (a crafted file once left the window at
"Loading…" for ever).

Files are built from well-formed pieces with every standard key given a value of any GGUF type
(that is how "general.alignment as a string" is reached), then damaged at random: bits flipped,
bytes inserted, deleted or cut off, integers overwritten with huge values.
"""

from __future__ import annotations

import struct
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.engines.gguf import GGUFError, model_name, read_gguf, sampling_defaults
from desktop.units import format_parameters
from tests.test_gguf import ARRAY, STRING, gguf_bytes, gguf_string, kv, standard_kvs

MEMORY_BOUND = 64 << 20
TIME_BOUND_S = 2.0
SETTINGS = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
VALUE_TYPES = [*SCALAR_SIZES, STRING, ARRAY, 13, 0xFFFFFFFF]  # the last two are unknown types
HUGE = [0, 1, 3, 63, 64, 65, 2**31 - 1, 2**31, 2**32 - 1, 2**50, 2**60, 2**63, 2**64 - 1]


def payload(vtype: int) -> st.SearchStrategy[bytes]:
    if vtype in SCALAR_SIZES:
        size = SCALAR_SIZES[vtype]
        special = [struct.pack("<Q", n)[:size] for n in HUGE]
        return st.one_of(st.binary(min_size=size, max_size=size), st.sampled_from(special))
    if vtype == STRING:
        return st.one_of(st.text(max_size=12).map(gguf_string), st.binary(max_size=12).map(gguf_string))
    if vtype == ARRAY:
        return arrays
    return st.binary(max_size=8)


def _array(item_type: int) -> st.SearchStrategy[bytes]:
    # Long enough to cross the 64 items kept; nested arrays kept short so a file stays small.
    longest = 3 if item_type == ARRAY else 70
    items = st.lists(payload(item_type), max_size=longest)
    return items.map(lambda xs: struct.pack("<IQ", item_type, len(xs)) + b"".join(xs))


arrays = st.deferred(lambda: st.sampled_from(VALUE_TYPES).flatmap(_array))
typed_values = st.sampled_from(VALUE_TYPES).flatmap(lambda t: payload(t).map(lambda p: (t, p)))

STANDARD = ["general.architecture", "general.alignment", "general.file_type", "general.name",
            "llama.context_length", "llama.block_count", "llama.embedding_length",
            "llama.attention.head_count", "llama.attention.head_count_kv", "llama.attention.key_length",
            "tokenizer.chat_template", "general.sampling.top_k", "general.sampling.temp"]


@st.composite
def built_files(draw) -> bytes:
    overrides = {}
    for key in draw(st.lists(st.sampled_from(STANDARD), unique=True, max_size=4)):
        vtype, value = draw(typed_values)
        overrides[key] = kv(key, vtype, value)
    extra = [kv(f"x.k{i}", *draw(typed_values)) for i in range(draw(st.integers(0, 2)))]
    alignment = draw(st.sampled_from([32, 1, 64]))
    if alignment != 32 and "general.alignment" not in overrides:
        overrides["general.alignment"] = kv("general.alignment", 4, struct.pack("<I", alignment))
    return gguf_bytes(*standard_kvs(**overrides), *extra, n_tensors=draw(st.integers(0, 2)),
                      alignment=alignment)


@st.composite
def damaged(draw, data: bytes, focus: int | None = None) -> bytes:
    """``data`` with a few random edits; ``focus`` keeps most of them within its first bytes."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        if not buf:
            break
        limit = min(len(buf), focus) if focus and draw(st.booleans()) else len(buf)
        at = draw(st.integers(0, limit - 1))
        edit = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "int32", "int64"]))
        if edit == "flip":
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "truncate":
            del buf[at:]
        elif edit == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "delete":
            del buf[at:at + draw(st.integers(1, 16))]
        else:
            width = 4 if edit == "int32" else 8
            value = draw(st.sampled_from(HUGE)) & ((1 << 8 * width) - 1)
            buf[at:at + width] = value.to_bytes(width, "little")
    return bytes(buf)


def check_answer(path) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        info = read_gguf(path)
    except GGUFError as exc:
        assert path.name in str(exc)
        info = None
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < TIME_BOUND_S, f"read_gguf took {elapsed:.1f} s"
    assert peak < MEMORY_BOUND, f"read_gguf peaked at {peak / 2**20:.0f} MiB"
    if info is None:
        return
    # What the rest of the app reads from a header it accepted, with the types it expects.
    for fact in (info.architecture, info.name, info.chat_template, info.quantization):
        assert fact is None or isinstance(fact, str)
    for count in (info.context_length, info.n_layers, info.n_kv_heads, info.head_dim):
        assert count is None or (isinstance(count, int) and not isinstance(count, bool) and count >= 0)
    assert isinstance(info.parameters, int) and isinstance(format_parameters(info.parameters), str)
    assert info.expected_size is None or info.expected_size <= info.file_size
    assert isinstance(model_name(info), str)
    assert all(isinstance(v, int | float) for v in sampling_defaults(info).values())


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "fuzzed.gguf"


@SETTINGS
@given(data=st.data())
def test_built_and_damaged_headers(scratch, data):
    scratch.write_bytes(data.draw(damaged(data.draw(built_files()))))
    check_answer(scratch)


@pytest.fixture(scope="module")
def real_header(model_path) -> bytes:
    # The default model's metadata and tensor table (about 1.8 MB, mostly its 49,152 tokens),
    # without the tensor data: read whole, it reports itself truncated, which is a GGUFError too.
    with open(model_path, "rb") as f:
        return f.read(1_785_664)


@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_the_real_models_header_damaged(scratch, real_header, data):
    # Most edits land in the first 4 KB, where the standard keys are, before the token list.
    scratch.write_bytes(data.draw(damaged(real_header, focus=4096)))
    check_answer(scratch)
