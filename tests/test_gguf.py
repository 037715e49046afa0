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
