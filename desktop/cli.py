"""The headless command line. ``edgechat ask`` drives the same engine as the window, loaded with
the same options, straight from the main thread: a one-shot answer needs no event loop and no
worker thread, and leaving Qt out makes it start and run as lean as a bare llama.cpp script."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

from desktop import __version__
from desktop.errors import fail


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit code 2, one line, no usage dump on stdout
        self.print_usage(sys.stderr)
        print(f"edgechat: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``command`` "ask", only what ``ask`` needs: the other
    commands' parsers import the server and the model catalog, which a one-shot answer never
    uses (their names then count as unknown commands, as they are not what was asked)."""
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
    if command == "ask":
        return parser
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

    argv = take_offline_flag(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
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
    from desktop.engines.base import CancelToken, is_remote

    remote = is_remote(model)
    # A saved server's model (remote://<server>/<model>) is no file: loading asks the server.
    if args.model and not remote and not os.path.exists(args.model):
        return fail(f"model not found: {args.model}")

    # Ctrl+C stops the reply as the window's Stop button does: the engine checks the token
    # between tokens, llama.cpp's abort callback during the prompt's prefill, and an ONNX child
    # still starting is given up. The token is set from a thread: its lock may be held by this
    # very thread at the moment the handler runs. A second Ctrl+C interrupts whatever is running.
    cancel = CancelToken()

    def on_sigint(*_) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        threading.Thread(target=cancel.set, daemon=True).start()

    previous = signal.signal(signal.SIGINT, on_sigint)
    engine = None
    try:
        try:
            engine = _open(model, remote, args, cancel)
        except Exception as exc:  # noqa: BLE001 - every failure is a message, as the worker's guard
            if cancel.is_set():
                return _stopped()
            return fail(_user_message(exc))
        if cancel.is_set():
            return _stopped()
        return _answer(engine, args, cancel)
    except KeyboardInterrupt:
        return _stopped()
    finally:
        signal.signal(signal.SIGINT, previous)
        if engine is not None:
            engine.close()


def _open(model: str, remote: bool, args, cancel):
    """The engine, loaded as the window loads it: this machine's recommendation, the model's saved
    load settings, then the flags given here. On this thread: a one-shot answer has nothing to
    do while the model loads, so it needs no worker thread and no event loop."""
    from desktop.models.load_settings import load_options

    options = load_options(model, args.backend, {"backend": args.backend, "device": args.device,
                                                 "n_threads": args.threads, "n_ctx": args.ctx})
    # One answer, then the process ends: a kept prompt state would never be read again. Saved to
    # disk, one per answer of a scripted loop, they would push the window's chats out of the
    # cache's budget; and reading them back would cost every start the keyring and the cipher.
    # EDGECHAT_PROMPT_CACHE_MB set by the user still wins.
    os.environ.setdefault("EDGECHAT_PROMPT_CACHE_MB", "0")
    if "cache_ram_mb" in options:
        options["cache_ram_mb"] = 0
    if remote:
        from desktop.models.open_model import open_model, validate

        validate(model, options.get("backend"))
        return open_model(model, abort=cancel, **options)
    # A local model skips the remote client's imports: only what the file needs is loaded.
    from desktop.engines import open_engine, validate_model

    validate_model(model, options.get("backend"))
    return open_engine(model, abort=cancel, **options)


def _answer(engine, args, cancel) -> int:
    from desktop.engines.base import GenerationStats, SamplingParams, Thought

    messages = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": args.prompt}
    ]
    params = SamplingParams(max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)
    text: list[str] = []
    try:
        for piece in engine.stream(messages, params, cancel):
            if isinstance(piece, Thought):
                # A reasoning model's thinking goes to stderr: stdout stays the answer alone, for
                # pipes, while a person at the terminal still sees that the model is working.
                if not args.json:
                    sys.stderr.write(piece)
                    sys.stderr.flush()
                continue
            text.append(piece)
            if not args.json:
                sys.stdout.write(piece)
                sys.stdout.flush()
    except Exception as exc:  # noqa: BLE001 - what was written is kept, the error said after it
        if text and not args.json:
            sys.stdout.write("\n")
        if cancel.is_set():
            return _stopped()
        return fail(_user_message(exc))
    stats = engine.last_stats or GenerationStats()
    info = engine.info
    if args.json:
        print(json.dumps({
            "text": "".join(text),
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
        sys.stdout.flush()
    if stats.finish_reason == "cancelled" or cancel.is_set():
        return _stopped()
    return 0


def _stopped() -> int:
    from desktop.text import translate

    return fail(translate("Cli", "stopped (Ctrl+C)."), 130)


def _user_message(exc: BaseException) -> str:
    """What the user reads for an exception, as the worker's guard words it: its own text when
    it was written for them, a failure from outside in plain words, anything else as a bug with
    where its details are (logged with its traceback)."""
    from desktop.errors import UserError, plain_reason
    from desktop.logs import log_file
    from desktop.text import translate

    if isinstance(exc, UserError):
        return str(exc)
    logging.getLogger(__name__).error("ask failed", exc_info=exc)
    reason = plain_reason(exc)
    if reason:
        return translate("Worker", "This could not be done: {reason}. Details are in the log:\n{path}"
                         ).format(reason=reason, path=log_file())
    return translate("Worker", "Something went wrong inside EdgeChat. Details are in the log:\n{path}"
                     ).format(path=log_file())
