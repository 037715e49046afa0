"""The headless command line. ``edgechat ask`` drives the same engine and the same QThread
generation worker as the window, under a QCoreApplication."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from desktop import __version__
from desktop.errors import fail


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit code 2, one line, no usage dump on stdout
        self.print_usage(sys.stderr)
        print(f"edgechat: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="edgechat", description="Offline chat with small local language models.")
    parser.add_argument("--version", action="version", version=f"edgechat {__version__}")
    # Taken out of the arguments before parsing (privacy.take_offline_flag), so that it goes
    # before or after any command; listed here for --help.
    parser.add_argument("--offline", action="store_true",
                        help="work offline: connect to nothing but this computer (Hub search and "
                        "downloads are refused; also EDGECHAT_OFFLINE=1)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    ask = sub.add_parser("ask", help="answer one prompt and print the reply")
    ask.add_argument("prompt")
    ask.add_argument("--model", help="a GGUF file, an ONNX GenAI folder or a saved server's "
                     "remote://SERVER/MODEL (default: the embedded SmolLM2 model)")
    ask.add_argument("--backend", choices=("llama", "onnx"),
                     help="the engine (default: from what --model points at)")
    ask.add_argument("--device", choices=("auto", "cpu", "cuda", "dml", "gpu"),
                     help="where to run (default: the model's load settings, else auto): ONNX picks "
                     "cuda/dml when available (auto) and says why when it falls back; llama.cpp "
                     "offloads to the GPU when its build can")
    ask.add_argument("--system", help="a system prompt")
    ask.add_argument("--max-tokens", type=_positive_int, default=512)
    ask.add_argument("--temperature", type=float, default=0.7)
    ask.add_argument("--seed", type=int)
    ask.add_argument("--threads", type=_positive_int)
    ask.add_argument("--ctx", type=_positive_int, help="context length to allocate")
    ask.add_argument("--json", action="store_true", help="print one JSON line with the reply and its timing")
    from desktop import cli_models

    cli_models.add_parsers(sub)
    from desktop.server import cli as server_cli

    server_cli.add_parser(sub)
    return parser


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return n


def run_cli(argv: list[str]) -> int:
    from desktop.privacy import take_offline_flag

    args = build_parser().parse_args(take_offline_flag(argv))
    from desktop.logs import setup_logging

    # The same log as the window's: a failure in a script is worth as much as one in the app.
    setup_logging()
    from desktop import notices

    # What the core said while the command ran (a damaged settings file moved aside) is printed
    # as it is said: a terminal has no banner, and a notice kept for later would never be seen.
    notices.subscribe(_print_notice)
    for message in notices.drain():
        _print_notice(message)
    try:
        if args.command == "ask":
            return ask(args)
        if args.command == "serve":
            from desktop.server import cli as server_cli

            return server_cli.run(args)
        if args.command in ("models", "hardware"):
            from desktop import cli_models

            return cli_models.run(args)
        build_parser().print_help()
        return 2
    finally:
        notices.unsubscribe(_print_notice)


def _print_notice(message: str) -> None:
    from desktop import notices

    notices.drain()  # said here: nothing is left for a window to say again
    print(f"edgechat: {message}", file=sys.stderr, flush=True)


def ask(args) -> int:
    from desktop.models.default_model import DefaultModelMissing, default_model_path

    try:
        model = args.model or str(default_model_path())
    except DefaultModelMissing as exc:
        return fail(str(exc))
    from desktop.engines.base import is_remote

    # A saved server's model (remote://<server>/<model>) is no file: loading asks the server.
    if args.model and not is_remote(args.model) and not os.path.exists(args.model):
        return fail(f"model not found: {args.model}")

    from PySide6.QtCore import QCoreApplication, QTimer

    from desktop.workers.generation import EngineHost

    app = QCoreApplication.instance() or QCoreApplication([sys.argv[0]])
    host = EngineHost()
    messages = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": args.prompt}
    ]
    params = {"max_tokens": args.max_tokens, "temperature": args.temperature, "seed": args.seed}
    state = {"code": 0, "text": [], "info": None, "request": None}

    def on_loaded(info) -> None:
        state["info"] = info
        state["request"] = host.generate(messages, params)

    def on_load_failed(message: str) -> None:
        state["code"] = fail(message)
        app.quit()

    def on_chunk(request_id: int, text: str) -> None:
        state["text"].append(text)
        if not args.json:
            sys.stdout.write(text)
            sys.stdout.flush()

    def on_thinking(request_id: int, text: str) -> None:
        # A reasoning model's thinking goes to stderr: stdout stays the answer alone, for pipes,
        # while a person at the terminal still sees that the model is working.
        if not args.json:
            sys.stderr.write(text)
            sys.stderr.flush()

    def on_finished(request_id: int, stats) -> None:
        info = state["info"]
        if args.json:
            print(json.dumps({
                "text": "".join(state["text"]),
                "prompt_tokens": stats.prompt_tokens,
                "completion_tokens": stats.completion_tokens,
                "ttft_s": stats.ttft_s,
                "tokens_per_s": stats.tokens_per_s,
                "backend": info.backend,
                "device": info.device,
                "model": info.name,
                "n_ctx": info.n_ctx,
                "finish_reason": stats.finish_reason,
                "fallback_reason": info.fallback_reason,
            }, ensure_ascii=False))
        else:
            sys.stdout.write("\n")
        if stats.finish_reason == "cancelled":
            state["code"] = 130
        app.quit()

    def on_failed(request_id: int, message: str) -> None:
        if state["text"] and not args.json:
            sys.stdout.write("\n")
        state["code"] = fail(message)
        app.quit()

    host.model_loaded.connect(on_loaded)
    host.model_load_failed.connect(on_load_failed)
    host.chunk_generated.connect(on_chunk)
    host.thinking_generated.connect(on_thinking)
    host.generation_finished.connect(on_finished)
    host.generation_failed.connect(on_failed)

    # Ctrl+C stops the reply like the Stop button does. Python runs signal handlers only when the
    # interpreter gets control, so a light timer hands it control while Qt's loop waits.
    signal.signal(signal.SIGINT, lambda *_: host.cancel())
    wake = QTimer()
    wake.start(100)
    wake.timeout.connect(lambda: None)

    from desktop.models.load_settings import load_options

    # The window's load: this machine's recommendation and the model's saved load settings,
    # then the flags given here.
    options = load_options(model, args.backend, {"backend": args.backend, "device": args.device,
                                                 "n_threads": args.threads, "n_ctx": args.ctx})
    host.load(model, **options)
    try:
        app.exec()
    finally:
        wake.stop()
        host.shutdown()
    return state["code"]
