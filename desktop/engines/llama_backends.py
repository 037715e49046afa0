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

from desktop import config

_loaded: str | None = None


def _lib_dir(llama_cpp) -> Path:
    return Path(llama_cpp.__file__).parent / "lib"


def _variants_in(folder: Path) -> list[Path]:
    return sorted([*folder.glob("libggml-cpu-*.so"), *folder.glob("libggml-cpu-*.dylib"),
                   *folder.glob("ggml-cpu-*.dll")])


def _variant_dir(llama_cpp) -> Path | None:
    # A bundle keeps them in llama_cpp/lib; pip installs the wheel's copies from its top-level
    # bin/ folder, that is site-packages/bin/, next to the llama_cpp package.
    for folder in (_lib_dir(llama_cpp), Path(llama_cpp.__file__).parent.parent / "bin"):
        if _variants_in(folder):
            return folder
    return None


def variant_files(llama_cpp) -> list[Path]:
    folder = _variant_dir(llama_cpp)
    return _variants_in(folder) if folder else []


def ensure_loaded(llama_cpp) -> str | None:
    """Load the CPU variants once; returns the loaded variant's name, or None for a plain build."""
    global _loaded
    from desktop.engines.llama_log import route

    # Every use of llama.cpp comes through here first, and loading the variants logs already.
    route(llama_cpp)
    if _loaded is not None:
        return _loaded
    folder = _variant_dir(llama_cpp)
    if folder is None:
        return None
    ggml = ctypes.CDLL(str(_ggml_library(llama_cpp)))
    forced = config.cpu_variant()
    if forced:
        # Support switch (and how the tests prove the baseline builds run): one named variant,
        # e.g. "x64" (no AVX at all) or "sse42", instead of the best this CPU supports.
        matches = [p for p in _variants_in(folder) if p.name.split(".")[0].endswith(f"-{forced}")]
        if not matches:
            raise RuntimeError(f"EDGECHAT_CPU_VARIANT={forced}: no such llama.cpp CPU variant in "
                               f"{folder} ({', '.join(p.name for p in _variants_in(folder))})")
        ggml.ggml_backend_load.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load.restype = ctypes.c_void_p
        if not ggml.ggml_backend_load(str(matches[0]).encode()):
            raise RuntimeError(f"this CPU cannot run the llama.cpp variant {matches[0].name}")
    else:
        ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load_all_from_path(str(folder).encode())
    _loaded = loaded_variant() or "dynamic"
    return _loaded


def _ggml_library(llama_cpp) -> Path:
    """The very file of libggml that libllama was linked against.

    The wheel ships libggml.so, libggml.so.0 and libggml.so.0.x as separate copies, and dlopen of
    another copy makes a second ggml with its own, empty backend registry ("no backends are
    loaded"). So: the one this process already mapped, else the soname libllama asks for.
    """
    lib = _lib_dir(llama_cpp)
    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            path = line.split(maxsplit=5)[-1]
            if "/libggml.so" in path and Path(path).parent == lib:
                return Path(path)
    except OSError:
        pass
    candidates = {"win32": ["ggml.dll"], "darwin": ["libggml.0.dylib", "libggml.dylib"]}.get(
        sys.platform, ["libggml.so.0", "libggml.so"])
    for name in candidates:
        if (lib / name).exists():
            return lib / name
    return lib / candidates[-1]


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
