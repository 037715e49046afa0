"""llama-cpp-python's own OpenAI-compatible server (a real third-party server for the remote
engine's tests), started with the same AMX workaround as the app's engine.

``python -m llama_cpp.server`` builds ``llama_cpp.Llama`` itself, and llama.cpp's AMX kernel
crashes on this test machine's Xeon (see llama_engine._plain_cpu_buffers): every construction
goes through the workaround here, then the server's own ``main`` runs with the same arguments.
"""

import functools
import sys

import llama_cpp

from desktop.engines.llama_backends import ensure_loaded
from desktop.engines.llama_engine import _plain_cpu_buffers


def _patch() -> None:
    ensure_loaded(llama_cpp)
    original = llama_cpp.Llama.__init__

    @functools.wraps(original)
    def init(self, *args, **kwargs):
        with _plain_cpu_buffers(llama_cpp):
            original(self, *args, **kwargs)

    llama_cpp.Llama.__init__ = init


if __name__ == "__main__":
    _patch()
    from llama_cpp.server.__main__ import main

    sys.argv[0] = "llama_cpp.server"
    main()
