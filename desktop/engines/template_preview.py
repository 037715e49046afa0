"""The sample chat whose prompt shows how a model is spoken to, and that prompt for an engine's
template. Its own module because both the engines (their info) and the token counter use it."""

from __future__ import annotations

from desktop.engines.base import Message
from desktop.engines.chat_template import TemplateError
from desktop.text import translate


def sample_chat() -> list[Message]:
    """A short chat (system, user, assistant, user) whose prompt shows how a model is spoken to."""
    return [
        {"role": "system", "content": translate("Core", "You are a helpful assistant.")},
        {"role": "user", "content": translate("Core", "Hello!")},
        {"role": "assistant", "content": translate("Core", "Hello! How can I help you today?")},
        {"role": "user", "content": translate("Core", "What is the capital of France?")},
    ]


def sample_prompt(prompt) -> str:
    """The text ``prompt`` (a LlamaPrompt or OnnxPrompt) makes of the sample chat, exactly as the
    engine would send it; the template's own complaint when it refuses it."""
    try:
        return prompt.render(sample_chat())
    except TemplateError as exc:
        return str(exc)
