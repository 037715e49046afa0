"""`edgechat ask` against a bare llama-cpp-python script: wall time and peak memory of a 32-token
greedy answer, each in its own process from spawn to exit.

The bare script loads the same model file with what the command line's load uses on this machine
(desktop.models.load_settings.load_options: context length, threads, GPU layers, KV type, flash
attention), since the context length drives the memory. Runs alternate (bare, ask, bare, ask…)
so that a load that comes and goes on the machine falls on both; the first pair only warms the
OS file cache and is not counted. Peak RSS and CPU time are the process's own (os.wait4's
rusage). Prints one JSON line with the medians and the ratios ask / bare. Wall time is the
target; run it on a quiet machine (the load average is in the output), since on a shared one it
mostly measures the other work, while CPU time and memory hold up.

    python bench/ask_startup.py [--runs 5] [--model PATH] [--max-tokens 32] [--compare DIR]

``--compare DIR`` also runs ``ask`` from another copy of the package (``DIR/desktop``, such as an
older commit's: ``git archive <commit> desktop | tar -x -C DIR``) in the same alternation, so a
before and an after are measured under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROMPT = "Write a long story about a dragon who learns to read."

# What a person would write with llama-cpp-python alone: load, one chat completion, exit.
BARE = r"""
import json, sys
import llama_cpp
o = json.loads(sys.argv[1])
types = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}
kv = o.get("kv_type", "f16")
llm = llama_cpp.Llama(model_path=o["model"], n_ctx=o["n_ctx"], n_threads=o["n_threads"],
                      n_threads_batch=o["n_threads"], n_gpu_layers=o["n_gpu_layers"],
                      flash_attn=o["flash_attn"], type_k=types[kv],
                      type_v=types[kv if o["flash_attn"] else "f16"], verbose=False)
out = llm.create_chat_completion([{"role": "user", "content": o["prompt"]}],
                                 max_tokens=o["max_tokens"], temperature=0.0, top_k=1)
sys.stdout.write(out["choices"][0]["message"]["content"] + "\n")
"""


def measure(cmd: list[str], env: dict, cwd: str | None = None) -> dict:
    """Wall seconds from spawn to exit, and the process's peak RSS in MiB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read before waiting: a full pipe would stall the child. wait4 then gives this child's own
    # rusage (RUSAGE_CHILDREN would be the maximum over every child so far).
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    # CPU seconds too: on a machine shared with other work, wall time mostly measures the others.
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall_s": wall, "cpu_s": cpu, "rss_mib": rss, "chars": len(out.strip())}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", help="a GGUF file (default: the embedded model)")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--compare", help="a folder with another copy of the desktop package to run "
                        "ask from, as 'ask_other'")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as data_dir:
        # A fresh data folder: no saved load settings, nothing cached from an earlier run; both
        # processes see the same environment.
        env = dict(os.environ, EDGECHAT_DATA_DIR=data_dir, QT_QPA_PLATFORM="offscreen")
        os.environ["EDGECHAT_DATA_DIR"] = data_dir
        from desktop.models.default_model import default_model_path
        from desktop.models.load_settings import load_options

        model = args.model or str(default_model_path())
        options = load_options(model, "llama")
        n_threads = options.get("n_threads")
        if n_threads is None:
            from desktop.engines.llama_engine import default_threads

            n_threads = default_threads()
        bare_options = {
            "model": model, "prompt": PROMPT, "max_tokens": args.max_tokens,
            "n_ctx": options.get("n_ctx", 4096), "n_threads": n_threads,
            "n_gpu_layers": options.get("n_gpu_layers", 0), "kv_type": options.get("kv_type", "f16"),
            "flash_attn": bool(options.get("flash_attn", False)),
        }
        bare = [sys.executable, "-c", BARE, json.dumps(bare_options)]
        ask_args = ["ask", "--max-tokens", str(args.max_tokens), "--temperature", "0",
                    *(["--model", model] if args.model else []), PROMPT]
        ask = [sys.executable, "-m", "desktop", *ask_args]
        commands = {"bare": (bare, env, None), "ask": (ask, env, None)}
        if args.compare:
            other = os.path.abspath(args.compare)
            # Its folder first on the path: that copy of the package is imported, not this one.
            commands["ask_other"] = (ask, dict(env, PYTHONPATH=other), other)
        results: dict[str, list[dict]] = {name: [] for name in commands}
        for i in range(args.runs + 1):
            order = list(commands.items())
            if i % 2:
                order.reverse()
            for name, (cmd, cmd_env, cwd) in order:
                r = measure(cmd, cmd_env, cwd)
                if i:  # the first pair warms the file cache
                    results[name].append(r)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    out = {
        "bench": "ask_startup",
        "bare_wall_s": round(median("bare", "wall_s"), 3),
        "ask_wall_s": round(median("ask", "wall_s"), 3),
        "bare_cpu_s": round(median("bare", "cpu_s"), 3),
        "ask_cpu_s": round(median("ask", "cpu_s"), 3),
        "bare_rss_mib": round(median("bare", "rss_mib"), 1),
        "ask_rss_mib": round(median("ask", "rss_mib"), 1),
        "wall_ratio": round(median("ask", "wall_s") / median("bare", "wall_s"), 3),
        "cpu_ratio": round(median("ask", "cpu_s") / median("bare", "cpu_s"), 3),
        "rss_ratio": round(median("ask", "rss_mib") / median("bare", "rss_mib"), 3),
        **({
            "ask_other_wall_s": round(median("ask_other", "wall_s"), 3),
            "ask_other_cpu_s": round(median("ask_other", "cpu_s"), 3),
            "ask_other_rss_mib": round(median("ask_other", "rss_mib"), 1),
            "ask_other_wall_ratio": round(median("ask_other", "wall_s") / median("bare", "wall_s"), 3),
            "ask_other_cpu_ratio": round(median("ask_other", "cpu_s") / median("bare", "cpu_s"), 3),
            "ask_other_rss_ratio": round(median("ask_other", "rss_mib") / median("bare", "rss_mib"), 3),
        } if args.compare else {}),
        "n_ctx": bare_options["n_ctx"],
        "n_threads": n_threads,
        "max_tokens": args.max_tokens,
        "runs": args.runs,
        "loadavg_start": round(load_start, 2),
        "loadavg_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
