"""Every model family speaks correctly: its prompt reaches llama.cpp as the right special tokens,
and its reply ends at its end-of-turn token with no marker text in it.

The models are tiny GGUFs with real tokenizers and real chat templates (tests/family_models.py):
their weights make greedy decoding write "Hello world!" and then the family's end-of-turn token.
"""

from __future__ import annotations

import pytest

from desktop.engines import stops
from desktop.engines.base import SamplingParams
from desktop.engines.llama_engine import LlamaEngine
from tests import family_models

GREEDY = SamplingParams(temperature=0, max_tokens=12)
CHAIN = "Hello world!"
MARKERS = ("<|im_end|>", "<|im_start|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>", "<turn|>",
           "<|turn>", "<|end|>", "<|endoftext|>", "</s>", "<s>", "<|start_header_id|>")

CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "How are you?"},
]


def _present():
    return [pytest.param(f, id=f.name) if family_models.available(f) else
            pytest.param(f, id=f.name, marks=pytest.mark.skip(reason="llama-cpp-python's sdist is not here"))
            for f in family_models.FAMILIES]


@pytest.fixture(scope="module", params=_present())
def family(request):
    return request.param


@pytest.fixture(scope="module")
def tiny(family):
    with LlamaEngine(family_models.build(family), n_ctx=512, n_threads=1) as engine:
        yield engine


def _token(engine, text):
    tokens = engine._llm.tokenize(text.encode(), add_bos=False, special=True)
    assert len(tokens) == 1, f"{text!r} is not one token here: {tokens}"
    return tokens[0]


def _assert_prompt_tokens(engine, family, prompt):
    tokens = engine.tokenize_prompt(prompt)
    for marker in family.specials:
        if marker in prompt:
            assert tokens.count(_token(engine, marker)) == prompt.count(marker), marker
    llm = engine._llm
    bos = llm.token_bos()
    bos_text = engine._prompt._bos
    if engine._prompt._add_bos or (bos >= 0 and prompt.startswith(bos_text)):
        # Once at the start, whether the template wrote it or the tokenizer added it; Llama 2's
        # format writes it again before each later turn.
        assert tokens[0] == bos and tokens[1] != bos, "BOS doubled at the start of the prompt"
        assert tokens.count(bos) == prompt.count(bos_text) + (not prompt.startswith(bos_text))
    # Every special token of the prompt came from its markup, none from the user's words.
    text = llm.detokenize(tokens, special=True).decode()
    assert "Hi there" in text and "How are you?" in text


def _assert_clean_stop(engine, family, reply):
    stats = engine.last_stats
    assert reply == CHAIN
    assert stats.finish_reason == "stop" and stats.completion_tokens == 3
    assert not any(m in reply for m in MARKERS)


def test_prompt_markers_are_single_special_tokens_and_bos_leads_once(tiny, family):
    prompt = tiny.render_prompt(CONVERSATION)
    for marker in family.specials:
        assert marker in prompt, f"the {family.name} template no longer writes {marker}"
    _assert_prompt_tokens(tiny, family, prompt)


def test_reply_ends_at_the_end_of_turn_token(tiny, family):
    reply = "".join(tiny.stream(CONVERSATION, GREEDY))
    _assert_clean_stop(tiny, family, reply)


class _OnlyEos:
    """llama_cpp as the engine sees it, but with an end-of-generation set of the file's EOS
    alone: what a conversion that forgot the chat's end-of-turn token gives."""

    def __init__(self, real, eos):
        self._real, self._eos = real, eos

    def __getattr__(self, name):
        return getattr(self._real, name)

    def llama_vocab_is_eog(self, _vocab, token):
        return token == self._eos


def test_stops_at_end_of_turn_even_when_the_file_names_only_its_eos(tiny, family, monkeypatch):
    monkeypatch.setattr(tiny, "_llama_cpp", _OnlyEos(tiny._llama_cpp, tiny._llm.token_eos()))
    reply = "".join(tiny.stream(CONVERSATION, GREEDY))
    _assert_clean_stop(tiny, family, reply)


def test_without_our_end_of_turn_set_such_a_file_runs_on(tiny, family, monkeypatch):
    """The control for the test above: its stop is ours, not llama.cpp's."""
    eot = _token(tiny, family.end_of_turn)
    if eot == tiny._llm.token_eos():
        pytest.skip(f"{family.name}'s end of turn is its EOS")
    monkeypatch.setattr(tiny, "_llama_cpp", _OnlyEos(tiny._llama_cpp, tiny._llm.token_eos()))
    monkeypatch.setattr(tiny, "_end_ids", frozenset())
    reply = "".join(tiny.stream(CONVERSATION, SamplingParams(temperature=0, max_tokens=6)))
    assert tiny.last_stats.finish_reason == "length"
    assert reply.startswith(CHAIN)
    assert family.end_of_turn not in reply  # a special token's text never reaches the reply


