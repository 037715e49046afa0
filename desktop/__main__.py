"""Entry point: ``edgechat`` opens the window; ``edgechat ask ...`` runs headless; ``--offline``
anywhere turns Work offline on for the run.

Imports stay minimal here: the window must be on screen in well under a second, so Qt, the
engines and the model are imported only by the path that needs them.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    # Before anything else: the ONNX runtime reads its telemetry switch when it starts, and the
    # window, the command line, the server and the engine's child process all start here.
    from desktop.privacy import harden_environment, take_offline_flag

    harden_environment()
    # A frozen bundle re-runs this entry point for the ONNX engine's child process.
    import multiprocessing

    multiprocessing.freeze_support()
    # --offline is accepted before or after any command, the window's launch included.
    argv = take_offline_flag(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--self-test":
        from desktop.selftest import main as self_test

        return self_test(as_json="--json" in argv[1:])
    if argv and argv[0] not in ("-h", "--help", "--version") and not argv[0].startswith("-"):
        from desktop.cli import run_cli

        return run_cli(argv)
    if argv and argv[0] in ("-h", "--help", "--version"):
        from desktop.cli import run_cli

        return run_cli(argv)
    from desktop.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
