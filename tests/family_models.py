"""Tiny random-weight GGUF models of real chat families, for end-to-end tests of prompts and stops.

Each model takes a real tokenizer (llama.cpp's vocabulary-only GGUFs, shipped in
llama-cpp-python's sdist) and a real chat template (the sdist's template collection), so the
prompt llama.cpp reads is the one a real Qwen, Llama 3, Phi-3, Gemma 4 or Mistral file gives.
The weights are not random noise but a fixed chain: the attention and feed-forward outputs are
zero, so the last layer sees only the current token's embedding, and the output matrix maps
"any other token" -> word 1 -> word 2 -> word 3 -> the family's end-of-turn token. Greedy
decoding therefore writes a short reply and then the end-of-turn token, which a random model
would never do, and which is what the stop handling has to get right.

The sdist's files come through tests/fixtures_sdist.py. Built files are cached under
~/.cache/edgechat-fixtures/families, keyed by a hash of the inputs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUILDER_VERSION = 3  # bump when the weights or keys written change
CACHE_DIR = Path(os.path.expanduser("~/.cache/edgechat-fixtures/families"))


@dataclass(frozen=True)
class Family:
    name: str
    vocab: str  # ggml-vocab-<vocab>.gguf
    template: str  # file in the sdist's template collection
    end_of_turn: str  # the token that ends an assistant turn
    specials: tuple[str, ...]  # template markers that must tokenize as one special token each
    n_embd: int = 32
    words: tuple[str, ...] = ("Hello", " world", "!")  # what the chain writes before it stops
    fallback: str | None = None  # its format in desktop.engines.families (None: not there)
    # Control tokens written over the vocabulary's last entries, for a family whose own
    # vocabulary the sdist lacks (Gemma 2: its turn markers on Llama 2's SentencePiece).
    graft: tuple[str, ...] = ()


FAMILIES = (
    Family("qwen2.5", "qwen2", "Qwen-Qwen2.5-7B-Instruct.jinja", "<|im_end|>",
           ("<|im_start|>", "<|im_end|>"), fallback="chatml"),
    Family("llama3", "llama-bpe", "meta-llama-Llama-3.1-8B-Instruct.jinja", "<|eot_id|>",
           ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"), fallback="llama3"),
    Family("phi3", "phi-3", "microsoft-Phi-3.5-mini-instruct.jinja", "<|end|>",
           ("<|user|>", "<|end|>", "<|assistant|>"), fallback="phi3"),
    # 262k tokens: a narrower embedding keeps the file near 16 MB.
    Family("gemma4", "gemma-4", "google-gemma-4-31B-it.jinja", "<turn|>", ("<|turn>", "<turn|>"),
           n_embd=16),
    Family("gemma2", "llama-spm", "google-gemma-2-2b-it.jinja", "<end_of_turn>",
           ("<start_of_turn>", "<end_of_turn>"), fallback="gemma",
           graft=("<start_of_turn>", "<end_of_turn>")),
    # Mistral 7B v0.1/v0.2 share Llama 2's vocabulary: [INST] is plain text, </s> ends the turn.
    Family("mistral", "llama-spm", "mistralai-Mistral-Nemo-Instruct-2407.jinja", "</s>", (),
           fallback="llama2"),
)
BY_NAME = {f.name: f for f in FAMILIES}


def templates_dir() -> Path:
    from tests import fixtures_sdist

    return fixtures_sdist.templates_dir()


def vocab_dir() -> Path:
    from tests import fixtures_sdist

    return fixtures_sdist.vocab_dir()


def available(family: Family) -> bool:
    """Whether the sdist's files for ``family`` are here (fetched once if they can be)."""
    try:
        return (vocab_dir() / f"ggml-vocab-{family.vocab}.gguf").is_file() and (
            templates_dir() / family.template).is_file()
    except (OSError, subprocess.CalledProcessError):  # offline and not cached
        return False


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def build(family: Family | str, with_template: bool = True) -> Path:
    """The tiny model of ``family`` (built on first use), with or without its chat template."""
    if isinstance(family, str):
        family = BY_NAME[family]
    vocab_path = vocab_dir() / f"ggml-vocab-{family.vocab}.gguf"
    template = (templates_dir() / family.template).read_text(encoding="utf-8") if with_template else ""
    weights = (family.vocab, family.end_of_turn, family.n_embd, family.words, family.graft,
               BUILDER_VERSION)
    key = _digest(vocab_path.read_bytes(), template.encode(), repr(weights).encode())
    suffix = "" if with_template else "-notemplate"
    out = CACHE_DIR / f"{family.name}{suffix}-{key}.gguf"
    if out.is_file():
        return out
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    _write(family, vocab_path, template if with_template else None, tmp)
    os.replace(tmp, out)
    for stale in CACHE_DIR.glob(f"{family.name}{suffix}-*.gguf"):  # older inputs' builds
        if stale != out and len(stale.name) == len(out.name):
            stale.unlink(missing_ok=True)
    return out


