"""Render a model's own chat template, sandboxed.

A chat template ships inside the model file and is untrusted input: it is rendered in Jinja's
immutable sandbox (CVE-2024-34359 was a template injection through exactly this path).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from desktop.engines.base import EngineError

# Used when a model carries no template at all (old or hand-made GGUFs): ChatML is what most
# small instruct models were tuned on.
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class TemplateError(EngineError):
    pass


def _raise(message):
    raise TemplateError(f"The model's chat template refused the conversation: {message}")


@lru_cache(maxsize=8)
def _compile(source: str):
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"The model's chat template is invalid: {exc}") from None


def render(
    template: str | None,
    messages: Sequence[dict],
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
) -> str:
    from jinja2.exceptions import SecurityError
    from jinja2.exceptions import TemplateError as JinjaTemplateError

    compiled = _compile(template or CHATML)
    try:
        return compiled.render(
            messages=[dict(m) for m in messages],
            bos_token=bos_token,
            eos_token=eos_token,
            add_generation_prompt=add_generation_prompt,
        )
    except SecurityError as exc:
        raise TemplateError(f"The model's chat template tried an unsafe operation: {exc}") from None
    except JinjaTemplateError as exc:
        raise TemplateError(f"The model's chat template failed: {exc}") from None
