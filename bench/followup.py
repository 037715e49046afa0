"""Follow-ups in a long chat: time to first token with the prompt cache (issue 14).

A 12-turn chat of about 2,200 prompt tokens (canned turns, so every run reads the same text) on
the default model, through the engine layer the app uses (llama.cpp in process, ONNX in its
child process). For each engine, the time to first token and the prompt tokens actually read:

- ``full``: the chat's first request on a new engine, nothing cached (the cost without a cache);
- ``followup``: the next turn of the same chat;
- ``after_other``: the turn after that, with another chat answered in between;
- ``reopened``: the turn after that on a newly opened engine with the same settings (a restart:
  llama.cpp's disk tier; ONNX has none, so it reads the whole prompt again).

Targets (ratios in one run): after_other <= 1.5 x followup on both engines; reopened <= 2 x
followup on llama.cpp. The cache folder is a temporary one, never the user's. Saved states are
encrypted (prompt_cache.py): ``reopened`` includes decrypting one.

Then the cost of sealing a state on its own (``sealing``): a state of the size this chat's is
written and read back, encrypted (AES-GCM, as the cache does) and in plain bytes, in MB/s.

    python bench/followup.py [--backend llama|onnx|both] [--model PATH] [--onnx-model DIR]

Prints one JSON line per engine, and one for sealing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOPICS = ["the moon", "ocean tides", "volcanoes", "bread baking", "bicycles", "honey bees", "glaciers",
          "the printing press", "lighthouses", "coral reefs", "thunderstorms", "paper making",
          "orbits", "rivers"]


def _answer(topic: str) -> str:
    return (f"Here is a short overview of {topic}. People have studied {topic} for a very long time, "
            f"and there are three things worth knowing. First, {topic} follow simple rules that are "
            f"easy to observe if you look closely and take notes over several days. Second, the "
            f"details of {topic} depend on the place, the season and the materials at hand, so two "
            f"examples rarely look the same. Third, learning about {topic} is easiest with a good "
            f"book, a patient teacher and a few experiments you can do at home with simple tools. "
            f"Many museums and libraries have exhibits on {topic}, and local clubs often welcome "
            f"beginners who want to see how {topic} work in practice rather than only on paper. "
            f"A good first step is to write down one question you have about {topic} and look for "
            f"the answer in two different sources, then compare what they say and why. "
            f"If you want, I can suggest a small project about {topic} that takes an afternoon.")


def chat(turns: int, offset: int = 0) -> list[dict]:
    """A chat whose last message is the user's question of turn ``turns``."""
    messages = [{"role": "system", "content": "You are a patient teacher who answers clearly."}]
    for i in range(turns):
        topic = TOPICS[(i + offset) % len(TOPICS)]
        messages.append({"role": "user", "content": f"Can you tell me about {topic} in some detail?"})
        if i < turns - 1:
            messages.append({"role": "assistant", "content": _answer(topic)})
    return messages


def run(engine, messages, params):
    text = "".join(engine.stream(messages, params))
    stats = engine.last_stats
    return text, {"ttft_s": round(stats.ttft_s, 3), "prompt_tokens": stats.prompt_tokens,
                  "evaluated": stats.prompt_tokens_evaluated}


