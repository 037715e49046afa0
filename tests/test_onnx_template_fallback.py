"""An ONNX folder whose chat template is missing or broken speaks its family's format, as a GGUF
does (tests/test_family_formats.py), instead of ChatML for everything or an error per message."""

from __future__ import annotations

import json

import pytest

from desktop.engines.base import SamplingParams
from desktop.engines.counter import open_counter
from desktop.engines.onnx_engine import OnnxEngine

pytestmark = pytest.mark.slow

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."}]


def _without_template(folder, replacement=None):
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.pop("chat_template", None)
    config_path.unlink()  # a hard link to the shared fixture: replace, never write through
    config_path.write_text(json.dumps(config), encoding="utf-8")
    if replacement is not None:
        (folder / "chat_template.jinja").write_text(replacement, encoding="utf-8")
    return folder


@pytest.mark.parametrize("replacement, says", [
    (None, "has no chat template"),
    ("{% for m in messages %}{{ m.content }", "does not work"),
])
def test_a_folder_without_a_working_template_uses_its_family(onnx_copy, replacement, says):
    folder = _without_template(onnx_copy(), replacement)
    with OnnxEngine(folder) as engine:
        note = engine.info.extra["template_note"]
        assert says in note and "ChatML" in note  # SmolLM2's vocabulary: the ChatML family
        prompt = engine.render_prompt(CHAT)
        assert prompt.startswith("<|im_start|>system\nBe brief.<|im_end|>")
        assert prompt.endswith("<|im_start|>assistant\n")
        reply = "".join(engine.stream(CHAT, SamplingParams(temperature=0, max_tokens=24)))
        assert "<|im_end|>" not in reply and "<|im_start|>" not in reply
        # The context meter chooses the same template, so it counts what the engine reads.
        counter = open_counter(str(folder))
        try:
            assert counter.measure(CHAT) == len(engine._prompt.encode(prompt))
        finally:
            counter.close()


def test_a_folder_with_its_own_template_keeps_it(onnx_model):
    with OnnxEngine(onnx_model) as engine:
        assert engine.info.extra["template_note"] is None
        assert engine.info.chat_template == (onnx_model / "chat_template.jinja").read_text(encoding="utf-8")
