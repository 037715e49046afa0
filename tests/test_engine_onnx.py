"""The ONNX Runtime GenAI engine against the real converted SmolLM2 folder."""

import json
import os
import re
import signal
import threading

import pytest

from desktop.engines import open_engine
from desktop.engines.base import ContextOverflowError, EngineError, SamplingParams
from desktop.engines.onnx_engine import (
    OnnxEngine,
    OnnxModelError,
    choose_device,
    folder_variant,
    validate_folder,
)
from tests.conftest import LONG_PROMPT

GREEDY = SamplingParams(temperature=0, max_tokens=24)


@pytest.fixture(scope="module")
def onnx(onnx_model):
    engine = OnnxEngine(onnx_model)
    yield engine
    engine.close()


def replace(path, data: bytes):
    path.unlink()  # never write through a link into the shared fixture
    path.write_bytes(data)


def test_reports_what_the_model_is(onnx, onnx_model):
    info = onnx.info
    assert info.backend == "onnxruntime-genai" and info.device == "CPU"
    assert info.fallback_reason is None
    assert info.architecture == "llama" and info.quantization == "int4"
    assert info.context_length == 8192 and info.n_ctx == 4096
    assert "<|im_start|>" in info.chat_template
    assert info.extra["n_layers"] == 30 and info.extra["n_kv_heads"] == 3


def test_streams_with_timing(onnx):
    pieces = list(onnx.stream([{"role": "user", "content": "Name a color."}], GREEDY))
    stats = onnx.last_stats
    assert len(pieces) > 3 and "".join(pieces).strip()
    assert "<|im_end|>" not in "".join(pieces)
    assert 0 < stats.completion_tokens <= 24 and stats.prompt_tokens > 10
    assert 0 < stats.ttft_s < stats.total_s and stats.tokens_per_s > 0


def test_greedy_is_deterministic(onnx):
    one = "".join(onnx.stream([{"role": "user", "content": "Count to five."}], GREEDY))
    two = "".join(onnx.stream([{"role": "user", "content": "Count to five."}], GREEDY))
    assert one == two


def test_cancel_stops_between_tokens(onnx):
    cancel = threading.Event()
    got = []
    for piece in onnx.stream([{"role": "user", "content": LONG_PROMPT}],
                             SamplingParams(temperature=0, max_tokens=2000), cancel):
        got.append(piece)
        if len(got) == 5:
            cancel.set()
    assert onnx.last_stats.finish_reason == "cancelled"
    assert onnx.last_stats.completion_tokens <= 6


def test_second_turn_reads_only_the_new_turn(onnx_model):
    with OnnxEngine(onnx_model) as onnx:
        _second_turn(onnx)


def _second_turn(onnx):
    params = SamplingParams(temperature=0, max_tokens=30)
    messages = [{"role": "user", "content": "My name is Zorblax. Remember it."}]
    first = "".join(onnx.stream(messages, params))
    first_stats = onnx.last_stats
    assert first_stats.prompt_tokens_evaluated == first_stats.prompt_tokens
    messages += [{"role": "assistant", "content": first},
                 {"role": "user", "content": "What is my name?"}]
    "".join(onnx.stream(messages, params))
    second = onnx.last_stats
    new_turn = onnx.count_tokens("<|im_end|>\n<|im_start|>user\nWhat is my name?<|im_end|>\n"
                                 "<|im_start|>assistant\n")
    # Only the new turn is read; the first turn and its reply stay in the generator.
    assert second.prompt_tokens > first_stats.prompt_tokens + first_stats.completion_tokens
    assert second.prompt_tokens_evaluated <= new_turn + 2


def test_edited_history_rewinds_instead_of_starting_over(onnx):
    params = SamplingParams(temperature=0, max_tokens=10)
    base = [{"role": "system", "content": "You are terse. " * 20},
            {"role": "user", "content": "Hi"}]
    "".join(onnx.stream(base, params))
    edited = [base[0], {"role": "user", "content": "Hello there, how are you?"}]
    "".join(onnx.stream(edited, params))
    stats = onnx.last_stats
    # The shared system prompt stays; only the edited message onwards is read again.
    assert stats.prompt_tokens_evaluated < stats.prompt_tokens - 50


