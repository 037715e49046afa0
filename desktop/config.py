"""Every environment variable EdgeChat reads, in one place. Qt-free.

They are for tests, portable installs, packaging and diagnosis; a user sets everything else in
the window. Each is read when asked for (tests change them between calls), never cached.
"""

from __future__ import annotations

import os


def _text(name: str) -> str | None:
    return os.environ.get(name) or None


def data_dir_override() -> str | None:
    """EDGECHAT_DATA_DIR: where conversations, settings and logs live (tests, portable use)."""
    return _text("EDGECHAT_DATA_DIR")


def models_dir_override() -> str | None:
    """EDGECHAT_MODELS_DIR: where downloaded models go, if not in the data folder."""
    return _text("EDGECHAT_MODELS_DIR")


def default_model_override() -> str | None:
    """EDGECHAT_DEFAULT_MODEL: the model opened at start instead of the bundled one."""
    return _text("EDGECHAT_DEFAULT_MODEL")


def hub_endpoint() -> str | None:
    """HF_ENDPOINT: a Hugging Face Hub mirror (huggingface_hub's own variable)."""
    return _text("HF_ENDPOINT")


def stall_timeout_s(default: float) -> float:
    """EDGECHAT_STALL_TIMEOUT_S: seconds without data before a download is paused."""
    try:
        value = float(os.environ.get("EDGECHAT_STALL_TIMEOUT_S", ""))
    except ValueError:
        return default
    return value if value > 0 else default


def cpu_variant() -> str | None:
    """EDGECHAT_CPU_VARIANT: force one llama.cpp CPU variant of a portable build (x64, sse42...)."""
    return _text("EDGECHAT_CPU_VARIANT")


def llama_amx() -> bool:
    """EDGECHAT_LLAMA_AMX=1: keep llama.cpp's AMX kernels (see llama_engine._plain_cpu_buffers)."""
    return os.environ.get("EDGECHAT_LLAMA_AMX") == "1"


def startup_probe() -> str | None:
    """EDGECHAT_STARTUP_PROBE: a prompt; the app reports start-up milestones (bench/startup.py)."""
    return _text("EDGECHAT_STARTUP_PROBE")


def cache_dir_override() -> str | None:
    """EDGECHAT_CACHE_DIR: where saved prompt states go, if not in the user cache folder."""
    return _text("EDGECHAT_CACHE_DIR")


def prompt_cache_disk_mb() -> int | None:
    """EDGECHAT_PROMPT_CACHE_MB: the disk budget of saved prompt states in MB (0 turns the disk
    tier off); 2 GB when unset."""
    try:
        return int(os.environ["EDGECHAT_PROMPT_CACHE_MB"])
    except (KeyError, ValueError):
        return None


def offline() -> bool:
    """EDGECHAT_OFFLINE=1 (``edgechat --offline`` sets it): Work offline for this run, whatever
    Settings say (desktop/privacy.py)."""
    return os.environ.get("EDGECHAT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
