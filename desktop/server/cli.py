"""``edgechat serve``: the OpenAI-compatible API without the window.

The engine lives on one dedicated thread (EngineBackend); uvicorn runs on the main thread, so
Ctrl+C is uvicorn's own graceful stop (open streams end and their generations are cancelled).
"""

from __future__ import annotations

import os
import sys

from desktop.errors import fail
from desktop.server import keys
from desktop.server.backend import DEFAULT_MAX_TOKENS_CAP, DEFAULT_QUEUE_LIMIT
from desktop.server.runner import LOOPBACK, needs_key


def add_parser(sub) -> None:
    serve = sub.add_parser("serve", help="serve a model over the OpenAI API (for other apps)")
    serve.add_argument("--model", help="a GGUF file or an ONNX GenAI folder (default: the embedded "
                       "SmolLM2 model)")
    serve.add_argument("--host", default=LOOPBACK,
                       help="address to listen on (default 127.0.0.1: this computer only; any "
                       "other address requires an API key, 0.0.0.0 and :: included: they listen on "
                       "every network interface)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--api-key", metavar="KEY",
                       help="the key clients must send as 'Authorization: Bearer KEY'. Default: none "
                       "on 127.0.0.1, where only requests sent to localhost, 127.0.0.1 or [::1] as "
                       "application/json are served (web pages cannot drive it); on any other "
                       "address a key is generated and kept in the OS keyring. An empty KEY counts "
                       "as none, so such an address gets the keyring's key, never no key")
    serve.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                       help="let web pages from ORIGIN call the API (repeatable; off by default)")
    serve.add_argument("--ctx", type=int, help="context length to allocate")
    serve.add_argument("--threads", type=int)
    serve.add_argument("--device", choices=("auto", "cpu", "cuda", "dml", "gpu"),
                       help="default: the model's load settings, else auto")
    serve.add_argument("--max-tokens-cap", type=int, default=DEFAULT_MAX_TOKENS_CAP,
                       help="the most tokens one reply may ask for")
    serve.add_argument("--queue", type=int, default=DEFAULT_QUEUE_LIMIT,
                       help="requests that may wait for the engine; more are answered 503")


def run(args) -> int:
    from desktop.models.default_model import DefaultModelMissing, default_model_path
    from desktop.server.app import create_app
    from desktop.server.backend import EngineBackend
    from desktop.server.runner import ServerStartError, address, serve_forever

    try:
        model = args.model or str(default_model_path())
    except DefaultModelMissing as exc:
        return fail(str(exc))
    if args.model and not os.path.exists(args.model):
        return fail(f"model not found: {args.model}")
    if not 0 <= args.port <= 65535:
        return fail(f"--port must be from 0 to 65535, not {args.port}", 2)
    api_key = keys.given(args.api_key)
    if args.api_key is not None and api_key is None:
        print("--api-key is empty: treated as no key.", file=sys.stderr)
    if api_key is None and needs_key(args.host):
        api_key, new, kept = keys.ensure()
        if new:
            where = "kept in the OS keyring" if kept else "not stored: no OS keyring, so it lasts this run"
            print(f"API key ({where}); clients send it as 'Authorization: Bearer <key>':\n{api_key}",
                  file=sys.stderr)
        else:
            print("API key: the one in the OS keyring (shown when it was made).", file=sys.stderr)

    from desktop.models.load_settings import load_options

    # The same load as the window's: this machine's recommendation and the model's saved load
    # settings, then the flags given here.
    options = load_options(model, None, {"device": args.device, "n_ctx": args.ctx or None,
                                         "n_threads": args.threads or None})
    print(f"Loading {model} …", file=sys.stderr)
    backend = EngineBackend(model, **options)
    try:
        card = backend.wait_loaded()
    except Exception as exc:  # noqa: BLE001 - a load failure's message is meant for the user
        backend.close()
        return fail(str(exc))

    def started(port: int) -> None:
        print(f"Serving {card.id} ({card.backend}) at {address(args.host, port)}  (Ctrl+C stops)",
              file=sys.stderr, flush=True)

    try:
        app = create_app(backend, host=args.host, api_key=api_key, cors_origins=args.cors,
                         max_tokens_cap=args.max_tokens_cap, queue_limit=args.queue)
        serve_forever(app, args.host, args.port, on_started=started)
    except ServerStartError as exc:
        return fail(str(exc))
    finally:
        backend.close()
    return 0