def test_max_length_follows_the_conversation_not_the_model(onnx_model):
    with OnnxEngine(onnx_model) as onnx:
        "".join(onnx.stream([{"role": "user", "content": "Hi"}], GREEDY))
        assert onnx.max_length == 512
        "".join(onnx.stream([{"role": "user", "content": "Hi"}],
                            SamplingParams(temperature=0, max_tokens=700)))
        assert onnx.max_length == 1024  # grown in steps, as the conversation needs
        assert onnx.max_length < onnx.info.n_ctx < onnx.info.context_length


def test_long_history_is_trimmed_and_overlong_message_refused(onnx_model):
    with OnnxEngine(onnx_model, n_ctx=256) as small:
        history = []
        for i in range(30):
            history += [{"role": "user", "content": f"Fact {i}: the sky is blue."},
                        {"role": "assistant", "content": "Noted."}]
        history.append({"role": "user", "content": "Summarize."})
        text = "".join(small.stream(history, SamplingParams(temperature=0, max_tokens=16)))
        stats = small.last_stats
        assert text and stats.dropped_messages > 0
        assert stats.prompt_tokens + stats.completion_tokens <= 256
        with pytest.raises(ContextOverflowError):
            list(small.stream([{"role": "user", "content": "word " * 600}], GREEDY))


def test_asking_for_cuda_without_it_falls_back_to_cpu_with_the_reason(onnx_model):
    with OnnxEngine(onnx_model, device="cuda") as engine:
        assert engine.info.device == "CPU"
        assert "CUDA is not available" in engine.info.fallback_reason
        assert "".join(engine.stream([{"role": "user", "content": "Hi"}], GREEDY))


def test_a_cuda_folder_on_a_machine_without_cuda_runs_on_cpu(onnx_copy):
    folder = onnx_copy()
    config = json.loads((folder / "genai_config.json").read_text())
    config["model"]["decoder"]["session_options"]["provider_options"] = [{"cuda": {}}]
    (folder / "genai_config.json").write_text(json.dumps(config))
    assert folder_variant(config) == "cuda"
    with OnnxEngine(folder) as engine:
        assert engine.info.device == "CPU"
        assert "built for CUDA" in engine.info.fallback_reason


@pytest.mark.parametrize("requested, variant, available, expected", [
    ("auto", "cpu", {"cuda": True}, ("cpu", False)),
    ("auto", "cuda", {"cuda": True}, ("cuda", False)),
    ("auto", "dml", {"dml": False}, ("cpu", True)),
    ("cuda", "cpu", {"cuda": False}, ("cpu", True)),
    ("dml", "dml", {"dml": True}, ("dml", False)),
    ("cpu", "cuda", {"cuda": True}, ("cpu", False)),
])
def test_device_choice(requested, variant, available, expected):
    device, reason = choose_device(requested, variant, {"cpu": True, **available})
    assert (device, reason is not None) == expected


def test_bad_folders_name_the_bad_file(tmp_path, onnx_copy, onnx_model):
    cases = {}
    empty = tmp_path / "empty"
    empty.mkdir()
    cases[empty] = "genai_config.json is missing"
    f = onnx_copy("no-data")
    (f / "model.onnx.data").unlink()
    cases[f] = "model.onnx.data (the weights of model.onnx) is missing"
    f = onnx_copy("short-data")
    with open(onnx_model / "model.onnx.data", "rb") as src:
        replace(f / "model.onnx.data", src.read(5_000_000))
    cases[f] = "model.onnx.data is truncated"
    f = onnx_copy("no-onnx")
    (f / "model.onnx").unlink()
    cases[f] = "model.onnx is missing"
    f = onnx_copy("bad-config")
    (f / "genai_config.json").write_text("{not json")
    cases[f] = "genai_config.json is damaged"
    f = onnx_copy("escape")
    config = json.loads((f / "genai_config.json").read_text())
    config["model"]["decoder"]["filename"] = "../../etc/passwd"
    (f / "genai_config.json").write_text(json.dumps(config))
    cases[f] = "outside the folder"
    f = onnx_copy("no-tokenizer")
    (f / "tokenizer.json").unlink()
    cases[f] = "tokenizer.json is missing"
    for folder, message in cases.items():
        with pytest.raises(OnnxModelError, match=re.escape(message)):
            validate_folder(folder)


