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
    assert fit_messages(msgs, words, 1000) == (msgs, 0)


def test_drops_oldest_turns_keeps_system_and_newest():
    msgs = conversation(10)
    fitted, dropped = fit_messages(msgs, words, 60)
    assert words(fitted) <= 60
    assert fitted[0]["role"] == "system"
    assert fitted[-1]["content"] == "last question"
    assert fitted[1]["role"] == "user"  # the window never opens on an assistant reply
    assert dropped == len(msgs) - len(fitted) > 0
    # as much recent history as fits: one more turn would not
    assert fitted[1:] == msgs[-len(fitted) + 1 :]


def test_a_single_message_too_long_is_refused():
    msgs = [{"role": "user", "content": "word " * 500}]
    with pytest.raises(ContextOverflowError):
        fit_messages(msgs, words, 100)
