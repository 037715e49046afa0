"""Streaming into the real conversation view: does a long Markdown reply stall the window?

A scripted engine streams a long Markdown reply (headings, paragraphs, lists, tables, block
quotes and fenced code blocks) into a shown ChatView/MessageWidget, offscreen, the way the app
feeds it: the generation worker batches what the model writes and the GUI thread receives a
batch about every 40 ms, so a main-thread timer appends the next 80 tokens every 40 ms
(2,000 tokens/s). A token here is one whitespace-separated word together with the whitespace
that follows it (so joining the tokens gives back the text exactly); that is a little more text
per token than a real tokenizer's ~4 characters, which only makes the test harder.

Meanwhile a 10 ms main-thread timer measures how late it fires: a stall is the time between two
of its ticks beyond the 10 ms it asked for, so it counts everything the GUI thread did in
between (Markdown rendering, layout, painting). render_ms_per_chunk_* is the time spent inside
MessageWidget.append_text for one batch, averaged over the first and the last 10% of batches: if
the cost of a batch grows with the length of the reply, the last is much larger than the first.

The stream runs twice, with --tokens and with twice as many; total_s is dominated by the pacing
(10 s for 20,000 tokens), so ratio = total_s_double / total_s is about 2 unless rendering cannot
keep up. Prints one JSON line.

    QT_QPA_PLATFORM=offscreen python bench/ui_stream.py [--tokens 20000] [--rate 2000]
                                                         [--batch-ms 40]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.ui.chat_view import ChatView  # noqa: E402

_PROSE = ("the model streams text into the view while the reader follows each new line and the window "
          "stays responsive because only the open block is rendered again when a chunk arrives so "
          "long answers cost no more per chunk than short ones data token layout cache thread")
WORDS = _PROSE.split()

CODE = {
    "python": [
        "def fibonacci(n: int) -> list[int]:",
        '    """Return the first n Fibonacci numbers."""',
        "    values = [0, 1]",
        "    for index in range(2, n):  # grow the list",
        "        values.append(values[index - 1] + values[index - 2])",
        "    return values[:n]",
        "",
        "class Cache(dict):",
        "    def get_or_set(self, key, factory):",
        "        if key not in self:",
        "            self[key] = factory()",
        "        return self[key]",
        'print(fibonacci(10), "done", 3.14)',
    ],
    "javascript": [
        "// debounce a function so it runs at most once per wait period",
        "export function debounce(fn, wait = 100) {",
        "  let timer = null;",
        "  return (...args) => {",
        "    clearTimeout(timer);",
        "    timer = setTimeout(() => fn(...args), wait);",
        "  };",
        "}",
        "const greet = (name) => `hello ${name}`;",
        "console.log(greet('world'), 42, true);",
    ],
    "bash": [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        'for file in "$@"; do',
        '  echo "processing $file"  # one at a time',
        "  gzip -9 \"$file\"",
        "done",
    ],
}


def make_reply(n_tokens: int, seed: int = 7) -> list[str]:
    """A Markdown reply cut into n_tokens tokens (a word and its trailing whitespace)."""
    rng = random.Random(seed)
    blocks: list[str] = []
    count = 0
    section = 0

    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    while count < n_tokens:
        kind = rng.choice(["para", "para", "para", "list", "olist", "code", "code", "table", "quote",
                           "heading"])
        if kind == "heading":
            section += 1
            block = f"## Section {section}: {words(4)}"
        elif kind == "para":
            block = f"{words(rng.randint(20, 70))} **{words(2)}** and `{rng.choice(WORDS)}` {words(10)}."
        elif kind == "list":
            block = "\n".join(f"- {words(rng.randint(4, 12))}" for _ in range(rng.randint(3, 6)))
        elif kind == "olist":
            block = "\n".join(f"{i}. {words(rng.randint(4, 12))}" for i in range(1, rng.randint(3, 6)))
        elif kind == "code":
            lang = rng.choice(list(CODE))
            lines = CODE[lang] * rng.randint(1, 3)
            block = f"```{lang}\n" + "\n".join(lines) + "\n```"
        elif kind == "table":
            rows = [f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {words(3)} |"
                    for _ in range(rng.randint(2, 6))]
            block = "| name | value | note |\n|---|---:|---|\n" + "\n".join(rows)
        else:
            block = "> " + words(rng.randint(10, 30))
        blocks.append(block)
        count += len(block.split())
    tokens = re.findall(r"\s*\S+\s*", "\n\n".join(blocks) + "\n")
    # findall keeps leading whitespace only on the first token; the rest start with a word.
    return tokens[:n_tokens]


def stream(app: QApplication, n_tokens: int, rate: float, batch_ms: int) -> dict:
    view = ChatView()
    view.resize(900, 800)
    view.show()
    view.add_message("user", "Write a long answer with code examples.")
    widget = view.add_message("assistant", "", "streaming")
    app.processEvents()

    tokens = make_reply(n_tokens)
    per_batch = max(1, round(rate * batch_ms / 1000))
    ticks: list[float] = []
    render_s: list[float] = []
    state = {"next": 0, "start": 0.0, "end": 0.0}

    monitor = QTimer()
    monitor.setTimerType(Qt.TimerType.PreciseTimer)
    monitor.setInterval(10)
    monitor.timeout.connect(lambda: ticks.append(time.perf_counter()))

    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(batch_ms)

    def finish() -> None:
        state["end"] = time.perf_counter()
        monitor.stop()
        app.quit()

    def feed() -> None:
        i = state["next"]
        chunk = "".join(tokens[i:i + per_batch])
        state["next"] = i + per_batch
        if i == 0:
            widget.set_status("complete")  # what the controller does on the first chunk
        t0 = time.perf_counter()
        widget.append_text(chunk)
        render_s.append(time.perf_counter() - t0)
        if state["next"] >= len(tokens):
            feeder.stop()
            widget.set_status("complete", f"{len(tokens)} tokens")
            # Let the last layout and paint run before the clock stops.
            QTimer.singleShot(0, finish)

    feeder.timeout.connect(feed)
    state["start"] = time.perf_counter()
    ticks.append(state["start"])
    monitor.start()
    feeder.start()
    app.exec()

    assert widget.text == "".join(tokens)
    stalls = [max(0.0, (b - a) - 0.010) * 1000 for a, b in zip(ticks, ticks[1:], strict=False)]
    tenth = max(1, len(render_s) // 10)
    result = {
        "tokens": len(tokens),
        "chars": len(widget.text),
        "chunks": len(render_s),
        "max_stall_ms": round(max(stalls), 1),
        "p99_stall_ms": round(statistics.quantiles(stalls, n=100)[98], 1),
        "total_s": round(state["end"] - state["start"], 2),
        "render_ms_per_chunk_first": round(statistics.mean(render_s[:tenth]) * 1000, 2),
        "render_ms_per_chunk_last": round(statistics.mean(render_s[-tenth:]) * 1000, 2),
        "render_ms_per_chunk_max": round(max(render_s) * 1000, 1),
    }
    view.close()
    view.deleteLater()
    app.processEvents()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="tokens per second")
    parser.add_argument("--batch-ms", type=int, default=40, help="how often a batch arrives")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    single = stream(app, args.tokens, args.rate, args.batch_ms)
    double = stream(app, args.tokens * 2, args.rate, args.batch_ms)
    out = {"bench": "ui_stream", **single,
           "max_stall_ms_double": double["max_stall_ms"],
           "p99_stall_ms_double": double["p99_stall_ms"],
           "render_ms_per_chunk_last_double": double["render_ms_per_chunk_last"],
           "total_s_double": double["total_s"],
           "ratio": round(double["total_s"] / single["total_s"], 2)}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
