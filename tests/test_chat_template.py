import pytest

from desktop.engines.chat_template import CHATML, TemplateError, render
from desktop.engines.gguf import read_gguf

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
]


def test_renders_the_models_own_template(model_path):
    template = read_gguf(model_path).chat_template
    prompt = render(template, MESSAGES)
    assert prompt.startswith("<|im_start|>system\nBe brief.<|im_end|>")
    assert "<|im_start|>assistant\nHello!<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_chatml_when_the_model_has_no_template():
    assert render(None, MESSAGES[1:2]) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert render(None, MESSAGES[1:2]) == render(CHATML, MESSAGES[1:2])


def test_template_is_sandboxed():
    # CVE-2024-34359: a template from a model file must not reach Python internals.
    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(TemplateError, match="unsafe"):
        render(evil, MESSAGES)


def test_template_errors_are_reported():
    with pytest.raises(TemplateError, match="refused"):
        render("{{ raise_exception('roles must alternate') }}", MESSAGES)
    with pytest.raises(TemplateError, match="invalid"):
        render("{% for %}", MESSAGES)


def test_errors_name_the_model():
    with pytest.raises(TemplateError, match="The chat template of m.gguf refused the conversation: no"):
        render("{{ raise_exception('no') }}", MESSAGES, source_name="m.gguf")
    with pytest.raises(TemplateError, match="The chat template of m.gguf is invalid"):
        render("{% for %}", MESSAGES, source_name="m.gguf")
    with pytest.raises(TemplateError, match="The chat template of m.gguf tried an unsafe operation"):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", MESSAGES, source_name="m.gguf")


def test_the_engines_prompts_pass_the_model_name():
    from types import SimpleNamespace

    from desktop.engines.llama_engine import LlamaPrompt
    from desktop.engines.onnx_engine import OnnxPrompt

    llm = SimpleNamespace(token_bos=lambda: -1, token_eos=lambda: -1)
    hostile = "{{ 'a' * 200000000 }}"
    with pytest.raises(TemplateError, match="The chat template of model.gguf was stopped"):
        LlamaPrompt(llm, hostile, "model.gguf").render(MESSAGES)
    with pytest.raises(TemplateError, match="The chat template of model-folder was stopped"):
        OnnxPrompt(None, hostile, "", "", "model-folder").render(MESSAGES)
