"""Model families' own chat formats, for a model file whose template is missing or broken.

Old and hand-converted GGUFs often carry no chat template; some carry one that no longer parses.
Rendering them as ChatML, as we used to, talks to a Gemma or a Llama 3 in a language it was never
tuned on: it answers, badly, and never stops where a turn ends. llama.cpp has a built-in format
for each family (llm_chat_apply_template in src/llama-chat.cpp); each template below renders the
same text as its built-in counterpart (tests/test_family_formats.py checks them against the
expected outputs in llama.cpp's tests/test-chat-template.cpp). Like the built-ins they leave out
the BOS token, which the tokenizer adds.

The family is recognised from the vocabulary's special tokens first (a Llama 3 file says
``llama`` for its architecture, as Llama 2 does; only its <|eot_id|> tells them apart), then from
the GGUF's general.architecture.
"""

from __future__ import annotations

from collections.abc import Iterable

from desktop.text import translate


def _mistral(lead: str, trail: str, trim: bool) -> str:
    content = "(m.content | trim)" if trim else "m.content"
    return (
        "{%- set ns = namespace(inside=false) -%}"
        "{%- for m in messages -%}"
        "{%- if not ns.inside -%}{{- '" + lead + "[INST]" + trail + "' -}}{%- set ns.inside = true -%}"
        "{%- endif -%}"
        "{%- if m.role == 'system' -%}{{- m.content + '\\n\\n' -}}"
        "{%- elif m.role == 'user' -%}{{- m.content + '" + lead + "[/INST]' -}}"
        "{%- else -%}{{- '" + trail + "' + " + content + " + '</s>' -}}{%- set ns.inside = false -%}"
        "{%- endif -%}"
        "{%- endfor -%}"
    )


def _mistral_v7(space: str) -> str:
    return (
        "{%- for m in messages -%}"
        "{%- if m.role == 'system' -%}{{- '[SYSTEM_PROMPT]" + space + "' + m.content + '[/SYSTEM_PROMPT]' -}}"
        "{%- elif m.role == 'user' -%}{{- '[INST]" + space + "' + m.content + '[/INST]' -}}"
        "{%- else -%}{{- '" + space + "' + m.content + '</s>' -}}"
        "{%- endif -%}"
        "{%- endfor -%}"
    )


def _by_role(system: str, user: str, assistant: str, generation: str) -> str:
    """A format that writes each role with its own Jinja expression, ``c`` being the content."""
    return (
        "{%- for m in messages -%}{%- set c = m.content -%}"
        "{%- if m.role == 'system' -%}{{- " + system + " -}}"
        "{%- elif m.role == 'user' -%}{{- " + user + " -}}"
        "{%- elif m.role == 'assistant' -%}{{- " + assistant + " -}}"
        "{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt -%}{{- " + generation + " -}}{%- endif -%}"
    )


