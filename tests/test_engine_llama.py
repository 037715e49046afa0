"""The llama.cpp engine against the real SmolLM2 model, without Qt."""

import threading
import time

import pytest

from desktop.engines.base import ContextOverflowError, ModelLoadError, SamplingParams
from desktop.engines.gguf import GGUFError
from desktop.engines.llama_engine import LlamaEngine
from tests.conftest import LONG_PROMPT

GREEDY = SamplingParams(temperature=0, max_tokens=24)


def ask(engine, text, params=GREEDY, cancel=None):
    return "".join(engine.stream([{"role": "user", "content": text}], params, cancel))


def test_reports_what_the_model_is(engine, model_path):
    info = engine.info
    assert info.backend == "llama.cpp" and info.device == "CPU"
    assert info.name == "SmolLM2-135M-Instruct"
    assert info.architecture == "llama" and info.quantization == "Q4_1"
    assert info.context_length == 8192 and info.n_ctx == 2048
    assert "<|im_start|>" in info.chat_template
    assert info.file_size == model_path.stat().st_size


def test_streams_a_reply_with_timing(engine):
    pieces = list(engine.stream([{"role": "user", "content": "What is the capital of France?"}], GREEDY))
    text = "".join(pieces)
    assert len(pieces) > 3 and text.strip()
    stats = engine.last_stats
    assert stats.prompt_tokens > 10
    assert 3 < stats.completion_tokens <= 24
    assert 0 < stats.ttft_s < stats.total_s
    assert stats.tokens_per_s > 0
    assert stats.finish_reason in ("stop", "length")


def test_greedy_is_deterministic_and_seeded_sampling_repeats(engine):
    assert ask(engine, "Name three colors.") == ask(engine, "Name three colors.")
    seeded = SamplingParams(temperature=1.0, max_tokens=24, seed=1234)
    assert ask(engine, "Tell me a word.", seeded) == ask(engine, "Tell me a word.", seeded)


def test_max_tokens_is_respected(engine):
    ask(engine, LONG_PROMPT, SamplingParams(temperature=0, max_tokens=7))
    assert engine.last_stats.completion_tokens == 7
    assert engine.last_stats.finish_reason == "length"


def test_cancel_stops_between_tokens(engine):
    cancel = threading.Event()
    received = []
    start = time.perf_counter()
    for piece in engine.stream([{"role": "user", "content": LONG_PROMPT}],
                               SamplingParams(temperature=0, max_tokens=1000), cancel):
        received.append(piece)
        if len(received) == 5:
            cancel.set()
    assert engine.last_stats.finish_reason == "cancelled"
    assert engine.last_stats.completion_tokens <= 6
    assert time.perf_counter() - start < 5


def test_multi_turn_uses_history(engine):
    messages = [
        {"role": "user", "content": "My name is Zorblax."},
        {"role": "assistant", "content": "Nice to meet you, Zorblax!"},
        {"role": "user", "content": "What is my name?"},
    ]
    text = "".join(engine.stream(messages, SamplingParams(temperature=0, max_tokens=20)))
    assert "Zorblax" in text


def test_long_history_is_trimmed_not_crashed(model_path):
    with LlamaEngine(model_path, n_ctx=256) as small:
        history = []
        for i in range(30):
            history += [{"role": "user", "content": f"Fact {i}: the sky is blue."},
                        {"role": "assistant", "content": "Noted."}]
        history.append({"role": "user", "content": "Summarize."})
        text = "".join(small.stream(history, SamplingParams(temperature=0, max_tokens=16)))
        stats = small.last_stats
        assert text and stats.dropped_messages > 0
        assert stats.prompt_tokens + stats.completion_tokens <= 256


def test_a_message_longer_than_the_context_is_refused(model_path):
    with LlamaEngine(model_path, n_ctx=128) as small, pytest.raises(ContextOverflowError):
        list(small.stream([{"role": "user", "content": "word " * 400}], GREEDY))


def test_bad_files_give_clear_errors(not_gguf, truncated_gguf, unknown_arch_gguf):
    with pytest.raises(GGUFError, match="not a GGUF"):
        LlamaEngine(not_gguf)
    with pytest.raises(GGUFError, match="truncated"):
        LlamaEngine(truncated_gguf)
    with pytest.raises(ModelLoadError, match="could not load alien.gguf"):
        LlamaEngine(unknown_arch_gguf)