def measure(backend: str, model: str) -> dict:
    from desktop.engines import open_engine
    from desktop.engines.base import SamplingParams

    params = SamplingParams(temperature=0, max_tokens=8)
    options = {"n_ctx": 4096}

    def open_():
        return open_engine(model, backend=backend, **options)

    engine = open_()
    history = chat(12)  # 11 answered turns and the 12th question
    out = {"backend": backend}
    reply, out["full"] = run(engine, history[:-2], params)  # the chat up to turn 11, read in full
    history_11 = [*history[:-2], {"role": "assistant", "content": reply}, history[-1]]
    reply, out["followup"] = run(engine, history_11, params)
    run(engine, chat(4, offset=5), params)  # another chat, answered in between
    history_12 = [*history_11, {"role": "assistant", "content": reply},
                  {"role": "user", "content": "Which of these would you start with, and why?"}]
    reply, out["after_other"] = run(engine, history_12, params)
    flush = getattr(engine, "flush_cache", None)
    if flush is not None:
        flush(60)
        cache = getattr(engine, "_cache", None)
        states = cache.ram.entries() if cache is not None else []
        if states:
            out["state_mb"] = round(max(len(e.value) for e in states) / 1e6, 1)
    engine.close()
    engine = open_()
    history_13 = [*history_12, {"role": "assistant", "content": reply},
                  {"role": "user", "content": "Give me a one-line summary of our chat."}]
    _, out["reopened"] = run(engine, history_13, params)
    engine.close()
    base = out["followup"]["ttft_s"]
    out["after_other_ratio"] = round(out["after_other"]["ttft_s"] / base, 2)
    out["reopened_ratio"] = round(out["reopened"]["ttft_s"] / base, 2)
    out["targets_met"] = out["after_other_ratio"] <= 1.5 and (
        backend != "llama" or out["reopened_ratio"] <= 2.0)
    return out


def sealing(state_bytes: int, repeats: int = 5) -> dict:
    """MB/s of writing and reading back a state of ``state_bytes``, sealed as the prompt cache
    seals it and in plain bytes (the same file writes, no encryption), best of ``repeats``; and
    of AES-GCM alone, in memory."""
    from desktop.engines import prompt_cache as pc

    folder = Path(tempfile.mkdtemp(prefix="edgechat-sealing-"))
    sealer = pc.Sealer(os.urandom(32))
    tokens = list(range(2000))
    payload = bytearray(os.urandom(state_bytes))
    sealed, plain = folder / "sealed.kvstate", folder / "plain.bin"

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return round(state_bytes / min(times) / 1e6)

    def write_plain():
        with open(plain, "wb") as f:
            f.write(payload)

    def read_plain():
        data = bytearray(state_bytes)
        with open(plain, "rb") as f:
            f.readinto(data)

    def encrypt_only():
        enc = sealer.encryptor(os.urandom(12), b"")
        out = bytearray((1 << 20) + 16)
        view = memoryview(payload)
        for start in range(0, state_bytes, 1 << 20):
            enc.update_into(view[start:start + (1 << 20)], out)
        enc.finalize()

    result = {
        "sealing": True,
        "state_mb": round(state_bytes / 1e6, 1),
        "write_sealed_mb_s": best(lambda: pc.write_state_file(sealed, "space", tokens, payload, sealer)),
        "write_plain_mb_s": best(write_plain),
        "read_sealed_mb_s": best(lambda: pc.read_state(sealed, "space", sealer)),
        "read_plain_mb_s": best(read_plain),
        "aes_gcm_mb_s": best(encrypt_only),
    }
    assert pc.read_state(sealed, "space", sealer)[1] == payload
    for f in (sealed, plain):
        f.unlink()
    folder.rmdir()
    return result


def onnx_fixture(gguf: str) -> str:
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_onnx_fixture.py"
    done = subprocess.run([sys.executable, str(script), gguf], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("llama", "onnx", "both"), default="both")
    parser.add_argument("--model", help="GGUF file (default: the embedded model)")
    parser.add_argument("--onnx-model", help="ONNX GenAI folder (default: built from the GGUF)")
    args = parser.parse_args()
    # Saved states go to a throwaway folder: a run never meets an earlier run's cache.
    os.environ["EDGECHAT_DATA_DIR"] = tempfile.mkdtemp(prefix="edgechat-followup-")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from desktop.models.default_model import default_model_path

    gguf = args.model or str(default_model_path())
    state_bytes = 64 * 10**6
    for backend in ("llama", "onnx") if args.backend == "both" else (args.backend,):
        model = gguf if backend == "llama" else (args.onnx_model or onnx_fixture(gguf))
        started = time.perf_counter()
        result = measure(backend, model)
        result["wall_s"] = round(time.perf_counter() - started, 1)
        if "state_mb" in result:
            state_bytes = int(result["state_mb"] * 1e6)
        print(json.dumps(result), flush=True)
    print(json.dumps(sealing(state_bytes)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