CHATML = (
    "{%- for m in messages -%}"
    "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

# Meta's own Llama 2 chat format: the system prompt in <<SYS>>, each later turn opened with a BOS
# (llama.cpp's "llama2-sys-bos").
LLAMA2 = (
    "{%- set ns = namespace(inside=true) -%}{{- '[INST] ' -}}"
    "{%- for m in messages -%}"
    "{%- if not ns.inside -%}{{- '<s>[INST] ' -}}{%- set ns.inside = true -%}{%- endif -%}"
    "{%- if m.role == 'system' -%}{{- '<<SYS>>\\n' + m.content + '\\n<</SYS>>\\n\\n' -}}"
    "{%- elif m.role == 'user' -%}{{- m.content + ' [/INST]' -}}"
    "{%- else -%}{{- m.content + '</s>' -}}{%- set ns.inside = false -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
)

LLAMA3 = (
    "{%- for m in messages -%}"
    "{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + (m.content | trim) + '<|eot_id|>' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}"
    "{%- endif -%}"
)

# Gemma has no system role: the system text opens the first user turn.
GEMMA = (
    "{%- set ns = namespace(system='') -%}"
    "{%- for m in messages -%}"
    "{%- if m.role == 'system' -%}{%- set ns.system = ns.system + (m.content | trim) -%}"
    "{%- else -%}"
    "{%- set role = 'model' if m.role == 'assistant' else m.role -%}"
    "{{- '<start_of_turn>' + role + '\\n' -}}"
    "{%- if ns.system and role != 'model' -%}"
    "{{- ns.system + '\\n\\n' -}}{%- set ns.system = '' -%}"
    "{%- endif -%}"
    "{{- (m.content | trim) + '<end_of_turn>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}"
)

PHI3 = (
    "{%- for m in messages -%}"
    "{{- '<|' + m.role + '|>\\n' + m.content + '<|end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"
)

_EOS_DEEPSEEK = "<｜end▁of▁sentence｜>"

TEMPLATES: dict[str, str] = {
    "chatml": CHATML,
    "llama2": LLAMA2,
    "llama3": LLAMA3,
    "gemma": GEMMA,
    "phi3": PHI3,
    "mistral-v1": _mistral(" ", " ", trim=False),
    "mistral-v3": _mistral("", " ", trim=True),
    "mistral-v3-tekken": _mistral("", "", trim=False),
    "mistral-v7": _mistral_v7(" "),
    "mistral-v7-tekken": _mistral_v7(""),
    "deepseek": _by_role("c", "'### Instruction:\\n' + c + '\\n'", "'### Response:\\n' + c + '\\n<|EOT|>\\n'",
                         "'### Response:\\n'"),
    "deepseek2": _by_role("c + '\\n\\n'", "'User: ' + c + '\\n\\n'", f"'Assistant: ' + c + '{_EOS_DEEPSEEK}'",
                          "'Assistant:'"),
    "deepseek3": _by_role("c + '\\n\\n'", "'<｜User｜>' + c", f"'<｜Assistant｜>' + c + '{_EOS_DEEPSEEK}'",
                          "'<｜Assistant｜>'"),
    "command-r": _by_role("'<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + (c | trim) + '<|END_OF_TURN_TOKEN|>'",
                          "'<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + (c | trim) + '<|END_OF_TURN_TOKEN|>'",
                          "'<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' + (c | trim) + '<|END_OF_TURN_TOKEN|>'",
                          "'<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'"),
}

# The names shown to the user ("using the Gemma format").
NAMES: dict[str, str] = {
    "chatml": "ChatML", "llama2": "Llama 2", "llama3": "Llama 3", "gemma": "Gemma", "phi3": "Phi-3",
    "mistral-v1": "Mistral (v1)", "mistral-v3": "Mistral (v3)", "mistral-v3-tekken": "Mistral (v3 Tekken)",
    "mistral-v7": "Mistral (v7)", "mistral-v7-tekken": "Mistral (v7 Tekken)", "deepseek": "DeepSeek Coder",
    "deepseek2": "DeepSeek-V2", "deepseek3": "DeepSeek-V3", "command-r": "Command R",
}

# What ends an assistant's turn in each format (as text; the engines look the tokens up).
END_OF_TURN: dict[str, tuple[str, ...]] = {
    "chatml": ("<|im_end|>",),
    "llama2": ("</s>",),
    "llama3": ("<|eot_id|>",),
    "gemma": ("<end_of_turn>",),
    "phi3": ("<|end|>",),
    "mistral-v1": ("</s>",),
    "mistral-v3": ("</s>",),
    "mistral-v3-tekken": ("</s>",),
    "mistral-v7": ("</s>",),
    "mistral-v7-tekken": ("</s>",),
    "deepseek": ("<|EOT|>",),
    "deepseek2": (_EOS_DEEPSEEK,),
    "deepseek3": (_EOS_DEEPSEEK,),
    "command-r": ("<|END_OF_TURN_TOKEN|>",),
}

# Special tokens that name a family, most specific first: (tokens all present, family).
_BY_TOKENS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("<start_of_turn>",), "gemma"),
    (("<|start_header_id|>",), "llama3"),
    (("<|eot_id|>",), "llama3"),
    (("<|START_OF_TURN_TOKEN|>",), "command-r"),
    (("<｜User｜>", "<｜Assistant｜>"), "deepseek3"),
    (("<|im_start|>",), "chatml"),
    (("<|end|>", "<|assistant|>"), "phi3"),
    (("[SYSTEM_PROMPT]",), "mistral-v7-tekken"),  # Mistral Small 3 and later, the ones run locally
    (("[INST]", "[/INST]"), "mistral-v3"),
    (("<|EOT|>",), "deepseek"),
    ((_EOS_DEEPSEEK,), "deepseek2"),
)

# general.architecture, when the vocabulary names no family.
_BY_ARCHITECTURE: dict[str, str] = {
    "llama": "llama2",
    "gemma": "gemma", "gemma2": "gemma", "gemma3": "gemma", "gemma3n": "gemma", "gemma-embedding": "gemma",
    "phi3": "phi3",
    "qwen": "chatml", "qwen2": "chatml", "qwen2moe": "chatml", "qwen3": "chatml", "qwen3moe": "chatml",
    "command-r": "command-r", "cohere2": "command-r",
    "deepseek": "deepseek", "deepseek2": "deepseek2",
    "mistral3": "mistral-v7-tekken",
}

# Every token text detection looks at: an engine asks its vocabulary for just these.
MARKERS: tuple[str, ...] = tuple(dict.fromkeys(t for tokens, _ in _BY_TOKENS for t in tokens))


def detect_family(architecture: str | None, token_texts: Iterable[str]) -> str | None:
    """The family whose format a model speaks, from its special tokens (any iterable of token
    texts; only MARKERS matter) and its GGUF general.architecture; None when neither tells."""
    present = set(token_texts)
    for tokens, family in _BY_TOKENS:
        if all(t in present for t in tokens):
            return family
    return _BY_ARCHITECTURE.get((architecture or "").lower())


def template(family: str) -> str:
    return TEMPLATES[family]


def end_of_turn_tokens(family: str | None) -> tuple[str, ...]:
    """The texts of the tokens that end an assistant's turn in ``family``'s format."""
    return END_OF_TURN.get(family or "", ())


def choose_template(template_source: str | None, architecture: str | None,
                    token_texts: Iterable[str]) -> tuple[str, str | None, str | None]:
    """The template to render with: the model's own when it works, else its family's (ChatML when
    no family is recognised). Returns (template, family or None, a note for the user or None)."""
    from desktop.engines import chat_template

    reason = None
    if template_source:
        reason = chat_template.check(template_source)
        if reason is None:
            return template_source, None, None
    family = detect_family(architecture, token_texts) or "chatml"
    if reason is None:
        note = translate("Core", "This model file has no chat template; using the {family} format.")
    else:
        note = translate("Core", "This model file's chat template does not work ({reason}); using the "
                                 "{family} format.")
    return TEMPLATES[family], family, note.format(family=NAMES[family], reason=reason)
