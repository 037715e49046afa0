"""Every template in llama.cpp's collection renders, in our sandbox and within our limits, exactly
the text Hugging Face's renderer (what the template's authors wrote and checked it against) makes
of the same conversation, bos and eos tokens. A template that fails there must fail here, with a
TemplateError. A difference is a failure, never a skip: it is a model that would hear something
its authors never wrote.
"""

from __future__ import annotations

import pytest

# Hugging Face's renderer is the reference. scripts/test installs it (the 'convert' extra): never
# skipped, since a parity test that quietly does not run is no test.
from transformers.utils import chat_template_utils as hf

from desktop.engines.chat_template import TemplateError, render
from tests.fixtures_sdist import templates_dir

WITH_SYSTEM = [
    {"role": "system", "content": "Be brief. Answer in English."},
    {"role": "user", "content": "Hi, what is 2 + 2?"},
    {"role": "assistant", "content": "4."},
    {"role": "user", "content": "And «3 + 3» <b>in bold</b>?"},
]
WITHOUT_SYSTEM = WITH_SYSTEM[1:]
CONVERSATIONS = {"with system": WITH_SYSTEM, "without system": WITHOUT_SYSTEM}
TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}


def reference(template: str, messages: list[dict]) -> str:
    rendered, _ = hf.render_jinja_template([messages], chat_template=template, add_generation_prompt=True,
                                           **TOKENS)
    return rendered[0]


@pytest.fixture(scope="module")
def collection():
    templates = sorted(templates_dir().glob("*.jinja"))
    assert len(templates) >= 60, "llama.cpp's collection is incomplete"
    return templates


@pytest.mark.parametrize("conversation", CONVERSATIONS.values(), ids=CONVERSATIONS.keys())
def test_the_whole_collection_renders_as_hugging_face_renders_it(collection, conversation):
    differences, same, refused = [], 0, 0
    for path in collection:
        source = path.read_text(encoding="utf-8")
        try:
            expected = reference(source, conversation)
        except Exception as exc:  # noqa: BLE001 - refused there: must be refused here
            try:
                got = render(source, conversation, add_generation_prompt=True, **TOKENS)
            except TemplateError:
                refused += 1
                continue
            differences.append(f"{path.name}: Hugging Face raised {exc!r}, ours rendered {got[:200]!r}")
            continue
        try:
            got = render(source, conversation, add_generation_prompt=True, **TOKENS)
        except TemplateError as exc:
            differences.append(f"{path.name}: ours raised {exc}")
            continue
        if got != expected:
            at = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
                      min(len(got), len(expected)))
            differences.append(f"{path.name}: differs at {at}: ours {got[at - 40:at + 80]!r}, "
                               f"theirs {expected[at - 40:at + 80]!r}")
            continue
        same += 1
    print(f"rendered identically: {same}, refused by both: {refused}, total: {len(collection)}")
    assert not differences, "\n".join(differences)
    assert same >= 60


def test_extra_variables_reach_the_template_as_in_hugging_face(collection):
    # Qwen 3 reads enable_thinking; the reasoning work passes it through render(extra=...).
    path = next(p for p in collection if p.name == "Qwen-Qwen3-0.6B.jinja")
    source = path.read_text(encoding="utf-8")
    for value in (True, False):
        rendered, _ = hf.render_jinja_template([WITHOUT_SYSTEM], chat_template=source,
                                               add_generation_prompt=True, enable_thinking=value, **TOKENS)
        assert render(source, WITHOUT_SYSTEM, extra={"enable_thinking": value}, **TOKENS) == rendered[0]
    assert render(source, WITHOUT_SYSTEM, extra={"enable_thinking": False}, **TOKENS) != render(
        source, WITHOUT_SYSTEM, **TOKENS)


def test_reasoning_is_given_under_each_name_templates_read(collection):
    path = next(p for p in collection if p.name == "openai-gpt-oss-120b.jinja")
    source = path.read_text(encoding="utf-8")
    messages = [WITHOUT_SYSTEM[0], {**WITHOUT_SYSTEM[1], "reasoning_content": "Two and two."},
                WITHOUT_SYSTEM[2]]
    # gpt-oss drops past reasoning except in a pending tool call, so check the field reaches it.
    probe = "{% for m in messages %}[{{ m.thinking }}|{{ m.reasoning_content }}]{% endfor %}"
    assert render(probe, messages) == reference(probe, messages)
    assert render(source, messages, **TOKENS) == reference(source, messages)
