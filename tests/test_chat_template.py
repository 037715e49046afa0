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


# --- System prompts everywhere -------------------------------------------------------------------

def _collection(name: str) -> str:
    from tests.fixtures_sdist import templates_dir

    return (templates_dir() / name).read_text(encoding="utf-8")


def test_a_template_that_refuses_the_system_role_gets_it_in_the_first_user_turn():
    from desktop.engines.chat_template import prepare_messages, supports_system_role

    gemma2 = _collection("google-gemma-2-2b-it.jinja")
    with pytest.raises(TemplateError, match="System role not supported"):
        render(gemma2, MESSAGES, bos_token="<bos>")
    assert not supports_system_role(gemma2, "<bos>", "<eos>")
    prompt = render(gemma2, prepare_messages(gemma2, MESSAGES, "<bos>", "<eos>"), bos_token="<bos>")
    assert prompt.startswith("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n")
    assert prompt.count("Be brief.") == 1 and prompt.endswith("<start_of_turn>model\n")


def test_a_template_that_drops_the_system_message_silently_gets_it_folded_too():
    from desktop.engines.chat_template import prepare_messages, supports_system_role

    drops = "{% for m in messages if m.role != 'system' %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    assert not supports_system_role(drops)
    assert render(drops, prepare_messages(drops, MESSAGES)) == (
        "[user] Be brief.\n\nHi\n[assistant] Hello!\n[user] Bye\n")


def test_templates_with_a_system_role_are_left_alone():
    from desktop.engines.chat_template import prepare_messages, supports_system_role

    assert supports_system_role(CHATML) and supports_system_role(None)
    assert prepare_messages(CHATML, MESSAGES) == MESSAGES
    assert prepare_messages(_collection("google-gemma-2-2b-it.jinja"), MESSAGES[1:]) == MESSAGES[1:]


def test_a_system_prompt_alone_becomes_the_user_message():
    from desktop.engines.chat_template import fold_system

    assert fold_system([{"role": "system", "content": "Be brief."}]) == [
        {"role": "user", "content": "Be brief."}]


def test_the_real_smollm2_keeps_its_system_role(model_path):
    from desktop.engines.counter import open_counter

    counter = open_counter(model_path)
    try:
        prompt = counter._prompt
        assert prompt.system_role and prompt.family is None and prompt.template_note is None
        assert prompt.render(MESSAGES).startswith("<|im_start|>system\nBe brief.<|im_end|>")
    finally:
        counter.close()


class _FakeVocab:
    """Just enough of llama_cpp.Llama for LlamaPrompt: a vocabulary with some special tokens."""

    def __init__(self, specials, architecture):
        self.metadata = {"general.architecture": architecture}
        self._specials = specials

    def token_bos(self):
        return -1

    def token_eos(self):
        return -1

    def tokenize(self, text, add_bos=False, special=True):
        text = text.decode("utf-8")
        return [1] if text in self._specials else list(range(len(text)))


def test_llama_prompt_falls_back_to_the_familys_format_and_folds_its_system_prompt():
    from desktop.engines.llama_engine import LlamaPrompt

    prompt = LlamaPrompt(_FakeVocab({"<start_of_turn>", "<end_of_turn>"}, "gemma2"), None, "old.gguf")
    assert prompt.family == "gemma"
    assert prompt.template_note == "This model file has no chat template; using the Gemma format."
    assert prompt.render(MESSAGES) == (
        "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")

    broken = LlamaPrompt(_FakeVocab({"<|eot_id|>", "<|start_header_id|>"}, "llama"), "{% if %}", "b.gguf")
    assert broken.family == "llama3" and "Llama 3" in broken.template_note
    assert broken.render(MESSAGES[1:2]).startswith("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>")
