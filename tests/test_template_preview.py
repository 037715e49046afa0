"""The prompt a model reads, shown before and after loading it: the library's details pane for
an installed model (rendered on the library thread, with the tokenizer only) and the loaded
model's label tooltip. Plain text both: a prompt is full of <tags>."""

from __future__ import annotations

import html

import pytest

from desktop.engines.template_preview import sample_chat
from desktop.models.open_model import preview

CHATML_SAMPLE = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n"
    "<|im_start|>assistant\nHello! How can I help you today?<|im_end|>\n"
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")


def test_the_sample_chat_has_each_role():
    assert [m["role"] for m in sample_chat()] == ["system", "user", "assistant", "user"]


def test_preview_renders_the_sample_with_the_models_template(model_path):
    assert preview(model_path) == CHATML_SAMPLE


@pytest.fixture
def library_window(qtbot, tmp_path):
    from desktop.models.library import Library
    from desktop.ui.library_window import LibraryWindow

    w = LibraryWindow(Library(tmp_path / "models"))
    qtbot.addWidget(w)
    w.show()
    yield w
    assert w.shutdown()


def test_the_library_shows_an_installed_models_prompt(library_window, qtbot, model_path):
    w = library_window
    w.library.import_path(model_path)
    with qtbot.waitSignal(w.tasks.library.surveyed, timeout=30_000):
        w.refresh()
    with qtbot.waitSignal(w.tasks.library.previewed, timeout=30_000):
        w.installed_view.setCurrentIndex(w.installed_model.index(0, 0))
    qtbot.waitUntil(lambda: CHATML_SAMPLE in w.installed_details.toPlainText(), timeout=5_000)
    w.installed_view.clearSelection()
    w.installed_view.setCurrentIndex(w.installed_model.index(-1, -1))
    assert w.installed_details.toPlainText() == ""


def test_a_model_that_cannot_be_previewed_says_why(library_window, qtbot, not_gguf):
    w = library_window
    w._previewing = str(not_gguf)
    with qtbot.waitSignal(w.tasks.library.previewed, timeout=30_000) as signal:
        w.tasks.library.preview(str(not_gguf))
    assert signal.args[0] == str(not_gguf) and signal.args[1]
    assert signal.args[1] in w.installed_details.toPlainText()


def test_the_loaded_models_tooltip_shows_its_prompt(make_window):
    window = make_window()
    assert window.model_info.extra["template_preview"] == CHATML_SAMPLE
    assert html.escape(CHATML_SAMPLE) in window.model_label.toolTip()
