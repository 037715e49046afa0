"""A model whose template has no system role still gets the chat's system prompt (in the first
user message), and the chat settings say so, once, under the system prompt."""

from __future__ import annotations

import dataclasses

from desktop.engines.chat_template import supports_system_role
from tests.fixtures_sdist import templates_dir


def gemma2_template() -> str:
    return (templates_dir() / "google-gemma-2-2b-it.jinja").read_text(encoding="utf-8")


def test_the_real_prompt_class_folds_the_system_prompt_for_gemma_2(model_path):
    import llama_cpp

    from desktop.engines.llama_backends import ensure_loaded
    from desktop.engines.llama_engine import LlamaPrompt

    ensure_loaded(llama_cpp)
    llm = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    try:
        prompt = LlamaPrompt(llm, gemma2_template(), "gemma-like.gguf")
        assert not prompt.system_role
        text = prompt.render([{"role": "system", "content": "Answer in French."},
                              {"role": "user", "content": "Hello"}])
        assert "<start_of_turn>user\nAnswer in French.\n\nHello<end_of_turn>" in text
        assert prompt.measure([{"role": "system", "content": "Answer in French."},
                               {"role": "user", "content": "Hello"}]) == len(prompt.tokenize(text))
    finally:
        llm.close()


def test_the_settings_panel_notes_a_missing_system_role(qtbot, tmp_path):
    from desktop.storage import ConversationStore
    from desktop.ui.chat_settings import ChatSettings

    store = ConversationStore(tmp_path / "c.sqlite3")
    panel = ChatSettings(store)
    qtbot.addWidget(panel)
    panel.load({"system_prompt": "Be brief."})
    assert panel.system_note.isHidden()  # a model with a system role, as before any is loaded
    panel.set_system_role(False)
    assert not panel.system_note.isHidden()
    assert "no system role" in panel.system_note.text()
    panel.load({"system_prompt": ""})  # nothing to fold: nothing to say
    assert panel.system_note.isHidden()
    panel.system_edit.setPlainText("Be kind.")
    assert not panel.system_note.isHidden()
    panel.set_system_role(True)
    assert panel.system_note.isHidden()
    store.close()


def test_the_window_shows_the_note_and_the_template_fallback(make_window, qtbot):
    window = make_window()
    assert window.model_info.extra["system_role"] is True  # the real SmolLM2
    assert window.chat_settings.system_note.isHidden()
    window.chat_settings.system_edit.setPlainText("Answer in French.")
    assert window.chat_settings.system_note.isHidden()

    note = "This model file has no chat template; using the Gemma format."
    gemma_like = dataclasses.replace(window.model_info, extra={
        **window.model_info.extra, "system_role": supports_system_role(gemma2_template()),
        "template_note": note})
    window._on_model_loaded(gemma_like)
    assert not window.chat_settings.system_note.isHidden()
    assert window.banner.isVisible() and note in window.banner.text()
