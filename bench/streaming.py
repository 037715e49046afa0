"""Streaming overhead: the app pipeline against a bare loop on the backend's own API.

One process, the same model, prompt, thread count and greedy sampling, alternating rounds so
both see the same machine load. The app side is measured where the user sees it: text arriving
on the main thread through the QThread worker (the `edgechat ask` path). The ratio is the
median of back-to-back pairs, which cancels slow drift in background load. Prints one JSON line.

The bare loop runs on the worker's own thread. llama.cpp's CPU backend uses OpenMP, which keeps
one spinning thread team per calling thread: a bare loop on another thread would leave a second
team spinning against the first on a small machine (measured here: 120 -> 78 tokens/s for
*both* sides), which compares nothing but that contention.

For ONNX the app's engine runs in its child process (see desktop/engines/process_engine.py)
and the bare loop is a plain ``og.Generator`` loop in this process, with the same folder, prompt
and thread count; the ONNX test folder is built by scripts/make-onnx-fixture when not given.

    python bench/streaming.py [--backend llama|onnx|both] [--tokens 256] [--rounds 7]
                              [--model PATH] [--onnx-model DIR]

Prints one JSON line per backend.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

PROMPT = "Write a very long story about a dragon who learns to read."


def bare_loop(llm, prompt_tokens, max_tokens):
    """What a developer writes with llama-cpp-python alone: generate, stop at EOG, detokenize."""
    import llama_cpp

    vocab = llm._model.vocab
    first = last = None
    n = 0
    for token in llm.generate(prompt_tokens, temp=0.0, top_k=1, repeat_penalty=1.0):
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        llm.detokenize([token])
        last = time.perf_counter()
        first = first or last
        n += 1
        if n >= max_tokens:
            break
    return n, (n - 1) / (last - first)


def bare_onnx_loop(og, model, tokenizer, prompt_tokens, max_tokens):
    """What a developer writes with onnxruntime-genai alone: one generator, a token at a time."""
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(prompt_tokens) + max_tokens + 8, do_sample=False)
    generator = og.Generator(model, params)
    generator.append_tokens(prompt_tokens)
    stream = tokenizer.create_stream()
    first = last = None
    n = 0
    while not generator.is_done():
        generator.generate_next_token()
        token = generator.get_next_tokens()[0]
        if token in tokenizer.eos_token_ids:
            break
        stream.decode(token)
        last = time.perf_counter()
        first = first or last
        n += 1
        if n >= max_tokens:
            break
    return n, (n - 1) / (last - first)


class BareRunner(QObject):
    """Owns the bare model on the worker's thread."""

    done = Signal(int, float)

    @Slot(str, str, int, int, list)
    def load(self, backend, model, threads, n_ctx, messages):
        from desktop.engines.chat_template import render

        self.backend = backend
        if backend == "llama":
            import llama_cpp

            from desktop.engines.gguf import read_gguf
            from desktop.engines.llama_engine import _plain_cpu_buffers

            # Loaded as the app loads it, so both sides run the same kernels.
            with _plain_cpu_buffers(llama_cpp):
                self.llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_threads=threads,
                                           n_threads_batch=threads, n_gpu_layers=0, verbose=False)
            prompt = render(read_gguf(model).chat_template, messages)
            self.prompt_tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        else:
            import onnxruntime_genai as og

            cfg = og.Config(model)
            cfg.clear_providers()
            cfg.overlay(json.dumps({"model": {"decoder": {"session_options": {
                "intra_op_num_threads": threads}}}}))
            self.og, self.model = og, og.Model(cfg)
            self.tokenizer = og.Tokenizer(self.model)
            template = (Path(model) / "chat_template.jinja").read_text()
            self.prompt_tokens = self.tokenizer.encode(render(template, messages))
        self.done.emit(0, 0.0)

    @Slot(int)
    def run(self, max_tokens):
        if self.backend == "llama":
            self.done.emit(*bare_loop(self.llm, self.prompt_tokens, max_tokens))
        else:
            self.done.emit(*bare_onnx_loop(self.og, self.model, self.tokenizer,
                                           self.prompt_tokens, max_tokens))

    @Slot()
    def close(self):
        if self.backend == "llama":
            self.llm.close()
        else:
            self.model = self.tokenizer = None
        self.done.emit(0, 0.0)


