"""A model file with no chat template, or a broken one, is spoken to in its family's own format:
the same text llama.cpp's built-in formats make (the expected outputs below are those of
llama.cpp's tests/test-chat-template.cpp, for the same conversation), and where llama.cpp's
collection holds the family's real template, the same text as that template."""

from __future__ import annotations

import pytest

from desktop.engines import families
from desktop.engines.chat_template import prepare_messages, render
from tests.fixtures_sdist import templates_dir

CONVERSATION = [
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": "Who are you"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]

LLAMA_CPP = {
    "chatml": ("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi "
        "there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>"
        "assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\n"
        "Another question<|im_end|>\n<|im_start|>assistant\n"),
    "llama2": ("[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello "
        "[/INST]Hi there</s><s>[INST] Who are you [/INST]   I am an "
        "assistant   </s><s>[INST] Another question [/INST]"),
    "gemma": ("<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>"
        "\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>"
        "user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am "
        "an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>"
        "\n<start_of_turn>model\n"),
    "deepseek": ("You are a helpful assistant### Instruction:\nHello\n### Response:\n"
        "Hi there\n<|EOT|>\n### Instruction:\nWho are you\n### Response:\n"
        "   I am an assistant   \n<|EOT|>\n### Instruction:\nAnother "
        "question\n### Response:\n"),
    "command-r": ("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant<|END_OF_TURN_TOKEN|>"
        "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|>"
        "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hi there<|END_OF_TURN_TOKEN|>"
        "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Who are you<|END_OF_TURN_TOKEN|>"
        "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>I am an assistant<|END_OF_TURN_TOKEN|>"
        "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Another question<|END_OF_TURN_TOKEN|>"
        "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"),
    "llama3": ("<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful "
        "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>"
        "\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
        "\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>"
        "\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
        "\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>"
        "\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
        "\n\n"),
    "phi3": ("<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>"
        "\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>"
        "\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\n"
        "Another question<|end|>\n<|assistant|>\n"),
    "deepseek2": ("You are a helpful assistant\n\nUser: Hello\n\nAssistant: Hi "
        "there<｜end▁of▁sentence｜>User: Who are you\n\nAssistant:    "
        "I am an assistant   <｜end▁of▁sentence｜>User: Another question\n"
        "\nAssistant:"),
    "deepseek3": ("You are a helpful assistant\n\n<｜User｜>Hello<｜Assistant｜>Hi "
        "there<｜end▁of▁sentence｜><｜User｜>Who are you<｜Assistant｜>   "
        "I am an assistant   <｜end▁of▁sentence｜><｜User｜>Another question<｜Assistant｜>"),
    "mistral-v1": (" [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s>"
        " [INST] Who are you [/INST]    I am an assistant   </s> [INST] "
        "Another question [/INST]"),
    "mistral-v3": ("[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>"
        "[INST] Who are you[/INST] I am an assistant</s>[INST] Another "
        "question[/INST]"),
    "mistral-v3-tekken": ("[INST]You are a helpful assistant\n\nHello[/INST]Hi there</s>"
        "[INST]Who are you[/INST]   I am an assistant   </s>[INST]Another "
        "question[/INST]"),
    "mistral-v7": ("[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] "
        "Hello[/INST] Hi there</s>[INST] Who are you[/INST]    I am "
        "an assistant   </s>[INST] Another question[/INST]"),
    "mistral-v7-tekken": ("[SYSTEM_PROMPT]You are a helpful assistant[/SYSTEM_PROMPT][INST]Hello[/INST]Hi "
        "there</s>[INST]Who are you[/INST]   I am an assistant   </s>"
        "[INST]Another question[/INST]"),
}


def test_every_family_has_a_format_its_stops_and_a_name():
    assert set(families.TEMPLATES) == set(LLAMA_CPP)
    assert set(families.END_OF_TURN) == set(families.TEMPLATES) == set(families.NAMES)
    assert families.end_of_turn_tokens("gemma") == ("<end_of_turn>",)
    assert families.end_of_turn_tokens("llama3") == ("<|eot_id|>",)
    assert families.end_of_turn_tokens(None) == ()


@pytest.mark.parametrize("family", LLAMA_CPP)
def test_each_format_renders_as_llama_cpps_built_in(family):
    assert render(families.template(family), CONVERSATION) == LLAMA_CPP[family]


@pytest.mark.parametrize(("family", "real"), [
    ("gemma", "google-gemma-2-2b-it.jinja"),
    ("phi3", "microsoft-Phi-3.5-mini-instruct.jinja"),
    ("mistral-v3-tekken", "mistralai-Mistral-Nemo-Instruct-2407.jinja"),
])
def test_a_format_renders_as_the_familys_own_template(family, real):
    source = (templates_dir() / real).read_text(encoding="utf-8")
    without_system = CONVERSATION[1:4]
    tokens = {"bos_token": "", "eos_token": "</s>"}  # the built-ins leave the BOS to the tokenizer
    assert render(families.template(family), without_system) == render(source, without_system, **tokens)
    if family == "gemma":  # no system role in either: the real one's, folded, is the built-in's
        folded = prepare_messages(source, CONVERSATION[:4])
        assert render(families.template(family), CONVERSATION[:4]) == render(source, folded, **tokens)


@pytest.mark.parametrize(("architecture", "tokens", "family"), [
    ("gemma2", ["<start_of_turn>", "<end_of_turn>"], "gemma"),
    ("gemma3", [], "gemma"),
    ("llama", ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"], "llama3"),
    ("llama", ["<s>", "</s>"], "llama2"),
    ("llama", ["[INST]", "[/INST]"], "mistral-v3"),
    ("llama", ["[INST]", "[/INST]", "[SYSTEM_PROMPT]"], "mistral-v7-tekken"),
    ("phi3", ["<|end|>", "<|assistant|>", "<|user|>"], "phi3"),
    ("llama", ["<|end|>", "<|assistant|>"], "phi3"),
    ("qwen2", ["<|im_start|>", "<|im_end|>"], "chatml"),
    ("qwen3", [], "chatml"),
    ("llama", ["<|im_start|>", "<|im_end|>"], "chatml"),  # SmolLM2, a Llama with ChatML
    ("command-r", ["<|START_OF_TURN_TOKEN|>"], "command-r"),
    ("deepseek2", ["<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>"], "deepseek3"),
    ("deepseek2", ["<｜end▁of▁sentence｜>"], "deepseek2"),
    ("llama", ["<|EOT|>"], "deepseek"),
    ("rwkv6", [], None),
    (None, [], None),
])
def test_the_family_is_recognised_by_tokens_then_architecture(architecture, tokens, family):
    assert families.detect_family(architecture, iter(tokens)) == family


def test_a_missing_template_falls_back_with_a_note():
    template, family, note = families.choose_template(None, "gemma2", ["<start_of_turn>"])
    assert (template, family) == (families.GEMMA, "gemma")
    assert note == "This model file has no chat template; using the Gemma format."
    template, family, note = families.choose_template("", "rwkv6", [])
    assert family == "chatml" and "ChatML" in note


def test_a_broken_template_falls_back_with_a_note():
    template, family, note = families.choose_template("{% for %}", "llama", ["<|eot_id|>"])
    assert (template, family) == (families.LLAMA3, "llama3")
    assert note.startswith("This model file's chat template does not work (") and "Llama 3 format" in note


def test_a_working_template_is_kept():
    source = "{% for m in messages %}{{ m.content }}{% endfor %}"
    assert families.choose_template(source, "gemma2", ["<start_of_turn>"]) == (source, None, None)
