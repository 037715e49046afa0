"""Reasoning models: thinking split from the answer, whatever the chunking; templates' switches."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.engines import chat_template, reasoning
from desktop.engines.base import GenerationStats, Thought
from desktop.engines.reasoning import ThinkingSplitter, ThinkingStream

TEMPLATES = Path.home() / ".cache" / "edgechat-sdist" / "templates"


def split(chunks, inside=False):
    splitter = ThinkingSplitter(inside=inside)
    pieces = [p for c in chunks for p in splitter.feed(c)] + splitter.finish()
    thought = "".join(p for p in pieces if isinstance(p, Thought))
    answer = "".join(p for p in pieces if not isinstance(p, Thought))
    return thought, answer


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@pytest.mark.parametrize("text, inside, expected", [
    ("<think>\nhmm, 2+2\n</think>\n\nIt is 4.", False, ("\nhmm, 2+2\n", "It is 4.")),
    ("hmm, 2+2\n</think>\n\nIt is 4.", True, ("hmm, 2+2\n", "It is 4.")),
    ("Plain answer, no thinking.", False, ("", "Plain answer, no thinking.")),
    ("  <think>x</think>y", False, ("x", "y")),
    ("Answer quoting <think> tags </think> stays", False, ("", "Answer quoting <think> tags </think> stays")),
    ("<think>still thinking when stopped", False, ("still thinking when stopped", "")),
    ("<thi", False, ("", "<thi")),
    ("<think>a</thi", False, ("a</thi", "")),
    ("<think></think>\n\n", False, ("", "")),
    ("<think>a</think>b<think>c</think>", False, ("a", "b<think>c</think>")),
])
def test_the_splitter_separates_thinking_from_the_answer(text, inside, expected):
    assert split([text], inside) == expected
    assert split(list(text), inside) == expected  # one character at a time


_ALPHABET = st.sampled_from(["<think>", "</think>", "<", "/", ">", "t", "h", "i", "n", "k",
                             " ", "\n", "a", "b", "é", "<thi", "</th"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join), st.lists(st.integers(0, 200), max_size=12),
       st.booleans())
def test_any_chunking_of_the_same_text_splits_the_same(text, cuts, inside):
    assert split(chunked(text, cuts), inside) == split([text], inside)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40).filter(lambda t: "</think>" not in t),
       st.text(max_size=40), st.lists(st.integers(0, 200), max_size=12))
def test_a_thinking_block_and_its_answer_come_back_as_written(thought, answer, cuts):
    text = f"<think>{thought}</think>\n\n{answer}"
    assert split(chunked(text, cuts)) == (thought, answer.lstrip())


def test_the_stream_times_the_thinking_and_counts_its_tokens():
    clock = iter([1.0, 3.5, 9.0, 9.0])
    stream = ThinkingStream(ThinkingSplitter(inside=True), clock=lambda: next(clock))
    pieces = [p for token in ("Let", " me", " see", "</think>", "\n\nYes") for p in stream.feed(token)]
    pieces += list(stream.finish())
    stats = GenerationStats()
    stream.fill(stats)
    assert [type(p) for p in pieces] == [Thought, Thought, Thought, str]
    assert stats.thinking_s == 2.5 and stats.thinking_tokens == 4


def test_without_thinking_the_stream_passes_text_through():
    stream = reasoning.stream_for(None, "<|im_start|>assistant\n")
    assert list(stream.feed("<think>x</think>")) == ["<think>x</think>"]
    stats = GenerationStats()
    stream.fill(stats)
    assert stats.thinking_s is None


def _template(name: str) -> str:
    path = next(iter(TEMPLATES.glob(name)), None)
    if path is None:
        pytest.skip(f"no {name} in the template collection")
    return path.read_text(encoding="utf-8")


def test_qwen3_offers_the_switch_and_off_closes_the_block_in_the_prompt():
    template = _template("Qwen-Qwen3-*.jinja")
    assert reasoning.template_has_switch(template)
    messages = [{"role": "user", "content": "Hi"}]
    on = chat_template.render(template, messages, extra=reasoning.template_extra(template, True))
    off = chat_template.render(template, messages, extra=reasoning.template_extra(template, False))
    assert not reasoning.starts_inside(on) and not reasoning.starts_inside(off)
    assert off.endswith("<think>\n\n</think>\n\n") and not on.endswith("</think>\n\n")


def test_r1_distills_start_inside_the_thinking():
    template = _template("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja")
    prompt = chat_template.render(template, [{"role": "user", "content": "Hi"}],
                                  extra=reasoning.template_extra(template, True))
    assert reasoning.starts_inside(prompt)
    assert reasoning.model_thinking(template, prompt)["starts_inside"]


def test_qwen3_shows_earlier_thinking_only_after_the_latest_question():
    template = _template("Qwen-Qwen3-*.jinja")
    history = [{"role": "user", "content": "Q1"},
               {"role": "assistant", "content": "A1", "reasoning_content": "secret musing"},
               {"role": "user", "content": "Q2"}]
    prompt = chat_template.render(template, history)
    assert "A1" in prompt and "secret musing" not in prompt


def test_a_template_without_the_switch_gets_no_extra_variables():
    assert reasoning.template_extra("{{ messages }}", True) is None
    switch = "{% if enable_thinking %}x{% endif %}"
    assert reasoning.template_extra(switch, False) == {"enable_thinking": False}
    assert not reasoning.model_thinking(None)["switch"]


def test_the_child_process_pipe_keeps_thinking_and_answer_apart():
    import multiprocessing as mp
    from types import SimpleNamespace

    from desktop.engines import process_engine
    from desktop.engines.base import SamplingParams
    from desktop.engines.process_engine import ProcessEngine

    pieces = [Thought("Let "), Thought("me think"), "Four", Thought("?"), "."]
    assert process_engine._runs(pieces) == [("thought", "Let me think"), ("piece", "Four"),
                                            ("thought", "?"), ("piece", ".")]
    parent, child = mp.Pipe()
    for run in process_engine._runs(pieces):
        child.send(run)
    child.send(("done", GenerationStats(thinking_s=2.0, thinking_tokens=3).to_dict()))
    engine = ProcessEngine.__new__(ProcessEngine)
    engine._conn, engine._cancel, engine._stats = parent, mp.get_context("spawn").Event(), None
    engine._process = SimpleNamespace(is_alive=lambda: True, name="test")
    engine._send = lambda message: None
    out = list(engine.stream([{"role": "user", "content": "2+2"}], SamplingParams()))
    assert out == ["Let me think", "Four", "?", "."]
    assert [isinstance(p, Thought) for p in out] == [True, False, True, False]
    assert engine.last_stats.thinking_s == 2.0 and engine.last_stats.thinking_tokens == 3


def test_the_worker_sends_thinking_and_answer_as_their_own_events(qapp):
    from desktop.workers.generation import GenerationWorker

    worker = GenerationWorker()
    got = []
    worker.chunk_generated.connect(lambda rid, text: got.append(("text", text)))
    worker.thinking_generated.connect(lambda rid, text: got.append(("thinking", text)))
    worker._emit(1, [Thought("a"), Thought("b"), "c", "d", Thought("e")])
    assert got == [("thinking", "ab"), ("text", "cd"), ("thinking", "e")]
