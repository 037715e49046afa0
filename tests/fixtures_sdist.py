"""Test data from the llama-cpp-python sdist: llama.cpp's collection of real chat templates
(vendor/llama.cpp/models/templates/*.jinja, ~70 model families) and its vocabulary-only GGUFs
(vendor/llama.cpp/models/ggml-vocab-*.gguf).

CI reaches PyPI and nothing else, so the sdist of the installed version is the one source for
both: downloaded once with pip into ~/.cache/edgechat-sdist (EDGECHAT_SDIST_CACHE overrides),
and only these two kinds of files extracted from it. Usable without pytest::

    from tests.fixtures_sdist import templates_dir, vocab_dir
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import threading
from importlib import metadata
from pathlib import Path

PACKAGE = "llama-cpp-python"
_lock = threading.Lock()


def cache_dir() -> Path:
    return Path(os.environ.get("EDGECHAT_SDIST_CACHE") or Path.home() / ".cache" / "edgechat-sdist")


def templates_dir() -> Path:
    """The folder of llama.cpp's *.jinja templates, fetched if need be."""
    return _extracted("templates", "/vendor/llama.cpp/models/templates/", ".jinja")


def vocab_dir() -> Path:
    """The folder of llama.cpp's ggml-vocab-*.gguf files, fetched if need be."""
    return _extracted("vocab", "/vendor/llama.cpp/models/ggml-vocab-", ".gguf")


def sdist_path() -> Path:
    """The sdist of the installed llama-cpp-python, downloaded from PyPI when not cached."""
    version = metadata.version(PACKAGE)
    folder = cache_dir()
    name = f"llama_cpp_python-{version}.tar.gz"
    if not (folder / name).is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                        f"{PACKAGE}=={version}", "-d", str(folder)], check=True,
                       stdout=subprocess.DEVNULL)
    return folder / name


def _extracted(kind: str, member_part: str, suffix: str) -> Path:
    target = cache_dir() / kind
    # Others may have put some of these files there already: the marker says all of them are.
    done = target / f".complete-{metadata.version(PACKAGE)}"
    with _lock:
        if done.is_file():
            return target
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist_path(), "r:gz") as tar:
            for member in tar:
                # Flat files only, by their base name: nothing in the archive chooses where it lands.
                if not (member.isfile() and member_part in member.name and member.name.endswith(suffix)):
                    continue
                path = target / Path(member.name).name
                if path.is_file() and path.stat().st_size == member.size:
                    continue
                source = tar.extractfile(member)
                if source is not None:
                    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
                    partial.write_bytes(source.read())
                    partial.replace(path)  # readers never see half a file
        done.touch()
        return target
