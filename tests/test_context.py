import pytest

from desktop.engines.base import ContextOverflowError
from desktop.engines.context import fit_messages


def words(messages):
    return sum(len(m["content"].split()) for m in messages)


def conversation(turns):
    msgs = [{"role": "system", "content": "sys"}]
    for i in range(turns):
        msgs.append({"role": "user", "content": f"question {i} " + "x " * 8})
        msgs.append({"role": "assistant", "content": f"answer {i} " + "y " * 8})
    msgs.append({"role": "user", "content": "last question"})
    return msgs


def test_fits_untouched():
    msgs = conversation(2)
    assert fit_messages(msgs, words, 1000) == (msgs, [])


def test_drops_oldest_turns_keeps_system_and_newest():
    msgs = conversation(10)
    fitted, dropped = fit_messages(msgs, words, 60)
    assert words(fitted) <= 60
    assert fitted[0]["role"] == "system"
    assert fitted[-1]["content"] == "last question"
    assert fitted[1]["role"] == "user"  # the window never opens on an assistant reply
    assert len(dropped) == len(msgs) - len(fitted) > 0
    assert dropped == list(range(1, 1 + len(dropped)))  # the oldest, right after the system prompt
    # as much recent history as fits: one more turn would not
    assert fitted[1:] == msgs[-len(fitted) + 1 :]


def test_a_single_message_too_long_is_refused():
    msgs = [{"role": "user", "content": "word " * 500}]
    with pytest.raises(ContextOverflowError):
        fit_messages(msgs, words, 100)


def test_keep_first_keeps_the_first_turn_and_drops_the_middle():
    msgs = conversation(10)
    fitted, dropped = fit_messages(msgs, words, 60, policy="keep_first")
    assert words(fitted) <= 60
    assert fitted[:3] == msgs[:3]  # system prompt, first question, first answer
    assert fitted[-1]["content"] == "last question"
    assert dropped and dropped[0] == 3 and dropped == list(range(3, 3 + len(dropped)))
    assert fitted[3]["role"] == "user"  # the kept tail opens on a question


def test_keep_first_falls_back_to_rolling_when_the_first_turn_cannot_stay():
    msgs = conversation(3)
    msgs[1] = {"role": "user", "content": "long " * 50}
    fitted, dropped = fit_messages(msgs, words, 30, policy="keep_first")
    assert fitted[-1]["content"] == "last question" and 1 in dropped


def test_stop_policy_refuses_with_a_message_instead_of_dropping():
    from desktop.engines.base import ContextFullError

    msgs = conversation(10)
    with pytest.raises(ContextFullError, match="no longer fits"):
        fit_messages(msgs, words, 60, policy="stop")
    assert fit_messages(conversation(1), words, 1000, policy="stop")[1] == []


@pytest.mark.parametrize("policy", ["rolling", "keep_first", "stop"])
def test_real_model_overflow_is_a_message_never_an_exception_or_a_hang(engine, policy):
    """A chat far beyond n_ctx (2048) on the real model, under each policy."""
    from desktop.engines.base import ContextOverflowError, SamplingParams

    history = []
    for i in range(40):
        history.append({"role": "user", "content": f"Tell me fact {i} about the sea. " * 8})
        history.append({"role": "assistant", "content": f"Fact {i}: the sea is large and deep. " * 8})
    history.append({"role": "user", "content": "Summarise."})
    params = SamplingParams(temperature=0, max_tokens=8, context_policy=policy)
    if policy == "stop":
        with pytest.raises(ContextOverflowError):
            list(engine.stream(history, params))
        return
    text = "".join(engine.stream(history, params))
    stats = engine.last_stats
    assert text and stats.dropped_messages == len(stats.dropped_indices) > 0
    assert stats.prompt_tokens + 8 <= engine.info.n_ctx
    if policy == "keep_first":
        assert 0 not in stats.dropped_indices and 1 not in stats.dropped_indices
    else:
        assert 0 in stats.dropped_indices