def _field_value(f):
    import gguf

    kind = f.types[0]
    if kind == gguf.GGUFValueType.ARRAY:
        sub = f.types[-1]
        if sub == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8", "surrogateescape") for i in f.data], kind, sub
        return [f.parts[i][0].item() for i in f.data], kind, sub
    if kind == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8"), kind, None
    return f.parts[f.data[0]][0].item(), kind, None


def _token_id(tokens: list[str], text: str) -> int:
    for candidate in (text, text.replace(" ", "Ġ"), text.replace(" ", "▁"), "▁" + text, "Ġ" + text):
        if candidate in tokens:
            return tokens.index(candidate)
    raise KeyError(f"no single token for {text!r}")


def _write(family: Family, vocab_path: Path, template: str | None, out: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(vocab_path)
    tok_fields = {k: _field_value(f) for k, f in reader.fields.items() if k.startswith("tokenizer.")}
    tokens = tok_fields["tokenizer.ggml.tokens"][0]
    types = tok_fields["tokenizer.ggml.token_type"][0]
    for i, text in enumerate(family.graft, start=1):
        tokens[-i], types[-i] = text, int(gguf.TokenType.CONTROL)
    n_vocab = len(tokens)
    arch = "qwen2" if family.vocab == "qwen2" else "llama"
    n_embd, n_head, n_ff, n_layer = family.n_embd, 2, 2 * family.n_embd, 1

    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_name(f"tiny-{family.name}")
    writer.add_context_length(512)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    for key, (value, kind, sub) in tok_fields.items():
        if key == "tokenizer.chat_template":
            continue
        writer.add_key_value(key, value, kind, sub_type=sub)
    if template is not None:
        writer.add_chat_template(template)

    # The chain: directions 1..k carry words 1..k, direction 0 every other token.
    chain = [_token_id(tokens, w) for w in family.words]
    chain.append(tokens.index(family.end_of_turn))
    rng = np.random.default_rng(0)
    embd = np.zeros((n_vocab, n_embd), np.float32)
    embd[:, 0] = 1.0
    embd[:, len(chain) + 1:] = rng.normal(0, 0.01, (n_vocab, n_embd - len(chain) - 1))
    for i, tok in enumerate(chain[:-1], start=1):
        embd[tok] = 0.0
        embd[tok, i] = 1.0
    output = np.zeros((n_vocab, n_embd), np.float32)
    for i, tok in enumerate(chain):
        output[tok, i] = 8.0  # rows of directions: token i's direction predicts chain[i]
    writer.add_tensor("token_embd.weight", embd.astype(np.float16))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    writer.add_tensor("output.weight", output.astype(np.float16))
    small = lambda *shape: rng.normal(0, 0.02, shape).astype(np.float32)  # noqa: E731
    for b in range(n_layer):
        p = f"blk.{b}."
        writer.add_tensor(p + "attn_norm.weight", np.ones(n_embd, np.float32))
        writer.add_tensor(p + "ffn_norm.weight", np.ones(n_embd, np.float32))
        for name in ("attn_q", "attn_k", "attn_v"):
            writer.add_tensor(p + name + ".weight", small(n_embd, n_embd))
            if arch == "qwen2":
                writer.add_tensor(p + name + ".bias", np.zeros(n_embd, np.float32))
        # Zero outputs: the residual stream stays the current token's embedding.
        writer.add_tensor(p + "attn_output.weight", np.zeros((n_embd, n_embd), np.float32))
        writer.add_tensor(p + "ffn_gate.weight", small(n_ff, n_embd))
        writer.add_tensor(p + "ffn_up.weight", small(n_ff, n_embd))
        writer.add_tensor(p + "ffn_down.weight", np.zeros((n_embd, n_ff), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