class BareClient(QObject):
    load_requested = Signal(str, str, int, int, list)
    run_requested = Signal(int)
    close_requested = Signal()

    def __init__(self, app, thread):
        super().__init__()
        self.app = app
        self.runner = BareRunner()
        self.runner.moveToThread(thread)
        self.load_requested.connect(self.runner.load)
        self.run_requested.connect(self.runner.run)
        self.close_requested.connect(self.runner.close)
        self.runner.done.connect(self._done)
        self.result = (0, 0.0)

    @Slot(int, float)
    def _done(self, n, rate):
        self.result = (n, rate)
        self.app.quit()

    def call(self, signal, *args):
        signal.emit(*args)
        self.app.exec()
        return self.result


def app_round(app, host, messages, max_tokens):
    marks = {"first": None, "last": None, "stats": None}

    def on_chunk(_rid, _text):
        now = time.perf_counter()
        marks["first"] = marks["first"] or now
        marks["last"] = now

    def on_finished(_rid, stats):
        marks["stats"] = stats
        app.quit()

    host.chunk_generated.connect(on_chunk)
    host.generation_finished.connect(on_finished)
    host.generate(messages, {"temperature": 0, "max_tokens": max_tokens, "repeat_penalty": 1.0})
    app.exec()
    host.chunk_generated.disconnect(on_chunk)
    host.generation_finished.disconnect(on_finished)
    n = marks["stats"].completion_tokens
    return n, (n - 1) / (marks["last"] - marks["first"])


def onnx_fixture(gguf: str) -> str:
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_onnx_fixture.py"
    out = subprocess.run([sys.executable, str(script), gguf], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()[-1]


def measure(app, backend, model, args) -> dict:
    from desktop.engines.context import DEFAULT_N_CTX
    from desktop.engines.llama_engine import default_threads
    from desktop.workers.generation import EngineHost

    threads = default_threads()
    messages = [{"role": "user", "content": PROMPT}]
    host = EngineHost()
    host.model_loaded.connect(lambda _info: app.quit())
    host.model_load_failed.connect(lambda msg: (print(msg, file=sys.stderr), app.exit(1)))
    host.load(model, backend=backend, n_threads=threads, n_ctx=DEFAULT_N_CTX)
    if app.exec() != 0:
        raise SystemExit(1)
    bare = BareClient(app, host.thread)
    bare.call(bare.load_requested, backend, model, threads, DEFAULT_N_CTX, messages)

    app_rates, raw_rates, pair_ratios, counts = [], [], [], set()
    app_round(app, host, messages, 16)  # warm both: page in the weights, fill caches
    bare.call(bare.run_requested, 16)
    for i in range(args.rounds):
        for side in (("app", "raw") if i % 2 == 0 else ("raw", "app")):
            if side == "app":
                n, rate = app_round(app, host, messages, args.tokens)
                app_rates.append(rate)
            else:
                n, rate = bare.call(bare.run_requested, args.tokens)
                raw_rates.append(rate)
            counts.add(n)
        pair_ratios.append(app_rates[-1] / raw_rates[-1])
    bare.call(bare.close_requested)
    host.shutdown()
    return {
        "bench": "streaming",
        "backend": backend,
        "app_tokens_per_s": round(statistics.median(app_rates), 2),
        "raw_tokens_per_s": round(statistics.median(raw_rates), 2),
        "ratio": round(statistics.median(pair_ratios), 4),
        "tokens": sorted(counts),
        "rounds": args.rounds,
        "threads": threads,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("llama", "onnx", "both"), default="both")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--model", help="GGUF file (default: the embedded model)")
    parser.add_argument("--onnx-model", help="ONNX GenAI folder (default: built from the GGUF)")
    args = parser.parse_args()

    from desktop.models.default_model import default_model_path

    gguf = args.model or str(default_model_path())
    app = QCoreApplication(sys.argv[:1])
    for backend in (("llama", "onnx") if args.backend == "both" else (args.backend,)):
        model = gguf if backend == "llama" else (args.onnx_model or onnx_fixture(gguf))
        print(json.dumps(measure(app, backend, model, args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
