"""Start-up: from process start to the window on screen, and to the first streamed token.

Starts the real app (`edgechat`, offscreen unless a display is set) with the default model.
EDGECHAT_STARTUP_PROBE makes it report its milestones, send the probe prompt as soon as it can
and close after the first token. The clock starts just before the process is spawned, so
interpreter start and imports count. Prints one JSON line with the median of --runs.

    python bench/startup.py [--runs 5]
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
from pathlib import Path


def one_run(data_dir: str) -> dict:
    env = dict(os.environ, EDGECHAT_STARTUP_PROBE="Hello!", EDGECHAT_DATA_DIR=data_dir)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    script = Path(sys.executable).with_name("edgechat")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "desktop"]
    start = time.time()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"edgechat failed ({out.returncode}): {out.stderr[-2000:]}")
    events = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            events[event["event"]] = event["t"] - start
    return events


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as data_dir:
        one_run(data_dir)  # the first start after an install warms the OS file cache: not counted
        for _ in range(args.runs):
            runs.append(one_run(data_dir))
    shown = [r["window_shown"] for r in runs]
    first = [r["first_token"] for r in runs]
    print(json.dumps({
        "bench": "startup",
        "window_shown_s": round(statistics.median(shown), 3),
        "first_token_s": round(statistics.median(first), 3),
        "window_shown_max_s": round(max(shown), 3),
        "first_token_max_s": round(max(first), 3),
        "runs": args.runs,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
