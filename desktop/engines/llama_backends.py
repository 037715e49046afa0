"""Loading llama.cpp's CPU backend when it was built as runtime-selected variants.

An installer's llama.cpp is built once and must run on every CPU of its architecture, old ones
without AVX2 included (a known crash in today's apps). So the bundle's build has native tuning
off and one CPU backend per instruction-set level (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS);
ggml picks the best one this CPU supports when asked to load them. llama-cpp-python does not
ask (its issue #2069), so we call ggml_backend_load_all_from_path ourselves. A plain build has
the CPU backend linked in and needs none of this.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

_loaded: str | None = None


def _lib_dir(llama_cpp) -> Path:
    return Path(llama_cpp.__file__).parent / "lib"


def variant_files(llama_cpp) -> list[Path]:
    lib = _lib_dir(llama_cpp)
    return sorted([*lib.glob("libggml-cpu-*.so"), *lib.glob("libggml-cpu-*.dylib"),
                   *lib.glob("ggml-cpu-*.dll")])


def ensure_loaded(llama_cpp) -> str | None:
    """Load the CPU variants once; returns the loaded variant's name, or None for a plain build."""
    global _loaded
    if _loaded is not None:
        return _loaded
    if not variant_files(llama_cpp):
        return None
    lib = _lib_dir(llama_cpp)
    name = {"win32": "ggml.dll", "darwin": "libggml.dylib"}.get(sys.platform, "libggml.so")
    ggml = ctypes.CDLL(str(lib / name))
    ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load_all_from_path(str(lib).encode())
    _loaded = loaded_variant() or "dynamic"
    return _loaded


def loaded_variant() -> str | None:
    """Which libggml-cpu-<variant> this process mapped (Linux); None where that cannot be seen."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        name = line.rsplit("/", 1)[-1]
        if name.startswith("libggml-cpu-") and name.endswith(".so"):
            return name[len("libggml-cpu-"):-len(".so")]
    return None
