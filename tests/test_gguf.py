import math
import re
import struct

import pytest

from desktop.engines.gguf import GGUFError, read_gguf


def test_reads_the_default_model(model_path):
    info = read_gguf(model_path)
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert 130e6 < info.parameters < 140e6  # SmolLM2-135M
    assert info.context_length == 8192
    assert "<|im_start|>" in info.chat_template
    assert info.n_layers == 30 and info.n_kv_heads == 3 and info.head_dim == 64
    # Every tensor type in the file is known, so the whole file is accounted for, to the byte.
    assert info.expected_size == info.file_size == model_path.stat().st_size
    assert info.array_lengths["tokenizer.ggml.tokens"] == 49152


def test_not_a_gguf(not_gguf):
    with pytest.raises(GGUFError, match="not a GGUF model file"):
        read_gguf(not_gguf)


def test_truncated_tensor_data(truncated_gguf):
    with pytest.raises(GGUFError, match="truncated.*20,000,000 bytes"):
        read_gguf(truncated_gguf)


def test_truncated_inside_header(tmp_path, model_path):
    path = tmp_path / "head.gguf"
    path.write_bytes(model_path.read_bytes()[:5000])
    with pytest.raises(GGUFError, match="ends inside its header"):
        read_gguf(path)


@pytest.mark.parametrize("payload", [b"", b"GGUF", b"GGUF\x03\x00\x00\x00" + b"\xff" * 32])
def test_tiny_or_garbage_headers(tmp_path, payload):
    path = tmp_path / "bad.gguf"
    path.write_bytes(payload)
    with pytest.raises(GGUFError):
        read_gguf(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(GGUFError, match="not found"):
        read_gguf(tmp_path / "nope.gguf")
    with pytest.raises(GGUFError, match="folder"):
        read_gguf(tmp_path)


# --- Crafted headers: a GGUF is untrusted input, and the reader must answer any file with its
# own GGUFError (naming the file), within bounded time and memory, never a TypeError or a hang.

U32, I32, F32, BOOL, STRING, ARRAY, U64 = 4, 5, 6, 7, 8, 9, 10


def gguf_string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def kv(key: str | bytes, vtype: int, payload: bytes) -> bytes:
    return gguf_string(key) + struct.pack("<I", vtype) + payload


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


def array(item_type: int, items: list[bytes]) -> bytes:
    return struct.pack("<IQ", item_type, len(items)) + b"".join(items)


def gguf_bytes(*kvs: bytes, n_tensors: int = 1, alignment: int = 32) -> bytes:
    """A small, whole GGUF: the given key/values and one F32 tensor of four elements."""
    tensors = gguf_string("t.weight") + struct.pack("<I", 1) + struct.pack("<Q", 4) + u32(0) \
        + struct.pack("<Q", 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, n_tensors, len(kvs)) + b"".join(kvs) \
        + tensors * n_tensors
    return head + b"\0" * (-len(head) % alignment) + b"\0" * 16


def standard_kvs(**overrides: bytes) -> list[bytes]:
    """The keys a real model carries, each replaceable by a (crafted) kv() payload."""
    kvs = {
        "general.architecture": kv("general.architecture", STRING, gguf_string("llama")),
        "general.alignment": kv("general.alignment", U32, u32(32)),
        "llama.context_length": kv("llama.context_length", U32, u32(2048)),
        "llama.attention.head_count": kv("llama.attention.head_count", U32, u32(4)),
        "llama.embedding_length": kv("llama.embedding_length", U32, u32(256)),
        "tokenizer.chat_template": kv("tokenizer.chat_template", STRING, gguf_string("{{ x }}")),
        "tokenizer.ggml.tokens": kv("tokenizer.ggml.tokens", ARRAY,
                                    array(STRING, [gguf_string(f"t{i}") for i in range(100)])),
    }
    kvs.update(overrides)
    return list(kvs.values())


def write(tmp_path, data: bytes, name="crafted.gguf"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_reads_a_small_built_gguf(tmp_path):
    info = read_gguf(write(tmp_path, gguf_bytes(*standard_kvs())))
    assert info.architecture == "llama" and info.context_length == 2048
    assert info.chat_template == "{{ x }}" and info.head_dim == 64
    assert info.array_lengths["tokenizer.ggml.tokens"] == 100
    assert info.expected_size == info.file_size and info.parameters == 4


@pytest.mark.parametrize(("payload", "shown"), [
    (kv("general.alignment", STRING, gguf_string("32")), "'32'"),  # was a TypeError
    (kv("general.alignment", U32, u32(0)), "0"),
    (kv("general.alignment", U32, u32(48)), "48"),
    (kv("general.alignment", F32, struct.pack("<f", 32.0)), "32.0"),
    (kv("general.alignment", BOOL, b"\1"), "True"),
], ids=["string", "zero", "not-a-power", "float", "bool"])
def test_alignment_must_be_a_power_of_two(tmp_path, payload, shown):
    path = write(tmp_path, gguf_bytes(*standard_kvs(**{"general.alignment": payload})))
    with pytest.raises(GGUFError, match=rf"crafted\.gguf is corrupt: general\.alignment should be a "
                                         rf"power of two, but it is {re.escape(shown)}"):
        read_gguf(path)


@pytest.mark.parametrize(("key", "payload", "expected"), [
    ("llama.context_length", kv("llama.context_length", STRING, gguf_string("8192")), "a count"),
    ("llama.context_length", kv("llama.context_length", I32, struct.pack("<i", -1)), "a count"),
    ("llama.context_length", kv("llama.context_length", ARRAY, array(U32, [u32(1)])), "a count"),
    ("llama.attention.head_count", kv("llama.attention.head_count", STRING, gguf_string("x")),
     "a count"),
    ("tokenizer.chat_template", kv("tokenizer.chat_template", U32, u32(7)), "text"),
    ("tokenizer.chat_template", kv("tokenizer.chat_template", ARRAY, array(U32, [u32(1)])), "text"),
    ("general.architecture", kv("general.architecture", U64, struct.pack("<Q", 1)), "text"),
], ids=["context-string", "context-negative", "context-array", "heads-string", "template-int",
        "template-array", "architecture-int"])
def test_wrongly_typed_standard_keys(tmp_path, key, payload, expected):
    path = write(tmp_path, gguf_bytes(*standard_kvs(**{key: payload})))
    with pytest.raises(GGUFError, match=rf"crafted\.gguf is corrupt: {re.escape(key)} should be {expected}"):
        read_gguf(path)


def test_per_layer_head_counts_are_read(tmp_path):
    heads = kv("llama.attention.head_count", ARRAY, array(U32, [u32(n) for n in (4, 8, 2)]))
    info = read_gguf(write(tmp_path, gguf_bytes(*standard_kvs(**{"llama.attention.head_count": heads}))))
    assert info.n_kv_heads == 8 and info.head_dim == 32


def test_deeply_nested_arrays(tmp_path):
    # Each level is an array of one array: 10,000 of them once ended in a RecursionError.
    depth = 10_000
    nested = struct.pack("<IQ", ARRAY, 1) * (depth - 1) + struct.pack("<IQ", U32, 1) + u32(1)
    path = write(tmp_path, gguf_bytes(*standard_kvs(), kv("x.nested", ARRAY, nested)))
    with pytest.raises(GGUFError, match=r"crafted\.gguf is corrupt: the arrays of x\.nested are nested"):
        read_gguf(path)


def test_long_nested_arrays_are_skipped_but_still_bounded(tmp_path):
    inner = array(U32, [u32(1)])
    ok = kv("x.list", ARRAY, array(ARRAY, [inner] * 100))
    info = read_gguf(write(tmp_path, gguf_bytes(*standard_kvs(), ok)))
    assert info.get("x.list") is None and info.array_lengths["x.list"] == 100
    deep = kv("x.deep", ARRAY, array(ARRAY, [array(ARRAY, [array(ARRAY, [array(ARRAY, [inner])])])] * 100))
    with pytest.raises(GGUFError, match="nested"):
        read_gguf(write(tmp_path, gguf_bytes(*standard_kvs(), deep)))


@pytest.mark.parametrize("item_type", [U32, STRING, ARRAY])
def test_array_claiming_2_to_the_60_items(tmp_path, item_type):
    payload = struct.pack("<IQ", item_type, 1 << 60) + b"\0" * 64
    path = write(tmp_path, gguf_bytes(*standard_kvs(), kv("x.huge", ARRAY, payload)))
    with pytest.raises(GGUFError, match=r"crafted\.gguf is truncated or damaged"):
        read_gguf(path)


@pytest.mark.parametrize("where", ["key", "value", "tensor name"])
def test_string_claiming_2_to_the_50_bytes(tmp_path, where):
    huge = struct.pack("<Q", 1 << 50) + b"abc"
    if where == "key":
        data = gguf_bytes(huge + u32(U32) + u32(1), *standard_kvs())
    elif where == "value":
        data = gguf_bytes(*standard_kvs(), gguf_string("x.text") + u32(STRING) + huge)
    else:
        data = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + huge + b"\0" * 64
    with pytest.raises(GGUFError, match=r"crafted\.gguf is truncated or damaged"):
        read_gguf(write(tmp_path, data))


def test_counts_beyond_the_file(tmp_path):
    for n_tensors, n_kv in ((1 << 40, 0), (0, 1 << 40), ((1 << 64) - 1, (1 << 64) - 1)):
        data = b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv) + b"\0" * 64
        with pytest.raises(GGUFError, match=r"crafted\.gguf is truncated or damaged"):
            read_gguf(write(tmp_path, data))


def test_invalid_utf8_in_a_key(tmp_path):
    path = write(tmp_path, gguf_bytes(*standard_kvs(), kv(b"general.\xff\xfename", U32, u32(1))))
    with pytest.raises(GGUFError, match=r"crafted\.gguf is corrupt: a metadata key is not valid UTF-8"):
        read_gguf(path)


def test_invalid_utf8_in_a_value_is_replaced(tmp_path):
    name = kv("general.name", STRING, gguf_string(b"caf\xe9"))
    assert read_gguf(write(tmp_path, gguf_bytes(*standard_kvs(), name))).name == "caf\ufffd"


def test_a_tensor_with_an_impossible_shape(tmp_path):
    tensor = gguf_string("t") + u32(2) + struct.pack("<QQ", 1 << 40, 1 << 40) + u32(0) + struct.pack("<Q", 0)
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + tensor + b"\0" * 64
    with pytest.raises(GGUFError, match=r"crafted\.gguf is corrupt: a tensor's shape is implausibly large"):
        read_gguf(write(tmp_path, data))


def test_a_very_long_string_is_skipped_not_kept(tmp_path):
    blob = kv("tokenizer.huggingface.json", STRING, gguf_string(b"x" * ((1 << 20) + 1)))
    info = read_gguf(write(tmp_path, gguf_bytes(*standard_kvs(), blob)))
    assert info.get("tokenizer.huggingface.json") is None and info.architecture == "llama"


def test_sampling_defaults_ignore_non_finite_values(tmp_path):
    from desktop.engines.gguf import sampling_defaults

    path = write(tmp_path, gguf_bytes(*standard_kvs(),
                                      kv("general.sampling.top_k", F32, struct.pack("<f", math.inf)),
                                      kv("general.sampling.temp", F32, struct.pack("<f", math.nan)),
                                      kv("general.sampling.top_p", F32, struct.pack("<f", 0.9))))
    assert sampling_defaults(read_gguf(path)) == {"top_p": 0.9}
