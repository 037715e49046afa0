"""The context meter's counter: only the tokenizer, and the same count the engine feeds."""

import pytest

from desktop.engines.base import SamplingParams
from desktop.engines.counter import open_counter

CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name three rivers in 中国, please."},
    {"role": "assistant", "content": "Yangtze, Yellow, Pearl."},
    {"role": "user", "content": "And one in Europe?"},
]


def test_llama_counter_matches_the_engine(engine, model_path):
    counter = open_counter(model_path)
    try:
        for n in range(1, len(CHAT) + 1):
            assert counter.measure(CHAT[:n]) == len(engine.prepare(CHAT[:n], SamplingParams())[0])
        assert counter.measure(CHAT) > counter.measure(CHAT[:2]) > 10
    finally:
        counter.close()


def test_onnx_counter_matches_the_engine(onnx_model):
    from desktop.engines.onnx_engine import OnnxEngine

    counter = open_counter(onnx_model)
    with OnnxEngine(onnx_model, device="cpu") as eng:
        list(eng.stream(CHAT, SamplingParams(temperature=0, max_tokens=2)))
        assert counter.measure(CHAT) == eng.last_stats.prompt_tokens
    counter.close()


def test_counter_on_a_bad_file_says_so(not_gguf):
    from desktop.engines.base import EngineError

    with pytest.raises(EngineError):
        open_counter(not_gguf)