def test_the_engine_knows_each_family_end_of_turn(tiny, family):
    assert _token(tiny, family.end_of_turn) in tiny._end_ids


@pytest.fixture(scope="module")
def tiny_without_template(family):
    with LlamaEngine(family_models.build(family, with_template=False), n_ctx=512, n_threads=1) as engine:
        yield engine


def test_a_file_without_a_template_still_stops_cleanly(tiny_without_template, family):
    reply = "".join(tiny_without_template.stream(CONVERSATION, GREEDY))
    _assert_clean_stop(tiny_without_template, family, reply)


def test_a_file_without_a_template_speaks_its_family_format(tiny_without_template, family):
    pytest.importorskip("desktop.engines.families")
    import inspect

    from desktop.engines import llama_engine

    if "families" not in inspect.getsource(llama_engine):
        pytest.skip("the llama.cpp engine does not use the family fallback templates yet")
    if family.fallback is None:
        pytest.skip(f"desktop.engines.families has no {family.name} format")
    engine = tiny_without_template
    prompt = engine.render_prompt(CONVERSATION)
    assert all(m in prompt for m in family.specials), prompt
    _assert_prompt_tokens(engine, family, prompt)


# -- the text guard: an end marker spelled as ordinary tokens ------------------------------------

def _guarded(pieces, markers=("<|im_end|>", "<|endoftext|>")):
    guard = stops.EndMarkerGuard(markers)
    out = [guard.feed(p) for p in pieces]
    return out, guard


def test_a_spelled_out_marker_ends_the_reply_and_never_shows():
    out, guard = _guarded(["Hello", " world", "<", "|", "im", "_end", "|", ">", "\n<|im_start|>"])
    assert "".join(out) == "Hello world" and guard.ended
    assert guard.feed("more") == ""


def test_ordinary_text_is_not_held_back():
    out, guard = _guarded(["Hello", " a", " <", " b", "|", "c"])
    assert out == ["Hello", " a", " ", "< b", "|", "c"]  # only a possible marker start waits
    assert not guard.ended and guard.finish() == ""


def test_a_marker_cut_short_by_the_length_limit_is_dropped_but_a_lone_angle_is_kept():
    out, guard = _guarded(["x", "<|im_"])
    assert "".join(out) + guard.finish() == "x"
    out, guard = _guarded(["x <"])
    assert "".join(out) + guard.finish() == "x <"


def test_html_is_not_a_marker():
    assert stops.text_markers(["</s>", "<|im_end|>"]) == ("<|im_end|>",)


# -- the default model (SmolLM2, ChatML, EOS <|im_end|>) -------------------------------------------

def test_default_model_replies_carry_no_markers(engine):
    for question in ("What is 2+2?", "Say hello."):
        reply = "".join(engine.stream([{"role": "user", "content": question}],
                                      SamplingParams(temperature=0, max_tokens=48)))
        assert reply.strip() and not any(m in reply for m in MARKERS), reply
    assert engine._end_ids >= {_token(engine, "<|im_end|>")}


# -- ONNX Runtime GenAI (the default model converted) --------------------------------------------

@pytest.mark.parametrize("config_eos", [2, 0], ids=["eos-im_end", "eos-endoftext"])
def test_onnx_stops_at_im_end_and_the_next_turn_extends_it(onnx_copy, config_eos):
    """SmolLM2's genai_config names <|im_end|> (2); a conversion naming the base model's
    <|endoftext|> (0) instead must stop at <|im_end|> all the same, in our loop."""
    import json

    from desktop.engines.onnx_engine import OnnxEngine

    folder = onnx_copy()
    config_file = folder / "genai_config.json"
    config = json.loads(config_file.read_text())
    config["model"]["eos_token_id"] = config_eos
    config_file.unlink()  # a copy, never written through into the shared fixture
    config_file.write_text(json.dumps(config))
    with OnnxEngine(folder, device="cpu", n_ctx=1024) as engine:
        assert engine._end_texts.get(2) == "<|im_end|>" and 2 in engine._eos_ids
        messages = [{"role": "user", "content": "Say hello."}]
        params = SamplingParams(temperature=0, max_tokens=64)  # it ends its turn after 48
        reply = "".join(engine.stream(messages, params))
        assert reply.strip() and not any(m in reply for m in MARKERS), reply
        assert engine.last_stats.finish_reason == "stop"
        messages += [{"role": "assistant", "content": reply}, {"role": "user", "content": "Again."}]
        again = "".join(engine.stream(messages, params))
        assert not any(m in again for m in MARKERS), again
        # Only the new turn is read ("<|im_end|>\n<|im_start|>user\nAgain.<|im_end|>\n..."), and
        # <|im_end|> once: the generator holds what the next prompt repeats, no more, no less.
        assert engine.last_stats.prompt_tokens_evaluated < 16
        held = [int(t) for t in engine._gen.get_sequence(0)]
        prompt = engine.encode(engine.render_prompt(messages))
        assert held[: len(prompt)] == prompt