def test_damaged_files_that_pass_the_checks_are_named_on_load(onnx_copy):
    f = onnx_copy("bad-onnx")
    replace(f / "model.onnx", os.urandom(200_000))
    with pytest.raises(OnnxModelError, match="model.onnx is damaged"):
        OnnxEngine(f)
    f = onnx_copy("bad-tokenizer")
    replace(f / "tokenizer.json", b"{garbage")
    with pytest.raises(OnnxModelError, match="tokenizer.json"):
        OnnxEngine(f)


# -- the same engine in its child process (what the app uses) --------------------------------

def test_child_process_engine_streams_cancels_and_reports(onnx_model):
    engine = open_engine(str(onnx_model))
    try:
        assert type(engine).__name__ == "ProcessEngine"
        assert engine.info.backend == "onnxruntime-genai"
        text = "".join(engine.stream([{"role": "user", "content": "Hi"}], GREEDY))
        assert text and engine.last_stats.completion_tokens > 0
        cancel = threading.Event()
        for i, _ in enumerate(engine.stream([{"role": "user", "content": LONG_PROMPT}],
                                            SamplingParams(temperature=0, max_tokens=3000),
                                            cancel)):
            if i == 3:
                cancel.set()
        assert engine.last_stats.finish_reason == "cancelled"
        assert engine.last_stats.completion_tokens < 100
        with pytest.raises(ContextOverflowError):  # the error type crosses the process
            list(engine.stream([{"role": "user", "content": "word " * 5000}], GREEDY))
        assert engine.count_tokens("hello world") > 0
    finally:
        engine.close()
    assert not engine._process.is_alive()


def test_child_process_bad_folder_and_crash_are_errors_not_crashes(tmp_path, onnx_model):
    with pytest.raises(EngineError, match="genai_config.json"):
        open_engine(str(tmp_path), backend="onnx")
    engine = open_engine(str(onnx_model))
    os.kill(engine._process.pid, signal.SIGKILL)
    engine._process.join(5)
    with pytest.raises(EngineError, match="stopped unexpectedly"):
        list(engine.stream([{"role": "user", "content": "Hi"}], GREEDY))
    engine.close()


@pytest.mark.parametrize("policy", ["rolling", "keep_first", "stop"])
def test_overflow_policies_in_the_child_process(onnx_model, policy):
    """Far beyond the context, through the process engine the app uses: a reply or a
    ContextFullError, never a runtime exception or a hang."""
    from desktop.engines.base import ContextFullError

    history = []
    for i in range(12):
        history.append({"role": "user", "content": f"Question {i} about the sea. " * 6})
        history.append({"role": "assistant", "content": f"Answer {i}: it is deep. " * 6})
    history.append({"role": "user", "content": "Summarise."})
    engine = open_engine(str(onnx_model), n_ctx=256)
    try:
        params = SamplingParams(temperature=0, max_tokens=8, context_policy=policy)
        if policy == "stop":
            with pytest.raises(ContextFullError, match="no longer fits"):
                list(engine.stream(history, params))
            history = history[-1:]  # the engine is still usable after refusing
            assert "".join(engine.stream(history, params))
            return
        assert "".join(engine.stream(history, params))
        stats = engine.last_stats
        assert stats.dropped_messages == len(stats.dropped_indices) > 0
        first_turn_kept = 0 not in stats.dropped_indices and 1 not in stats.dropped_indices
        assert first_turn_kept == (policy == "keep_first")
    finally:
        engine.close()
