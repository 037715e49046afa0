"""The API server's overhead: decode speed through HTTP/SSE against the engine's own, time to first
token over loopback, and aggregate throughput with 1, 2, 4 and 8 concurrent streaming clients.

Both sides run the same engine on the same thread (the server's engine thread), interleaved, so
the machine's load and llama.cpp's per-thread warm-up affect them alike. Prints ONE JSON line.

    .venv/bin/python bench/server.py [--tokens 128] [--rounds 3] [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT = [{"role": "user", "content": "Write a long story about a dragon who learns to read."}]


class _Collect:
    """A sink for a job run straight on the engine thread (no HTTP): the engine's own numbers."""

    def __init__(self):
        self.done = threading.Event()
        self.stats = None
        self.error = None

    def piece(self, text):
        pass

    def finish(self, stats):
        self.stats = stats
        self.done.set()

    def fail(self, error):
        self.error = error
        self.done.set()


def engine_rate(backend, tokens: int) -> tuple[float, int]:
    from desktop.engines.base import CancelToken, SamplingParams
    from desktop.server.backend import Job

    sink = _Collect()
    backend.submit(Job(PROMPT, SamplingParams(temperature=0, max_tokens=tokens, seed=1), CancelToken(), sink))
    sink.done.wait()
    if sink.error:
        raise sink.error
    return sink.stats.tokens_per_s, sink.stats.completion_tokens


def server_rate(client, model: str, tokens: int) -> tuple[float, float, int]:
    """(decode tok/s seen by the client, time to first token, completion tokens)."""
    sent = time.perf_counter()
    first = last = None
    usage = None
    for chunk in client.chat.completions.create(model=model, messages=PROMPT, max_tokens=tokens,
                                                temperature=0, seed=1, stream=True,
                                                stream_options={"include_usage": True}):
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].delta.content:
            last = time.perf_counter()
            if first is None:
                first = last
    n = usage.completion_tokens
    rate = (n - 1) / (last - first) if last and first and last > first else None
    return rate, first - sent, n


def raw_rate(port: int, model: str, tokens: int) -> tuple[float, float, int]:
    """The same through a lean SSE reader (http.client + json): the server's cost alone, not the
    openai client's (which builds a pydantic object per chunk, on the same two cores)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    sent = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", json.dumps({
        "model": model, "messages": PROMPT, "max_tokens": tokens, "temperature": 0, "seed": 1,
        "stream": True, "stream_options": {"include_usage": True}}), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first = last = None
    n = 0
    for line in resp:
        if not line.startswith(b"data: {"):
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            n = chunk["usage"]["completion_tokens"]
        if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            last = time.perf_counter()
            if first is None:
                first = last
    conn.close()
    return (n - 1) / (last - first), first - sent, n


def aggregate(url: str, model: str, clients: int, tokens: int) -> float:
    import openai

    counts = []

    def one(i: int) -> None:
        c = openai.OpenAI(base_url=url, api_key="bench", max_retries=0, timeout=600)
        n = 0
        for chunk in c.chat.completions.create(
                model=model, max_tokens=tokens, temperature=0, seed=i, stream=True,
                stream_options={"include_usage": True},
                messages=[{"role": "user", "content": f"Tell story number {i} about a dragon."}]):
            if chunk.usage is not None:
                n = chunk.usage.completion_tokens
        counts.append(n)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()

    import openai

    from desktop.models.default_model import default_model_path
    from desktop.server.app import create_app
    from desktop.server.backend import EngineBackend
    from desktop.server.runner import ServerThread

    path = args.model or str(default_model_path())
    options = {"n_ctx": 2048}
    if args.threads:
        options["n_threads"] = args.threads
    backend = EngineBackend(path, **options)
    card = backend.wait_loaded(300)
    server = ServerThread(create_app(backend), port=0)
    server.start()
    client = openai.OpenAI(base_url=server.url, api_key="bench", max_retries=0, timeout=600)
    try:
        engine_rate(backend, 8)  # warm-up: the first reply on a thread is slower
        server_rate(client, card.id, 8)
        engine_rates, server_rates, openai_rates, ttfts, counts = [], [], [], [], []
        for _ in range(args.rounds):
            rate, n_engine = engine_rate(backend, args.tokens)
            engine_rates.append(rate)
            rate, ttft, n_server = raw_rate(server.port, card.id, args.tokens)
            server_rates.append(rate)
            ttfts.append(ttft)
            rate, _ttft, n_openai = server_rate(client, card.id, args.tokens)
            openai_rates.append(rate)
            counts.append((n_engine, n_server, n_openai))
        agg = {str(n): round(aggregate(server.url, card.id, n, 32), 1) for n in (1, 2, 4, 8)}
    finally:
        server.stop()
        backend.close()
    engine = statistics.median(engine_rates)
    through = statistics.median(server_rates)
    print(json.dumps({
        "model": card.id,
        "backend": card.backend,
        "tokens": args.tokens,
        "rounds": args.rounds,
        "engine_decode_tok_s": round(engine, 1),
        "server_decode_tok_s": round(through, 1),
        "ratio": round(through / engine, 3),
        "openai_client_decode_tok_s": round(statistics.median(openai_rates), 1),
        "ratio_openai_client": round(statistics.median(openai_rates) / engine, 3),
        "target_ratio": 0.95,
        "ttft_loopback_s": round(statistics.median(ttfts), 3),
        "aggregate_tok_s": agg,
        "completion_tokens": counts,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
