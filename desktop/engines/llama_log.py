"""llama.cpp's own log (model loading, context creation, its warnings) into EdgeChat's log file.

llama-cpp-python installs a log callback that prints to stderr. With ``verbose=False`` it means
to print errors only, but its table of ggml's levels predates ggml's DEBUG level, so warnings pass
as errors and reach the terminal (the context counter's tokenizer-only model warns at every load:
"n_ctx_seq (512) > n_ctx_train (0)"). Our callback replaces it and hands every line to the
``desktop.engines.llama_cpp`` logger: its warnings and errors at INFO, so the log file keeps them
for a look into a failed load (the user already got the plain-words message), its chatter
(loading progress, tensor and context details) at DEBUG. The terminal gets nothing from llama.cpp:
the console shows only our own warnings.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading

log = logging.getLogger("desktop.engines.llama_cpp")

# enum ggml_log_level: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5 (continues the last line).
_CONT = 5
_LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO, 4: logging.INFO}

_lock = threading.Lock()
_callback = None  # the ctypes callback: kept alive for as long as llama.cpp may call it
_line: list[str] = []  # the line being written: llama.cpp sends some lines in pieces
_line_level = logging.DEBUG


def _on_log(level: int, text: bytes | None) -> None:
    global _line_level
    if not text:
        return
    with _lock:
        if level != _CONT:
            _line_level = _LEVELS.get(level, logging.DEBUG)
        if not log.isEnabledFor(_line_level):
            _line.clear()
            return
        _line.append(text.decode("utf-8", "replace"))
        if not _line[-1].endswith("\n"):
            return
        lines = "".join(_line).splitlines()
        _line.clear()
        level_now = _line_level
    for line in lines:
        if line.strip():
            log.log(level_now, "%s", line.rstrip())


def route(llama_cpp) -> None:
    """Send llama.cpp's log (llama and ggml alike) to the log file from now on; once per process."""
    global _callback

    def callback(level, text, _user_data):
        # An exception must not cross back into C (ctypes would print it to the terminal).
        with contextlib.suppress(Exception):
            _on_log(int(level), text)

    with _lock:
        if _callback is not None:
            return
        _callback = llama_cpp.llama_log_callback(callback)
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
